//! Turns the settings of one source into a calendar source for the engine: the one place that
//! builds sources, for the gateway (its engine and its connection test) and the test kit.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use secrecy::ExposeSecret;

use calgate_auth::{
    Authorizer, BasicCredential, BasicSignIn, DEFAULT_RENEW_MARGIN, GrantError, LockoutGuard,
    OAuthSettings, RefreshTokenStore, SignIn, TokenSource,
};
use calgate_core::Code;

use calgate_engine::CalendarSource;
use calgate_ews::availability::RequestedView;
use calgate_settings::{CalendarSettings, Provider};

use crate::ews_transport::{EwsSource, EwsTransport, TransportConfig};
use crate::graph_source::GraphSource;
use crate::http::{ClientError, ClientSettings};
use crate::signin::EwsSignIn;

/// Why the settings give no working source: a stable code and a plain message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotConfigured {
    pub code: Code,
    pub message: String,
}

impl NotConfigured {
    fn new(code: Code, message: impl Into<String>) -> NotConfigured {
        NotConfigured {
            code,
            message: message.into(),
        }
    }
}

/// What every source shares across settings changes: the lockout guard (one for the gateway,
/// so its state persists in one piece and a credential quarantined before a change stays
/// quarantined), where refresh tokens are kept, the sign-ins of the source the engine runs now
/// per source id ("Retry now" acts on them; a change of that source's settings retires them)
/// and a completed device-code sign-in.
#[derive(Debug, Clone)]
pub struct SignInContext {
    pub guard: Arc<LockoutGuard>,
    pub refresh_tokens: Arc<dyn RefreshTokenStore>,
    /// The sign-ins of the engine's current sources, by source id.
    active: Arc<Mutex<BTreeMap<String, Vec<Authorizer>>>>,
    /// The admin's device-code sign-in for EWS, used instead of the stored password.
    pub device_code: Arc<Mutex<Option<DeviceCodeSignIn>>>,
    /// Builds through this context replace the sign-ins of this source id in `active` (the
    /// engine's source, not a connection test).
    records_for: Option<String>,
}

/// A completed device-code sign-in: which tenant and app it belongs to and what names its
/// stored refresh token.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DeviceCodeSignIn {
    pub tenant_id: String,
    pub client_id: String,
    pub username: String,
    pub sign_in_id: String,
}

impl SignInContext {
    /// A context around a guard and a refresh-token store (the gateway's persistent ones).
    pub fn with(
        guard: Arc<LockoutGuard>,
        refresh_tokens: Arc<dyn RefreshTokenStore>,
    ) -> SignInContext {
        SignInContext {
            guard,
            refresh_tokens,
            active: Arc::default(),
            device_code: Arc::default(),
            records_for: None,
        }
    }

    /// An Entra ID token source at the settings' authority for the app `(tenant, client_id)`
    /// signing in with `method`, through this context's lockout guard and refresh-token store.
    pub fn token_source(
        &self,
        settings: &CalendarSettings,
        http: reqwest::Client,
        (tenant, client_id): (String, String),
        method: SignIn,
    ) -> Result<TokenSource, GrantError> {
        let oauth = OAuthSettings {
            authority: settings.authority_host.clone(),
            tenant,
            client_id,
            sign_in: method,
            renew_margin: DEFAULT_RENEW_MARGIN,
        };
        TokenSource::new(http, oauth, self.guard.clone(), self.refresh_tokens.clone())
    }

