//! The field table: one row per setting with its JSON name, the portal's label and help text,
//! its kind, and the providers it applies to. Parsing, validation messages, the portal form and
//! [`docs_markdown`] are all driven by this table, so a field is described exactly once.

use serde::Serialize;

use crate::model::Provider;

/// Identifies a row of the table; code matches on this, never on the name string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldId {
    Provider,
    GrantBasicAuth,
    GrantModernAuth,
    GrantWindowsAuth,
    TenantId,
    ClientId,
    Username,
    Password,
    ClientSecret,
    ClientCertificatePem,
    ExchangeVersion,
    EwsUrl,
    RefreshIntervalS,
    Presence,
    PresenceIntervalS,
    ChangeNotifications,
    NotificationUrl,
    NotificationSweepS,
    Privacy,
    AllowInsecureHttp,
    AuthorityHost,
    GraphEndpoint,
    ExtraCaPem,
    StatusRules,
}

/// What kind of value a field holds; the portal picks its input widget from this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FieldKind {
    /// One of fixed strings.
    Choice {
        choices: &'static [&'static str],
    },
    Bool,
    /// Free text (trimmed; empty clears).
    Text,
    /// A GUID such as `4b6c0d1e-2f3a-4b5c-8d9e-0f1a2b3c4d5e`.
    Guid,
    /// A GUID or a domain name.
    GuidOrDomain,
    /// An absolute URL.
    Url,
    /// Whole seconds within a range.
    Seconds {
        min: u32,
        max: u32,
        default: u32,
    },
    /// Write-only text; read back only as `<name>_set`.
    Secret,
    /// Write-only PEM (certificate and private key).
    SecretPem,
    /// PEM certificates (public).
    Pem,
    /// The status-rules object.
    StatusRules,
}

/// One row of the settings table.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct FieldSpec {
    pub id: FieldId,
    /// The JSON field name (SPEC §5.1; never renamed).
    pub name: &'static str,
    /// The portal's label.
    pub label: &'static str,
    /// The portal's help text and the docs' description.
    pub help: &'static str,
    pub kind: FieldKind,
    /// The providers this field matters for; the portal hides it for the others.
    pub providers: &'static [Provider],
    /// Write-only: never returned, never logged.
    pub secret: bool,
    /// In use for some of `providers` only while a sign-in grant is set.
    pub needs_grant: Option<NeedsGrant>,
}

/// A field that some providers use only with a sign-in grant set (the Entra ID app's IDs are
/// needed by modern authentication, not by Basic or Windows authentication).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct NeedsGrant {
    /// The grant (a `Bool` field) that brings the field into use.
    pub grant: FieldId,
    /// Providers that use the field whatever the grants.
    pub not_needed_for: &'static [Provider],
}

impl FieldSpec {
    pub fn applies_to(&self, provider: Provider) -> bool {
        self.providers.contains(&provider)
    }

    /// Whether the field is in use for `provider` when `granted` says which grants are set (a
    /// grant the provider does not offer counts as not set).
    pub fn applies_with(&self, provider: Provider, granted: impl Fn(FieldId) -> bool) -> bool {
        self.applies_to(provider)
            && self.needs_grant.is_none_or(|n| {
                n.not_needed_for.contains(&provider)
                    || (spec(n.grant).applies_to(provider) && granted(n.grant))
            })
    }
}

const ALL: &[Provider] = &[
    Provider::Exchange,
    Provider::Office365,
    Provider::Microsoft365,
];
const EWS: &[Provider] = &[Provider::Exchange, Provider::Office365];
const EXCHANGE: &[Provider] = &[Provider::Exchange];
const ENTRA: &[Provider] = &[
    Provider::Exchange,
    Provider::Office365,
    Provider::Microsoft365,
];
const GRAPH: &[Provider] = &[Provider::Microsoft365];
/// Used by an Entra ID sign-in: always with Graph, with EWS only under modern authentication.
const ENTRA_SIGN_IN: Option<NeedsGrant> = Some(NeedsGrant {
    grant: FieldId::GrantModernAuth,
    not_needed_for: GRAPH,
});

