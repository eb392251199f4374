//! The Entra ID v2 token and device-code endpoints, spoken directly with reqwest.
//!
//! The five grants are a handful of form posts, so they are written by hand rather than through
//! the `oauth2` crate: what matters here are Entra's specifics that generic OAuth types hide or
//! lose — the integer `error_codes` that decide between stopping and retrying, `trace_id` and
//! `correlation_id` for support, `Retry-After` on 429/503, the certificate `client_assertion` with
//! an `x5t` thumbprint, and `expires_in` that may arrive as a string. No secret is ever put in a
//! URL, a log line or an error.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use jiff::{SignedDuration, Timestamp};
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use url::Url;

use calgate_core::Code;

use crate::clock::Clock;
use crate::credentials::AppSecret;
use crate::failure::{EntraErrorBody, FailureClass, SignInFailure};

const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Token answers are small; anything bigger is not Entra.
const MAX_BODY: usize = 256 * 1024;
/// RFC 8628 §3.5: on `slow_down` the polling interval grows by five seconds.
const SLOW_DOWN_STEP: u64 = 5;

/// Why a grant did not give a token.
#[derive(Debug, Clone, thiserror::Error)]
pub enum GrantError {
    /// Entra answered with an error.
    #[error("{}: {}", .0.code, .0.admin_message())]
    Refused(Box<SignInFailure>),
    /// No answer (connection, TLS, timeout). Retry later.
    #[error("cannot reach Entra ID: {0}")]
    Network(String),
    /// An answer that is not a token response. Retry later.
    #[error("unexpected answer from Entra ID: {0}")]
    InvalidResponse(String),
    /// The device-code sign-in ended without a token.
    #[error("device code sign-in ended: {0}")]
    DeviceCodeEnded(DeviceCodeEnd),
    /// Local settings are unusable (bad authority URL, unreadable certificate).
    #[error("invalid sign-in settings: {0}")]
    Settings(String),
}

impl GrantError {
    /// Stable code for APIs, logs and metric labels.
    pub fn code(&self) -> String {
        match self {
            Self::Refused(f) => f.code.clone(),
            Self::Network(_) => Code::EntraUnreachable.into(),
            Self::InvalidResponse(_) => Code::EntraInvalidResponse.into(),
            Self::DeviceCodeEnded(DeviceCodeEnd::Declined) => Code::EntraDeviceCodeDeclined.into(),
            Self::DeviceCodeEnded(DeviceCodeEnd::Expired) => Code::EntraDeviceCodeExpired.into(),
            Self::DeviceCodeEnded(DeviceCodeEnd::BadCode) => Code::EntraDeviceCodeInvalid.into(),
            Self::Settings(_) => Code::AuthSettingsInvalid.into(),
        }
    }

    /// The failure class; network trouble and strange answers are transient.
    pub fn class(&self) -> FailureClass {
        match self {
            Self::Refused(f) => f.class,
            Self::Network(_) | Self::InvalidResponse(_) => FailureClass::Transient,
            Self::DeviceCodeEnded(_) => FailureClass::Credential,
            Self::Settings(_) => FailureClass::Configuration,
        }
    }
}

/// How a device-code sign-in ended without a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DeviceCodeEnd {
    /// The user declined.
    #[error("the sign-in was declined")]
    Declined,
    /// Nobody signed in before the code expired.
    #[error("the code expired before anyone signed in")]
    Expired,
    /// Entra does not know the code.
    #[error("the device code is not valid")]
    BadCode,
}

/// Tokens from a successful grant.
#[derive(Debug, Clone)]
pub struct TokenGrant {
    /// The bearer token.
    pub access_token: SecretString,
    /// The rotated refresh token, if Entra sent one (`offline_access`).
    pub refresh_token: Option<SecretString>,
    /// Lifetime as sent.
    pub expires_in: SignedDuration,
    /// When the access token expires, by our clock at receipt.
    pub expires_at: Timestamp,
    /// Scopes granted.
    pub scope: String,
}

/// A started device-code sign-in: show `message` (or code and URL) to the admin, then wait.
#[derive(Debug, Clone)]
pub struct DeviceAuthorization {
    /// The code the admin types.
    pub user_code: String,
    /// Where the admin types it.
    pub verification_uri: String,
    /// Entra's ready-made instruction.
    pub message: String,
    /// Seconds until the code expires.
    pub expires_in: u64,
    /// Minimum seconds between polls.
    pub interval: u64,
    device_code: SecretString,
}

/// One poll of a device-code sign-in.
#[derive(Debug)]
pub enum DevicePoll {
    /// Nobody has signed in yet.
    Pending,
    /// Polled too fast: wait five seconds longer from now on.
    SlowDown,
    /// Signed in.
    Done(TokenGrant),
}

#[derive(Deserialize)]
struct TokenBody {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    expires_in: Seconds,
    #[serde(default)]
    scope: String,
}

