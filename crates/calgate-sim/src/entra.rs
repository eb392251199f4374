//! Entra ID v2 endpoints under `/{tenant}/oauth2/v2.0/`, plus what msal asks for on the way
//! (tenant discovery, instance discovery, user realm) and test controls under `/_sim/entra`.
//!
//! Grants: resource-owner password (checked through the accounts' smart-lockout model),
//! refresh_token (every use returns a new refresh token; with `revoke_rotated_refresh_tokens` the
//! used one stops working, which makes a client that forgets to store the new one fail loudly),
//! device code (`authorization_pending`, `slow_down` when polled faster than `interval`,
//! `expired_token`; a test approves a code with `POST /_sim/devicecode/{user_code}/approve`), and
//! client credentials with a client secret or a certificate `client_assertion` (RS256/PS256,
//! `x5t` or `x5t#S256` matched against the registered certificate, signature checked with its
//! public key, `aud` = this token endpoint). Errors are Entra's JSON shape with `error_codes`,
//! `trace_id`, `correlation_id` and `timestamp`; HTTP 400, or 401 for `invalid_client`.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::Engine as _;
use jiff::{SignedDuration, Timestamp};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::accounts::{LockoutMode, PasswordFailure};
use crate::state::SimState;
use crate::stats::Outcome;
use crate::tokens::{self, AccessClaims, Audience};

const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

pub fn router() -> Router<Arc<SimState>> {
    Router::new()
        .route("/{tenant}/oauth2/v2.0/token", post(token))
        .route("/{tenant}/oauth2/v2.0/devicecode", post(devicecode))
        .route(
            "/{tenant}/v2.0/.well-known/openid-configuration",
            get(openid_configuration),
        )
        .route("/{tenant}/discovery/v2.0/keys", get(keys))
        .route("/common/discovery/instance", get(instance_discovery))
        .route("/common/userrealm/{upn}", get(user_realm))
        .route("/_sim/devicecode/{user_code}/approve", post(approve))
        .route("/_sim/devicecode/{user_code}/decline", post(decline))
        .route("/_sim/entra", get(get_settings).put(put_settings))
        .route("/_sim/entra/users/{upn}/revoke", post(revoke_user))
}

/// Entra-side switches, settable through `PUT /_sim/entra` (any subset of the fields).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EntraSettings {
    /// Fixed access-token lifetime; `None` draws 60–90 minutes as Entra does.
    pub access_token_lifetime_s: Option<u64>,
    /// The device-code polling interval advertised.
    pub device_code_interval_s: u64,
    /// The device code's lifetime.
    pub device_code_expires_in_s: u64,
    /// A used refresh token stops working (Entra itself keeps it valid).
    pub revoke_rotated_refresh_tokens: bool,
    /// "Allow public client flows"; `false` refuses ROPC and device code with AADSTS7000218.
    pub public_client_flows: bool,
    /// Answer `slow_down` to this many further device-code polls regardless of timing.
    pub slow_down_polls: u32,
    /// Answer this many further token requests with 503 `temporarily_unavailable`.
    pub unavailable_requests: u32,
    /// Accounts whose sign-in is blocked after the password check, by UPN, with the AADSTS code
    /// Entra would answer: 50055 password expired, 50057 disabled, 50076 MFA required, 50079 MFA
    /// enrollment required, 53003 Conditional Access. Applies to password, refresh and
    /// device-code grants alike.
    pub blocked_accounts: BTreeMap<String, u32>,
    /// Delegated permissions without admin consent (`EWS.AccessAsUser.All`…): asking for one is
    /// AADSTS65001.
    pub unconsented_permissions: Vec<String>,
}

impl Default for EntraSettings {
    fn default() -> EntraSettings {
        EntraSettings {
            access_token_lifetime_s: None,
            device_code_interval_s: 5,
            device_code_expires_in_s: 900,
            revoke_rotated_refresh_tokens: false,
            public_client_flows: true,
            slow_down_polls: 0,
            unavailable_requests: 0,
            blocked_accounts: BTreeMap::new(),
            unconsented_permissions: Vec::new(),
        }
    }
}

