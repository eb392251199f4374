//! Everything that can go wrong talking EWS, as one enum with stable codes (`EWS_SERVER_BUSY`,
//! `EWS_HTTP_401`, …) and the one thing the engine must do about each ([`Action`]).
//!
//! The codes are bounded (they become API error codes and metric labels); the server's own
//! response code, when there is one, travels beside the stable code, never instead of it.
//! No variant carries a credential or a request body.

use std::time::Duration;

use jiff::Timestamp;

use calgate_core::Code;

/// What the engine must do after an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Do not send anything to this source before the given delay or instant.
    RetryAfter(RetryAfter),
    /// Transient trouble without a server hint: back off exponentially with jitter.
    BackOff,
    /// The server refused another concurrent request: use fewer at once, then retry.
    LowerConcurrency { retry_after: Option<Duration> },
    /// The token was rejected as invalid: fetch a fresh one once, then stop if it fails again.
    RefreshCredential,
    /// The credential is refused (wrong password, EWS blocked): stop using it and alert; retrying
    /// the same credential would lock the account out.
    StopCredential,
    /// The request itself is wrong for this server (version, schema, size): retrying as is cannot
    /// help; the settings must change.
    Reconfigure,
    /// Only one mailbox failed: record the error for it and keep the others.
    RecordForMailbox { retry_after: Option<Duration> },
}

/// A server's "not before" hint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryAfter {
    Delay(Duration),
    At(Timestamp),
}

/// The longest hint honoured as given; longer ones are clamped so a hostile or broken server
/// cannot park the source for days.
pub const MAX_RETRY_HINT: Duration = Duration::from_secs(6 * 60 * 60);

impl RetryAfter {
    /// Parses an HTTP `Retry-After` value: delay seconds (fractions accepted, some proxies send
    /// them) or an HTTP date.
    pub fn parse_header(value: &str) -> Option<RetryAfter> {
        let v = value.trim();
        if v.is_empty() {
            return None;
        }
        if v.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            let secs: f64 = v.parse().ok()?;
            if !secs.is_finite() || secs < 0.0 {
                return None;
            }
            let secs = secs.min(MAX_RETRY_HINT.as_secs_f64());
            return Some(RetryAfter::Delay(Duration::from_secs_f64(secs)));
        }
        jiff::fmt::rfc2822::parse(v)
            .ok()
            .map(|z| RetryAfter::At(z.timestamp()))
    }

    /// The delay from `now`; an instant in the past gives zero.
    pub fn delay_from(self, now: Timestamp) -> Duration {
        match self {
            RetryAfter::Delay(d) => d.min(MAX_RETRY_HINT),
            RetryAfter::At(at) => {
                let d = at.duration_since(now);
                if d.is_negative() {
                    Duration::ZERO
                } else {
                    Duration::try_from(d)
                        .unwrap_or(MAX_RETRY_HINT)
                        .min(MAX_RETRY_HINT)
                }
            }
        }
    }
}

/// What a 401 response offered, read from every `WWW-Authenticate` header (and
/// `x-ms-diagnostics`, which Exchange Online adds).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthChallenge {
    pub basic: bool,
    pub bearer: bool,
    pub negotiate: bool,
    pub ntlm: bool,
    /// The Bearer challenge's `error` parameter, e.g. `invalid_token`.
    pub bearer_error: Option<String>,
    /// `error_category` from `x-ms-diagnostics`, e.g. `invalid_grant`.
    pub diagnostics_category: Option<String>,
}