#[derive(Deserialize)]
struct DeviceBody {
    device_code: String,
    user_code: String,
    verification_uri: String,
    #[serde(default)]
    message: String,
    expires_in: Seconds,
    #[serde(default)]
    interval: Option<Seconds>,
}

/// `expires_in` and `interval` arrive as numbers from v2 and as strings from older endpoints.
#[derive(Deserialize)]
#[serde(untagged)]
enum Seconds {
    Number(u64),
    Text(String),
}

impl Seconds {
    fn get(&self) -> Option<u64> {
        match self {
            Self::Number(n) => Some(*n),
            Self::Text(t) => t.trim().parse().ok(),
        }
    }
}

/// A client for one tenant's Entra ID endpoints.
#[derive(Debug, Clone)]
pub struct EntraClient {
    http: reqwest::Client,
    tenant_base: Url,
    clock: Arc<dyn Clock>,
}

impl EntraClient {
    /// `authority` is the sign-in host (`https://login.microsoftonline.com`) and `tenant` the
    /// Directory ID or verified domain. The HTTP client carries TLS trust and timeouts; build it
    /// with `redirect::Policy::none()`, because a 307/308 redirect would carry the form — the
    /// password — to wherever it points (a redirect then shows as a configuration failure).
    pub fn new(
        http: reqwest::Client,
        authority: &Url,
        tenant: &str,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, GrantError> {
        if tenant.is_empty()
            || !tenant
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        {
            return Err(GrantError::Settings(
                "the Directory (tenant) ID must be a GUID or a domain name".into(),
            ));
        }
        let mut base = authority.clone();
        base.set_query(None);
        base.set_fragment(None);
        let path = format!("{}/{tenant}/", base.path().trim_end_matches('/'));
        base.set_path(&path);
        Ok(Self {
            http,
            tenant_base: base,
            clock,
        })
    }

    /// `{authority}/{tenant}/oauth2/v2.0/token`; also the `aud` of client assertions.
    pub fn token_endpoint(&self) -> Url {
        self.endpoint("oauth2/v2.0/token")
    }

    fn endpoint(&self, path: &str) -> Url {
        self.tenant_base
            .join(path)
            .unwrap_or_else(|_| self.tenant_base.clone())
    }

    /// Resource-owner password grant.
    pub async fn password(
        &self,
        client_id: &str,
        username: &str,
        password: &SecretString,
        scopes: &str,
    ) -> Result<TokenGrant, GrantError> {
        let form = [
            ("client_id", client_id),
            ("grant_type", "password"),
            ("username", username),
            ("password", password.expose_secret()),
            ("scope", scopes),
        ];
        self.token_request(&form).await
    }

    /// Refresh-token grant. The answer carries a new refresh token: store it at once.
    pub async fn refresh(
        &self,
        client_id: &str,
        refresh_token: &SecretString,
        scopes: &str,
    ) -> Result<TokenGrant, GrantError> {
        let form = [
            ("client_id", client_id),
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose_secret()),
            ("scope", scopes),
        ];
        self.token_request(&form).await
    }

    /// Client-credentials grant (app-only) with a secret or a certificate assertion.
    pub async fn client_credentials(
        &self,
        client_id: &str,
        secret: &AppSecret,
        scope: &str,
    ) -> Result<TokenGrant, GrantError> {
        match secret {
            AppSecret::ClientSecret(s) => {
                let form = [
                    ("client_id", client_id),
                    ("grant_type", "client_credentials"),
                    ("client_secret", s.expose_secret()),
                    ("scope", scope),
                ];
                self.token_request(&form).await
            }
            AppSecret::Certificate(cert) => {
                let audience = self.token_endpoint();
                let assertion = cert.assertion(client_id, audience.as_str(), self.clock.now())?;
                let form = [
                    ("client_id", client_id),
                    ("grant_type", "client_credentials"),
                    ("client_assertion_type", JWT_BEARER),
                    ("client_assertion", assertion.expose_secret()),
                    ("scope", scope),
                ];
                self.token_request(&form).await
            }
        }
    }

    /// Starts a device-code sign-in.
    pub async fn start_device_code(
        &self,
        client_id: &str,
        scopes: &str,
    ) -> Result<DeviceAuthorization, GrantError> {
        let form = [("client_id", client_id), ("scope", scopes)];
        let (status, body, retry) = self
            .post(&self.endpoint("oauth2/v2.0/devicecode"), &form)
            .await?;
        if status != StatusCode::OK {
            return Err(refusal(status, &body, retry));
        }
        let parsed: DeviceBody = serde_json::from_slice(&body)
            .map_err(|e| GrantError::InvalidResponse(format!("device code answer: {e}")))?;
        let expires_in = parsed
            .expires_in
            .get()
            .ok_or_else(|| GrantError::InvalidResponse("device code expires_in".into()))?;
        Ok(DeviceAuthorization {
            user_code: parsed.user_code,
            verification_uri: parsed.verification_uri,
            message: parsed.message,
            expires_in,
            interval: parsed.interval.and_then(|i| i.get()).unwrap_or(5).max(1),
            device_code: SecretString::from(parsed.device_code),
        })
    }