#[derive(Debug, Clone)]
struct RefreshGrant {
    upn: String,
    client_id: String,
    revoked: bool,
    /// The sign-in behind it satisfied multi-factor authentication (device code in a browser);
    /// a password sign-in did not, so a later MFA requirement stops its refresh tokens.
    mfa: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum DeviceStatus {
    Pending,
    Approved(String),
    Declined,
    Redeemed,
}

#[derive(Debug, Clone)]
struct DeviceCode {
    user_code: String,
    client_id: String,
    scopes: Vec<String>,
    expires_at: Timestamp,
    interval_s: u64,
    last_poll: Option<Timestamp>,
    status: DeviceStatus,
}

/// What the Entra side remembers, kept in `SimState::extensions`.
#[derive(Debug, Default)]
struct EntraBook {
    settings: Mutex<EntraSettings>,
    refresh_tokens: Mutex<HashMap<String, RefreshGrant>>,
    device_codes: Mutex<HashMap<String, DeviceCode>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn book(state: &SimState) -> Arc<EntraBook> {
    let mut ext = lock(&state.extensions);
    if let Some(book) = ext.get::<Arc<EntraBook>>() {
        return book.clone();
    }
    let book = Arc::new(EntraBook::default());
    ext.insert(book.clone());
    book
}

/// The current Entra settings (for tests running the simulator in-process).
pub fn settings(state: &SimState) -> EntraSettings {
    lock(&book(state).settings).clone()
}

/// Replaces the Entra settings.
pub fn set_settings(state: &SimState, settings: EntraSettings) {
    *lock(&book(state).settings) = settings;
}

/// Revokes every refresh token of `upn`, as a password change or an admin's revoke does.
pub fn revoke_refresh_tokens(state: &SimState, upn: &str) -> usize {
    let book = book(state);
    let mut tokens = lock(&book.refresh_tokens);
    let mut n = 0;
    for grant in tokens.values_mut() {
        if grant.upn.eq_ignore_ascii_case(upn) && !grant.revoked {
            grant.revoked = true;
            n += 1;
        }
    }
    n
}

// ---------------------------------------------------------------------------------------------
// Errors

/// One Entra error answer.
struct EntraError {
    status: StatusCode,
    error: &'static str,
    code: u32,
    text: String,
    correlation_id: String,
    retry_after: Option<u64>,
}

impl EntraError {
    fn new(
        status: StatusCode,
        error: &'static str,
        code: u32,
        text: impl Into<String>,
    ) -> EntraError {
        EntraError {
            status,
            error,
            code,
            text: text.into(),
            correlation_id: uuid::Uuid::new_v4().to_string(),
            retry_after: None,
        }
    }

    fn grant(code: u32, text: impl Into<String>) -> EntraError {
        EntraError::new(StatusCode::BAD_REQUEST, "invalid_grant", code, text)
    }

    fn client(code: u32, text: impl Into<String>) -> EntraError {
        EntraError::new(StatusCode::UNAUTHORIZED, "invalid_client", code, text)
    }