impl AuthChallenge {
    /// Parses the values of all `WWW-Authenticate` headers. Schemes and parameters may share one
    /// header separated by commas (`Bearer a="b", error="invalid_token",Basic Realm=""`).
    pub fn parse<'a>(www_authenticate: impl IntoIterator<Item = &'a str>) -> AuthChallenge {
        let mut out = AuthChallenge::default();
        for header in www_authenticate {
            let mut scheme = String::new();
            for piece in split_top_level_commas(header) {
                let piece = piece.trim();
                if piece.is_empty() {
                    continue;
                }
                // A piece starting with a token that is not followed by '=' opens a new scheme;
                // whatever follows the space is that scheme's first parameter.
                let token_end = piece
                    .find(|c: char| c.is_whitespace() || c == '=')
                    .unwrap_or(piece.len());
                let (token, after) = piece.split_at_checked(token_end).unwrap_or((piece, ""));
                let opens_scheme = !after.trim_start().starts_with('=');
                let param = if opens_scheme {
                    scheme = token.to_ascii_lowercase();
                    match scheme.as_str() {
                        "basic" => out.basic = true,
                        "bearer" => out.bearer = true,
                        "negotiate" => out.negotiate = true,
                        "ntlm" => out.ntlm = true,
                        _ => {}
                    }
                    after.trim()
                } else {
                    piece
                };
                if let Some((k, v)) = param.split_once('=')
                    && scheme == "bearer"
                    && k.trim().eq_ignore_ascii_case("error")
                {
                    out.bearer_error = Some(v.trim().trim_matches('"').to_string());
                }
            }
        }
        out
    }

    /// Adds the `error_category` of an `x-ms-diagnostics` header
    /// (`2000008;reason="…";error_category="invalid_grant"`).
    pub fn with_diagnostics(mut self, x_ms_diagnostics: Option<&str>) -> AuthChallenge {
        if let Some(d) = x_ms_diagnostics {
            for part in split_top_level(d, ';') {
                if let Some((k, v)) = part.split_once('=')
                    && k.trim().eq_ignore_ascii_case("error_category")
                {
                    self.diagnostics_category = Some(v.trim().trim_matches('"').to_string());
                }
            }
        }
        self
    }

    /// The token was refused as invalid (expired, wrong audience): one refresh may help.
    pub fn invalid_token(&self) -> bool {
        self.bearer_error.as_deref() == Some("invalid_token")
    }
}

fn split_top_level_commas(s: &str) -> Vec<&str> {
    split_top_level(s, ',')
}

/// Splits on `sep` outside double quotes.
fn split_top_level(s: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut in_quotes = false;
    let mut escaped = false;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' if in_quotes => escaped = true,
            '"' => in_quotes = !in_quotes,
            c if c == sep && !in_quotes => {
                parts.push(s.get(start..i).unwrap_or_default());
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(s.get(start..).unwrap_or_default());
    parts
}

/// Why one mailbox's slot failed while the others may have succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MailboxErrorKind {
    /// `ErrorMailRecipientNotFound`: no such mailbox.
    RecipientNotFound,
    /// `ErrorNoFreeBusyAccess`: the caller may not see this calendar.
    NoFreeBusyAccess,
    /// `ErrorInvalidSmtpAddress`.
    InvalidSmtpAddress,
    /// `ErrorServerBusy` inside one slot.
    ServerBusy,
    /// The slot said success but its data could not be read (an event time that does not parse):
    /// treated as unknown, never as free.
    BadData,
    /// Any other per-mailbox response code.
    Other,
}

impl MailboxErrorKind {
    fn from_response_code(code: &str) -> MailboxErrorKind {
        match code {
            "ErrorMailRecipientNotFound" => MailboxErrorKind::RecipientNotFound,
            "ErrorNoFreeBusyAccess" => MailboxErrorKind::NoFreeBusyAccess,
            "ErrorInvalidSmtpAddress" => MailboxErrorKind::InvalidSmtpAddress,
            "ErrorServerBusy" => MailboxErrorKind::ServerBusy,
            _ => MailboxErrorKind::Other,
        }
    }

    fn code(self) -> Code {
        match self {
            MailboxErrorKind::RecipientNotFound => Code::EwsMailRecipientNotFound,
            MailboxErrorKind::NoFreeBusyAccess => Code::EwsNoFreeBusyAccess,
            MailboxErrorKind::InvalidSmtpAddress => Code::EwsInvalidSmtpAddress,
            MailboxErrorKind::ServerBusy => Code::EwsMailboxServerBusy,
            MailboxErrorKind::BadData => Code::EwsMailboxBadData,
            MailboxErrorKind::Other => Code::EwsMailboxError,
        }
    }
}

