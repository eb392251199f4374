//! Microsoft Graph endpoints under `/v1.0`: `calendar/getSchedule` and `getMailTips` on
//! `/users/{id}` or `/me`, Teams presence (`communications/getPresencesByUserId`), and the directory (`/users`, `/users/delta`,
//! `/groups/{id}/transitiveMembers`, answered by `directory.rs`), and change-notification
//! subscriptions (`/subscriptions`, answered by `subscriptions.rs`).
//!
//! Bodies are written with calgate-graph's types, the same ones calgate's client reads, so the
//! simulator cannot drift into a dialect of its own. Every request is authenticated with a Graph
//! Bearer token (401 with Graph's error body otherwise), checked for the permission the
//! operation needs (403), throttled through the shared policy (429/503 with `Retry-After`) and
//! Graph's limit of four requests in flight per application and mailbox, and counted in the
//! statistics.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use calgate_core::{CalendarEvent, OutOfOffice};
use calgate_graph::ErrorBody;
use calgate_graph::mailtips::{GetMailTipsBody, MailTips, MailTipsResponse};
use calgate_graph::presence::{
    GetPresencesBody, MAX_PRESENCE_IDS, PresenceItem, PresencesResponse,
};
use calgate_graph::schedule::{
    DEFAULT_INTERVAL_MINUTES, DEFAULT_SCHEDULE_LIMIT, GetScheduleBody, MAX_INTERVAL_MINUTES,
    MAX_SCHEDULE_LIMIT, MIN_INTERVAL_MINUTES, OutputZone, ScheduleInformation, ScheduleResponse,
};
use calgate_graph::subscriptions::DOCUMENTED_MAX_LIFETIME_MINUTES;
use jiff::{SignedDuration, Timestamp};

use crate::state::{SimState, Throttle};
use crate::stats::Outcome;
use crate::tenant::FreeBusyAccess;
use crate::tokens::{Audience, BearerError, TokenClaims, verify_bearer};

pub fn router() -> Router<Arc<SimState>> {
    Router::new()
        .route(
            "/v1.0/users/{id}/calendar/getSchedule",
            post(get_schedule_for_user),
        )
        .route("/v1.0/me/calendar/getSchedule", post(get_schedule_for_me))
        .route("/v1.0/users/{id}/getMailTips", post(mail_tips_for_user))
        .route("/v1.0/me/getMailTips", post(mail_tips_for_me))
        .route(
            "/v1.0/communications/getPresencesByUserId",
            post(presences_by_user_id),
        )
        .route("/v1.0/users", get(list_users))
        .route("/v1.0/users/delta", get(users_delta))
        .route(
            "/v1.0/groups/{id}/transitiveMembers",
            get(transitive_members),
        )
        .route(
            "/_sim/graph",
            get(get_graph_settings).put(put_graph_settings),
        )
        .route("/_sim/graph/delta-tokens", delete(expire_delta_tokens))
}

/// Graph settings that are not part of the shared realism policy; `GET/PUT /_sim/graph` (a PUT
/// may name any subset of the fields).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GraphSettings {
    /// Schedules per getSchedule request (Graph documents 20).
    pub schedule_limit: usize,
    /// getSchedule windows must be shorter than this many days (Graph documents 62; EWS's own
    /// limit lives in the shared policy and is not Graph's).
    pub max_window_days: u32,
    /// Requests one application (or user) may have in flight on one mailbox; more get 429
    /// `ApplicationThrottled` (Graph documents 4 for Outlook resources). 0 is unlimited.
    pub max_concurrency_per_mailbox: u32,
    /// Objects per `/users/delta` page (1–999; Graph chooses its own size, the client follows
    /// the links whatever it is).
    pub directory_page_size: usize,
    /// Breaks the `@odata.nextLink` of directory pages, for tests of a client that must refuse
    /// to follow it.
    pub next_link_fault: NextLinkFault,
    /// The longest lifetime a subscription may ask for, in minutes: a later
    /// `expirationDateTime` is refused with Graph's 400 naming this number (Graph documents
    /// 10 080 for events).
    pub subscription_max_minutes: u32,
    /// A simulated short clock for subscriptions: when above 0, every subscription created or
    /// renewed expires at most this many seconds from now, whatever it asked for, and the
    /// answer carries that expiry (a client must read the expiry it is given). 0 is off.
    pub subscription_lifetime_cap_s: u64,
}

