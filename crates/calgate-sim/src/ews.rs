//! The EWS endpoint (`/EWS/Exchange.asmx`, SOAP 1.1): authentication, realism switches and the
//! operations (GetUserAvailability, GetMailTips, ResolveNames, GetServerTimeZones, ConvertId,
//! GetUserOofSettings).
//!
//! Every step follows what Exchange does and what the captured clients depend on: errors are
//! answered by hand with no `Connection: close` (exchangelib reads that as "busy"); a 401
//! advertises only the scheme the server implements; faults go out as HTTP 500 with an XML body;
//! `ServerVersionInfo` heads every success envelope.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine;
use calgate_core::{BusyType, SerializableTimeZone};
use calgate_ews::server::request::{
    AvailabilityQuery, ConvertIdQuery, MailTipsQuery, ResolveNamesQuery, TimeZonesQuery,
};
use calgate_ews::server::response::{
    self, EventDetails, EventOut, FaultDetail, FreeBusySlot, FreeBusyViewOut, ItemError,
    MailTipOut, OofSettingsOut, OofTip, ResolutionOut, WorkingHoursOut,
};
use calgate_ews::server::versions::{ServerBuild, request_version_rank};
use calgate_ews::server::zones::{self, KNOWN_ZONES};
use calgate_ews::server::{
    Operation, RequestError, ServerRequest, WindowTime, find_build, read_request,
};
use jiff::{SignedDuration, Timestamp, ToSpan};

use crate::accounts::PasswordFailure;
use crate::policy::Policy;
use crate::state::{SimState, Throttle};
use crate::stats::Outcome;
use crate::tenant::{FreeBusyAccess, Tenant};
use crate::tokens::{self, Audience, BearerError};
use crate::windows::{self, EwsAuth, HandshakeStep};

/// Request bodies larger than this are refused before parsing.
pub const MAX_REQUEST_BYTES: usize = 4 * 1024 * 1024;
/// The most mailboxes one GetUserAvailability may name.
pub const MAX_MAILBOXES: usize = 100;

pub fn router() -> Router<Arc<SimState>> {
    Router::new()
        .route("/EWS/Exchange.asmx", post(handle))
        .route("/ews/exchange.asmx", post(handle))
        .route("/EWS/exchange.asmx", post(handle))
}

/// Who a request authenticated as.
#[derive(Debug, Clone)]
struct Caller {
    /// UPN or application id: the key of throttling budgets and statistics.
    name: String,
}

/// An answer with its statistics outcome.
struct Answer {
    status: StatusCode,
    body: Vec<u8>,
    outcome: Outcome,
}

fn iis_headers(resp: &mut Response, status: StatusCode) {
    let h = resp.headers_mut();
    h.insert(
        header::SERVER,
        HeaderValue::from_static("Microsoft-IIS/10.0"),
    );
    h.insert("X-FEServer", HeaderValue::from_static("CALGATESIM01"));
    if let Ok(v) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
        h.insert("request-id", v);
    }
    if let Ok(v) = HeaderValue::from_str(status.as_str()) {
        h.insert("X-BackEndHttpStatus", v);
    }
    h.insert("X-Powered-By", HeaderValue::from_static("ASP.NET"));
}

fn xml_response(status: StatusCode, body: Vec<u8>) -> Response {
    let mut resp = (status, body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/xml; charset=utf-8"),
    );
    iis_headers(&mut resp, status);
    resp
}

fn html_response(status: StatusCode, body: &'static str) -> Response {
    let mut resp = (status, body).into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
    iis_headers(&mut resp, status);
    resp
}

fn fault(code: &str, message: &str, detail: FaultDetail, outcome: Outcome) -> Answer {
    Answer {
        status: StatusCode::INTERNAL_SERVER_ERROR,
        body: response::write_fault(code, message, &detail).unwrap_or_default(),
        outcome,
    }
}

fn ok(body: std::io::Result<Vec<u8>>) -> Answer {
    match body {
        Ok(body) => Answer {
            status: StatusCode::OK,
            body,
            outcome: Outcome::Success,
        },
        Err(e) => fault(
            "ErrorInternalServerError",
            &format!("An internal server error occurred: {e}"),
            FaultDetail::None,
            Outcome::Error,
        ),
    }
}

/// The operation a body names, for statistics of requests refused before parsing.
fn sniff_operation(body: &[u8]) -> &'static str {
    const NAMES: [(&str, &str); 6] = [
        ("GetUserAvailabilityRequest", "GetUserAvailability"),
        ("GetMailTips", "GetMailTips"),
        ("ResolveNames", "ResolveNames"),
        ("GetServerTimeZones", "GetServerTimeZones"),
        ("ConvertId", "ConvertId"),
        ("GetUserOofSettingsRequest", "GetUserOofSettings"),
    ];
    let text = String::from_utf8_lossy(body.get(..body.len().min(8192)).unwrap_or_default());
    NAMES
        .iter()
        .find(|(needle, _)| text.contains(needle))
        .map_or("Unknown", |(_, name)| name)
}

