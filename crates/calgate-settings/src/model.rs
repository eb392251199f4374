//! The settings themselves: the validated value the engine runs on, its secret parts, and the
//! read-back view the API and the store serialize.

use calgate_core::ExchangeVersion;
use calgate_core::{Privacy, StatusRules};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::fields::FieldId;

/// Exchange Online's EWS endpoint, the default `ews_url` for `office365`.
pub const OFFICE365_EWS_URL: &str = "https://outlook.office365.com/EWS/Exchange.asmx";
/// The public-cloud Entra ID authority.
pub const DEFAULT_AUTHORITY_HOST: &str = "https://login.microsoftonline.com";
/// The public-cloud Microsoft Graph endpoint.
pub const DEFAULT_GRAPH_ENDPOINT: &str = "https://graph.microsoft.com";
/// The refresh interval a fresh installation starts with.
pub const DEFAULT_REFRESH_INTERVAL_S: u32 = 300;
/// How often Teams presence is read when it is switched on.
pub const DEFAULT_PRESENCE_INTERVAL_S: u32 = 30;
pub const MIN_PRESENCE_INTERVAL_S: u32 = 10;
pub const MAX_PRESENCE_INTERVAL_S: u32 = 3_600;
/// How often everyone is read when change notifications are on.
pub const DEFAULT_NOTIFICATION_SWEEP_S: u32 = 3_600;
pub const MIN_NOTIFICATION_SWEEP_S: u32 = 300;
pub const MAX_NOTIFICATION_SWEEP_S: u32 = 86_400;

/// Where calendars are read from (SPEC §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Provider {
    /// On-premises Exchange over EWS.
    Exchange,
    /// Exchange Online over EWS.
    Office365,
    /// Exchange Online over Microsoft Graph.
    Microsoft365,
}

impl Provider {
    pub const ALL: [Provider; 3] = [
        Provider::Exchange,
        Provider::Office365,
        Provider::Microsoft365,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Exchange => "exchange",
            Provider::Office365 => "office365",
            Provider::Microsoft365 => "microsoft365",
        }
    }

    pub fn parse(s: &str) -> Option<Provider> {
        Provider::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// Whether the provider talks EWS (and so uses `ews_url` and `exchange_version`).
    pub fn uses_ews(self) -> bool {
        matches!(self, Provider::Exchange | Provider::Office365)
    }
}

/// How an EWS provider signs in, derived from the grant switches: the sign-ins granted, tried
/// in the order modern, Windows, Basic. The next one is used only when the server's 401 does not
/// offer the scheme of the one in use and offers the next one's, never after a credential failure
/// (SPEC §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EwsAuth {
    pub modern: bool,
    /// Windows authentication (NTLM, alone or inside Negotiate), `exchange` only.
    pub windows: bool,
    pub basic: bool,
}

impl EwsAuth {
    pub const BASIC: EwsAuth = EwsAuth {
        modern: false,
        windows: false,
        basic: true,
    };
    pub const MODERN: EwsAuth = EwsAuth {
        modern: true,
        windows: false,
        basic: false,
    };

    /// How many sign-ins are granted.
    pub fn count(self) -> usize {
        usize::from(self.modern) + usize::from(self.windows) + usize::from(self.basic)
    }

    /// Whether the service account's password is sent or proven (Basic or Windows).
    pub fn uses_password(self) -> bool {
        self.windows || self.basic
    }
}

/// How the `microsoft365` provider signs in to Graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GraphSignIn {
    /// Client credentials with a certificate (preferred when both are stored).
    AppOnlyCertificate,
    /// Client credentials with a client secret.
    AppOnlySecret,
    /// The service account's delegated sign-in with Graph scopes.
    Delegated,
}

/// The three write-only settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SecretField {
    Password,
    ClientSecret,
    ClientCertificatePem,
}

impl SecretField {
    pub const ALL: [SecretField; 3] = [
        SecretField::Password,
        SecretField::ClientSecret,
        SecretField::ClientCertificatePem,
    ];

    /// The field name in the settings JSON (and the store's secret slot name).
    pub fn name(self) -> &'static str {
        match self {
            SecretField::Password => "password",
            SecretField::ClientSecret => "client_secret",
            SecretField::ClientCertificatePem => "client_certificate_pem",
        }
    }
}

/// The secret parts of the settings, kept apart so the store can encrypt each one.
#[derive(Debug, Clone, Default)]
pub struct SettingsSecrets {
    pub password: Option<SecretString>,
    pub client_secret: Option<SecretString>,
    pub client_certificate_pem: Option<SecretString>,
}