    /// Polls a device-code sign-in once.
    pub async fn poll_device_code(
        &self,
        client_id: &str,
        device: &DeviceAuthorization,
    ) -> Result<DevicePoll, GrantError> {
        let form = [
            ("client_id", client_id),
            ("grant_type", DEVICE_CODE_GRANT),
            ("device_code", device.device_code.expose_secret()),
        ];
        match self.token_request(&form).await {
            Ok(grant) => Ok(DevicePoll::Done(grant)),
            Err(GrantError::Refused(f)) => match f.error.as_deref() {
                Some("authorization_pending") => Ok(DevicePoll::Pending),
                Some("slow_down") => Ok(DevicePoll::SlowDown),
                Some("authorization_declined") => {
                    Err(GrantError::DeviceCodeEnded(DeviceCodeEnd::Declined))
                }
                Some("expired_token") => Err(GrantError::DeviceCodeEnded(DeviceCodeEnd::Expired)),
                Some("bad_verification_code") => {
                    Err(GrantError::DeviceCodeEnded(DeviceCodeEnd::BadCode))
                }
                _ => Err(GrantError::Refused(f)),
            },
            Err(other) => Err(other),
        }
    }

    /// Polls until the admin has signed in, never faster than `interval`, five seconds slower
    /// after each `slow_down`, and not past the code's expiry.
    pub async fn wait_for_device_code(
        &self,
        client_id: &str,
        device: &DeviceAuthorization,
    ) -> Result<TokenGrant, GrantError> {
        let mut interval = device.interval.max(1);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(device.expires_in);
        loop {
            tokio::time::sleep(Duration::from_secs(interval)).await;
            if tokio::time::Instant::now() > deadline {
                return Err(GrantError::DeviceCodeEnded(DeviceCodeEnd::Expired));
            }
            match self.poll_device_code(client_id, device).await {
                Ok(DevicePoll::Done(grant)) => return Ok(grant),
                Ok(DevicePoll::Pending) => {}
                Ok(DevicePoll::SlowDown) => interval += SLOW_DOWN_STEP,
                // A busy server or a dropped connection does not end the sign-in.
                Err(e) if e.class() == FailureClass::Transient => interval += SLOW_DOWN_STEP,
                Err(e) => return Err(e),
            }
        }
    }

    async fn token_request(&self, form: &[(&str, &str)]) -> Result<TokenGrant, GrantError> {
        let received_at = self.clock.now();
        let (status, body, retry) = self.post(&self.token_endpoint(), form).await?;
        if status != StatusCode::OK {
            return Err(refusal(status, &body, retry));
        }
        let parsed: TokenBody = serde_json::from_slice(&body)
            .map_err(|e| GrantError::InvalidResponse(format!("token answer: {e}")))?;
        let seconds = parsed
            .expires_in
            .get()
            .filter(|s| *s > 0 && *s < 10 * 24 * 3600)
            .ok_or_else(|| {
                GrantError::InvalidResponse(
                    "token answer: expires_in missing or out of range".into(),
                )
            })?;
        let expires_in = SignedDuration::from_secs(i64::try_from(seconds).unwrap_or(3600));
        if parsed.access_token.is_empty() {
            return Err(GrantError::InvalidResponse(
                "token answer: empty access_token".into(),
            ));
        }
        Ok(TokenGrant {
            access_token: SecretString::from(parsed.access_token),
            refresh_token: parsed
                .refresh_token
                .filter(|t| !t.is_empty())
                .map(SecretString::from),
            expires_in,
            expires_at: received_at + expires_in,
            scope: parsed.scope,
        })
    }

    async fn post(
        &self,
        url: &Url,
        form: &[(&str, &str)],
    ) -> Result<(StatusCode, Vec<u8>, Option<f64>), GrantError> {
        let mut response = self
            .http
            .post(url.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .form(form)
            .send()
            .await
            .map_err(|e| GrantError::Network(e.without_url().to_string()))?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|v| v.is_finite() && *v >= 0.0);
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| GrantError::Network(e.without_url().to_string()))?
        {
            if body.len() + chunk.len() > MAX_BODY {
                return Err(GrantError::InvalidResponse("answer too large".into()));
            }
            body.extend_from_slice(&chunk);
        }
        Ok((status, body, retry_after))
    }
}

fn refusal(status: StatusCode, body: &[u8], retry_after: Option<f64>) -> GrantError {
    match serde_json::from_slice::<EntraErrorBody>(body) {
        Ok(parsed) if !parsed.error.is_empty() => GrantError::Refused(Box::new(
            SignInFailure::from_entra(status.as_u16(), &parsed, retry_after),
        )),
        _ => GrantError::Refused(Box::new(SignInFailure::from_http_status(
            status.as_u16(),
            retry_after,
        ))),
    }
}

/// Base64url without padding, as JWT headers want it.
pub(crate) fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