/// A 401 that offers every scheme of `auth` but Bearer (which has its own answer), as IIS lists
/// them: Negotiate, NTLM, then Basic. `token` continues a handshake under `scheme`.
fn unauthorized(auth: EwsAuth, host: &str, token: Option<(&str, &str)>) -> Response {
    let mut resp = Response::new(Body::empty());
    *resp.status_mut() = StatusCode::UNAUTHORIZED;
    let mut offers = Vec::new();
    if let Some((scheme, token)) = token {
        offers.push(format!("{scheme} {token}"));
    } else {
        if auth.negotiate {
            offers.push("Negotiate".to_owned());
        }
        if auth.ntlm {
            offers.push("NTLM".to_owned());
        }
        if auth.basic || !(auth.windows() || auth.bearer) {
            offers.push(format!("Basic realm=\"{host}\""));
        }
        if offers.is_empty() {
            offers.push(BEARER_CHALLENGE.to_owned());
        }
    }
    for offer in offers {
        if let Ok(v) = HeaderValue::from_str(&offer) {
            resp.headers_mut().append(header::WWW_AUTHENTICATE, v);
        }
    }
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
    iis_headers(&mut resp, StatusCode::UNAUTHORIZED);
    resp
}

fn unauthorized_bearer(error: BearerError) -> Response {
    let (code, reason) = match error {
        BearerError::Malformed => ("2000001", "The token is malformed."),
        BearerError::BadSignature => ("2000001", "The token has an invalid signature."),
        BearerError::Expired => ("2000003", "The token has expired."),
        BearerError::WrongAudience => (
            "2000008",
            "The token audience is not valid for this resource.",
        ),
    };
    let mut resp = Response::new(Body::empty());
    *resp.status_mut() = StatusCode::UNAUTHORIZED;
    resp.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(BEARER_INVALID),
    );
    let diag = format!("{code};reason=\"{reason}\";error_category=\"invalid_token\"");
    if let Ok(v) = HeaderValue::from_str(&diag) {
        resp.headers_mut().insert("x-ms-diagnostics", v);
    }
    iis_headers(&mut resp, StatusCode::UNAUTHORIZED);
    resp
}

const BEARER_CHALLENGE: &str = "Bearer client_id=\"00000002-0000-0ff1-ce00-000000000000\", \
     trusted_issuers=\"00000001-0000-0000-c000-000000000000@*\", \
     token_types=\"app_asserted_user_v1 service_asserted_app_v1\", \
     authorization_uri=\"https://login.windows.net/common/oauth2/authorize\"";
const BEARER_INVALID: &str = "Bearer client_id=\"00000002-0000-0ff1-ce00-000000000000\", \
     trusted_issuers=\"00000001-0000-0000-c000-000000000000@*\", \
     token_types=\"app_asserted_user_v1 service_asserted_app_v1\", \
     authorization_uri=\"https://login.windows.net/common/oauth2/authorize\", \
     error=\"invalid_token\"";

enum AuthOutcome {
    /// The caller, `Some(app_only)` for Bearer, and a `WWW-Authenticate` value the answer carries
    /// (the final SPNEGO token of a Windows handshake).
    Ok(Caller, Option<bool>, Option<HeaderValue>),
    Denied(Response),
}