impl SettingsSecrets {
    pub fn get(&self, field: SecretField) -> Option<&SecretString> {
        match field {
            SecretField::Password => self.password.as_ref(),
            SecretField::ClientSecret => self.client_secret.as_ref(),
            SecretField::ClientCertificatePem => self.client_certificate_pem.as_ref(),
        }
    }

    pub fn set(&mut self, field: SecretField, value: Option<SecretString>) {
        match field {
            SecretField::Password => self.password = value,
            SecretField::ClientSecret => self.client_secret = value,
            SecretField::ClientCertificatePem => self.client_certificate_pem = value,
        }
    }
}

/// Validated calendar settings (SPEC §5.1 field names). Only [`crate::validate`] produces new
/// values from user input; `Debug` shows secrets as redacted, and there is deliberately no
/// `Serialize`: serialize [`CalendarSettings::view`] instead.
#[derive(Debug, Clone)]
pub struct CalendarSettings {
    pub provider: Provider,
    pub grant_basic_auth: bool,
    pub grant_modern_auth: bool,
    /// Windows authentication (NTLM/Negotiate) to on-premises Exchange.
    pub grant_windows_auth: bool,
    /// A GUID or a domain name, lower-cased.
    pub tenant_id: Option<String>,
    /// A GUID, lower-cased.
    pub client_id: Option<String>,
    pub username: Option<String>,
    pub password: Option<SecretString>,
    pub client_secret: Option<SecretString>,
    pub client_certificate_pem: Option<SecretString>,
    pub exchange_version: ExchangeVersion,
    pub ews_url: Option<Url>,
    pub refresh_interval_s: u32,
    /// Read Microsoft Teams presence (Graph only).
    pub presence: bool,
    pub presence_interval_s: u32,
    /// Graph change notifications instead of polling (Graph only).
    pub change_notifications: bool,
    /// The gateway's public base URL, where Graph posts notifications.
    pub notification_url: Option<Url>,
    pub notification_sweep_s: u32,
    pub privacy: Privacy,
    pub allow_insecure_http: bool,
    pub authority_host: Url,
    pub graph_endpoint: Url,
    pub extra_ca_pem: Option<String>,
    pub status_rules: StatusRules,
}

impl Default for CalendarSettings {
    /// A fresh installation: nothing to connect to yet (the engine reports `misconfigured`).
    fn default() -> Self {
        CalendarSettings {
            provider: Provider::Exchange,
            grant_basic_auth: false,
            grant_modern_auth: false,
            grant_windows_auth: false,
            tenant_id: None,
            client_id: None,
            username: None,
            password: None,
            client_secret: None,
            client_certificate_pem: None,
            exchange_version: ExchangeVersion::Exchange2013Sp1,
            ews_url: None,
            refresh_interval_s: DEFAULT_REFRESH_INTERVAL_S,
            presence: false,
            presence_interval_s: DEFAULT_PRESENCE_INTERVAL_S,
            change_notifications: false,
            notification_url: None,
            notification_sweep_s: DEFAULT_NOTIFICATION_SWEEP_S,
            privacy: Privacy::default(),
            allow_insecure_http: false,
            authority_host: default_authority_host(),
            graph_endpoint: default_graph_endpoint(),
            extra_ca_pem: None,
            status_rules: StatusRules::default(),
        }
    }
}

pub(crate) fn default_authority_host() -> Url {
    Url::parse(DEFAULT_AUTHORITY_HOST).expect("the default authority host is a valid URL")
}

pub(crate) fn default_graph_endpoint() -> Url {
    Url::parse(DEFAULT_GRAPH_ENDPOINT).expect("the default Graph endpoint is a valid URL")
}

impl CalendarSettings {
    /// The EWS endpoint in effect: the configured one, or Exchange Online's for `office365`.
    pub fn effective_ews_url(&self) -> Option<Url> {
        match (&self.ews_url, self.provider) {
            (Some(url), _) => Some(url.clone()),
            (None, Provider::Office365) => Url::parse(OFFICE365_EWS_URL).ok(),
            (None, _) => None,
        }
    }

    /// How an EWS provider signs in. `exchange` with neither switch uses Basic, as the seed's
    /// on-premises provider always did; `office365` with neither is refused by validation.
    pub fn ews_auth(&self) -> Option<EwsAuth> {
        if !self.provider.uses_ews() {
            return None;
        }
        let auth = EwsAuth {
            modern: self.grant_modern_auth,
            windows: self.grant_windows_auth && self.provider == Provider::Exchange,
            basic: self.grant_basic_auth,
        };
        match auth.count() {
            0 if self.provider == Provider::Exchange => Some(EwsAuth::BASIC),
            0 => None,
            _ => Some(auth),
        }
    }