/// How `@odata.nextLink` is broken.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NextLinkFault {
    #[default]
    None,
    /// The link points at another host (a client would carry its token there).
    ForeignHost,
    /// The link is not a URL.
    Unparseable,
}

impl Default for GraphSettings {
    fn default() -> GraphSettings {
        GraphSettings {
            schedule_limit: DEFAULT_SCHEDULE_LIMIT,
            max_window_days: 62,
            max_concurrency_per_mailbox: 4,
            directory_page_size: 100,
            next_link_fault: NextLinkFault::None,
            subscription_max_minutes: DOCUMENTED_MAX_LIFETIME_MINUTES,
            subscription_lifetime_cap_s: 0,
        }
    }
}

/// The Graph settings in force.
pub fn settings(state: &SimState) -> GraphSettings {
    state
        .extensions
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get::<GraphSettings>()
        .copied()
        .unwrap_or_default()
}

/// Replaces the Graph settings.
pub fn set_settings(state: &SimState, settings: GraphSettings) {
    state
        .extensions
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(settings);
}

async fn get_graph_settings(State(state): State<Arc<SimState>>) -> Response {
    axum::Json(settings(&state)).into_response()
}

async fn put_graph_settings(State(state): State<Arc<SimState>>, body: Bytes) -> Response {
    let refuse = |message: String| {
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            axum::Json(serde_json::json!({"code": "invalid_graph_settings", "message": message})),
        )
            .into_response()
    };
    let patch: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(serde_json::Value::Object(patch)) => serde_json::Value::Object(patch),
        Ok(_) => return refuse("the settings must be a JSON object".to_owned()),
        Err(e) => return refuse(e.to_string()),
    };
    let mut merged = match serde_json::to_value(settings(&state)) {
        Ok(v) => v,
        Err(e) => return refuse(e.to_string()),
    };
    if let (Some(base), Some(patch)) = (merged.as_object_mut(), patch.as_object()) {
        for (k, v) in patch {
            base.insert(k.clone(), v.clone());
        }
    }
    let new: GraphSettings = match serde_json::from_value(merged) {
        Ok(s) => s,
        Err(e) => return refuse(e.to_string()),
    };
    if !(1..=MAX_SCHEDULE_LIMIT).contains(&new.schedule_limit) {
        return refuse(format!("schedule_limit must be 1–{MAX_SCHEDULE_LIMIT}"));
    }
    if new.max_window_days == 0 {
        return refuse("max_window_days must be at least 1".to_owned());
    }
    if !(1..=999).contains(&new.directory_page_size) {
        return refuse("directory_page_size must be 1–999".to_owned());
    }
    if new.subscription_max_minutes == 0 {
        return refuse("subscription_max_minutes must be at least 1".to_owned());
    }
    set_settings(&state, new);
    axum::Json(new).into_response()
}

/// `DELETE /_sim/graph/delta-tokens`: every delta and page token given out so far expires
/// (the next request with one is answered `syncStateNotFound`, as Graph answers after a week).
async fn expire_delta_tokens(State(state): State<Arc<SimState>>) -> StatusCode {
    let mut tenant = state.tenant_mut();
    tenant.delta_epoch = tenant.delta_epoch.wrapping_add(1);
    StatusCode::NO_CONTENT
}

/// Changes the schedule limit (1–100), e.g. to serve a gateway configured for 100 per request.
pub fn set_schedule_limit(state: &SimState, limit: usize) -> bool {
    if !(1..=MAX_SCHEDULE_LIMIT).contains(&limit) {
        return false;
    }
    let current = settings(state);
    set_settings(
        state,
        GraphSettings {
            schedule_limit: limit,
            ..current
        },
    );
    true
}

/// Requests in flight per credential and mailbox, shared through the state's extensions.
#[derive(Debug, Clone, Default)]
struct MailboxSlots(Arc<Mutex<HashMap<String, u32>>>);

/// Holds one slot until the request is answered.
#[derive(Debug)]
struct MailboxSlot {
    slots: MailboxSlots,
    key: String,
}

impl Drop for MailboxSlot {
    fn drop(&mut self) {
        let mut map = self.slots.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = map.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                map.remove(&self.key);
            }
        }
    }
}