/// Basic (checked against the accounts with the EWS lockout mode) or Bearer (checked by the
/// sign-in side). `Some(app_only)` is returned for Bearer callers.
fn authenticate(
    state: &SimState,
    peer: SocketAddr,
    uri: &Uri,
    headers: &HeaderMap,
    now: Timestamp,
) -> AuthOutcome {
    let auth = state.ews_auth;
    let unauthorized_basic = |host: &str| unauthorized(auth, host, None);
    // HTTP/2 requests carry the host in the URI authority, HTTP/1.1 ones in `Host`.
    let host = uri
        .host()
        .map(str::to_owned)
        .or_else(|| {
            headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .map(|h| h.split(':').next().unwrap_or(h).to_owned())
        })
        .unwrap_or_else(|| "localhost".to_owned());
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    // NTLM authenticated the connection: later requests on it carry no header.
    if value.is_none()
        && auth.windows()
        && let Some(name) = state.windows.authenticated(peer)
    {
        return AuthOutcome::Ok(Caller { name }, None, None);
    }
    let Some(value) = value else {
        return AuthOutcome::Denied(unauthorized_basic(&host));
    };
    let (scheme, rest) = value.trim().split_once(' ').unwrap_or((value, ""));
    let windows_scheme = (auth.ntlm && scheme.eq_ignore_ascii_case("ntlm"))
        || (auth.negotiate && scheme.eq_ignore_ascii_case("negotiate"));
    if windows_scheme {
        windows_handshake(state, peer, scheme, rest, &host, now)
    } else if auth.basic && scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(rest.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok());
        let Some((user, password)) = decoded.as_deref().and_then(|d| d.split_once(':')) else {
            return AuthOutcome::Denied(unauthorized_basic(&host));
        };
        let mode = state.policy().ews_lockout_mode;
        match state.accounts.check_password(user, password, mode, now) {
            Ok(()) => AuthOutcome::Ok(
                Caller {
                    name: user.to_ascii_lowercase(),
                },
                None,
                None,
            ),
            Err(failure) => {
                if matches!(failure, PasswordFailure::WrongPassword { now_locked: true }) {
                    tracing::info!(upn = %user, "account locked out");
                }
                state.stats.record(
                    "Authentication",
                    Some(&user.to_ascii_lowercase()),
                    Outcome::AuthFailed,
                );
                AuthOutcome::Denied(unauthorized_basic(&host))
            }
        }
    } else if auth.bearer && scheme.eq_ignore_ascii_case("bearer") {
        match tokens::verify_bearer(state, rest.trim(), Audience::Ews) {
            Ok(claims) => {
                let app_only = claims.upn.is_none();
                let name = claims.upn.unwrap_or(claims.app_id).to_ascii_lowercase();
                AuthOutcome::Ok(Caller { name }, Some(app_only), None)
            }
            Err(e) => {
                state
                    .stats
                    .record("Authentication", None, Outcome::AuthFailed);
                AuthOutcome::Denied(unauthorized_bearer(e))
            }
        }
    } else {
        state
            .stats
            .record("Authentication", None, Outcome::AuthFailed);
        AuthOutcome::Denied(unauthorized_basic(&host))
    }
}

/// One step of an NTLM handshake (under the `NTLM` or `Negotiate` scheme, bare or in SPNEGO)
/// on `peer`'s connection.
fn windows_handshake(
    state: &SimState,
    peer: SocketAddr,
    scheme: &str,
    token: &str,
    host: &str,
    now: Timestamp,
) -> AuthOutcome {
    let auth = state.ews_auth;
    let negotiate = scheme.eq_ignore_ascii_case("negotiate");
    let refused = || {
        state
            .stats
            .record("Authentication", None, Outcome::AuthFailed);
        AuthOutcome::Denied(unauthorized(auth, host, None))
    };
    match state.windows.step(peer, negotiate, token) {
        HandshakeStep::Challenge(challenge) => {
            AuthOutcome::Denied(unauthorized(auth, host, Some((scheme, &challenge))))
        }
        HandshakeStep::Refused => refused(),
        HandshakeStep::Authenticate(mut logon) => {
            let Some(upn) = windows::account_of(&logon.user, &logon.domain, &state.domain) else {
                return refused();
            };
            let proven = state
                .accounts
                .check_proof(&upn, |password| logon.verify(password), now);
            if let Err(failure) = proven {
                if matches!(failure, PasswordFailure::WrongPassword { now_locked: true }) {
                    tracing::info!(upn = %upn, "account locked out");
                }
                state
                    .stats
                    .record("Authentication", Some(&upn), Outcome::AuthFailed);
                return AuthOutcome::Denied(unauthorized(auth, host, None));
            }
            let spnego = logon.spnego();
            // The password was right: a bad SPNEGO ending is refused without counting a failure.
            let Ok(last) = logon.finish() else {
                state
                    .stats
                    .record("Authentication", Some(&upn), Outcome::AuthFailed);
                return AuthOutcome::Denied(unauthorized(auth, host, None));
            };
            let last = last.and_then(|t| HeaderValue::from_str(&format!("{scheme} {t}")).ok());
            state.windows.set_authenticated(peer, upn.clone());
            state.stats.record_windows_logon(spnego);
            AuthOutcome::Ok(Caller { name: upn }, None, last)
        }
    }
}

/// A body that sends `keep` bytes of `body` and then fails, so the connection breaks
/// mid-answer. With nothing to keep it fails at once and no status line is ever sent (a reset);
/// otherwise it pauses after the first part so that the headers and the part reach the client.
fn broken_body(body: Vec<u8>, keep: usize) -> Body {
    let bytes = Bytes::from(body);
    let head = bytes.slice(..keep.min(bytes.len()));
    let stream = futures::stream::unfold(0u8, move |step| {
        let head = head.clone();
        async move {
            let reset = || {
                Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "simulated connection reset",
                ))
            };
            match step {
                0 if !head.is_empty() => Some((Ok(head), 1)),
                0 => Some((reset(), 2)),
                1 => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    Some((reset(), 2))
                }
                _ => None,
            }
        }
    });
    Body::from_stream(stream)
}