/// Every EWS failure calgate distinguishes. [`EwsError::code`] is stable; [`EwsError::action`]
/// tells the engine what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EwsError {
    // --- whole-request SOAP faults and response errors ---
    #[error("Exchange is busy{}", fmt_back_off(*back_off))]
    ServerBusy { back_off: Option<Duration> },
    #[error("too many concurrent EWS requests for this account{}", fmt_back_off(*back_off))]
    ExceededConnectionCount { back_off: Option<Duration> },
    #[error("too many mailboxes in one GetUserAvailability request")]
    MailboxDataArrayTooBig,
    #[error("Exchange rejected the requested server version")]
    InvalidServerVersion,
    #[error("Exchange rejected the request as schema-invalid{}", violation.as_deref().map(|v| format!(": {v}")).unwrap_or_default())]
    SchemaValidation { violation: Option<String> },
    /// Any other whole-request error code (fault or response-level `ResponseClass="Error"`).
    #[error("Exchange answered {response_code}: {message}")]
    Rejected {
        response_code: String,
        message: String,
    },

    // --- one mailbox only ---
    #[error("mailbox error {response_code}: {message}")]
    Mailbox {
        kind: MailboxErrorKind,
        response_code: String,
        message: String,
        back_off: Option<Duration>,
    },

    // --- HTTP ---
    #[error("HTTP 401: credentials refused")]
    Unauthorized { challenge: AuthChallenge },
    #[error("HTTP 403: EWS access is blocked for this account or application")]
    Forbidden,
    #[error("HTTP 429: throttled")]
    TooManyRequests { retry_after: Option<RetryAfter> },
    #[error("HTTP 503: service unavailable")]
    Unavailable { retry_after: Option<RetryAfter> },
    #[error("unexpected HTTP status {status}")]
    HttpStatus { status: u16 },
    #[error("request timed out")]
    Timeout,
    #[error("connection failed: {reason}")]
    Connect { reason: String },
    #[error("no credential available: {reason}")]
    Credential { reason: String, permanent: bool },

    // --- the body ---
    #[error("response body exceeds {limit} bytes")]
    BodyTooLarge { limit: usize },
    #[error("response refused: it declares a DOCTYPE")]
    Doctype,
    #[error("response nesting exceeds {limit} levels")]
    TooDeep { limit: usize },
    #[error("malformed response: {reason}")]
    Malformed { reason: String },
    #[error("sent {sent} mailboxes but got {received} answers")]
    CountMismatch { sent: usize, received: usize },

    // --- before sending ---
    #[error("invalid request: {reason}")]
    InvalidRequest { reason: String },
    #[error("{operation} is not available in {version}")]
    UnsupportedByVersion {
        operation: &'static str,
        version: crate::ExchangeVersion,
    },
}

fn fmt_back_off(b: Option<Duration>) -> String {
    match b {
        Some(d) => format!(" (back off {} ms)", d.as_millis()),
        None => String::new(),
    }
}

impl EwsError {
    pub(crate) fn malformed(reason: impl Into<String>) -> EwsError {
        EwsError::Malformed {
            reason: reason.into(),
        }
    }

    /// The stable code shown in the API, the portal, logs and metrics.
    pub fn code(&self) -> Code {
        match self {
            EwsError::ServerBusy { .. } => Code::EwsServerBusy,
            EwsError::ExceededConnectionCount { .. } => Code::EwsExceededConnectionCount,
            EwsError::MailboxDataArrayTooBig => Code::EwsMailboxDataArrayTooBig,
            EwsError::InvalidServerVersion => Code::EwsInvalidServerVersion,
            EwsError::SchemaValidation { .. } => Code::EwsSchemaValidation,
            EwsError::Rejected { .. } => Code::EwsRequestRejected,
            EwsError::Mailbox { kind, .. } => kind.code(),
            EwsError::Unauthorized { .. } => Code::EwsHttp(401),
            EwsError::Forbidden => Code::EwsHttp(403),
            EwsError::TooManyRequests { .. } => Code::EwsHttp(429),
            EwsError::Unavailable { .. } => Code::EwsHttp(503),
            EwsError::HttpStatus { status } if *status >= 500 => Code::EwsHttp5xx,
            EwsError::HttpStatus { status } if *status >= 400 => Code::EwsHttp4xx,
            EwsError::HttpStatus { .. } => Code::EwsHttpUnexpected,
            EwsError::Timeout => Code::EwsTimeout,
            EwsError::Connect { .. } => Code::EwsConnect,
            EwsError::Credential { .. } => Code::EwsCredentialUnavailable,
            EwsError::BodyTooLarge { .. } => Code::EwsBodyTooLarge,
            EwsError::Doctype => Code::EwsDoctypeRejected,
            EwsError::TooDeep { .. } => Code::EwsTooDeep,
            EwsError::Malformed { .. } => Code::EwsMalformedResponse,
            EwsError::CountMismatch { .. } => Code::EwsCountMismatch,
            EwsError::InvalidRequest { .. } => Code::EwsInvalidRequest,
            EwsError::UnsupportedByVersion { .. } => Code::EwsUnsupportedByVersion,
        }
    }