/// Takes a slot for `credential` on `mailbox`; `None` when the limit is reached.
fn take_slot(state: &SimState, credential: &str, mailbox: &str, limit: u32) -> Option<MailboxSlot> {
    let slots = {
        let mut ext = state.extensions.lock().unwrap_or_else(|p| p.into_inner());
        match ext.get::<MailboxSlots>() {
            Some(s) => s.clone(),
            None => {
                let s = MailboxSlots::default();
                ext.insert(s.clone());
                s
            }
        }
    };
    let key = format!("{}|{}", credential.to_lowercase(), mailbox.to_lowercase());
    {
        let mut map = slots.0.lock().unwrap_or_else(|p| p.into_inner());
        let n = map.entry(key.clone()).or_default();
        if limit > 0 && *n >= limit {
            return None;
        }
        *n += 1;
    }
    Some(MailboxSlot { slots, key })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operation {
    GetSchedule,
    GetMailTips,
    /// `communications/getPresencesByUserId`.
    GetPresences,
    ListUsers,
    /// `/users/delta`; `changes` when it reads the changes since a delta token rather than
    /// the initial listing.
    UsersDelta {
        changes: bool,
    },
    TransitiveMembers,
    /// `/subscriptions` (change notifications), answered by `subscriptions.rs`.
    Subscriptions(crate::subscriptions::Call),
}

impl Operation {
    fn stat_name(self) -> &'static str {
        match self {
            Operation::GetSchedule => "graph.getSchedule",
            Operation::GetMailTips => "graph.getMailTips",
            Operation::GetPresences => "graph.presence",
            Operation::ListUsers => "graph.users",
            Operation::UsersDelta { changes: false } => "graph.users.delta",
            Operation::UsersDelta { changes: true } => "graph.users.delta.changes",
            Operation::TransitiveMembers => "graph.groups.transitiveMembers",
            Operation::Subscriptions(call) => call.stat_name(),
        }
    }

    /// Permissions (application roles or delegated scopes) any one of which allows the call.
    fn permissions(self) -> &'static [&'static str] {
        match self {
            // Graph wants a calendar read permission to subscribe to a mailbox's events.
            Operation::GetSchedule | Operation::Subscriptions(_) => &[
                "Calendars.ReadBasic",
                "Calendars.ReadBasic.All",
                "Calendars.Read",
                "Calendars.Read.Shared",
                "Calendars.ReadWrite",
                "Calendars.ReadWrite.Shared",
            ],
            Operation::GetMailTips => &["Mail.Read", "Mail.Read.Shared", "Mail.ReadWrite"],
            Operation::GetPresences => &["Presence.Read.All", "Presence.ReadWrite.All"],
            Operation::ListUsers => &[
                "User.ReadBasic.All",
                "User.Read.All",
                "User.ReadWrite.All",
                "Directory.Read.All",
                "Directory.ReadWrite.All",
            ],
            Operation::UsersDelta { .. } => &[
                "User.Read.All",
                "User.ReadWrite.All",
                "Directory.Read.All",
                "Directory.ReadWrite.All",
            ],
            Operation::TransitiveMembers => &[
                "GroupMember.Read.All",
                "GroupMember.ReadWrite.All",
                "Group.Read.All",
                "Group.ReadWrite.All",
                "Directory.Read.All",
                "Directory.ReadWrite.All",
            ],
        }
    }

    /// Directory reads: Graph's directory error codes and no mailbox in the path.
    fn is_directory(self) -> bool {
        matches!(
            self,
            Operation::ListUsers | Operation::UsersDelta { .. } | Operation::TransitiveMembers
        )
    }
}

/// Which mailbox (or group, or subscription) the call is made on.
pub(crate) enum Target {
    User(String),
    Me,
    None,
    Group(String),
    /// A subscription's id (`/subscriptions/{id}`); the mailbox is in its resource.
    Subscription(String),
}

async fn get_schedule_for_user(
    State(state): State<Arc<SimState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    serve(
        &state,
        Operation::GetSchedule,
        Target::User(id),
        &headers,
        &body,
        None,
    )
    .await
}

async fn get_schedule_for_me(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    serve(
        &state,
        Operation::GetSchedule,
        Target::Me,
        &headers,
        &body,
        None,
    )
    .await
}

async fn mail_tips_for_user(
    State(state): State<Arc<SimState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    serve(
        &state,
        Operation::GetMailTips,
        Target::User(id),
        &headers,
        &body,
        None,
    )
    .await
}

async fn mail_tips_for_me(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    serve(
        &state,
        Operation::GetMailTips,
        Target::Me,
        &headers,
        &body,
        None,
    )
    .await
}

async fn presences_by_user_id(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    serve(
        &state,
        Operation::GetPresences,
        Target::None,
        &headers,
        &body,
        None,
    )
    .await
}