async fn handle(
    State(state): State<Arc<SimState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let in_flight = state.stats.enter();
    let policy = state.policy();
    if policy.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(policy.latency_ms)).await;
    }
    let now = Timestamp::now();
    let sniffed = sniff_operation(&body);
    if policy.ews_disabled {
        state.stats.record(sniffed, None, Outcome::Fault);
        return html_response(StatusCode::FORBIDDEN, "");
    }
    if state.roll(policy.reset_rate) {
        state.stats.record(sniffed, None, Outcome::Fault);
        let mut resp = Response::new(broken_body(Vec::new(), 0));
        resp.headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from_static("1024"));
        return resp;
    }
    let (caller, app_only, last_token) = match authenticate(&state, peer, &uri, &headers, now) {
        AuthOutcome::Ok(caller, app_only, last_token) => (caller, app_only, last_token),
        AuthOutcome::Denied(resp) => return resp,
    };
    let request = Authorized {
        caller: &caller,
        app_only,
        body: &body,
        sniffed,
        in_flight: in_flight.count,
        now,
    };
    let mut resp = respond(&state, &policy, request);
    if let Some(token) = last_token {
        resp.headers_mut().append(header::WWW_AUTHENTICATE, token);
    }
    resp
}

/// An authenticated request.
struct Authorized<'a> {
    caller: &'a Caller,
    app_only: Option<bool>,
    body: &'a [u8],
    /// The operation guessed before parsing, for statistics.
    sniffed: &'static str,
    in_flight: u64,
    now: Timestamp,
}

/// The answer to an authenticated caller, faults and throttling included.
fn respond(state: &SimState, policy: &Policy, request: Authorized<'_>) -> Response {
    let Authorized {
        caller,
        app_only,
        body,
        sniffed,
        in_flight,
        now,
    } = request;
    if state.roll(policy.error_rate) {
        state
            .stats
            .record(sniffed, Some(&caller.name), Outcome::Fault);
        let a = fault(
            "ErrorInternalServerError",
            "An internal server error occurred. The operation failed.",
            FaultDetail::None,
            Outcome::Fault,
        );
        return xml_response(a.status, a.body);
    }
    let (operation, answer) = answer(state, caller, app_only, body, in_flight, now);
    state
        .stats
        .record(operation, Some(&caller.name), answer.outcome);
    if let Answer {
        status: StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE,
        ..
    } = answer
    {
        let mut resp = html_response(
            answer.status,
            if answer.status == StatusCode::TOO_MANY_REQUESTS {
                "<html><body>Too Many Requests</body></html>"
            } else {
                "<html><body>Service Unavailable</body></html>"
            },
        );
        if let Ok(v) = HeaderValue::from_str(&policy.retry_after_s.to_string()) {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return resp;
    }
    state.record_response(operation, answer.status.as_u16(), &answer.body);
    if answer.status == StatusCode::OK && state.roll(policy.truncate_rate) {
        let len = answer.body.len();
        let mut resp = Response::new(broken_body(answer.body, len / 2));
        *resp.status_mut() = answer.status;
        if let Ok(v) = HeaderValue::from_str(&len.to_string()) {
            resp.headers_mut().insert(header::CONTENT_LENGTH, v);
        }
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/xml; charset=utf-8"),
        );
        return resp;
    }
    xml_response(answer.status, answer.body)
}

fn schema_fault(violation: &str) -> Answer {
    fault(
        "ErrorSchemaValidation",
        "The request failed schema validation.",
        FaultDetail::Schema {
            violation: violation.to_owned(),
        },
        Outcome::Error,
    )
}