    fn with_correlation(mut self, headers: &HeaderMap) -> EntraError {
        if let Some(id) = headers
            .get("client-request-id")
            .and_then(|v| v.to_str().ok())
            .filter(|v| uuid::Uuid::parse_str(v).is_ok())
        {
            self.correlation_id = id.to_owned();
        }
        self
    }
}

impl IntoResponse for EntraError {
    fn into_response(self) -> Response {
        let trace_id = uuid::Uuid::new_v4().to_string();
        let timestamp = Timestamp::now().strftime("%Y-%m-%d %H:%M:%SZ").to_string();
        let description = format!(
            "AADSTS{}: {}\r\nTrace ID: {trace_id}\r\nCorrelation ID: {}\r\nTimestamp: {timestamp}",
            self.code, self.text, self.correlation_id
        );
        let body = json!({
            "error": self.error,
            "error_description": description,
            "error_codes": [self.code],
            "timestamp": timestamp,
            "trace_id": trace_id,
            "correlation_id": self.correlation_id,
            "error_uri": format!("https://login.microsoftonline.com/error?code={}", self.code),
        });
        let mut response = (self.status, Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store, no-cache"),
        );
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

// ---------------------------------------------------------------------------------------------
// Discovery

fn known_tenant(state: &SimState, tenant: &str) -> bool {
    tenant.eq_ignore_ascii_case(&state.tenant_id)
        || tenant.eq_ignore_ascii_case(&state.domain)
        || tenant.eq_ignore_ascii_case("organizations")
}

fn unknown_tenant(tenant: &str) -> EntraError {
    EntraError::new(
        StatusCode::BAD_REQUEST,
        "invalid_tenant",
        90002,
        format!(
            "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."
        ),
    )
}

async fn openid_configuration(
    State(state): State<Arc<SimState>>,
    Path(tenant): Path<String>,
) -> Response {
    state
        .stats
        .record("entra.discovery", None, Outcome::Success);
    if !known_tenant(&state, &tenant) {
        return unknown_tenant(&tenant).into_response();
    }
    let base = &state.base_url;
    let tid = &state.tenant_id;
    let body = json!({
        "token_endpoint": format!("{base}/{tid}/oauth2/v2.0/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{base}/{tid}/discovery/v2.0/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": format!("{base}/{tid}/v2.0"),
        "request_uri_parameter_supported": false,
        "userinfo_endpoint": format!("{base}/oidc/userinfo"),
        "authorization_endpoint": format!("{base}/{tid}/oauth2/v2.0/authorize"),
        "device_authorization_endpoint": format!("{base}/{tid}/oauth2/v2.0/devicecode"),
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": format!("{base}/{tid}/oauth2/v2.0/logout"),
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "preferred_username", "name", "tid", "ver", "email"],
        "tenant_region_scope": "WW",
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
    });
    (
        [(header::CACHE_CONTROL, "max-age=86400, private")],
        Json(body),
    )
        .into_response()
}

async fn keys() -> Json<Value> {
    // Tokens are signed with a symmetric key that never leaves the simulator.
    Json(json!({ "keys": [] }))
}

async fn instance_discovery(State(state): State<Arc<SimState>>) -> Json<Value> {
    let base = &state.base_url;
    let host = base.split("://").nth(1).unwrap_or(base);
    Json(json!({
        "tenant_discovery_endpoint": format!("{base}/{}/v2.0/.well-known/openid-configuration", state.tenant_id),
        "api-version": "1.1",
        "metadata": [{ "preferred_network": host, "preferred_cache": host, "aliases": [host] }],
    }))
}

async fn user_realm(State(state): State<Arc<SimState>>, Path(upn): Path<String>) -> Json<Value> {
    let domain = upn
        .rsplit('@')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let managed = domain == state.domain.to_ascii_lowercase();
    Json(json!({
        "ver": "1.0",
        "account_type": if managed { "Managed" } else { "Unknown" },
        "domain_name": domain,
        "cloud_instance_name": "microsoftonline.com",
        "cloud_audience_urn": "urn:federation:MicrosoftOnline",
    }))
}

// ---------------------------------------------------------------------------------------------
// Token issuance

fn oid_of(upn: &str) -> String {
    let digest = Sha256::digest(upn.to_ascii_lowercase().as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Uuid::from_bytes(bytes).to_string()
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The scopes of one request, split into the resource, its permissions and the OIDC extras.
struct ScopeRequest {
    audience: Audience,
    permissions: Vec<String>,
    offline_access: bool,
    openid: bool,
}

fn parse_scopes(scope: &str) -> Result<ScopeRequest, EntraError> {
    let mut audience = None;
    let mut permissions = Vec::new();
    let (mut offline_access, mut openid) = (false, false);
    for s in scope.split(' ').filter(|s| !s.is_empty()) {
        match s {
            "offline_access" => offline_access = true,
            "openid" | "profile" | "email" => openid = true,
            _ => {
                let Some(a) = Audience::of_scope(s) else {
                    return Err(EntraError::new(
                        StatusCode::BAD_REQUEST,
                        "invalid_scope",
                        70011,
                        format!(
                            "The provided value for the input parameter 'scope' isn't valid. The scope {s} isn't valid."
                        ),
                    ));
                };
                if audience.is_some_and(|prev| prev != a) {
                    return Err(EntraError::new(
                        StatusCode::BAD_REQUEST,
                        "invalid_scope",
                        28000,
                        "Provided value for the input parameter scope is not valid because it contains more than one resource.",
                    ));
                }
                audience = Some(a);
                permissions.push(s[a.uri().len() + 1..].to_owned());
            }
        }
    }
    let Some(audience) = audience else {
        return Err(EntraError::new(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            70011,
            "The provided value for the input parameter 'scope' isn't valid: no resource scope.",
        ));
    };
    Ok(ScopeRequest {
        audience,
        permissions,
        offline_access,
        openid,
    })
}

fn lifetime_s(settings: &EntraSettings) -> u64 {
    settings
        .access_token_lifetime_s
        .unwrap_or_else(|| rand::rng().random_range(3600..=5400))
}

/// Issues the token response of a user sign-in (password, refresh, device code).
fn user_tokens(
    state: &SimState,
    book: &EntraBook,
    upn: &str,
    client_id: &str,
    scopes: &ScopeRequest,
    client_info: bool,
    mfa: bool,
) -> Result<Value, EntraError> {
    let settings = lock(&book.settings).clone();
    let now = Timestamp::now().as_second();
    let lifetime = lifetime_s(&settings);
    let oid = oid_of(upn);
    let claims = AccessClaims {
        aud: scopes.audience.uri().to_owned(),
        iss: format!("https://sts.windows.net/{}/", state.tenant_id),
        iat: now,
        nbf: now,
        exp: now + i64::try_from(lifetime).unwrap_or(3600),
        tid: state.tenant_id.clone(),
        appid: client_id.to_owned(),
        upn: Some(upn.to_ascii_lowercase()),
        oid: Some(oid.clone()),
        scp: Some(scopes.permissions.join(" ")),
        roles: Vec::new(),
        uti: uuid::Uuid::new_v4().simple().to_string(),
    };
    let access = tokens::sign(state, &claims).ok_or_else(|| {
        EntraError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            90033,
            "token signing failed",
        )
    })?;
    let granted: Vec<String> = scopes
        .permissions
        .iter()
        .map(|p| format!("{}/{p}", scopes.audience.uri()))
        .collect();
    let mut body = json!({
        "token_type": "Bearer",
        "scope": granted.join(" "),
        "expires_in": lifetime,
        "ext_expires_in": lifetime,
        "access_token": access,
    });
    if scopes.offline_access {
        let refresh = format!("0.sim.{}", b64url(&rand::rng().random::<[u8; 32]>()));
        lock(&book.refresh_tokens).insert(
            refresh.clone(),
            RefreshGrant {
                upn: upn.to_ascii_lowercase(),
                client_id: client_id.to_owned(),
                revoked: false,
                mfa,
            },
        );
        body["refresh_token"] = Value::String(refresh);
    }
    if scopes.openid || client_info {
        let id_claims = json!({
            "aud": client_id,
            "iss": format!("{}/{}/v2.0", state.base_url, state.tenant_id),
            "iat": now, "nbf": now, "exp": now + 3600,
            "name": upn, "oid": oid, "preferred_username": upn.to_ascii_lowercase(),
            "sub": oid, "tid": state.tenant_id, "ver": "2.0",
        });
        if let Some(id_token) = tokens::sign_value(state, &id_claims) {
            body["id_token"] = Value::String(id_token);
        }
    }
    if client_info {
        let info = json!({ "uid": oid, "utid": state.tenant_id });
        body["client_info"] = Value::String(b64url(info.to_string().as_bytes()));
    }
    Ok(body)
}

fn app_token(
    state: &SimState,
    book: &EntraBook,
    client_id: &str,
    scope: &str,
) -> Result<Value, EntraError> {
    let audience = scope
        .strip_suffix("/.default")
        .and_then(|resource| [Audience::Ews, Audience::Graph].into_iter().find(|a| a.uri() == resource))
        .ok_or_else(|| {
            EntraError::new(
                StatusCode::BAD_REQUEST,
                "invalid_scope",
                1002012,
                format!("The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."),
            )
        })?;
    let settings = lock(&book.settings).clone();
    let now = Timestamp::now().as_second();
    let lifetime = lifetime_s(&settings);
    let roles = match audience {
        Audience::Ews => vec!["full_access_as_app".to_owned()],
        Audience::Graph => vec![
            "Calendars.ReadBasic.All".to_owned(),
            "Mail.Read".to_owned(),
            "User.Read.All".to_owned(),
            "GroupMember.Read.All".to_owned(),
            "Presence.Read.All".to_owned(),
        ],
    };
    let claims = AccessClaims {
        aud: audience.uri().to_owned(),
        iss: format!("https://sts.windows.net/{}/", state.tenant_id),
        iat: now,
        nbf: now,
        exp: now + i64::try_from(lifetime).unwrap_or(3600),
        tid: state.tenant_id.clone(),
        appid: client_id.to_owned(),
        upn: None,
        oid: None,
        scp: None,
        roles,
        uti: uuid::Uuid::new_v4().simple().to_string(),
    };
    let access = tokens::sign(state, &claims).ok_or_else(|| {
        EntraError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            90033,
            "token signing failed",
        )
    })?;
    Ok(json!({
        "token_type": "Bearer",
        "expires_in": lifetime,
        "ext_expires_in": lifetime,
        "access_token": access,
    }))
}

// ---------------------------------------------------------------------------------------------
// Endpoints

type FormMap = HashMap<String, String>;

fn field<'a>(form: &'a FormMap, name: &str) -> Option<&'a str> {
    form.get(name).map(String::as_str).filter(|v| !v.is_empty())
}

fn missing(name: &str) -> EntraError {
    EntraError::new(
        StatusCode::BAD_REQUEST,
        "invalid_request",
        900144,
        format!("The request body must contain the following parameter: '{name}'."),
    )
}

fn check_client(state: &SimState, form: &FormMap) -> Result<String, EntraError> {
    let client_id = field(form, "client_id").ok_or_else(|| missing("client_id"))?;
    if !client_id.eq_ignore_ascii_case(&state.client_id) {
        return Err(EntraError::new(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700016,
            format!(
                "Application with identifier '{client_id}' was not found in the directory '{}'.",
                state.tenant_id
            ),
        ));
    }
    Ok(client_id.to_owned())
}

fn public_flows_allowed(book: &EntraBook) -> Result<(), EntraError> {
    if lock(&book.settings).public_client_flows {
        Ok(())
    } else {
        Err(EntraError::client(
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        ))
    }
}

async fn token(
    State(state): State<Arc<SimState>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    Form(form): Form<FormMap>,
) -> Response {
    let _in_flight = state.stats.enter();
    let grant = form.get("grant_type").cloned().unwrap_or_default();
    let operation = format!(
        "entra.token.{}",
        match grant.as_str() {
            "password" | "refresh_token" | "client_credentials" => grant.as_str(),
            DEVICE_CODE_GRANT => "device_code",
            _ => "other",
        }
    );
    let (credential, result) = token_answer(&state, &tenant, &grant, &form);
    let outcome = match &result {
        Ok(_) => Outcome::Success,
        Err(e) if e.error == "authorization_pending" || e.error == "slow_down" => Outcome::Error,
        Err(e) if e.status == StatusCode::SERVICE_UNAVAILABLE => Outcome::Fault,
        Err(e) if matches!(e.error, "invalid_grant" | "invalid_client") => Outcome::AuthFailed,
        Err(_) => Outcome::Error,
    };
    state
        .stats
        .record(&operation, credential.as_deref(), outcome);
    match result {
        Ok(body) => ([(header::CACHE_CONTROL, "no-store, no-cache")], Json(body)).into_response(),
        Err(e) => e.with_correlation(&headers).into_response(),
    }
}

/// The answer to a token request, and the credential it counts against in the statistics.
fn token_answer(
    state: &SimState,
    tenant: &str,
    grant: &str,
    form: &FormMap,
) -> (Option<String>, Result<Value, EntraError>) {
    let book = book(state);
    {
        let mut settings = lock(&book.settings);
        if settings.unavailable_requests > 0 {
            settings.unavailable_requests -= 1;
            let mut e = EntraError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                90033,
                "A transient error has occurred. Please try again.",
            );
            e.retry_after = Some(1);
            return (None, Err(e));
        }
    }
    if !known_tenant(state, tenant) {
        return (None, Err(unknown_tenant(tenant)));
    }
    let client_id = match check_client(state, form) {
        Ok(c) => c,
        Err(e) => return (None, Err(e)),
    };
    let client_info = field(form, "client_info") == Some("1");
    match grant {
        "password" => {
            let upn = field(form, "username").unwrap_or_default().to_owned();
            let result = password_grant(state, &book, &client_id, &upn, form, client_info);
            (Some(upn).filter(|u| !u.is_empty()), result)
        }
        "refresh_token" => refresh_grant(state, &book, &client_id, form, client_info),
        DEVICE_CODE_GRANT => (
            Some(client_id.clone()),
            device_code_grant(state, &book, &client_id, form, client_info),
        ),
        "client_credentials" => (
            Some(client_id.clone()),
            client_credentials(state, &book, &client_id, tenant, form),
        ),
        "" => (None, Err(missing("grant_type"))),
        other => (
            None,
            Err(EntraError::new(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                70003,
                format!("The app requested an unsupported grant type '{other}'."),
            )),
        ),
    }
}

fn password_grant(
    state: &SimState,
    book: &EntraBook,
    client_id: &str,
    upn: &str,
    form: &FormMap,
    client_info: bool,
) -> Result<Value, EntraError> {
    public_flows_allowed(book)?;
    if upn.is_empty() {
        return Err(missing("username"));
    }
    let password = form.get("password").map(String::as_str).unwrap_or_default();
    let scopes = parse_scopes(field(form, "scope").unwrap_or_default())?;
    match state
        .accounts
        .check_password(upn, password, LockoutMode::EntraSmart, Timestamp::now())
    {
        Ok(()) => {}
        Err(PasswordFailure::UnknownUser) => {
            return Err(EntraError::grant(
                50034,
                format!("The user account {upn} does not exist in the directory."),
            ));
        }
        Err(PasswordFailure::WrongPassword { .. }) => {
            return Err(EntraError::grant(
                50126,
                "Error validating credentials due to invalid username or password.",
            ));
        }
        Err(PasswordFailure::Locked { .. }) => {
            return Err(EntraError::grant(
                50053,
                "The account is locked, you've tried to sign in too many times with an incorrect user ID or password.",
            ));
        }
    }
    account_policy(book, upn, &scopes, false)?;
    user_tokens(state, book, upn, client_id, &scopes, client_info, false)
}

/// What Entra checks after the password (or for a refresh token, instead of it): account state,
/// Conditional Access and consent.
fn account_policy(
    book: &EntraBook,
    upn: &str,
    scopes: &ScopeRequest,
    mfa_done: bool,
) -> Result<(), EntraError> {
    let settings = lock(&book.settings).clone();
    let blocked = settings
        .blocked_accounts
        .iter()
        .find(|(u, _)| u.eq_ignore_ascii_case(upn))
        .map(|(_, code)| *code)
        .filter(|code| !(mfa_done && matches!(code, 50076 | 50079)));
    if let Some(code) = blocked {
        let (error, text) = match code {
            50055 => ("invalid_grant", "The password is expired."),
            50057 => ("invalid_grant", "The user account is disabled."),
            50076 => (
                "invalid_grant",
                "Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access the resource.",
            ),
            50079 => (
                "invalid_grant",
                "Due to a configuration change made by your administrator, or because you moved to a new location, you must enroll in multi-factor authentication to access the resource.",
            ),
            53003 => (
                "invalid_grant",
                "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.",
            ),
            _ => ("invalid_grant", "The sign-in was blocked."),
        };
        return Err(EntraError::new(StatusCode::BAD_REQUEST, error, code, text));
    }
    if let Some(missing) = scopes.permissions.iter().find(|p| {
        settings
            .unconsented_permissions
            .iter()
            .any(|u| u.eq_ignore_ascii_case(p))
    }) {
        return Err(EntraError::grant(
            65001,
            format!(
                "The user or administrator has not consented to use the application for the permission '{missing}'. Send an interactive authorization request for this user and resource."
            ),
        ));
    }
    Ok(())
}

fn refresh_grant(
    state: &SimState,
    book: &EntraBook,
    client_id: &str,
    form: &FormMap,
    client_info: bool,
) -> (Option<String>, Result<Value, EntraError>) {
    let Some(presented) = field(form, "refresh_token") else {
        return (None, Err(missing("refresh_token")));
    };
    let revoke_used = lock(&book.settings).revoke_rotated_refresh_tokens;
    let grant = {
        let mut tokens = lock(&book.refresh_tokens);
        match tokens.get_mut(presented) {
            None => None,
            Some(g) => {
                let before = g.clone();
                if revoke_used && !g.revoked {
                    g.revoked = true;
                }
                Some(before)
            }
        }
    };
    let Some(grant) = grant else {
        return (
            None,
            Err(EntraError::grant(
                9002313,
                "Invalid request. Request is malformed or invalid.",
            )),
        );
    };
    let upn = grant.upn.clone();
    if grant.revoked {
        return (
            Some(upn),
            Err(EntraError::grant(
                50173,
                "The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password.",
            )),
        );
    }
    if !grant.client_id.eq_ignore_ascii_case(client_id) {
        return (
            Some(upn),
            Err(EntraError::grant(
                70000,
                "The provided grant is not valid for this client.",
            )),
        );
    }
    if state
        .accounts
        .view(&upn, Timestamp::now())
        .is_some_and(|v| v.locked)
    {
        return (
            Some(upn),
            Err(EntraError::grant(50053, "The account is locked.")),
        );
    }
    let scopes = match parse_scopes(
        field(form, "scope")
            .unwrap_or("https://outlook.office365.com/EWS.AccessAsUser.All offline_access"),
    ) {
        Ok(s) => s,
        Err(e) => return (Some(upn), Err(e)),
    };
    // A refresh always returns a refresh token, whether or not offline_access is repeated.
    let scopes = ScopeRequest {
        offline_access: true,
        ..scopes
    };
    if let Err(e) = account_policy(book, &upn, &scopes, grant.mfa) {
        return (Some(upn), Err(e));
    }
    let result = user_tokens(
        state,
        book,
        &upn,
        client_id,
        &scopes,
        client_info,
        grant.mfa,
    );
    (Some(upn), result)
}

fn device_code_grant(
    state: &SimState,
    book: &EntraBook,
    client_id: &str,
    form: &FormMap,
    client_info: bool,
) -> Result<Value, EntraError> {
    let Some(code) = field(form, "device_code").or_else(|| field(form, "code")) else {
        return Err(missing("device_code"));
    };
    let now = Timestamp::now();
    let force_slow_down = {
        let mut settings = lock(&book.settings);
        if settings.slow_down_polls > 0 {
            settings.slow_down_polls -= 1;
            true
        } else {
            false
        }
    };
    let (upn, scopes) = {
        let mut codes = lock(&book.device_codes);
        let Some(entry) = codes.get_mut(code) else {
            return Err(EntraError::new(
                StatusCode::BAD_REQUEST,
                "bad_verification_code",
                70018,
                "The provided value for the input parameter 'device_code' is not valid.",
            ));
        };
        if now >= entry.expires_at {
            return Err(EntraError::new(
                StatusCode::BAD_REQUEST,
                "expired_token",
                70019,
                "Verification code expired.",
            ));
        }
        let interval = SignedDuration::from_secs(i64::try_from(entry.interval_s).unwrap_or(5));
        // A little slack for timer jitter: a client that waits `interval` must never be told off.
        let too_early = entry.last_poll.is_some_and(|last| {
            now.duration_since(last) < interval - SignedDuration::from_millis(250)
        });
        entry.last_poll = Some(now);
        if force_slow_down || too_early {
            return Err(EntraError::new(
                StatusCode::BAD_REQUEST,
                "slow_down",
                70016,
                "Polling too fast: slow down.",
            ));
        }
        match &entry.status {
            DeviceStatus::Pending => {
                return Err(EntraError::new(
                    StatusCode::BAD_REQUEST,
                    "authorization_pending",
                    70016,
                    "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
                ));
            }
            DeviceStatus::Declined => {
                return Err(EntraError::new(
                    StatusCode::BAD_REQUEST,
                    "authorization_declined",
                    70020,
                    "The end user declined the sign-in.",
                ));
            }
            DeviceStatus::Redeemed => {
                return Err(EntraError::grant(
                    54005,
                    "The device code was already redeemed.",
                ));
            }
            DeviceStatus::Approved(upn) => {
                if !entry.client_id.eq_ignore_ascii_case(client_id) {
                    return Err(EntraError::grant(
                        70000,
                        "The provided grant is not valid for this client.",
                    ));
                }
                let upn = upn.clone();
                entry.status = DeviceStatus::Redeemed;
                (upn, entry.scopes.join(" "))
            }
        }
    };
    let scopes = parse_scopes(&scopes)?;
    // The admin signed in through a browser, MFA included.
    account_policy(book, &upn, &scopes, true)?;
    user_tokens(state, book, &upn, client_id, &scopes, client_info, true)
}

fn client_credentials(
    state: &SimState,
    book: &EntraBook,
    client_id: &str,
    tenant: &str,
    form: &FormMap,
) -> Result<Value, EntraError> {
    if let Some(secret) = field(form, "client_secret") {
        let ok = state
            .client_secret
            .as_deref()
            .is_some_and(|registered| constant_time_eq(registered.as_bytes(), secret.as_bytes()));
        if !ok {
            return Err(EntraError::client(
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.",
            ));
        }
    } else if let Some(assertion) = field(form, "client_assertion") {
        if field(form, "client_assertion_type") != Some(JWT_BEARER) {
            return Err(EntraError::client(
                50027,
                "The client_assertion_type is not supported; use urn:ietf:params:oauth:client-assertion-type:jwt-bearer.",
            ));
        }
        let audience = format!("{}/{tenant}/oauth2/v2.0/token", state.base_url);
        let audience_by_id = format!("{}/{}/oauth2/v2.0/token", state.base_url, state.tenant_id);
        check_assertion(state, client_id, assertion, &[audience, audience_by_id])?;
    } else {
        return Err(EntraError::client(
            7000215,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        ));
    }
    let scope = field(form, "scope").ok_or_else(|| missing("scope"))?;
    app_token(state, book, client_id, scope)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn pem_der(pem: &str, label: &str) -> Option<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = pem.find(&begin)? + begin.len();
    let stop = start + pem.get(start..)?.find(&end)?;
    let body: String = pem
        .get(start..stop)?
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD.decode(body).ok()
}

#[derive(Deserialize)]
struct AssertionClaims {
    iss: String,
    sub: String,
}

fn check_assertion(
    state: &SimState,
    client_id: &str,
    assertion: &str,
    audiences: &[String],
) -> Result<(), EntraError> {
    let invalid = |text: &str| {
        EntraError::client(
            700027,
            format!("Client assertion failed signature validation. {text}"),
        )
    };
    let Some(cert_pem) = state.client_cert_pem.as_deref() else {
        return Err(EntraError::client(
            700027,
            "No certificate is registered for the application.",
        ));
    };
    let der = pem_der(cert_pem, "CERTIFICATE")
        .ok_or_else(|| invalid("The registered certificate is unreadable."))?;
    let header = jsonwebtoken::decode_header(assertion)
        .map_err(|_| invalid("The assertion is not a JWT."))?;
    if !matches!(header.alg, Algorithm::RS256 | Algorithm::PS256) {
        return Err(invalid("Unsupported signing algorithm."));
    }
    let sha1 = b64url(&Sha1::digest(&der));
    let sha256 = b64url(&Sha256::digest(&der));
    // msal pads the base64url thumbprint with '='; Entra accepts either form.
    let same = |given: Option<&str>, expected: &str| {
        given.is_some_and(|g| g.trim_end_matches('=') == expected)
    };
    let matches = same(header.x5t.as_deref(), &sha1) || same(header.x5t_s256.as_deref(), &sha256);
    if !matches {
        return Err(EntraError::client(
            700027,
            "Key was not found: the assertion's thumbprint names no certificate registered for the application.",
        ));
    }
    let key = DecodingKey::from_rsa_pem(cert_pem.as_bytes())
        .map_err(|_| invalid("The registered certificate has no RSA key."))?;
    let mut validation = Validation::new(header.alg);
    validation.set_audience(audiences);
    validation.set_required_spec_claims(&["exp", "aud"]);
    let data = jsonwebtoken::decode::<AssertionClaims>(assertion, &key, &validation).map_err(
        |e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => EntraError::client(
                700024,
                "Client assertion is not within its valid time range.",
            ),
            jsonwebtoken::errors::ErrorKind::InvalidAudience => EntraError::client(
                700212,
                "The client assertion's audience claim does not match the token endpoint.",
            ),
            _ => invalid("The signature does not verify with the registered certificate."),
        },
    )?;
    if data.claims.iss != client_id || data.claims.sub != client_id {
        return Err(EntraError::client(
            700023,
            "The client assertion's iss and sub must be the client ID.",
        ));
    }
    Ok(())
}