    /// How `microsoft365` signs in: app-only when a certificate or client secret is stored,
    /// otherwise delegated when modern authentication is granted.
    pub fn graph_sign_in(&self) -> Option<GraphSignIn> {
        if self.provider != Provider::Microsoft365 {
            return None;
        }
        if self.client_certificate_pem.is_some() {
            Some(GraphSignIn::AppOnlyCertificate)
        } else if self.client_secret.is_some() {
            Some(GraphSignIn::AppOnlySecret)
        } else if self.grant_modern_auth {
            Some(GraphSignIn::Delegated)
        } else {
            None
        }
    }

    /// The secrets, cloned out for the store.
    pub fn secrets(&self) -> SettingsSecrets {
        SettingsSecrets {
            password: self.password.clone(),
            client_secret: self.client_secret.clone(),
            client_certificate_pem: self.client_certificate_pem.clone(),
        }
    }

    /// The read-back form: every non-secret field, and whether each secret is set.
    pub fn view(&self) -> CalendarSettingsView {
        CalendarSettingsView {
            provider: self.provider,
            grant_basic_auth: self.grant_basic_auth,
            grant_modern_auth: self.grant_modern_auth,
            grant_windows_auth: self.grant_windows_auth,
            tenant_id: self.tenant_id.clone(),
            client_id: self.client_id.clone(),
            username: self.username.clone(),
            password_set: self.password.is_some(),
            client_secret_set: self.client_secret.is_some(),
            client_certificate_pem_set: self.client_certificate_pem.is_some(),
            exchange_version: self.exchange_version,
            ews_url: self.ews_url.clone(),
            refresh_interval_s: self.refresh_interval_s,
            presence: self.presence,
            presence_interval_s: self.presence_interval_s,
            change_notifications: self.change_notifications,
            notification_url: self.notification_url.clone(),
            notification_sweep_s: self.notification_sweep_s,
            privacy: self.privacy,
            allow_insecure_http: self.allow_insecure_http,
            authority_host: self.authority_host.clone(),
            graph_endpoint: self.graph_endpoint.clone(),
            extra_ca_pem: self.extra_ca_pem.clone(),
            status_rules: self.status_rules,
        }
    }

    /// Reassembles settings from a stored view and the decrypted secrets. The view's `*_set`
    /// flags are not trusted here; the secrets given are.
    pub fn from_view(view: CalendarSettingsView, secrets: SettingsSecrets) -> CalendarSettings {
        CalendarSettings {
            provider: view.provider,
            grant_basic_auth: view.grant_basic_auth,
            grant_modern_auth: view.grant_modern_auth,
            grant_windows_auth: view.grant_windows_auth,
            tenant_id: view.tenant_id,
            client_id: view.client_id,
            username: view.username,
            password: secrets.password,
            client_secret: secrets.client_secret,
            client_certificate_pem: secrets.client_certificate_pem,
            exchange_version: view.exchange_version,
            ews_url: view.ews_url,
            refresh_interval_s: view.refresh_interval_s,
            presence: view.presence,
            presence_interval_s: view.presence_interval_s,
            change_notifications: view.change_notifications,
            notification_url: view.notification_url,
            notification_sweep_s: view.notification_sweep_s,
            privacy: view.privacy,
            allow_insecure_http: view.allow_insecure_http,
            authority_host: view.authority_host,
            graph_endpoint: view.graph_endpoint,
            extra_ca_pem: view.extra_ca_pem,
            status_rules: view.status_rules,
        }
    }

    pub fn secret(&self, field: SecretField) -> Option<&SecretString> {
        match field {
            SecretField::Password => self.password.as_ref(),
            SecretField::ClientSecret => self.client_secret.as_ref(),
            SecretField::ClientCertificatePem => self.client_certificate_pem.as_ref(),
        }
    }
}