/// Parses, checks version, concurrency and budget, and runs the operation.
fn answer(
    state: &SimState,
    caller: &Caller,
    app_only: Option<bool>,
    body: &[u8],
    in_flight: u64,
    now: Timestamp,
) -> (&'static str, Answer) {
    let policy = state.policy();
    let build = find_build(&policy.server_version)
        .unwrap_or(&calgate_ews::server::versions::SERVER_BUILDS[0]);
    if body.len() > MAX_REQUEST_BYTES {
        return ("Unknown", schema_fault("The request is too large."));
    }
    let Ok(text) = std::str::from_utf8(body) else {
        return ("Unknown", schema_fault("The request is not valid UTF-8."));
    };
    let request: ServerRequest = match read_request(text) {
        Ok(r) => r,
        Err(RequestError::UnknownOperation(name)) => {
            return (
                "Unknown",
                schema_fault(&format!(
                    "The element '{name}' is not an operation this server supports."
                )),
            );
        }
        Err(RequestError::Schema(violation)) => {
            return (sniff_operation(body), schema_fault(&violation));
        }
        Err(e) => return (sniff_operation(body), schema_fault(&e.to_string())),
    };
    let op = request.operation.name();
    if let Some(v) = &request.version
        && (request_version_rank(v).is_none() || !build.accepts(v))
    {
        return (
            op,
            fault(
                "ErrorInvalidServerVersion",
                "The specified server version is invalid.",
                FaultDetail::None,
                Outcome::Error,
            ),
        );
    }
    match (app_only, &request.impersonation) {
        (Some(true), None) => {
            return (
                op,
                fault(
                    "ErrorInvalidExchangeImpersonationHeaderData",
                    "ExchangeImpersonation SOAP header must be present for this type of OAuth token.",
                    FaultDetail::None,
                    Outcome::Error,
                ),
            );
        }
        (Some(false), Some(_)) => {
            return (
                op,
                fault(
                    "ErrorInvalidExchangeImpersonationHeaderData",
                    "ExchangeImpersonation SOAP header must not exist for this type of OAuth token.",
                    FaultDetail::None,
                    Outcome::Error,
                ),
            );
        }
        _ => {}
    }
    if policy.max_concurrency > 0 && in_flight > u64::from(policy.max_concurrency) {
        let limit = policy.max_concurrency.to_string();
        return (
            op,
            fault(
                "ErrorExceededConnectionCount",
                &format!(
                    "You have exceeded the available concurrent connections for your account. \
                     Try again once your other requests have completed. Policy: MaxConcurrency, \
                     limit {limit}."
                ),
                FaultDetail::Values(vec![
                    ("Policy".to_owned(), "MaxConcurrency".to_owned()),
                    ("MaxConcurrencyLimit".to_owned(), limit),
                    (
                        "ErrorMessage".to_owned(),
                        "Suggested backoff time 0 ms".to_owned(),
                    ),
                ]),
                Outcome::Throttled,
            ),
        );
    }
    match state.throttle_check(&caller.name, now) {
        Some(Throttle::ServerBusy { backoff_ms }) => {
            return (
                op,
                fault(
                    "ErrorServerBusy",
                    "The server cannot service this request right now. Try again later.",
                    FaultDetail::BackOff {
                        milliseconds: backoff_ms,
                    },
                    Outcome::Throttled,
                ),
            );
        }
        Some(Throttle::RetryAfter { status, .. }) => {
            return (
                op,
                Answer {
                    status: StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
                    body: Vec::new(),
                    outcome: Outcome::Throttled,
                },
            );
        }
        None => {}
    }
    let tenant = state.tenant();
    if let Operation::GetUserAvailability(q) = &request.operation {
        state
            .stats
            .count_mailboxes(q.mailboxes.iter().map(|m| m.address.as_str()));
    }
    let answer = match &request.operation {
        Operation::GetUserAvailability(q) => availability(
            &tenant,
            build,
            q,
            request.time_zone_context.as_deref(),
            policy.max_window_days,
        ),
        Operation::GetMailTips(q) => mail_tips(&tenant, build, q, now),
        Operation::ResolveNames(q) => resolve_names(&tenant, build, q),
        Operation::GetServerTimeZones(q) => server_time_zones(build, q),
        Operation::ConvertId(q) => convert_id(build, q),
        Operation::GetUserOofSettings { mailbox } => oof_settings(&tenant, build, mailbox, now),
    };
    (op, answer)
}

// ---------------------------------------------------------------------------------------------
// GetUserAvailability

/// The views a client may ask for, and what each serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum View {
    MergedOnly,
    FreeBusy,
    FreeBusyMerged,
    Detailed,
    DetailedMerged,
}

impl View {
    fn parse(s: &str) -> Option<View> {
        Some(match s.trim() {
            "MergedOnly" => View::MergedOnly,
            "FreeBusy" => View::FreeBusy,
            "FreeBusyMerged" => View::FreeBusyMerged,
            "Detailed" => View::Detailed,
            "DetailedMerged" => View::DetailedMerged,
            _ => return None,
        })
    }

    /// Without read access to the calendar, detailed views degrade to their free/busy twins.
    fn served(self, detailed_allowed: bool) -> View {
        match (self, detailed_allowed) {
            (View::Detailed, false) => View::FreeBusy,
            (View::DetailedMerged, false) => View::FreeBusyMerged,
            (v, _) => v,
        }
    }