async fn devicecode(
    State(state): State<Arc<SimState>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    Form(form): Form<FormMap>,
) -> Response {
    let book = book(&state);
    let result = (|| {
        if !known_tenant(&state, &tenant) {
            return Err(unknown_tenant(&tenant));
        }
        let client_id = check_client(&state, &form)?;
        public_flows_allowed(&book)?;
        let scope = field(&form, "scope").ok_or_else(|| missing("scope"))?;
        parse_scopes(scope)?;
        let settings = lock(&book.settings).clone();
        let device_code = b64url(&rand::rng().random::<[u8; 32]>());
        let user_code: String = {
            const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
            let mut rng = rand::rng();
            (0..9)
                .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
                .collect()
        };
        let expires_in = settings.device_code_expires_in_s;
        let entry = DeviceCode {
            user_code: user_code.clone(),
            client_id,
            scopes: scope
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            expires_at: Timestamp::now()
                + SignedDuration::from_secs(i64::try_from(expires_in).unwrap_or(900)),
            interval_s: settings.device_code_interval_s,
            last_poll: None,
            status: DeviceStatus::Pending,
        };
        lock(&book.device_codes).insert(device_code.clone(), entry);
        let verification_uri = format!("{}/devicelogin", state.base_url);
        Ok(json!({
            "user_code": user_code,
            "device_code": device_code,
            "verification_uri": verification_uri,
            "expires_in": expires_in,
            "interval": settings.device_code_interval_s,
            "message": format!("To sign in, use a web browser to open the page {verification_uri} and enter the code {user_code} to authenticate."),
        }))
    })();
    let outcome = if result.is_ok() {
        Outcome::Success
    } else {
        Outcome::Error
    };
    state
        .stats
        .record("entra.devicecode", field(&form, "client_id"), outcome);
    match result {
        Ok(body) => Json(body).into_response(),
        Err(e) => e.with_correlation(&headers).into_response(),
    }
}