/// The settings spellings of `calgate_core::ExchangeVersion` (a test keeps them in sync).
pub(crate) const EXCHANGE_VERSION_CHOICES: &[&str] = &[
    "exchange2007_sp1",
    "exchange2010",
    "exchange2010_sp1",
    "exchange2010_sp2",
    "exchange2013",
    "exchange2013_sp1",
];

const FIELDS: &[FieldSpec] = &[
    FieldSpec {
        id: FieldId::Provider,
        name: "provider",
        label: "Provider",
        help: "Exchange on-premises: your own Exchange server over EWS. Office 365 (EWS): \
               Exchange Online over EWS (blocked by default from 1 Oct 2026, switched off \
               1 Apr 2027). Microsoft 365 (Graph): Exchange Online over Microsoft Graph \
               (recommended for Exchange Online).",
        kind: FieldKind::Choice {
            choices: &["exchange", "office365", "microsoft365"],
        },
        providers: ALL,
        secret: false,
        needs_grant: None,
    },
    FieldSpec {
        id: FieldId::GrantBasicAuth,
        name: "grant_basic_auth",
        label: "Grant Basic Authentication",
        help: "Sign in to EWS with the service account's username and password. Exchange Online \
               has refused Basic authentication since 2022. With exchange, Basic is also used when \
               neither grant is set.",
        kind: FieldKind::Bool,
        providers: EWS,
        secret: false,
        needs_grant: None,
    },
    FieldSpec {
        id: FieldId::GrantModernAuth,
        name: "grant_modern_auth",
        label: "Grant Modern Authentication",
        help: "Sign in with OAuth2 against Entra ID as the service account (delegated). Needs the \
               Directory (tenant) ID and the Application (client) ID. When both grants are set, \
               modern authentication is used and Basic only if the server offers no Bearer sign-in \
               at all. With microsoft365 and no client secret or certificate, this selects the \
               delegated sign-in.",
        kind: FieldKind::Bool,
        providers: ALL,
        secret: false,
        needs_grant: None,
    },
    FieldSpec {
        id: FieldId::GrantWindowsAuth,
        name: "grant_windows_auth",
        label: "Grant Windows Authentication (NTLM/Negotiate)",
        help: "Sign in to on-premises EWS with Windows authentication, as a default Exchange \
               2013-2019/SE offers it with Basic switched off: NTLMv2, alone or inside Negotiate, \
               whichever the server offers. Username as DOMAIN\\user or as a UPN. Kerberos is \
               not used. When several grants are set they are tried in the order modern, \
               Windows, Basic, only among what the server offers.",
        kind: FieldKind::Bool,
        providers: EXCHANGE,
        secret: false,
        needs_grant: None,
    },
    FieldSpec {
        id: FieldId::TenantId,
        name: "tenant_id",
        label: "Directory (tenant) ID",
        help: "The Entra ID tenant: its GUID or one of its verified domain names \
               (contoso.onmicrosoft.com).",
        kind: FieldKind::GuidOrDomain,
        providers: ENTRA,
        secret: false,
        needs_grant: ENTRA_SIGN_IN,
    },
    FieldSpec {
        id: FieldId::ClientId,
        name: "client_id",
        label: "Application (client) ID",
        help: "The GUID of the app registration calgate signs in with.",
        kind: FieldKind::Guid,
        providers: ENTRA,
        secret: false,
        needs_grant: ENTRA_SIGN_IN,
    },
    FieldSpec {
        id: FieldId::Username,
        name: "username",
        label: "Username",
        help: "The service account (user@contoso.com, or DOMAIN\\user on premises). Give it only \
               the rights it needs to read free/busy information.",
        kind: FieldKind::Text,
        providers: ALL,
        secret: false,
        needs_grant: None,
    },
    FieldSpec {
        id: FieldId::Password,
        name: "password",
        label: "Password",
        help: "The service account's password. Write-only: it is stored encrypted and never shown \
               again. Leave empty to keep the stored one.",
        kind: FieldKind::Secret,
        providers: ALL,
        secret: true,
        needs_grant: None,
    },
    FieldSpec {
        id: FieldId::ClientSecret,
        name: "client_secret",
        label: "Client secret",
        help: "For microsoft365 app-only access: a client secret of the app registration. \
               Write-only.",
        kind: FieldKind::Secret,
        providers: GRAPH,
        secret: true,
        needs_grant: None,
    },
    FieldSpec {
        id: FieldId::ClientCertificatePem,
        name: "client_certificate_pem",
        label: "Client certificate (PEM)",
        help: "For microsoft365 app-only access: the certificate uploaded to the app registration \
               and its unencrypted private key, both in PEM. Used instead of the client secret \
               when both are set. Write-only.",
        kind: FieldKind::SecretPem,
        providers: GRAPH,
        secret: true,
        needs_grant: None,
    },
    FieldSpec {
        id: FieldId::ExchangeVersion,
        name: "exchange_version",
        label: "Exchange version",
        help: "The oldest Exchange version among your servers; it decides the request format and \
               whether out-of-office texts can be read (2010 or newer). Choose 2013 SP1 for 2016, \
               2019, Subscription Edition and Exchange Online.",
        kind: FieldKind::Choice {
            choices: EXCHANGE_VERSION_CHOICES,
        },
        providers: EWS,
        secret: false,
        needs_grant: None,
    },
    FieldSpec {
        id: FieldId::EwsUrl,
        name: "ews_url",
        label: "EWS URL",
        help: "The Exchange Web Services endpoint, such as \
               https://mail.contoso.com/EWS/Exchange.asmx. Required for exchange; office365 \
               defaults to https://outlook.office365.com/EWS/Exchange.asmx.",
        kind: FieldKind::Url,
        providers: EWS,
        secret: false,
        needs_grant: None,
    },
    FieldSpec {
        id: FieldId::RefreshIntervalS,
        name: "refresh_interval_s",
        label: "Data refresh interval (s)",
        help: "How often every watched calendar is read again; it bounds how late a calendar edit \
               is seen (meeting starts and ends are shown at the second regardless). Below 60 s \
               risks throttling and account lockouts.",
        kind: FieldKind::Seconds {
            min: 10,
            max: 86_400,
            default: 300,
        },
        providers: ALL,
        secret: false,
        needs_grant: None,
    },
    FieldSpec {
        id: FieldId::Presence,
        name: "presence",
        label: "Teams presence",
        help: "Also read each watched person's Microsoft Teams presence (In a call, In a meeting, \
               Do not disturb…) and show it beside the calendar status. Needs the application \
               permission Presence.Read.All; presence never changes the calendar status.",
        kind: FieldKind::Bool,
        providers: GRAPH,
        secret: false,
        needs_grant: None,
    },
    FieldSpec {
        id: FieldId::PresenceIntervalS,
        name: "presence_interval_s",
        label: "Presence refresh interval (s)",
        help: "How often Teams presence is read, 650 people per request.",
        kind: FieldKind::Seconds {
            min: 10,
            max: 3_600,
            default: 30,
        },
        providers: GRAPH,
        secret: false,
        needs_grant: None,
    },
    FieldSpec {
        id: FieldId::ChangeNotifications,
        name: "change_notifications",
        label: "Change notifications",
        help: "Let Microsoft Graph tell calgate the moment a calendar changes (a subscription per \
               watched mailbox) instead of reading every calendar at each refresh; everyone is \
               still read at the safety sweep. Needs an app registration with an application \
               permission to read calendars, and a notification URL Graph can reach.",
        kind: FieldKind::Bool,
        providers: GRAPH,
        secret: false,
        needs_grant: None,
    },
    FieldSpec {
        id: FieldId::NotificationUrl,
        name: "notification_url",
        label: "Notification URL",
        help: "This gateway's public address as Microsoft Graph reaches it, such as \
               https://calgate.contoso.com; Graph posts to /api/v1/notifications/graph under it.",
        kind: FieldKind::Url,
        providers: GRAPH,
        secret: false,
        needs_grant: None,
    },
    FieldSpec {
        id: FieldId::NotificationSweepS,
        name: "notification_sweep_s",
        label: "Safety sweep interval (s)",
        help: "With change notifications on, how often every calendar is still read, so a lost \
               notification costs at most this long. Mailboxes without a working subscription \
               are read at the data refresh interval.",
        kind: FieldKind::Seconds {
            min: 300,
            max: 86_400,
            default: 3_600,
        },
        providers: GRAPH,
        secret: false,
        needs_grant: None,
    },
    FieldSpec {
        id: FieldId::Privacy,
        name: "privacy",
        label: "Privacy",
        help: "What operators see of an event: status_only, subject, or subject_and_location. \
               Private events always show as \"Private appointment\".",
        kind: FieldKind::Choice {
            choices: &["status_only", "subject", "subject_and_location"],
        },
        providers: ALL,
        secret: false,
        needs_grant: None,
    },
    FieldSpec {
        id: FieldId::AllowInsecureHttp,
        name: "allow_insecure_http",
        label: "Allow insecure http://",
        help: "Permit plain http:// URLs (test labs only): passwords and calendar data then travel \
               unencrypted.",
        kind: FieldKind::Bool,
        providers: ALL,
        secret: false,
        needs_grant: None,
    },
    FieldSpec {
        id: FieldId::AuthorityHost,
        name: "authority_host",
        label: "Entra ID authority host",
        help: "Where sign-ins go: https://login.microsoftonline.com, or a national cloud's \
               authority. Empty restores the default.",
        kind: FieldKind::Url,
        providers: ENTRA,
        secret: false,
        needs_grant: ENTRA_SIGN_IN,
    },
    FieldSpec {
        id: FieldId::GraphEndpoint,
        name: "graph_endpoint",
        label: "Microsoft Graph endpoint",
        help: "https://graph.microsoft.com, or a national cloud's Graph endpoint. Empty restores \
               the default.",
        kind: FieldKind::Url,
        providers: GRAPH,
        secret: false,
        needs_grant: None,
    },
    FieldSpec {
        id: FieldId::ExtraCaPem,
        name: "extra_ca_pem",
        label: "Extra trusted CA certificates (PEM)",
        help: "Certificates of a private certificate authority to trust in addition to the \
               public ones (an on-premises Exchange with an internal CA).",
        kind: FieldKind::Pem,
        providers: ALL,
        secret: false,
        needs_grant: None,
    },
    FieldSpec {
        id: FieldId::StatusRules,
        name: "status_rules",
        label: "Status rules",
        help: "How events show to operators: tentative (tentative, busy or free), \
               working_elsewhere (working_elsewhere, free or busy), and ignore_all_day_free \
               (all-day events marked free do not change the status).",
        kind: FieldKind::StatusRules,
        providers: ALL,
        secret: false,
        needs_grant: None,
    },
];

