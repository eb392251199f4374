//! Sign-in actions for the admin (SPEC §6): "Retry now" after a credential failure, and the
//! device-code sign-in with which an admin signs the gateway in to Entra ID once (MFA included)
//! instead of storing a password.
//!
//! - `POST /api/v1/source/retry`: one immediate attempt with the current credentials, even while
//!   the lockout guard holds them; nothing else changes.
//! - `POST /api/v1/signin/device-code`: starts a sign-in for the configured tenant and app and
//!   answers the code and URL to show; polling runs in the background at Entra's `interval`
//!   (five seconds slower after each `slow_down`) until the code expires.
//! - `GET /api/v1/signin/device-code`: `none`, `pending`, `done`, `expired`, `declined` or
//!   `failed`. On `done` the refresh token is stored and the EWS source signs in with it.
//! - `DELETE /api/v1/signin/device-code`: forgets the device-code sign-in (and stops one still
//!   pending); EWS goes back to the stored service account, if any.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use calgate_auth::{DeviceCodeEnd, EntraClient, GrantError, Resource, SignIn};
use calgate_core::Code;
use calgate_sources::DeviceCodeSignIn;

use crate::api::ApiError;
use crate::state::{AppState, DeviceCodeView, DeviceFlow};

/// The answer of `GET /api/v1/signin/device-code`.
#[derive(Debug, Serialize)]
pub struct DeviceCodeStatus {
    pub state: &'static str,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub pending: Option<DeviceCodeView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

fn status_of(flow: &DeviceFlow) -> DeviceCodeStatus {
    let mut status = DeviceCodeStatus {
        state: "none",
        pending: None,
        username: None,
        code: None,
        message: None,
    };
    match flow {
        DeviceFlow::None => {}
        DeviceFlow::Pending { view, .. } => {
            status.state = "pending";
            status.pending = Some(view.clone());
        }
        DeviceFlow::Done { username } => {
            status.state = "done";
            status.username = Some(username.clone());
        }
        DeviceFlow::Expired => status.state = "expired",
        DeviceFlow::Declined => status.state = "declined",
        DeviceFlow::Failed { code, message } => {
            status.state = "failed";
            status.code = Some(code.clone());
            status.message = Some(message.clone());
        }
    }
    status
}

/// The answer of `POST /api/v1/source/retry`.
#[derive(Debug, Serialize)]
pub struct RetryAnswer {
    /// Sign-ins allowed one immediate attempt.
    pub credentials: usize,
}

/// `POST /api/v1/source/retry`: "Retry now".
pub async fn retry(State(app): State<Arc<AppState>>) -> Json<RetryAnswer> {
    let credentials = app.sign_in.retry_now();
    app.engine().retry_now();
    tracing::info!(credentials, "retry now requested by an administrator");
    Json(RetryAnswer { credentials })
}

/// `GET /api/v1/signin/device-code`.
pub async fn device_code_status(State(app): State<Arc<AppState>>) -> Json<DeviceCodeStatus> {
    let flow = app.device_flow.lock().unwrap_or_else(|e| e.into_inner());
    Json(status_of(&flow))
}

fn grant_error(e: &GrantError) -> ApiError {
    let status = match e.class() {
        calgate_auth::FailureClass::Transient => StatusCode::BAD_GATEWAY,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    ApiError::new(status, "device_code_refused", format!("{}: {e}", e.code()))
}

/// `POST /api/v1/signin/device-code`: starts a device-code sign-in for the saved tenant and app.
pub async fn start_device_code(
    State(app): State<Arc<AppState>>,
) -> Result<(StatusCode, Json<DeviceCodeStatus>), ApiError> {
    let settings = app.settings();
    let (Some(tenant), Some(client_id)) = (settings.tenant_id.clone(), settings.client_id.clone())
    else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "settings_incomplete",
            "save the Directory (tenant) ID and Application (client) ID first",
        ));
    };
    let http = calgate_sources::entra_http_client(&settings)
        .map_err(|e| ApiError::new(StatusCode::CONFLICT, "settings_invalid", e.message))?;
    let clock = Arc::clone(app.sign_in.guard.clock());
    let entra = EntraClient::new(http.clone(), &settings.authority_host, &tenant, clock)
        .map_err(|e| grant_error(&e))?;
    let scopes = calgate_auth::scopes::join(&Resource::Ews.delegated_scopes());
    let device = entra
        .start_device_code(&client_id, &scopes)
        .await
        .map_err(|e| grant_error(&e))?;
    let expires_in = i64::try_from(device.expires_in).unwrap_or(i64::MAX);
    let view = DeviceCodeView {
        user_code: device.user_code.clone(),
        verification_uri: device.verification_uri.clone(),
        message: device.message.clone(),
        expires_at: Timestamp::now()
            .checked_add(SignedDuration::from_secs(expires_in))
            .unwrap_or(Timestamp::MAX),
        interval: device.interval,
    };
    let poller = {
        let app = app.clone();
        let user_code = device.user_code.clone();
        tokio::spawn(async move {
            let result = entra.wait_for_device_code(&client_id, &device).await;
            let end = match result {
                Ok(grant) => {
                    let sign_in = DeviceCodeSignIn {
                        tenant_id: tenant.clone(),
                        client_id: client_id.clone(),
                        username: settings
                            .username
                            .clone()
                            .unwrap_or_else(|| "device-code sign-in".into()),
                        sign_in_id: crate::random_hex::<16>(),
                    };
                    adopt(&app, http, &settings, sign_in, grant).await
                }
                Err(GrantError::DeviceCodeEnded(DeviceCodeEnd::Expired)) => DeviceFlow::Expired,
                Err(GrantError::DeviceCodeEnded(DeviceCodeEnd::Declined)) => DeviceFlow::Declined,
                Err(e) => DeviceFlow::Failed {
                    code: e.code(),
                    message: e.to_string(),
                },
            };
            let mut flow = app.device_flow.lock().unwrap_or_else(|e| e.into_inner());
            // Only the sign-in this task polls for may be ended by it.
            if matches!(&*flow, DeviceFlow::Pending { view, .. } if view.user_code == user_code) {
                *flow = end;
            }
        })
        .abort_handle()
    };
    let mut flow = app.device_flow.lock().unwrap_or_else(|e| e.into_inner());
    // A new sign-in replaces one still pending: its poller stops.
    if let DeviceFlow::Pending { poller, .. } = &*flow {
        poller.abort();
    }
    *flow = DeviceFlow::Pending {
        view: view.clone(),
        poller,
    };
    Ok((StatusCode::CREATED, Json(status_of(&flow))))
}