    fn name(self) -> &'static str {
        match self {
            View::MergedOnly => "MergedOnly",
            View::FreeBusy => "FreeBusy",
            View::FreeBusyMerged => "FreeBusyMerged",
            View::Detailed => "Detailed",
            View::DetailedMerged => "DetailedMerged",
        }
    }

    fn merged(self) -> bool {
        matches!(
            self,
            View::MergedOnly | View::FreeBusyMerged | View::DetailedMerged
        )
    }

    fn detailed(self) -> bool {
        matches!(self, View::Detailed | View::DetailedMerged)
    }
}

/// The MergedFreeBusy string: one digit per interval, the strongest busy type of the events
/// overlapping it (OOF > Busy > WorkingElsewhere > Tentative > Free, as calgate-core ranks them).
pub fn merged_free_busy<'a>(
    events: impl Iterator<Item = &'a calgate_core::CalendarEvent>,
    start: Timestamp,
    end: Timestamp,
    interval_minutes: i64,
) -> String {
    let interval_s = interval_minutes.max(1) * 60;
    let window_s = end.as_second() - start.as_second();
    let slots = usize::try_from((window_s + interval_s - 1) / interval_s).unwrap_or(0);
    let mut best: Vec<BusyType> = vec![BusyType::Free; slots];
    for e in events {
        let from = (e.start.as_second() - start.as_second()).max(0) / interval_s;
        let to =
            ((e.end.as_second() - start.as_second()).min(window_s) + interval_s - 1) / interval_s;
        let (Ok(from), Ok(to)) = (usize::try_from(from), usize::try_from(to)) else {
            continue;
        };
        for slot in best.iter_mut().take(to.min(slots)).skip(from) {
            if e.busy_type.rank() > slot.rank() {
                *slot = e.busy_type;
            }
        }
    }
    best.into_iter().map(BusyType::merged_digit).collect()
}

fn limit_fault(code: &str, message: &str) -> Answer {
    fault(code, message, FaultDetail::None, Outcome::Error)
}

fn availability(
    tenant: &Tenant,
    build: &ServerBuild,
    q: &AvailabilityQuery,
    context_zone: Option<&str>,
    max_window_days: u32,
) -> Answer {
    if q.mailboxes.len() > MAX_MAILBOXES {
        return limit_fault(
            "ErrorMailboxDataArrayTooBig",
            &format!(
                "There are too many target users in the EmailAddress array. The allowed size = {MAX_MAILBOXES}; the actual size = {}.",
                q.mailboxes.len()
            ),
        );
    }
    if q.mailboxes.is_empty() {
        return limit_fault(
            "ErrorMailboxDataArrayEmpty",
            "The MailboxData array is empty. At least one mailbox must be specified.",
        );
    }
    let Some(fb) = &q.free_busy else {
        // Only suggestions were asked for.
        return ok(response::write_availability(build, &[], true));
    };
    let Some(view) = View::parse(&fb.requested_view) else {
        return schema_fault(&format!(
            "The value '{}' is not a valid FreeBusyViewType.",
            fb.requested_view
        ));
    };
    // The zone of the request: the body's TimeZone (exchangelib, calgate), else the
    // TimeZoneContext header (EWS Managed API style), else UTC.
    let context = context_zone.and_then(zones::find_zone);
    let request_tz: SerializableTimeZone = match (&q.time_zone, context) {
        (Some(tz), _) => tz.clone(),
        (None, Some(z)) => z.serializable(),
        (None, None) => KNOWN_ZONES[0].serializable(),
    };
    let to_instant = |t: WindowTime| match t {
        WindowTime::Instant(i) => i,
        WindowTime::Local(dt) => zones::from_local(&request_tz, dt),
    };
    let start = to_instant(fb.start);
    let mut end = to_instant(fb.end);
    // Dates-only windows (no body TimeZone, midnight times, zone in the header) cover whole
    // days: the EWS Managed API sends a same-day request as StartTime == EndTime.
    if let (None, WindowTime::Local(s), WindowTime::Local(e)) = (&q.time_zone, fb.start, fb.end)
        && s.time() == jiff::civil::Time::midnight()
        && e.time() == jiff::civil::Time::midnight()
        && let Ok(next) = e.date().checked_add(1.day())
    {
        end = zones::from_local(&request_tz, next.to_datetime(jiff::civil::Time::midnight()));
    }
    if end <= start {
        return limit_fault(
            "ErrorInvalidTimeInterval",
            "The time duration specified for FreeBusyViewOptions.TimeWindow is invalid.",
        );
    }
    let window = end.duration_since(start);
    let max = SignedDuration::from_hours(24 * i64::from(max_window_days));
    if window > max {
        let days = (window.as_secs() + 86_399) / 86_400;
        return limit_fault(
            "ErrorTimeIntervalTooBig",
            &format!(
                "The requested time duration specified for FreeBusyViewOptions.TimeWindow is too long. The allowed limit = {max_window_days} days; the actual limit = {days} days."
            ),
        );
    }
    let interval = fb.interval_minutes.unwrap_or(30);
    if !(5..=1440).contains(&interval) || interval * 60 > window.as_secs() {
        return limit_fault(
            "ErrorInvalidMergedFreeBusyInterval",
            "Specify an interval that is less than the free/busy time window and between 5 and 1440 minutes.",
        );
    }
    let slots: Vec<FreeBusySlot> = q
        .mailboxes
        .iter()
        .map(|m| slot(tenant, &m.address, view, &request_tz, start, end, interval))
        .collect();
    ok(response::write_availability(build, &slots, q.suggestions))
}

