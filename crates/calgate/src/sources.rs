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
        Provider::Microsoft365 => Err(NotConfigured::new(
            "SOURCE_GRAPH_UNAVAILABLE",
            "the Microsoft 365 (Graph) provider is not available in this build yet",
        )),
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