async fn list_users(
    State(state): State<Arc<SimState>>,
    Query(query): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Response {
    serve(
        &state,
        Operation::ListUsers,
        Target::None,
        &headers,
        &[],
        Some(query),
    )
    .await
}

async fn users_delta(
    State(state): State<Arc<SimState>>,
    Query(query): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Response {
    let changes = crate::directory::reads_changes(&query);
    serve(
        &state,
        Operation::UsersDelta { changes },
        Target::None,
        &headers,
        &[],
        Some(query),
    )
    .await
}

async fn transitive_members(
    State(state): State<Arc<SimState>>,
    Path(id): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Response {
    serve(
        &state,
        Operation::TransitiveMembers,
        Target::Group(id),
        &headers,
        &[],
        Some(query),
    )
    .await
}

/// One answer before headers: status, JSON body, how the statistics count it.
pub(crate) struct Answer {
    status: StatusCode,
    body: String,
    outcome: Outcome,
    retry_after: Option<String>,
    preference_applied: Option<String>,
}

impl Answer {
    pub(crate) fn ok(body: String, outcome: Outcome) -> Answer {
        Answer {
            status: StatusCode::OK,
            body,
            outcome,
            retry_after: None,
            preference_applied: None,
        }
    }

    pub(crate) fn error(
        status: StatusCode,
        code: &str,
        message: &str,
        request_id: &str,
        outcome: Outcome,
    ) -> Answer {
        Answer {
            status,
            body: ErrorBody::new(code, message, request_id, Timestamp::now()).to_json(),
            outcome,
            retry_after: None,
            preference_applied: None,
        }
    }

    /// The same answer under another success status (201, 204).
    pub(crate) fn with_status(mut self, status: StatusCode) -> Answer {
        self.status = status;
        self
    }

    pub(crate) fn bad_request(code: &str, message: &str, request_id: &str) -> Answer {
        Answer::error(
            StatusCode::BAD_REQUEST,
            code,
            message,
            request_id,
            Outcome::Error,
        )
    }
}

pub(crate) async fn serve(
    state: &SimState,
    op: Operation,
    target: Target,
    headers: &HeaderMap,
    body: &[u8],
    query: Option<Vec<(String, String)>>,
) -> Response {
    let _in_flight = state.stats.enter();
    let policy = state.policy();
    // A connection dropped before any answer, as the policy's reset rate asks.
    if state.roll(policy.reset_rate) {
        state.stats.record(op.stat_name(), None, Outcome::Fault);
        let mut response = Response::new(cut_body(Vec::new(), 0));
        response
            .headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from_static("1024"));
        return response;
    }
    let request_id = uuid::Uuid::new_v4().to_string();
    let (answer, credential) = answer(state, op, target, headers, body, query, &request_id).await;
    // A body cut off halfway, as the policy's truncation rate asks.
    let truncate = answer.status == StatusCode::OK && state.roll(policy.truncate_rate);
    let outcome = if truncate {
        Outcome::Fault
    } else {
        answer.outcome
    };
    state
        .stats
        .record(op.stat_name(), credential.as_deref(), outcome);
    state.record_response(
        op.stat_name(),
        answer.status.as_u16(),
        answer.body.as_bytes(),
    );
    if truncate {
        let bytes = answer.body.clone().into_bytes();
        let len = bytes.len();
        let mut response = respond(answer, &request_id, headers);
        *response.body_mut() = cut_body(bytes, len / 2);
        if let Ok(v) = HeaderValue::from_str(&len.to_string()) {
            response.headers_mut().insert(header::CONTENT_LENGTH, v);
        }
        response
    } else {
        respond(answer, &request_id, headers)
    }
}

/// A body that sends its first `keep` bytes and then fails as a reset connection would.
fn cut_body(body: Vec<u8>, keep: usize) -> Body {
    let head = Bytes::from(body).slice(..keep);
    let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
        Ok(head),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "simulated connection reset",
        )),
    ];
    Body::from_stream(futures::stream::iter(chunks))
}