/// `POST /_sim/devicecode/{user_code}/approve` with an optional `{"upn": …}` (default: the
/// service account): the simulated admin completed the browser sign-in, MFA included.
#[derive(Debug, Default, Deserialize)]
struct Approval {
    upn: Option<String>,
}

async fn approve(
    State(state): State<Arc<SimState>>,
    Path(user_code): Path<String>,
    body: Option<Json<Approval>>,
) -> Response {
    let upn = body
        .and_then(|Json(a)| a.upn)
        .or_else(|| state.service_account.clone());
    let Some(upn) = upn else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "no upn given and no service account configured"})),
        )
            .into_response();
    };
    if !state.accounts.exists(&upn) {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"error": "no such account"})),
        )
            .into_response();
    }
    set_device_status(
        &state,
        &user_code,
        DeviceStatus::Approved(upn.to_ascii_lowercase()),
    )
}

async fn decline(State(state): State<Arc<SimState>>, Path(user_code): Path<String>) -> Response {
    set_device_status(&state, &user_code, DeviceStatus::Declined)
}

fn set_device_status(state: &SimState, user_code: &str, status: DeviceStatus) -> Response {
    let book = book(state);
    let mut codes = lock(&book.device_codes);
    let entry = codes
        .values_mut()
        .find(|c| c.user_code.eq_ignore_ascii_case(user_code) && c.status == DeviceStatus::Pending);
    match entry {
        Some(entry) => {
            entry.status = status;
            StatusCode::NO_CONTENT.into_response()
        }
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": "no pending device code with that user code"})),
        )
            .into_response(),
    }
}

