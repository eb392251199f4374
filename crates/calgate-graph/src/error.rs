//! Graph's JSON error bodies (`{"error": {"code", "message", "innerError": {"request-id",
//! "date"}}}`), the stable codes calgate shows for them, and what the engine must do next:
//! wait for `Retry-After`, refresh the token once, or stop because a permission is missing.
//!
//! The server half (`ErrorBody::new`) is what calgate-sim answers with.

use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use calgate_core::Code;

use crate::time::clip;

/// What a Graph answer failed with; each maps to one code of the registry ([`Code`]), the same
/// in the API, the portal, logs and metric labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// HTTP 429.
    Throttled,
    /// HTTP 503.
    ServiceUnavailable,
    /// HTTP 401: the token was refused.
    Unauthorized,
    /// HTTP 403: the token lacks a permission (`Calendars.ReadBasic.All`, `Mail.Read`, …).
    Forbidden,
    /// HTTP 400: Graph refused the request as written (limits, window, interval).
    BadRequest,
    /// HTTP 404: the mailbox the call was made on does not exist.
    NotFound,
    /// Other 5xx.
    ServerError,
    /// Any other unexpected status.
    UnexpectedStatus,
    /// A 2xx body calgate could not read.
    MalformedResponse,
    /// A body over the size cap.
    ResponseTooLarge,
    /// A requested schedule that the response did not mention.
    ScheduleMissing,
    /// A schedule whose items could not be read (bad times, unknown zone).
    MalformedSchedule,
    /// Per-schedule `ErrorMailRecipientNotFound` (unknown address, other tenant).
    MailRecipientNotFound,
    /// Per-schedule `ErrorNoFreeBusyAccess`.
    NoFreeBusyAccess,
    /// Any other per-schedule or per-recipient error.
    ScheduleUnavailable,
}

impl ErrorCode {
    /// The code in the registry.
    pub const fn code(self) -> Code {
        match self {
            ErrorCode::Throttled => Code::GraphThrottled,
            ErrorCode::ServiceUnavailable => Code::GraphServiceUnavailable,
            ErrorCode::Unauthorized => Code::GraphUnauthorized,
            ErrorCode::Forbidden => Code::GraphForbidden,
            ErrorCode::BadRequest => Code::GraphBadRequest,
            ErrorCode::NotFound => Code::GraphNotFound,
            ErrorCode::ServerError => Code::GraphServerError,
            ErrorCode::UnexpectedStatus => Code::GraphUnexpectedStatus,
            ErrorCode::MalformedResponse => Code::GraphMalformedResponse,
            ErrorCode::ResponseTooLarge => Code::GraphResponseTooLarge,
            ErrorCode::ScheduleMissing => Code::GraphScheduleMissing,
            ErrorCode::MalformedSchedule => Code::GraphMalformedSchedule,
            ErrorCode::MailRecipientNotFound => Code::GraphMailRecipientNotFound,
            ErrorCode::NoFreeBusyAccess => Code::GraphNoFreeBusyAccess,
            ErrorCode::ScheduleUnavailable => Code::GraphScheduleUnavailable,
        }
    }

    /// The code for a per-schedule `responseCode` or per-recipient mail-tips `code`. The set is
    /// closed so that a code stays a bounded metric label; the server's own word stays in the
    /// message.
    pub fn for_item_error(response_code: Option<&str>) -> ErrorCode {
        match response_code.map(str::trim) {
            Some(c) if c.eq_ignore_ascii_case("ErrorMailRecipientNotFound") => {
                ErrorCode::MailRecipientNotFound
            }
            Some(c) if c.eq_ignore_ascii_case("ErrorNoFreeBusyAccess") => {
                ErrorCode::NoFreeBusyAccess
            }
            _ => ErrorCode::ScheduleUnavailable,
        }
    }

    fn for_status(status: u16) -> ErrorCode {
        match status {
            429 => ErrorCode::Throttled,
            503 => ErrorCode::ServiceUnavailable,
            401 => ErrorCode::Unauthorized,
            403 => ErrorCode::Forbidden,
            400 => ErrorCode::BadRequest,
            404 => ErrorCode::NotFound,
            500..=599 => ErrorCode::ServerError,
            _ => ErrorCode::UnexpectedStatus,
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.code().fmt(f)
    }
}

/// What the engine must do after a failed Graph call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorAction {
    /// Send nothing to this source before the delay has passed (429/503 with `Retry-After`).
    RetryAfter(Duration),
    /// Back off exponentially with jitter (429/5xx without `Retry-After`, unreadable answers).
    BackOff,
    /// Get a new access token and retry once (first 401).
    RefreshToken,
    /// Stop using the credential: the refreshed token was refused too.
    CredentialFailure,
    /// The app registration lacks a permission; retrying cannot help until an admin grants it.
    PermissionMissing,
    /// The request itself is wrong (400/404); retrying the same request cannot help.
    Fail,
}