    fn active(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Vec<Authorizer>>> {
        self.active.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// "Retry now": one immediate attempt for every sign-in of every current source.
    pub fn retry_now(&self) -> usize {
        let active = self.active();
        let mut n = 0;
        for authorizer in active.values().flatten() {
            authorizer.retry_now();
            n += 1;
        }
        n
    }

    /// "Retry now" for the sign-ins of source `id` only.
    pub fn retry_now_for(&self, id: &str) -> usize {
        let active = self.active();
        let mut n = 0;
        for authorizer in active.get(id).into_iter().flatten() {
            authorizer.retry_now();
            n += 1;
        }
        n
    }

    /// The sign-ins of every current source (tests count what they sent).
    pub fn active_sign_ins(&self) -> Vec<Authorizer> {
        self.active().values().flatten().cloned().collect()
    }

    /// Retires the sign-ins of source `id`: none of them sends anything again.
    pub fn retire(&self, id: &str) {
        let old = self.active().remove(id).unwrap_or_default();
        for authorizer in old {
            authorizer.retire();
        }
    }

    /// Names the sign-ins of the source being built; on the engine's build (`build_active`)
    /// they become the ones "Retry now" acts on and the next change of that source retires.
    /// Every provider's arm calls it.
    pub fn record(&self, authorizers: Vec<Authorizer>) {
        if let Some(id) = &self.records_for {
            self.active().insert(id.clone(), authorizers);
        }
    }
}

/// Builds the engine's source `id` for `settings`: the sign-ins of that source's previous
/// build are retired first (SPEC §3: the old credentials are never used again), and the new
/// ones become the target of "Retry now". Other sources' sign-ins are untouched.
pub fn build_active(
    id: &str,
    settings: &CalendarSettings,
    sign_in: &SignInContext,
) -> Result<Arc<dyn CalendarSource>, NotConfigured> {
    sign_in.retire(id);
    let recording = SignInContext {
        records_for: Some(id.to_string()),
        ..sign_in.clone()
    };
    build(settings, &recording)
}

/// Builds the source the settings describe.
pub fn build(
    settings: &CalendarSettings,
    sign_in: &SignInContext,
) -> Result<Arc<dyn CalendarSource>, NotConfigured> {
    Ok(match settings.provider {
        Provider::Exchange | Provider::Office365 => Arc::new(build_ews(settings, sign_in)?),
        Provider::Microsoft365 => Arc::new(build_graph(settings, sign_in)?),
    })
}

/// EWS (`exchange`, `office365`): Basic or Windows authentication (NTLM/Negotiate, `exchange`
/// only) through the lockout guard, modern through an Entra ID token source (the admin's
/// device-code sign-in when there is one, else the stored service account's password grant and
/// then its refresh tokens), or several, tried modern, Windows, Basic (SPEC §3).
pub fn build_ews(
    settings: &CalendarSettings,
    sign_in: &SignInContext,
) -> Result<EwsSource<Arc<EwsSignIn>>, NotConfigured> {
    let url = settings.effective_ews_url().ok_or_else(|| {
        NotConfigured::new(Code::SettingsEwsUrlMissing, "no EWS URL is configured")
    })?;
    let mut config = TransportConfig::new(url, settings.exchange_version);
    config.extra_ca_pem = settings.extra_ca_pem.clone().map(String::into_bytes);
    let auth = settings.ews_auth().ok_or_else(|| {
        NotConfigured::new(
            Code::SettingsNoAuth,
            "no EWS sign-in (Basic, Windows or modern authentication) is granted",
        )
    })?;
    // Modern, then Windows, then Basic (SPEC §3): the order they are tried in.
    let mut sign_ins = Vec::new();
    if auth.modern {
        sign_ins.push(ews_modern(settings, sign_in)?);
    }
    if auth.windows {
        sign_ins.push(ews_password(settings, sign_in, true)?);
    }
    if auth.basic {
        sign_ins.push(ews_password(settings, sign_in, false)?);
    }
    let credentials = EwsSignIn::ordered(sign_ins);
    let credentials = Arc::new(credentials);
    sign_in.record(credentials.all().into_iter().cloned().collect());
    let transport = EwsTransport::new(config, credentials)
        .map_err(|e| NotConfigured::new(Code::SettingsEwsClient, e.to_string()))?;
    let mut source = EwsSource::new(transport, RequestedView::Detailed);
    if let Some(username) = &settings.username {
        source = source.with_mail_tips(username.clone());
    }
    Ok(source)
}

/// The service account's password, sent by Basic or proven by Windows authentication.
fn ews_password(
    settings: &CalendarSettings,
    sign_in: &SignInContext,
    windows: bool,
) -> Result<Authorizer, NotConfigured> {
    let username = settings.username.as_deref().ok_or_else(|| {
        NotConfigured::new(Code::SettingsUsernameMissing, "no service account username")
    })?;
    let password = settings.password.as_ref().ok_or_else(|| {
        NotConfigured::new(Code::SettingsPasswordMissing, "no service account password")
    })?;
    if password.expose_secret().contains(['\r', '\n']) {
        return Err(NotConfigured::new(
            Code::SettingsCredentialsInvalid,
            "the password contains characters a header cannot carry",
        ));
    }
    let credential = BasicCredential::new(username, password.clone());
    Ok(if windows {
        Authorizer::Windows(Arc::new(BasicSignIn::windows(
            credential,
            sign_in.guard.clone(),
        )))
    } else {
        Authorizer::Basic(Arc::new(BasicSignIn::new(
            credential,
            sign_in.guard.clone(),
        )))
    })
}

/// The HTTP client for Entra ID: the same trust as the EWS client (extra CA), timeouts, and no
/// redirects (a redirected token request would carry the password elsewhere).
pub fn entra_http_client(settings: &CalendarSettings) -> Result<reqwest::Client, NotConfigured> {
    crate::http::client(ClientSettings {
        extra_ca_pem: settings.extra_ca_pem.as_deref().map(str::as_bytes),
        timeout: Duration::from_secs(30),
        connect_timeout: Duration::from_secs(10),
        max_idle_per_host: None,
        http1_only: false,
    })
    .map_err(|e| match e {
        ClientError::CaBundle(e) => NotConfigured::new(
            Code::SettingsExtraCaInvalid,
            format!("the extra CA bundle is not usable PEM: {}", e.without_url()),
        ),
        ClientError::NoCertificate => NotConfigured::new(
            Code::SettingsExtraCaInvalid,
            "the extra CA bundle holds no certificate",
        ),
        ClientError::Build(e) => {
            NotConfigured::new(Code::SettingsEntraClient, e.without_url().to_string())
        }
    })
}

fn ews_modern(
    settings: &CalendarSettings,
    sign_in: &SignInContext,
) -> Result<Authorizer, NotConfigured> {
    let (tenant, client_id) = entra_app(settings)?;
    let device = sign_in
        .device_code
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
        .filter(|d| d.tenant_id == tenant && d.client_id == client_id);
    let method = match (device, &settings.username, &settings.password) {
        (Some(d), _, _) => SignIn::DeviceCode {
            username: d.username,
            sign_in_id: d.sign_in_id,
        },
        (None, Some(username), Some(password)) => SignIn::Password {
            username: username.clone(),
            password: password.clone(),
        },
        (None, _, _) => {
            return Err(NotConfigured::new(
                Code::SettingsSignInMissing,
                "modern authentication needs the service account's username and password, or \
                 an administrator's device-code sign-in",
            ));
        }
    };
    oauth_authorizer(
        settings,
        sign_in,
        entra_http_client(settings)?,
        (tenant, client_id),
        method,
    )
}

/// The Entra ID app the settings name: its Directory (tenant) ID and Application (client) ID.
fn entra_app(settings: &CalendarSettings) -> Result<(String, String), NotConfigured> {
    let tenant = settings.tenant_id.clone().ok_or_else(|| {
        NotConfigured::new(Code::SettingsTenantIdMissing, "no Directory (tenant) ID")
    })?;
    let client_id = settings.client_id.clone().ok_or_else(|| {
        NotConfigured::new(Code::SettingsClientIdMissing, "no Application (client) ID")
    })?;
    Ok((tenant, client_id))
}

/// The Entra ID sign-in of [`SignInContext::token_source`] as a source's authorizer.
fn oauth_authorizer(
    settings: &CalendarSettings,
    sign_in: &SignInContext,
    http: reqwest::Client,
    app: (String, String),
    method: SignIn,
) -> Result<Authorizer, NotConfigured> {
    let tokens = sign_in
        .token_source(settings, http, app, method)
        .map_err(|e| NotConfigured::new(Code::SettingsSignIn, e.to_string()))?;
    Ok(Authorizer::OAuth(Arc::new(tokens)))
}

/// Microsoft Graph (`microsoft365`): app-only client credentials with a certificate or a client
/// secret, or the service account's delegated sign-in with Graph scopes. One HTTP client (extra
/// CA, timeouts, no redirects) serves both Entra ID and Graph.
///
/// The calls are made on one anchor mailbox (Graph's limit of four concurrent requests is per
/// application and mailbox): the service account (`/me`) when signed in as it; for app-only
/// access the configured username if there is one, else each batch's first mailbox.
pub fn build_graph(
    settings: &CalendarSettings,
    sign_in: &SignInContext,
) -> Result<GraphSource, NotConfigured> {
    use crate::graph_source::{self, Anchor, GraphConfig};
    use calgate_auth::{AppSecret, ClientCertificate};
    use calgate_settings::GraphSignIn;

    let (tenant, client_id) = entra_app(settings)?;
    let app_anchor = || {
        settings
            .username
            .clone()
            .map_or(Anchor::FirstInBatch, Anchor::Mailbox)
    };
    let (method, anchor) = match settings.graph_sign_in() {
        Some(GraphSignIn::AppOnlyCertificate) => {
            let bundle = settings.client_certificate_pem.as_ref().ok_or_else(|| {
                NotConfigured::new(Code::SettingsCertificateMissing, "no client certificate")
            })?;
            let key = private_key_block(bundle.expose_secret()).ok_or_else(|| {
                NotConfigured::new(
                    Code::SettingsCertificateInvalid,
                    "the client certificate bundle holds no private key",
                )
            })?;
            let certificate = ClientCertificate::from_pem(bundle.expose_secret(), key)
                .map_err(|e| NotConfigured::new(Code::SettingsCertificateInvalid, e.to_string()))?;
            (
                SignIn::App(AppSecret::Certificate(certificate)),
                app_anchor(),
            )
        }
        Some(GraphSignIn::AppOnlySecret) => {
            let secret = settings.client_secret.clone().ok_or_else(|| {
                NotConfigured::new(Code::SettingsClientSecretMissing, "no client secret")
            })?;
            (SignIn::App(AppSecret::ClientSecret(secret)), app_anchor())
        }
        Some(GraphSignIn::Delegated) => {
            let username = settings.username.clone().ok_or_else(|| {
                NotConfigured::new(Code::SettingsUsernameMissing, "no service account username")
            })?;
            let password = settings.password.clone().ok_or_else(|| {
                NotConfigured::new(Code::SettingsPasswordMissing, "no service account password")
            })?;
            (SignIn::Password { username, password }, Anchor::Me)
        }
        None => {
            return Err(NotConfigured::new(
                Code::SettingsNoAuth,
                "microsoft365 needs a client secret, a client certificate or modern \
                 authentication granted for the service account",
            ));
        }
    };
    let mut config = GraphConfig::new(settings.graph_endpoint.clone(), anchor);
    config.extra_ca_pem = settings.extra_ca_pem.clone().map(String::into_bytes);
    config.presence_interval = settings
        .presence
        .then(|| std::time::Duration::from_secs(u64::from(settings.presence_interval_s)));
    config.notifications = settings
        .notification_url
        .as_ref()
        .filter(|_| settings.change_notifications)
        .map(graph_source::Notifications::under);
    config.application = format!("{tenant}/{client_id}");
    let http = graph_source::http_client(
        config.extra_ca_pem.as_deref(),
        config.timeout,
        config.connect_timeout,
    )
    .map_err(|e| NotConfigured::new(Code::SettingsGraphClient, e.to_string()))?;
    let authorizer =
        oauth_authorizer(settings, sign_in, http.clone(), (tenant, client_id), method)?;
    let source = GraphSource::with_client(http, config, authorizer.clone())
        .map_err(|e| NotConfigured::new(Code::SettingsGraphEndpoint, e.to_string()))?;
    // "Retry now" acts on it; the next settings change retires it.
    sign_in.record(vec![authorizer]);
    Ok(source)
}

/// The private-key block of a certificate bundle (certificate and key pasted together).
fn private_key_block(bundle: &str) -> Option<secrecy::SecretString> {
    ["PRIVATE KEY", "RSA PRIVATE KEY"].iter().find_map(|label| {
        let begin = format!("-----BEGIN {label}-----");
        let end = format!("-----END {label}-----");
        let start = bundle.find(&begin)?;
        let stop = bundle.get(start..)?.find(&end)? + start + end.len();
        bundle
            .get(start..stop)
            .map(|block| secrecy::SecretString::from(block.to_owned()))
    })
}