    /// What the engine must do about it.
    pub fn action(&self) -> Action {
        match self {
            EwsError::ServerBusy { back_off: Some(d) } => Action::RetryAfter(RetryAfter::Delay(*d)),
            EwsError::ServerBusy { back_off: None } => Action::BackOff,
            EwsError::ExceededConnectionCount { back_off } => Action::LowerConcurrency {
                retry_after: *back_off,
            },
            EwsError::MailboxDataArrayTooBig
            | EwsError::InvalidServerVersion
            | EwsError::SchemaValidation { .. }
            | EwsError::InvalidRequest { .. }
            | EwsError::UnsupportedByVersion { .. } => Action::Reconfigure,
            EwsError::Mailbox { back_off, .. } => Action::RecordForMailbox {
                retry_after: *back_off,
            },
            EwsError::Unauthorized { challenge } if challenge.invalid_token() => {
                Action::RefreshCredential
            }
            EwsError::Unauthorized { .. } | EwsError::Forbidden => Action::StopCredential,
            EwsError::Credential {
                permanent: true, ..
            } => Action::StopCredential,
            EwsError::TooManyRequests {
                retry_after: Some(r),
            }
            | EwsError::Unavailable {
                retry_after: Some(r),
            } => Action::RetryAfter(*r),
            EwsError::Rejected { .. }
            | EwsError::TooManyRequests { retry_after: None }
            | EwsError::Unavailable { retry_after: None }
            | EwsError::HttpStatus { .. }
            | EwsError::Timeout
            | EwsError::Connect { .. }
            | EwsError::Credential { .. }
            | EwsError::BodyTooLarge { .. }
            | EwsError::Doctype
            | EwsError::TooDeep { .. }
            | EwsError::Malformed { .. }
            | EwsError::CountMismatch { .. } => Action::BackOff,
        }
    }

    /// Maps an EWS response code (from a fault's detail or a response message) with its
    /// `MessageXml` values to the typed error. `per_mailbox` is true inside a FreeBusyResponse or
    /// a per-recipient message.
    pub(crate) fn from_response_code(
        response_code: &str,
        message: &str,
        values: &[(String, String)],
        per_mailbox: bool,
    ) -> EwsError {
        let code = response_code.trim();
        let message = message.trim();
        let back_off = back_off_from_values(values);
        if per_mailbox {
            return EwsError::Mailbox {
                kind: MailboxErrorKind::from_response_code(code),
                response_code: code.to_string(),
                message: message.to_string(),
                back_off,
            };
        }
        match code {
            "ErrorServerBusy" => EwsError::ServerBusy { back_off },
            "ErrorExceededConnectionCount" => EwsError::ExceededConnectionCount { back_off },
            "ErrorMailboxDataArrayTooBig" => EwsError::MailboxDataArrayTooBig,
            "ErrorInvalidServerVersion" => EwsError::InvalidServerVersion,
            "ErrorSchemaValidation" => EwsError::SchemaValidation {
                violation: value(values, "Violation").map(str::to_string),
            },
            _ => EwsError::Rejected {
                response_code: code.to_string(),
                message: message.to_string(),
            },
        }
    }
}

fn value<'v>(values: &'v [(String, String)], name: &str) -> Option<&'v str> {
    values
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim())
}

