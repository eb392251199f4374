//! Turns the saved calendar settings into a calendar source for the engine.

use std::sync::Arc;

use secrecy::ExposeSecret;

use calgate_auth::{LockoutGuard, MemoryRefreshTokens, RefreshTokenStore, SystemClock};

use calgate_engine::CalendarSource;
use calgate_engine::ews_transport::{BasicCredentials, EwsSource, EwsTransport, TransportConfig};
use calgate_ews::availability::RequestedView;
use calgate_settings::{CalendarSettings, EwsAuth, Provider};

/// Why the settings give no working source: a stable code and a plain message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotConfigured {
    pub code: &'static str,
    pub message: String,
}

impl NotConfigured {
    fn new(code: &'static str, message: impl Into<String>) -> NotConfigured {
        NotConfigured {
            code,
            message: message.into(),
        }
    }
}

/// What every source shares across settings changes: the lockout guard (one for the gateway,
/// so its state persists in one piece and a credential quarantined before a change stays
/// quarantined) and where refresh tokens are kept.
#[derive(Debug, Clone)]
pub struct SignInContext {
    pub guard: Arc<LockoutGuard>,
    pub refresh_tokens: Arc<dyn RefreshTokenStore>,
}

impl SignInContext {
    /// A context with a fresh guard and refresh tokens in memory.
    pub fn in_memory() -> SignInContext {
        SignInContext {
            guard: LockoutGuard::new(Arc::new(SystemClock)),
            refresh_tokens: Arc::new(MemoryRefreshTokens::default()),
        }
    }
}

/// Builds the source the settings describe.
pub fn build(
    settings: &CalendarSettings,
    sign_in: &SignInContext,
) -> Result<Arc<dyn CalendarSource>, NotConfigured> {
    let _ = sign_in;
    match settings.provider {
        Provider::Exchange | Provider::Office365 => ews(settings),
        Provider::Microsoft365 => graph(settings, sign_in),
    }
}

fn ews(settings: &CalendarSettings) -> Result<Arc<dyn CalendarSource>, NotConfigured> {
    let url = settings.effective_ews_url().ok_or_else(|| {
        NotConfigured::new("SETTINGS_EWS_URL_MISSING", "no EWS URL is configured")
    })?;
    let mut config = TransportConfig::new(url, settings.exchange_version);
    config.extra_ca_pem = settings.extra_ca_pem.clone().map(String::into_bytes);
    let auth = settings.ews_auth().ok_or_else(|| {
        NotConfigured::new(
            "SETTINGS_NO_AUTH",
            "neither Basic nor modern authentication is granted",
        )
    })?;
    match auth {
        EwsAuth::Basic => {
            let username = settings.username.as_deref().ok_or_else(|| {
                NotConfigured::new("SETTINGS_USERNAME_MISSING", "no service account username")
            })?;
            let password = settings.password.as_ref().ok_or_else(|| {
                NotConfigured::new("SETTINGS_PASSWORD_MISSING", "no service account password")
            })?;
            let credentials = BasicCredentials::new(username, password.expose_secret())
                .map_err(|e| NotConfigured::new("SETTINGS_CREDENTIALS_INVALID", e.to_string()))?;
            let transport = EwsTransport::new(config, credentials)
                .map_err(|e| NotConfigured::new("SETTINGS_EWS_CLIENT", e.to_string()))?;
            Ok(Arc::new(EwsSource::new(transport, RequestedView::Detailed)))
        }
        EwsAuth::Modern | EwsAuth::ModernPreferred => Err(NotConfigured::new(
            "SOURCE_MODERN_AUTH_UNAVAILABLE",
            "modern authentication over EWS is not available in this build yet",
        )),
    }
}