async fn answer(
    state: &SimState,
    op: Operation,
    target: Target,
    headers: &HeaderMap,
    body: &[u8],
    query: Option<Vec<(String, String)>>,
    request_id: &str,
) -> (Answer, Option<String>) {
    let claims = match authenticate(state, headers) {
        Ok(c) => c,
        Err(message) => {
            let a = Answer::error(
                StatusCode::UNAUTHORIZED,
                "InvalidAuthenticationToken",
                message,
                request_id,
                Outcome::AuthFailed,
            );
            return (a, None);
        }
    };
    // Throttling budgets and statistics are per credential: the signed-in user for delegated
    // tokens, the application for app-only ones.
    let credential = claims.upn.clone().unwrap_or_else(|| claims.app_id.clone());
    if !allowed(&claims, op) {
        let (code, message) = match op {
            op if op.is_directory() => (
                "Authorization_RequestDenied",
                "Insufficient privileges to complete the operation.",
            ),
            _ => (
                "ErrorAccessDenied",
                "Access is denied. Check credentials and try again.",
            ),
        };
        return (
            Answer::error(
                StatusCode::FORBIDDEN,
                code,
                message,
                request_id,
                Outcome::AuthFailed,
            ),
            Some(credential),
        );
    }
    // Graph limits concurrency per application and mailbox (the one in the path).
    let mailbox = match &target {
        Target::User(id) => Some(id.clone()),
        Target::Me => claims.upn.clone(),
        Target::None | Target::Group(_) | Target::Subscription(_) => None,
    };
    let _slot = match mailbox {
        Some(m) => {
            let limit = settings(state).max_concurrency_per_mailbox;
            match take_slot(state, &credential, &m, limit) {
                Some(slot) => Some(slot),
                None => {
                    let mut a = Answer::error(
                        StatusCode::TOO_MANY_REQUESTS,
                        "ApplicationThrottled",
                        "Application is over its MailboxConcurrency limit.",
                        request_id,
                        Outcome::Throttled,
                    );
                    a.retry_after = Some("1".to_owned());
                    return (a, Some(credential));
                }
            }
        }
        None => None,
    };
    let policy = state.policy();
    if policy.latency_ms > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(policy.latency_ms)).await;
    }
    if let Some(t) = state.throttle_check(&credential, Timestamp::now()) {
        return (throttled(t, request_id), Some(credential));
    }
    if state.roll(policy.error_rate) {
        return (
            Answer::error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalServerError",
                "An internal server error occurred.",
                request_id,
                Outcome::Fault,
            ),
            Some(credential),
        );
    }
    // The group or subscription id in the path.
    let path_id = match &target {
        Target::Group(id) | Target::Subscription(id) => id.clone(),
        _ => String::new(),
    };
    if let Err(refusal) = check_target(state, &claims, target, request_id) {
        return (refusal, Some(credential));
    }
    let query = query.unwrap_or_default();
    let answer = match op {
        Operation::GetSchedule => get_schedule(state, headers, body, request_id),
        Operation::GetMailTips => get_mail_tips(state, body, request_id),
        Operation::GetPresences => get_presences(state, body, request_id),
        Operation::ListUsers => crate::directory::users_page(state, &query, request_id),
        Operation::UsersDelta { .. } => crate::directory::users_delta(state, &query, request_id),
        Operation::TransitiveMembers => {
            crate::directory::transitive_members(state, &path_id, &query, request_id)
        }
        Operation::Subscriptions(call) => {
            crate::subscriptions::answer(state, call, &claims, &path_id, body, &query, request_id)
                .await
        }
    };
    (answer, Some(credential))
}

fn authenticate(state: &SimState, headers: &HeaderMap) -> Result<TokenClaims, &'static str> {
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .trim();
    let token = match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
        _ => return Err("Access token is empty."),
    };
    if token.is_empty() {
        return Err("Access token is empty.");
    }
    verify_bearer(state, token, Audience::Graph).map_err(|e| match e {
        BearerError::Expired => "Lifetime validation failed, the token is expired.",
        BearerError::WrongAudience => "Access token validation failure. Invalid audience.",
        BearerError::BadSignature => "Signature verification failed.",
        BearerError::Malformed => "IDX14100: JWT is not well formed.",
    })
}

fn allowed(claims: &TokenClaims, op: Operation) -> bool {
    let wanted = op.permissions();
    claims.roles.iter().chain(claims.scopes.iter()).any(|p| {
        // Delegated scopes may arrive with the resource prefix.
        let p = p.rsplit('/').next().unwrap_or(p);
        wanted.iter().any(|w| w.eq_ignore_ascii_case(p))
    })
}