fn slot<'a>(
    tenant: &'a Tenant,
    address: &str,
    view: View,
    out_tz: &SerializableTimeZone,
    start: Timestamp,
    end: Timestamp,
    interval: i64,
) -> FreeBusySlot<'a> {
    let address = address.trim();
    let address = address.strip_prefix("SMTP:").unwrap_or(address);
    if !address.contains('@') || address.starts_with('@') || address.ends_with('@') {
        return FreeBusySlot::Error(ItemError {
            code: "ErrorInvalidSmtpAddress",
            message: "The e-mail address is not a valid SMTP address.",
        });
    }
    let Some(index) = tenant.find(address) else {
        return FreeBusySlot::Error(ItemError {
            code: "ErrorMailRecipientNotFound",
            message: "Mailbox is not found. The recipient cannot be found in the directory.",
        });
    };
    let (Some(person), Some(mailbox)) = (tenant.people.get(index), tenant.mailboxes.get(index))
    else {
        return FreeBusySlot::Error(ItemError {
            code: "ErrorMailRecipientNotFound",
            message: "Mailbox is not found. The recipient cannot be found in the directory.",
        });
    };
    if person.free_busy_access == FreeBusyAccess::None {
        return FreeBusySlot::Error(ItemError {
            code: "ErrorNoFreeBusyAccess",
            message: "The caller does not have permission to access the free/busy information.",
        });
    }
    let served = view.served(person.free_busy_access == FreeBusyAccess::Detailed);
    let merged = served.merged().then(|| {
        merged_free_busy(
            mailbox.overlapping(start, end).map(|(_, e)| e),
            start,
            end,
            interval,
        )
    });
    let events = (served != View::MergedOnly).then(|| {
        mailbox
            .overlapping(start, end)
            .map(|(i, e)| EventOut {
                start: zones::to_local(out_tz, e.start),
                end: zones::to_local(out_tz, e.end),
                busy_type: e.busy_type,
                details: served.detailed().then(|| EventDetails {
                    id: format!("AAMkAGNhbGdhdGVzaW0{index:06X}{i:05X}"),
                    subject: e.subject.as_deref(),
                    location: e.location.as_deref(),
                    is_meeting: e.is_meeting,
                    is_recurring: e.is_recurring,
                    is_private: e.is_private,
                }),
            })
            .collect()
    });
    FreeBusySlot::View(FreeBusyViewOut {
        view_type: served.name(),
        merged,
        events,
        working_hours: (served != View::MergedOnly).then_some(WorkingHoursOut {
            time_zone: &person.zone_rules,
            periods: &person.working_hours.periods,
        }),
    })
}

// ---------------------------------------------------------------------------------------------
// GetMailTips, ResolveNames, GetServerTimeZones, ConvertId, GetUserOofSettings

fn mail_tips(tenant: &Tenant, build: &ServerBuild, q: &MailTipsQuery, now: Timestamp) -> Answer {
    let tips: Vec<MailTipOut> = q
        .recipients
        .iter()
        .map(|address| {
            let index = tenant.find(address);
            let person = index.and_then(|i| tenant.people.get(i));
            let mailbox = index.and_then(|i| tenant.mailboxes.get(i));
            let out_of_office =
                q.wants("OutOfOfficeMessage")
                    .then(|| match mailbox.and_then(|m| m.oof_at(now)) {
                        Some(oof) => OofTip {
                            message: oof.message.as_deref().unwrap_or_default(),
                            duration: oof.start.zip(oof.end),
                        },
                        None => OofTip {
                            message: "",
                            duration: None,
                        },
                    });
            MailTipOut {
                name: person.map_or("", |p| p.name.as_str()),
                email: address.as_str(),
                out_of_office,
                invalid_recipient: q.wants("InvalidRecipient").then_some(person.is_none()),
            }
        })
        .collect();
    ok(response::write_mail_tips(build, &tips))
}