/// Every settings field, in the portal's order.
pub fn fields() -> &'static [FieldSpec] {
    FIELDS
}

/// The row for a JSON field name.
pub fn field(name: &str) -> Option<&'static FieldSpec> {
    FIELDS.iter().find(|f| f.name == name)
}

pub(crate) fn spec(id: FieldId) -> &'static FieldSpec {
    // Every FieldId has a row (a test checks it); the first row is a harmless fallback.
    FIELDS.iter().find(|f| f.id == id).unwrap_or(&FIELDS[0])
}

/// The settings reference as a Markdown table, for the docs.
pub fn docs_markdown() -> String {
    let mut out = String::from("| field | label | applies to | description |\n|---|---|---|---|\n");
    for f in FIELDS {
        let providers: Vec<&str> = f.providers.iter().map(|p| p.as_str()).collect();
        let mut applies = providers.join(", ");
        if let Some(n) = f.needs_grant {
            let with_grant: Vec<&str> = providers
                .iter()
                .copied()
                .filter(|p| !n.not_needed_for.iter().any(|q| q.as_str() == *p))
                .collect();
            applies.push_str(&format!(
                " ({} only with `{}`)",
                with_grant.join(", "),
                spec(n.grant).name
            ));
        }
        let mut help = f.help.to_string();
        if let FieldKind::Choice { choices } = f.kind {
            help.push_str(&format!(" One of: `{}`.", choices.join("`, `")));
        }
        if let FieldKind::Seconds { min, max, default } = f.kind {
            help.push_str(&format!(" {min} to {max}, default {default}."));
        }
        if f.secret {
            help.push_str(" (write-only)");
        }
        out.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            f.name,
            f.label,
            applies,
            help.replace('|', "\\|")
        ));
    }
    out
}