/// Microsoft Graph (`microsoft365`): app-only client credentials with a certificate or a client
/// secret, or the service account's delegated sign-in with Graph scopes. One HTTP client (extra
/// CA, timeouts, no redirects) serves both Entra ID and Graph.
///
/// The calls are made on one anchor mailbox (Graph's limit of four concurrent requests is per
/// application and mailbox): the service account (`/me`) when signed in as it; for app-only
/// access the configured username if there is one, else each batch's first mailbox.
fn graph(
    settings: &CalendarSettings,
    sign_in: &SignInContext,
) -> Result<Arc<dyn CalendarSource>, NotConfigured> {
    use calgate_auth::{
        AppSecret, Authorizer, ClientCertificate, DEFAULT_RENEW_MARGIN, OAuthSettings, SignIn,
        TokenSource,
    };
    use calgate_engine::graph_source::{self, Anchor, GraphConfig, GraphSource};
    use calgate_settings::GraphSignIn;

    let tenant = settings.tenant_id.clone().ok_or_else(|| {
        NotConfigured::new("SETTINGS_TENANT_ID_MISSING", "no Directory (tenant) ID")
    })?;
    let client_id = settings.client_id.clone().ok_or_else(|| {
        NotConfigured::new("SETTINGS_CLIENT_ID_MISSING", "no Application (client) ID")
    })?;
    let app_anchor = || {
        settings
            .username
            .clone()
            .map_or(Anchor::FirstInBatch, Anchor::Mailbox)
    };
    let (method, anchor) = match settings.graph_sign_in() {
        Some(GraphSignIn::AppOnlyCertificate) => {
            let bundle = settings.client_certificate_pem.as_ref().ok_or_else(|| {
                NotConfigured::new("SETTINGS_CERTIFICATE_MISSING", "no client certificate")
            })?;
            let key = private_key_block(bundle.expose_secret()).ok_or_else(|| {
                NotConfigured::new(
                    "SETTINGS_CERTIFICATE_INVALID",
                    "the client certificate bundle holds no private key",
                )
            })?;
            let certificate = ClientCertificate::from_pem(bundle.expose_secret(), key)
                .map_err(|e| NotConfigured::new("SETTINGS_CERTIFICATE_INVALID", e.to_string()))?;
            (
                SignIn::App(AppSecret::Certificate(certificate)),
                app_anchor(),
            )
        }
        Some(GraphSignIn::AppOnlySecret) => {
            let secret = settings.client_secret.clone().ok_or_else(|| {
                NotConfigured::new("SETTINGS_CLIENT_SECRET_MISSING", "no client secret")
            })?;
            (SignIn::App(AppSecret::ClientSecret(secret)), app_anchor())
        }
        Some(GraphSignIn::Delegated) => {
            let username = settings.username.clone().ok_or_else(|| {
                NotConfigured::new("SETTINGS_USERNAME_MISSING", "no service account username")
            })?;
            let password = settings.password.clone().ok_or_else(|| {
                NotConfigured::new("SETTINGS_PASSWORD_MISSING", "no service account password")
            })?;
            (SignIn::Password { username, password }, Anchor::Me)
        }
        None => {
            return Err(NotConfigured::new(
                "SETTINGS_NO_AUTH",
                "microsoft365 needs a client secret, a client certificate or modern \
                 authentication granted for the service account",
            ));
        }
    };
    let mut config = GraphConfig::new(settings.graph_endpoint.clone(), anchor);
    config.extra_ca_pem = settings.extra_ca_pem.clone().map(String::into_bytes);
    let http = graph_source::http_client(
        config.extra_ca_pem.as_deref(),
        config.timeout,
        config.connect_timeout,
    )
    .map_err(|e| NotConfigured::new("SETTINGS_GRAPH_CLIENT", e.to_string()))?;
    let oauth = OAuthSettings {
        authority: settings.authority_host.clone(),
        tenant,
        client_id,
        sign_in: method,
        renew_margin: DEFAULT_RENEW_MARGIN,
    };
    let tokens = TokenSource::new(
        http.clone(),
        oauth,
        sign_in.guard.clone(),
        sign_in.refresh_tokens.clone(),
    )
    .map_err(|e| NotConfigured::new("SETTINGS_SIGN_IN", e.to_string()))?;
    let source = GraphSource::with_client(http, config, Authorizer::OAuth(Arc::new(tokens)))
        .map_err(|e| NotConfigured::new("SETTINGS_GRAPH_ENDPOINT", e.to_string()))?;
    Ok(Arc::new(source))
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