/// Checks that the mailbox in the path exists (or that `/me` has a user behind it).
fn check_target(
    state: &SimState,
    claims: &TokenClaims,
    target: Target,
    request_id: &str,
) -> Result<(), Answer> {
    let id = match target {
        Target::None | Target::Group(_) | Target::Subscription(_) => return Ok(()),
        Target::Me => claims.upn.clone().ok_or_else(|| {
            Answer::bad_request(
                "BadRequest",
                "/me request is only valid with delegated authentication flow.",
                request_id,
            )
        })?,
        Target::User(id) => id,
    };
    let is_service_account = state
        .service_account
        .as_deref()
        .is_some_and(|s| s.eq_ignore_ascii_case(&id));
    let known = is_service_account || {
        let tenant = state.tenant();
        tenant.find(&id).is_some() || tenant.find_id(&id).is_some()
    };
    if known {
        Ok(())
    } else {
        Err(Answer::error(
            StatusCode::NOT_FOUND,
            "ErrorInvalidUser",
            &format!("The requested user '{id}' is invalid."),
            request_id,
            Outcome::Error,
        ))
    }
}

fn throttled(t: Throttle, request_id: &str) -> Answer {
    let (status, retry_after) = match t {
        Throttle::RetryAfter { status, seconds } => (status, seconds.to_string()),
        // The every-n-requests budget is expressed in milliseconds; Graph speaks seconds,
        // fractional where needed (2.5).
        Throttle::ServerBusy { backoff_ms } => (429, fractional_seconds(backoff_ms)),
    };
    let (status, code, message) = if status == 503 {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailable",
            "The service is temporarily unavailable. Please retry later.",
        )
    } else {
        (
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequests",
            "Please retry again later.",
        )
    };
    let mut a = Answer::error(status, code, message, request_id, Outcome::Throttled);
    a.retry_after = Some(retry_after);
    a
}

fn fractional_seconds(ms: u64) -> String {
    if ms.is_multiple_of(1000) {
        (ms / 1000).to_string()
    } else {
        let s = format!("{}.{:03}", ms / 1000, ms % 1000);
        s.trim_end_matches('0').to_owned()
    }
}

/// A body Graph cannot read, in Graph's words: JSON that does not parse is `BadRequest` "Unable
/// to read JSON request payload…", a missing property names it, a wrong type says so.
pub(crate) fn unreadable_body(e: &serde_json::Error, request_id: &str) -> Answer {
    use serde_json::error::Category;
    let message = match e.classify() {
        Category::Syntax | Category::Eof | Category::Io => {
            "Unable to read JSON request payload. Please ensure Content-Type header is set and \
             payload is of valid JSON format."
                .to_string()
        }
        Category::Data => {
            let text = e.to_string();
            match text
                .strip_prefix("missing field `")
                .and_then(|t| t.split('`').next())
            {
                Some(field) => {
                    format!("Required property '{field}' not found in the request body.")
                }
                None => format!(
                    "Invalid request body: {}",
                    text.split(" at line").next().unwrap_or(&text)
                ),
            }
        }
    };
    Answer::bad_request("BadRequest", &message, request_id)
}