async fn get_settings(State(state): State<Arc<SimState>>) -> Json<EntraSettings> {
    Json(settings(&state))
}

async fn put_settings(State(state): State<Arc<SimState>>, Json(patch): Json<Value>) -> Response {
    let merged = (|| {
        let mut base = serde_json::to_value(settings(&state)).map_err(|e| e.to_string())?;
        let (Some(base_map), Some(patch_map)) = (base.as_object_mut(), patch.as_object()) else {
            return Err("the settings must be a JSON object".to_owned());
        };
        for (k, v) in patch_map {
            base_map.insert(k.clone(), v.clone());
        }
        serde_json::from_value::<EntraSettings>(base).map_err(|e| e.to_string())
    })();
    match merged {
        Ok(s) => {
            set_settings(&state, s.clone());
            Json(s).into_response()
        }
        Err(e) => (StatusCode::BAD_REQUEST, Json(json!({ "error": e }))).into_response(),
    }
}

async fn revoke_user(State(state): State<Arc<SimState>>, Path(upn): Path<String>) -> Json<Value> {
    Json(json!({ "revoked": revoke_refresh_tokens(&state, &upn) }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_name_one_resource() {
        let ews = parse_scopes(
            "https://outlook.office365.com/EWS.AccessAsUser.All offline_access openid profile",
        )
        .map_err(|e| e.code)
        .expect("valid");
        assert_eq!(ews.audience, Audience::Ews);
        assert_eq!(ews.permissions, vec!["EWS.AccessAsUser.All".to_owned()]);
        assert!(ews.offline_access && ews.openid);
        let two = parse_scopes(
            "https://outlook.office365.com/EWS.AccessAsUser.All https://graph.microsoft.com/Mail.Read",
        );
        assert_eq!(two.map(|_| ()).map_err(|e| e.code), Err(28000));
        assert_eq!(
            parse_scopes("offline_access")
                .map(|_| ())
                .map_err(|e| e.code),
            Err(70011)
        );
        assert_eq!(
            parse_scopes("https://example.com/x")
                .map(|_| ())
                .map_err(|e| e.code),
            Err(70011)
        );
    }

    #[test]
    fn error_bodies_have_entra_shape() {
        let response = EntraError::grant(50126, "Error validating credentials.").into_response();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let client = EntraError::client(7000218, "x").into_response();
        assert_eq!(client.status(), StatusCode::UNAUTHORIZED);
    }

    #[test]
    fn secrets_compare_in_constant_time_and_exactly() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret2"));
    }
}