/// `BackOffMilliseconds`, or failing that the "Suggested backoff time N ms" that Exchange Online
/// writes into an `ErrorMessage` value.
fn back_off_from_values(values: &[(String, String)]) -> Option<Duration> {
    let clamp = |ms: u64| Duration::from_millis(ms).min(MAX_RETRY_HINT);
    if let Some(ms) = value(values, "BackOffMilliseconds").and_then(|v| v.parse::<u64>().ok()) {
        return Some(clamp(ms));
    }
    const HINT: &str = "Suggested backoff time";
    let text = value(values, "ErrorMessage")?;
    let rest = text.get(text.find(HINT)? + HINT.len()..)?;
    let digits: String = rest
        .trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse::<u64>().ok().map(clamp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_accepts_seconds_fractions_and_dates() {
        assert_eq!(
            RetryAfter::parse_header("3"),
            Some(RetryAfter::Delay(Duration::from_secs(3)))
        );
        assert_eq!(
            RetryAfter::parse_header(" 1.5 "),
            Some(RetryAfter::Delay(Duration::from_millis(1500)))
        );
        let at = RetryAfter::parse_header("Wed, 21 Oct 2015 07:28:00 GMT");
        let want: Timestamp = "2015-10-21T07:28:00Z".parse().expect("literal");
        assert_eq!(at, Some(RetryAfter::At(want)));
        assert_eq!(RetryAfter::parse_header("soon"), None);
        assert_eq!(RetryAfter::parse_header("-1"), None);
        assert_eq!(RetryAfter::parse_header("1.2.3"), None);
        assert_eq!(
            RetryAfter::parse_header("99999999"),
            Some(RetryAfter::Delay(MAX_RETRY_HINT))
        );
        let now: Timestamp = "2015-10-21T07:27:00Z".parse().expect("literal");
        assert_eq!(
            RetryAfter::At(want).delay_from(now),
            Duration::from_secs(60)
        );
        assert_eq!(
            RetryAfter::At(now).delay_from(want),
            Duration::ZERO,
            "a date in the past means now"
        );
    }

    #[test]
    fn exchange_online_bearer_challenge_is_understood() {
        let h = r#"Bearer client_id="00000002-0000-0ff1-ce00-000000000000", trusted_issuers="00000001-0000-0000-c000-000000000000@*", token_types="app_asserted_user_v1 service_asserted_app_v1", authorization_uri="https://login.windows.net/common/oauth2/authorize", error="invalid_token",Basic Realm="""#;
        let c = AuthChallenge::parse([h]).with_diagnostics(Some(
            r#"2000008;reason="The token contains no permissions, or permissions can not be understood.";error_category="invalid_grant""#,
        ));
        assert!(c.bearer && c.basic && !c.ntlm && !c.negotiate);
        assert!(c.invalid_token());
        assert_eq!(c.diagnostics_category.as_deref(), Some("invalid_grant"));
        let e = EwsError::Unauthorized { challenge: c };
        assert_eq!(e.code().to_string(), "EWS_HTTP_401");
        assert_eq!(e.action(), Action::RefreshCredential);
    }

    #[test]
    fn basic_only_401_stops_the_credential() {
        let c = AuthChallenge::parse(["Negotiate", "NTLM", r#"Basic realm="127.0.0.1""#]);
        assert!(c.basic && c.ntlm && c.negotiate && !c.bearer);
        assert!(!c.invalid_token());
        let e = EwsError::Unauthorized { challenge: c };
        assert_eq!(e.action(), Action::StopCredential);
        assert_eq!(EwsError::Forbidden.action(), Action::StopCredential);
    }

    #[test]
    fn throttling_and_mailbox_errors_map_to_their_actions() {
        let busy = EwsError::from_response_code(
            " ErrorServerBusy\n",
            "x",
            &[("BackOffMilliseconds".into(), " 2000 ".into())],
            false,
        );
        assert_eq!(
            busy,
            EwsError::ServerBusy {
                back_off: Some(Duration::from_secs(2))
            }
        );
        assert_eq!(
            busy.action(),
            Action::RetryAfter(RetryAfter::Delay(Duration::from_secs(2)))
        );
        let slot = EwsError::from_response_code("ErrorMailRecipientNotFound", "gone", &[], true);
        assert_eq!(slot.code().to_string(), "EWS_MAIL_RECIPIENT_NOT_FOUND");
        assert_eq!(
            slot.action(),
            Action::RecordForMailbox { retry_after: None }
        );
        let too_many = EwsError::TooManyRequests {
            retry_after: RetryAfter::parse_header("0.25"),
        };
        assert_eq!(
            too_many.action(),
            Action::RetryAfter(RetryAfter::Delay(Duration::from_millis(250)))
        );
        assert_eq!(
            EwsError::Unavailable { retry_after: None }.action(),
            Action::BackOff
        );
        assert_eq!(
            EwsError::HttpStatus { status: 502 }.code().to_string(),
            "EWS_HTTP_5XX"
        );
        assert_eq!(EwsError::InvalidServerVersion.action(), Action::Reconfigure);
    }
}