fn resolve_names(tenant: &Tenant, build: &ServerBuild, q: &ResolveNamesQuery) -> Answer {
    let entry = q.entry.trim();
    let entry = entry
        .strip_prefix("SMTP:")
        .or_else(|| entry.strip_prefix("smtp:"))
        .unwrap_or(entry);
    let needle = entry.to_lowercase();
    let matches: Vec<usize> = if needle.is_empty() {
        Vec::new()
    } else if let Some(i) = tenant.find(entry) {
        vec![i]
    } else {
        tenant
            .people
            .iter()
            .enumerate()
            .filter(|(_, p)| {
                p.email.to_lowercase().starts_with(&needle)
                    || p.name.to_lowercase().starts_with(&needle)
                    || p.surname.to_lowercase().starts_with(&needle)
            })
            .map(|(i, _)| i)
            .take(100)
            .collect()
    };
    let resolutions: Vec<ResolutionOut> = matches
        .iter()
        .filter_map(|&i| tenant.people.get(i))
        .map(|p| ResolutionOut {
            name: &p.name,
            email: &p.email,
            given_name: &p.given_name,
            surname: &p.surname,
            mailbox_type: "Mailbox",
        })
        .collect();
    let mut a = ok(response::write_resolve_names(
        build,
        &resolutions,
        q.return_full_contact_data,
    ));
    if resolutions.is_empty() {
        a.outcome = Outcome::Error;
    }
    a
}

fn server_time_zones(build: &ServerBuild, q: &TimeZonesQuery) -> Answer {
    if q.ids.is_empty() {
        let all: Vec<_> = KNOWN_ZONES.iter().collect();
        return ok(response::write_server_time_zones(
            build,
            &all,
            q.full_data,
            None,
        ));
    }
    let mut found = Vec::with_capacity(q.ids.len());
    for id in &q.ids {
        match zones::find_zone(id) {
            Some(z) => found.push(z),
            None => {
                let mut a = ok(response::write_server_time_zones(
                    build,
                    &[],
                    q.full_data,
                    Some(id),
                ));
                a.outcome = Outcome::Error;
                return a;
            }
        }
    }
    ok(response::write_server_time_zones(
        build,
        &found,
        q.full_data,
        None,
    ))
}

fn convert_id(build: &ServerBuild, q: &ConvertIdQuery) -> Answer {
    let mut a = ok(response::write_convert_id_malformed(build, q.ids.len()));
    a.outcome = Outcome::Error;
    a
}

fn oof_settings(tenant: &Tenant, build: &ServerBuild, mailbox: &str, now: Timestamp) -> Answer {
    let Some(m) = tenant.mailbox(mailbox) else {
        let mut a = ok(response::write_oof_settings(
            build,
            Err(ItemError {
                code: "ErrorMailRecipientNotFound",
                message: "The recipient cannot be found in the directory.",
            }),
        ));
        a.outcome = Outcome::Error;
        return a;
    };
    let settings = match &m.oof {
        None => OofSettingsOut {
            state: "Disabled",
            start: now,
            end: now
                .checked_add(SignedDuration::from_hours(24))
                .unwrap_or(now),
            reply: "",
        },
        Some(oof) => OofSettingsOut {
            state: if oof.start.is_some() && oof.end.is_some() {
                "Scheduled"
            } else {
                "Enabled"
            },
            start: oof.start.unwrap_or(now),
            end: oof.end.unwrap_or_else(|| {
                now.checked_add(SignedDuration::from_hours(24 * 365))
                    .unwrap_or(now)
            }),
            reply: oof.message.as_deref().unwrap_or_default(),
        },
    };
    ok(response::write_oof_settings(build, Ok(&settings)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use calgate_core::CalendarEvent;

    #[test]
    fn merged_string_takes_the_strongest_type_per_slot() {
        let t = |s: &str| -> Timestamp { s.parse().expect("ts") };
        let events = [
            CalendarEvent::new(
                t("2026-01-01T00:00:00Z"),
                t("2026-01-01T01:00:00Z"),
                BusyType::Oof,
            ),
            CalendarEvent::new(
                t("2026-01-01T00:30:00Z"),
                t("2026-01-01T02:00:00Z"),
                BusyType::Busy,
            ),
            CalendarEvent::new(
                t("2026-01-01T02:10:00Z"),
                t("2026-01-01T02:20:00Z"),
                BusyType::Tentative,
            ),
        ];
        let s = merged_free_busy(
            events.iter(),
            t("2026-01-01T00:00:00Z"),
            t("2026-01-01T04:00:00Z"),
            60,
        );
        assert_eq!(s, "3210");
        // A window that is not a multiple of the interval gets a partial last digit.
        let s = merged_free_busy(
            events.iter(),
            t("2026-01-01T00:00:00Z"),
            t("2026-01-01T02:30:00Z"),
            60,
        );
        assert_eq!(s, "321");
    }
}