fn get_schedule(state: &SimState, headers: &HeaderMap, body: &[u8], request_id: &str) -> Answer {
    let request: GetScheduleBody = match serde_json::from_slice(body) {
        Ok(r) => r,
        Err(e) => return unreadable_body(&e, request_id),
    };
    state
        .stats
        .count_mailboxes(request.schedules.iter().map(String::as_str));
    let limit = settings(state).schedule_limit;
    if request.schedules.is_empty() {
        return Answer::bad_request(
            "ErrorInvalidParameter",
            "Schedules must not be empty.",
            request_id,
        );
    }
    if request.schedules.len() > limit {
        return Answer::bad_request(
            "ErrorInvalidParameter",
            &format!(
                "The number of schedules ({}) exceeds the limit of {limit}.",
                request.schedules.len()
            ),
            request_id,
        );
    }
    let (start, end) = match (
        request.start_time.to_timestamp(),
        request.end_time.to_timestamp(),
    ) {
        (Ok(s), Ok(e)) => (s, e),
        (Err(e), _) | (_, Err(e)) => {
            return Answer::bad_request(
                "ErrorInvalidParameter",
                &format!("Invalid time: {e}"),
                request_id,
            );
        }
    };
    let max_days = i64::from(settings(state).max_window_days.max(1));
    if end <= start {
        return Answer::bad_request(
            "ErrorInvalidTimeInterval",
            "The end time must be after the start time.",
            request_id,
        );
    }
    if end.duration_since(start) >= SignedDuration::from_hours(24 * max_days) {
        return Answer::bad_request(
            "ErrorInvalidTimeInterval",
            &format!("The time interval must be less than {max_days} days."),
            request_id,
        );
    }
    let interval = request
        .availability_view_interval
        .unwrap_or(DEFAULT_INTERVAL_MINUTES);
    if !(MIN_INTERVAL_MINUTES..=MAX_INTERVAL_MINUTES).contains(&interval) {
        return Answer::bad_request(
            "ErrorInvalidParameter",
            &format!(
                "availabilityViewInterval must be between {MIN_INTERVAL_MINUTES} and {MAX_INTERVAL_MINUTES}."
            ),
            request_id,
        );
    }
    let prefer = prefer_header(headers);
    let zone = match OutputZone::from_prefer(&prefer) {
        None => OutputZone::utc(),
        Some(Ok(z)) => z,
        Some(Err(name)) => {
            return Answer::bad_request(
                "TimeZoneNotSupportedException",
                &format!(
                    "A valid TimeZone value must be specified. The following TimeZone value is not supported: '{name}'."
                ),
                request_id,
            );
        }
    };
    let tenant = state.tenant();
    let mut any_failed = false;
    let infos: Vec<ScheduleInformation> = request
        .schedules
        .iter()
        .map(|id| {
            let found = tenant
                .find(id)
                .and_then(|i| Some((tenant.people.get(i)?, tenant.mailboxes.get(i)?)));
            match found {
                Some((person, _)) if person.free_busy_access == FreeBusyAccess::None => {
                    any_failed = true;
                    ScheduleInformation::failed(
                        id,
                        "ErrorNoFreeBusyAccess",
                        &format!("The caller does not have free/busy access to {id}."),
                    )
                }
                Some((person, mailbox)) => {
                    let details = person.free_busy_access == FreeBusyAccess::Detailed;
                    let visible: Vec<CalendarEvent> = mailbox
                        .events
                        .iter()
                        .filter(|e| e.start < end && e.end > start)
                        .map(|e| as_seen_by_others(e, details))
                        .collect();
                    ScheduleInformation::build(
                        id,
                        &visible,
                        start,
                        end,
                        interval,
                        &zone,
                        Some(&person.working_hours),
                    )
                }
                None => {
                    any_failed = true;
                    ScheduleInformation::failed(
                        id,
                        "ErrorMailRecipientNotFound",
                        &format!("Failed to resolve {id}."),
                    )
                }
            }
        })
        .collect();
    drop(tenant);
    let outcome = if any_failed {
        Outcome::Error
    } else {
        Outcome::Success
    };
    let mut a = Answer::ok(ScheduleResponse::new(infos).to_json(), outcome);
    if !prefer.is_empty() && zone.name() != "UTC" {
        a.preference_applied = Some(format!("outlook.timezone=\"{}\"", zone.name()));
    }
    a
}

/// What a colleague (or an app with `Calendars.ReadBasic`) sees of an event: no subject or
/// location for private ones, nor for anyone whose calendar shares times only.
fn as_seen_by_others(e: &CalendarEvent, details: bool) -> CalendarEvent {
    let mut seen = e.clone();
    if seen.is_private || !details {
        seen.subject = None;
        seen.location = None;
    }
    seen
}

fn prefer_header(headers: &HeaderMap) -> String {
    headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",")
}

/// The automatic reply in force now: a message, and a schedule (if any) that covers now.
fn active_oof(oof: Option<&OutOfOffice>, now: Timestamp) -> Option<&OutOfOffice> {
    oof.filter(|o| {
        o.message.as_deref().is_some_and(|m| !m.trim().is_empty())
            && o.start.is_none_or(|s| s <= now)
            && o.end.is_none_or(|e| now < e)
    })
}