/// The settings as `GET /api/v1/settings/calendar` answers them and as the store keeps the
/// non-secret part: secrets appear only as `password_set` / `client_secret_set` /
/// `client_certificate_pem_set`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalendarSettingsView {
    pub provider: Provider,
    pub grant_basic_auth: bool,
    pub grant_modern_auth: bool,
    /// Absent from views stored before Windows authentication existed.
    #[serde(default)]
    pub grant_windows_auth: bool,
    pub tenant_id: Option<String>,
    pub client_id: Option<String>,
    pub username: Option<String>,
    pub password_set: bool,
    pub client_secret_set: bool,
    pub client_certificate_pem_set: bool,
    #[serde(with = "exchange_version_name")]
    pub exchange_version: ExchangeVersion,
    pub ews_url: Option<Url>,
    pub refresh_interval_s: u32,
    /// Absent from views stored before presence existed.
    #[serde(default)]
    pub presence: bool,
    #[serde(default = "default_presence_interval_s")]
    pub presence_interval_s: u32,
    /// Absent from views stored before change notifications existed.
    #[serde(default)]
    pub change_notifications: bool,
    #[serde(default)]
    pub notification_url: Option<Url>,
    #[serde(default = "default_notification_sweep_s")]
    pub notification_sweep_s: u32,
    pub privacy: Privacy,
    pub allow_insecure_http: bool,
    pub authority_host: Url,
    pub graph_endpoint: Url,
    pub extra_ca_pem: Option<String>,
    pub status_rules: StatusRules,
}

fn default_presence_interval_s() -> u32 {
    DEFAULT_PRESENCE_INTERVAL_S
}

fn default_notification_sweep_s() -> u32 {
    DEFAULT_NOTIFICATION_SWEEP_S
}

/// `exchange_version` in its settings spelling (`exchange2013_sp1`); either spelling is read.
mod exchange_version_name {
    use calgate_core::ExchangeVersion;
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(v: &ExchangeVersion, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(v.setting_name())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<ExchangeVersion, D::Error> {
        let s = String::deserialize(d)?;
        ExchangeVersion::parse(&s)
            .ok_or_else(|| D::Error::custom(format!("unknown Exchange version {s:?}")))
    }
}

/// The names of the fields that differ between `old` and `new`, in schema order. Secrets are
/// compared by value but only their names are reported: this feeds the audit trail.
pub fn changed_fields(old: &CalendarSettings, new: &CalendarSettings) -> Vec<&'static str> {
    fn secret_eq(a: &Option<SecretString>, b: &Option<SecretString>) -> bool {
        match (a, b) {
            (None, None) => true,
            (Some(a), Some(b)) => a.expose_secret() == b.expose_secret(),
            _ => false,
        }
    }
    crate::fields::fields()
        .iter()
        .filter(|spec| {
            let same = match spec.id {
                FieldId::Provider => old.provider == new.provider,
                FieldId::GrantBasicAuth => old.grant_basic_auth == new.grant_basic_auth,
                FieldId::GrantModernAuth => old.grant_modern_auth == new.grant_modern_auth,
                FieldId::GrantWindowsAuth => old.grant_windows_auth == new.grant_windows_auth,
                FieldId::TenantId => old.tenant_id == new.tenant_id,
                FieldId::ClientId => old.client_id == new.client_id,
                FieldId::Username => old.username == new.username,
                FieldId::Password => secret_eq(&old.password, &new.password),
                FieldId::ClientSecret => secret_eq(&old.client_secret, &new.client_secret),
                FieldId::ClientCertificatePem => {
                    secret_eq(&old.client_certificate_pem, &new.client_certificate_pem)
                }
                FieldId::ExchangeVersion => old.exchange_version == new.exchange_version,
                FieldId::EwsUrl => old.ews_url == new.ews_url,
                FieldId::RefreshIntervalS => old.refresh_interval_s == new.refresh_interval_s,
                FieldId::Presence => old.presence == new.presence,
                FieldId::PresenceIntervalS => old.presence_interval_s == new.presence_interval_s,
                FieldId::ChangeNotifications => {
                    old.change_notifications == new.change_notifications
                }
                FieldId::NotificationUrl => old.notification_url == new.notification_url,
                FieldId::NotificationSweepS => old.notification_sweep_s == new.notification_sweep_s,
                FieldId::Privacy => old.privacy == new.privacy,
                FieldId::AllowInsecureHttp => old.allow_insecure_http == new.allow_insecure_http,
                FieldId::AuthorityHost => old.authority_host == new.authority_host,
                FieldId::GraphEndpoint => old.graph_endpoint == new.graph_endpoint,
                FieldId::ExtraCaPem => old.extra_ca_pem == new.extra_ca_pem,
                FieldId::StatusRules => old.status_rules == new.status_rules,
            };
            !same
        })
        .map(|spec| spec.name)
        .collect()
}