/// Graph's error body: `{"error": {"code", "message", "innerError": {…}}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub code: Option<String>,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub message: Option<String>,
    #[serde(
        rename = "innerError",
        alias = "innererror",
        default,
        deserialize_with = "crate::lenient::value",
        skip_serializing_if = "Option::is_none"
    )]
    pub inner_error: Option<InnerError>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InnerError {
    #[serde(
        default,
        deserialize_with = "crate::lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub date: Option<String>,
    #[serde(
        rename = "request-id",
        default,
        deserialize_with = "crate::lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub request_id: Option<String>,
    #[serde(
        rename = "client-request-id",
        default,
        deserialize_with = "crate::lenient::string",
        skip_serializing_if = "Option::is_none"
    )]
    pub client_request_id: Option<String>,
}

impl ErrorBody {
    /// A body as Graph writes it, for the simulator.
    pub fn new(code: &str, message: &str, request_id: &str, date: Timestamp) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: Some(code.to_owned()),
                message: Some(message.to_owned()),
                inner_error: Some(InnerError {
                    date: Some(date.strftime("%Y-%m-%dT%H:%M:%S").to_string()),
                    request_id: Some(request_id.to_owned()),
                    client_request_id: Some(request_id.to_owned()),
                }),
            },
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| String::from("{}"))
    }
}

/// Error bodies are small; anything beyond this is not read.
pub const MAX_ERROR_BODY_BYTES: usize = 64 * 1024;

/// A non-2xx Graph answer, read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code} (HTTP {status}{}): {}", graph_code.as_deref().map(|c| format!(", {c}")).unwrap_or_default(), message.as_deref().unwrap_or("no message"))]
pub struct ServiceError {
    pub status: u16,
    pub code: ErrorCode,
    /// Graph's own `error.code` (`TooManyRequests`, `InvalidAuthenticationToken`, …).
    pub graph_code: Option<String>,
    pub message: Option<String>,
    pub request_id: Option<String>,
    pub date: Option<String>,
    /// The parsed `Retry-After` header, if any.
    pub retry_after: Option<Duration>,
}

impl ServiceError {
    /// Reads a non-2xx answer: status, `Retry-After` header value and body. Never fails: an
    /// unreadable body leaves the Graph fields empty.
    pub fn read(status: u16, retry_after: Option<&str>, body: &[u8]) -> ServiceError {
        let parsed = if body.len() <= MAX_ERROR_BODY_BYTES {
            serde_json::from_slice::<ErrorBody>(body).ok()
        } else {
            None
        };
        let (graph_code, message, request_id, date) = match parsed {
            Some(b) => {
                let inner = b.error.inner_error;
                (
                    b.error.code.map(|s| clip(&s)),
                    b.error.message.map(|s| clip(&s)),
                    inner
                        .as_ref()
                        .and_then(|i| i.request_id.as_deref().map(clip)),
                    inner.as_ref().and_then(|i| i.date.as_deref().map(clip)),
                )
            }
            None => (None, None, None, None),
        };
        ServiceError {
            status,
            code: ErrorCode::for_status(status),
            graph_code,
            message,
            request_id,
            date,
            retry_after: retry_after.and_then(parse_retry_after),
        }
    }

    /// What to do next. `token_was_refreshed` says whether this request already went out with a
    /// token fetched after an earlier 401: a second refusal is a credential failure.
    pub fn action(&self, token_was_refreshed: bool) -> ErrorAction {
        match self.status {
            429 | 503 => match self.retry_after {
                Some(d) => ErrorAction::RetryAfter(d),
                None => ErrorAction::BackOff,
            },
            401 if token_was_refreshed => ErrorAction::CredentialFailure,
            401 => ErrorAction::RefreshToken,
            403 => ErrorAction::PermissionMissing,
            500..=599 => match self.retry_after {
                Some(d) => ErrorAction::RetryAfter(d),
                None => ErrorAction::BackOff,
            },
            _ => ErrorAction::Fail,
        }
    }
}