fn get_mail_tips(state: &SimState, body: &[u8], request_id: &str) -> Answer {
    let request: GetMailTipsBody = match serde_json::from_slice(body) {
        Ok(r) => r,
        Err(e) => return unreadable_body(&e, request_id),
    };
    if request.email_addresses.is_empty() || request.email_addresses.len() > MAX_SCHEDULE_LIMIT {
        return Answer::bad_request(
            "ErrorInvalidParameter",
            &format!("EmailAddresses must hold 1 to {MAX_SCHEDULE_LIMIT} addresses."),
            request_id,
        );
    }
    let wants_replies = request.wants_automatic_replies();
    let now = Timestamp::now();
    let tenant = state.tenant();
    let mut any_failed = false;
    let tips: Vec<MailTips> = request
        .email_addresses
        .iter()
        .map(|address| {
            let found = tenant
                .find(address)
                .and_then(|i| Some((tenant.people.get(i)?, tenant.mailboxes.get(i)?)));
            match found {
                Some((person, mailbox)) => {
                    let mut tips = MailTips::automatic_replies_for(
                        address,
                        Some(&person.name),
                        active_oof(mailbox.oof.as_ref(), now),
                    );
                    if !wants_replies {
                        tips.automatic_replies = None;
                    }
                    tips
                }
                None => {
                    any_failed = true;
                    MailTips::failed(
                        address,
                        "ErrorMailRecipientNotFound",
                        "The recipient could not be found.",
                    )
                }
            }
        })
        .collect();
    drop(tenant);
    let outcome = if any_failed {
        Outcome::Error
    } else {
        Outcome::Success
    };
    Answer::ok(MailTipsResponse::new(tips).to_json(), outcome)
}

/// Presence by directory object id: ids the tenant does not know are left out of the answer,
/// as Graph leaves them out; more than 650 ids is Graph's 400.
fn get_presences(state: &SimState, body: &[u8], request_id: &str) -> Answer {
    let request: GetPresencesBody = match serde_json::from_slice(body) {
        Ok(r) => r,
        Err(e) => return unreadable_body(&e, request_id),
    };
    if request.ids.is_empty() {
        return Answer::bad_request(
            "BadRequest",
            "The ids collection must not be empty.",
            request_id,
        );
    }
    if request.ids.len() > MAX_PRESENCE_IDS {
        return Answer::bad_request(
            "BadRequest",
            &format!(
                "The number of ids ({}) exceeds the maximum of {MAX_PRESENCE_IDS} per request.",
                request.ids.len()
            ),
            request_id,
        );
    }
    let tenant = state.tenant();
    let items: Vec<PresenceItem> = request
        .ids
        .iter()
        .filter_map(|id| {
            let i = tenant.find_id(id)?;
            let person = tenant.people.get(i)?;
            let mailbox = tenant.mailboxes.get(i)?;
            let (availability, activity) = mailbox.presence();
            Some(PresenceItem::new(&person.id, availability, activity))
        })
        .collect();
    drop(tenant);
    Answer::ok(PresencesResponse::new(items).to_json(), Outcome::Success)
}

fn respond(answer: Answer, request_id: &str, request_headers: &HeaderMap) -> Response {
    let no_content = answer.status == StatusCode::NO_CONTENT;
    let mut response = (answer.status, answer.body).into_response();
    let h = response.headers_mut();
    let content_type = if no_content {
        ""
    } else if answer.status.is_success() {
        "application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; charset=utf-8"
    } else {
        "application/json"
    };
    if !content_type.is_empty() {
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    }
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("request-id", v);
    }
    let client_request_id = request_headers
        .get("client-request-id")
        .cloned()
        .or_else(|| HeaderValue::from_str(request_id).ok());
    if let Some(v) = client_request_id {
        h.insert("client-request-id", v);
    }
    if let Some(v) = answer
        .retry_after
        .and_then(|s| HeaderValue::from_str(&s).ok())
    {
        h.insert(header::RETRY_AFTER, v);
    }
    if let Some(v) = answer
        .preference_applied
        .and_then(|s| HeaderValue::from_str(&s).ok())
    {
        h.insert("preference-applied", v);
    }
    if answer.status == StatusCode::UNAUTHORIZED {
        h.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(
                "Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", client_id=\"00000003-0000-0000-c000-000000000000\"",
            ),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_are_fractional_when_needed() {
        assert_eq!(fractional_seconds(2500), "2.5");
        assert_eq!(fractional_seconds(2000), "2");
        assert_eq!(fractional_seconds(2128), "2.128");
        assert_eq!(fractional_seconds(50), "0.05");
    }

    #[test]
    fn private_events_lose_their_details() {
        let at: Timestamp = "2025-06-02T08:00:00Z".parse().expect("ts");
        let mut e = CalendarEvent::new(at, at, calgate_core::BusyType::Busy);
        e.subject = Some("Doctor".into());
        e.location = Some("Clinic".into());
        e.is_private = true;
        let seen = as_seen_by_others(&e, true);
        assert_eq!(
            (seen.subject, seen.location, seen.is_private),
            (None, None, true)
        );
        e.is_private = false;
        let seen = as_seen_by_others(&e, false);
        assert_eq!((seen.subject, seen.location), (None, None));
        assert_eq!(as_seen_by_others(&e, true), e);
    }
}