/// Stores the sign-in's refresh token, remembers the sign-in (persisted) and rebuilds the source
/// so that EWS uses it.
async fn adopt(
    app: &Arc<AppState>,
    http: reqwest::Client,
    settings: &calgate_settings::CalendarSettings,
    sign_in: DeviceCodeSignIn,
    grant: calgate_auth::TokenGrant,
) -> DeviceFlow {
    if grant.refresh_token.is_none() {
        return DeviceFlow::Failed {
            code: Code::EntraNoRefreshToken.into(),
            message: "Entra ID gave no refresh token (offline_access was not granted), so the \
                      sign-in cannot be kept"
                .into(),
        };
    }
    let tokens = match app.sign_in.token_source(
        settings,
        http,
        (sign_in.tenant_id.clone(), sign_in.client_id.clone()),
        SignIn::DeviceCode {
            username: sign_in.username.clone(),
            sign_in_id: sign_in.sign_in_id.clone(),
        },
    ) {
        Ok(t) => t,
        Err(e) => {
            return DeviceFlow::Failed {
                code: e.code(),
                message: e.to_string(),
            };
        }
    };
    // Stores the refresh token (durably, before anything uses the access token).
    let adopted = tokio::task::spawn_blocking(move || {
        let _ = tokens.adopt_device_code_grant(Resource::Ews, grant);
    })
    .await;
    if adopted.is_err() {
        return DeviceFlow::Failed {
            code: Code::DeviceCodeStoreFailed.into(),
            message: "the sign-in's refresh token could not be stored".into(),
        };
    }
    if let Err(e) = crate::signin_store::save_device_sign_in(&app.store, &sign_in).await {
        tracing::warn!(error = %e, "could not persist the device-code sign-in");
    }
    let username = sign_in.username.clone();
    *app.sign_in
        .device_code
        .lock()
        .unwrap_or_else(|e| e.into_inner()) = Some(sign_in);
    app.apply_settings(app.settings());
    tracing::info!(%username, "device-code sign-in completed; EWS uses it");
    DeviceFlow::Done { username }
}

/// `DELETE /api/v1/signin/device-code`: forgets the device-code sign-in.
pub async fn forget_device_code(State(app): State<Arc<AppState>>) -> Result<StatusCode, ApiError> {
    {
        let mut flow = app.device_flow.lock().unwrap_or_else(|e| e.into_inner());
        if let DeviceFlow::Pending { poller, .. } = &*flow {
            poller.abort();
        }
        *flow = DeviceFlow::None;
    }
    let forgotten = app
        .sign_in
        .device_code
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take();
    app.store
        .delete_guard_state(crate::signin_store::DEVICE_SIGN_IN_KEY)
        .await
        .map_err(crate::api::store_error)?;
    if forgotten.is_some() {
        // The source is rebuilt without it; its sign-in is retired and never used again.
        app.apply_settings(app.settings());
        tracing::info!("device-code sign-in forgotten by an administrator");
    }
    Ok(StatusCode::NO_CONTENT)
}