/// The longest `Retry-After` honoured as given; longer values are clamped (a broken server must
/// not silence a source for days).
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// Parses `Retry-After` as delay seconds, fractional allowed (`2.128`). Negative, non-finite or
/// unreadable values give `None` (the caller backs off on its own); huge ones are clamped to
/// [`MAX_RETRY_AFTER`]. The HTTP-date form is not used by Graph and is not read.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let v = value.trim();
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    let secs: f64 = v.parse().ok()?;
    if !secs.is_finite() || secs < 0.0 {
        return None;
    }
    Some(Duration::from_secs_f64(
        secs.min(MAX_RETRY_AFTER.as_secs_f64()),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Capture 083 (429 with `Retry-After: 2`).
    const THROTTLED: &str = r#"{"error": {"code": "ApplicationThrottled", "message": "Application is over its MailboxConcurrency limit.", "innerError": {"date": "2026-11-27T22:37:07", "request-id": "0000"}}}"#;
    /// The throttling doc's sample, with the lower-case inner keys and a fractional delay.
    const THROTTLED_DOC: &str = r#"{"error":{"code":"TooManyRequests","innerError":{"code":"429","date":"2020-08-18T12:51:51","message":"Please retry after","request-id":"94fb3b52-452a-4535-a601-69e0a90e3aa2","status":"429"},"message":"Please retry again later."}}"#;

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("2"), Some(Duration::from_secs(2)));
        assert_eq!(
            parse_retry_after(" 2.5 "),
            Some(Duration::from_millis(2500))
        );
        assert_eq!(
            parse_retry_after("2.128"),
            Some(Duration::from_secs_f64(2.128))
        );
        assert_eq!(parse_retry_after("0"), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("99999999"), Some(MAX_RETRY_AFTER));
        for bad in [
            "",
            "-1",
            "abc",
            "1e3",
            "NaN",
            "inf",
            "1..2",
            "Wed, 21 Oct 2015 07:28:00 GMT",
        ] {
            assert_eq!(parse_retry_after(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn throttled_answers_say_when_to_retry() {
        let e = ServiceError::read(429, Some("2.128"), THROTTLED_DOC.as_bytes());
        assert_eq!(e.code, ErrorCode::Throttled);
        assert_eq!(e.graph_code.as_deref(), Some("TooManyRequests"));
        assert_eq!(
            e.request_id.as_deref(),
            Some("94fb3b52-452a-4535-a601-69e0a90e3aa2")
        );
        assert_eq!(
            e.action(false),
            ErrorAction::RetryAfter(Duration::from_secs_f64(2.128))
        );
        // Capture 085: 429 without Retry-After.
        let e = ServiceError::read(429, None, THROTTLED.as_bytes());
        assert_eq!(e.action(false), ErrorAction::BackOff);
        insta::assert_debug_snapshot!("error_429_capture", e);
    }

    #[test]
    fn auth_answers() {
        let body = r#"{"error":{"code":"InvalidAuthenticationToken","message":"Access token validation failure.","innerError":{"date":"2026-11-27T22:37:07","request-id":"r1","client-request-id":"r1"}}}"#;
        let e = ServiceError::read(401, None, body.as_bytes());
        assert_eq!(e.code.to_string(), "GRAPH_ERROR_UNAUTHORIZED");
        assert_eq!(e.action(false), ErrorAction::RefreshToken);
        assert_eq!(e.action(true), ErrorAction::CredentialFailure);
        let e = ServiceError::read(403, None, br#"{"error":{"code":"ErrorAccessDenied","message":"Access is denied. Check credentials and try again."}}"#);
        assert_eq!(e.action(false), ErrorAction::PermissionMissing);
        assert_eq!(e.code, ErrorCode::Forbidden);
    }

    #[test]
    fn unreadable_bodies_still_give_an_error() {
        for body in [&b""[..], b"<html>", b"{\"error\": 5}", b"\xff\xfe", b"[]"] {
            let e = ServiceError::read(503, Some("1"), body);
            assert_eq!(e.code, ErrorCode::ServiceUnavailable);
            assert_eq!(e.graph_code, None);
            assert_eq!(
                e.action(false),
                ErrorAction::RetryAfter(Duration::from_secs(1))
            );
        }
        let huge = vec![b' '; MAX_ERROR_BODY_BYTES + 1];
        assert_eq!(
            ServiceError::read(500, None, &huge).action(false),
            ErrorAction::BackOff
        );
    }

    #[test]
    fn server_body_reads_back() {
        let at: Timestamp = "2026-11-27T22:37:07Z".parse().expect("timestamp");
        let body = ErrorBody::new("TooManyRequests", "Please retry again later.", "req-1", at);
        let json = body.to_json();
        insta::assert_snapshot!("error_body_written", json);
        let e = ServiceError::read(429, Some("2.5"), json.as_bytes());
        assert_eq!(e.graph_code.as_deref(), Some("TooManyRequests"));
        assert_eq!(e.request_id.as_deref(), Some("req-1"));
        assert_eq!(e.date.as_deref(), Some("2026-11-27T22:37:07"));
    }
}
