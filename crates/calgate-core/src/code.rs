//! The one registry of error codes: every code calgate emits, from the wire crates up to the
//! binary, with its stable string form and a one-line meaning.
//!
//! The string forms are stable: they appear in the API, log lines, metric labels and tests, and
//! `docs/error-codes.md` is generated from this table (a test keeps it in step). Emitters name a
//! [`Code`]; readers (the portal's guidance) parse the string back with [`Code::parse`] and match
//! on the enum, so a code nobody emits cannot be matched. Codes that carry a number
//! (`EWS_HTTP_401`, `ENTRA_AADSTS50126`) are variants holding the number.

use std::fmt;

macro_rules! error_codes {
    (
        fixed { $( $(#[$doc:meta])* $variant:ident = $text:literal, $meaning:literal; )* }
        numbered { $( $(#[$ndoc:meta])* $nvariant:ident($ty:ty) = $prefix:literal, $pattern:literal, $nmeaning:literal; )* }
    ) => {
        /// An error code calgate emits. See the module documentation.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Code {
            $( $(#[$doc])* $variant, )*
            $( $(#[$ndoc])* $nvariant($ty), )*
        }

        impl Code {
            /// Every code without a number, in registry order.
            pub const FIXED: &'static [Code] = &[$( Code::$variant, )*];

            /// The stable form of a code without a number; `None` for a numbered code.
            pub const fn fixed_str(self) -> Option<&'static str> {
                match self {
                    $( Code::$variant => Some($text), )*
                    _ => None,
                }
            }

            /// What the code means, in a line.
            pub const fn meaning(self) -> &'static str {
                match self {
                    $( Code::$variant => $meaning, )*
                    $( Code::$nvariant(_) => $nmeaning, )*
                }
            }

            /// Reads a stable form back; `None` for anything calgate does not emit.
            pub fn parse(s: &str) -> Option<Code> {
                match s {
                    $( $text => return Some(Code::$variant), )*
                    _ => {}
                }
                $(
                    if let Some(n) = s.strip_prefix($prefix)
                        && !n.is_empty()
                        && n.bytes().all(|b| b.is_ascii_digit())
                        && !(n.len() > 1 && n.starts_with('0'))
                        && let Ok(n) = n.parse::<$ty>()
                    {
                        return Some(Code::$nvariant(n));
                    }
                )*
                None
            }

            /// One row per code for the generated table: the stable form (a pattern such as
            /// `EWS_HTTP_<status>` for a numbered code) and its meaning.
            pub fn table() -> Vec<(&'static str, &'static str)> {
                let mut rows = vec![$( ($text, $meaning), )*];
                rows.extend([$( ($pattern, $nmeaning), )*]);
                rows
            }
        }

        impl fmt::Display for Code {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self {
                    $( Code::$variant => f.write_str($text), )*
                    $( Code::$nvariant(n) => write!(f, "{}{}", $prefix, n), )*
                }
            }
        }
    };
}

error_codes! {
    fixed {
        // EWS (calgate-ews), whole request
        EwsServerBusy = "EWS_SERVER_BUSY", "Exchange is busy and asked calgate to back off.";
        EwsExceededConnectionCount = "EWS_EXCEEDED_CONNECTION_COUNT", "Too many concurrent EWS requests for the service account.";
        EwsMailboxDataArrayTooBig = "EWS_MAILBOX_DATA_ARRAY_TOO_BIG", "Too many mailboxes in one GetUserAvailability request.";
        EwsInvalidServerVersion = "EWS_INVALID_SERVER_VERSION", "Exchange rejected the requested server version.";
        EwsSchemaValidation = "EWS_SCHEMA_VALIDATION", "Exchange rejected the request as schema-invalid.";
        EwsRequestRejected = "EWS_REQUEST_REJECTED", "Exchange answered the whole request with another error code.";
        // EWS, one mailbox
        EwsMailRecipientNotFound = "EWS_MAIL_RECIPIENT_NOT_FOUND", "Exchange does not know this mailbox.";
        EwsNoFreeBusyAccess = "EWS_NO_FREE_BUSY_ACCESS", "The service account may not read this mailbox's free/busy.";
        EwsInvalidSmtpAddress = "EWS_INVALID_SMTP_ADDRESS", "Exchange refused the address as not a valid SMTP address.";
        EwsMailboxServerBusy = "EWS_MAILBOX_SERVER_BUSY", "Exchange was busy for this one mailbox.";
        EwsMailboxBadData = "EWS_MAILBOX_BAD_DATA", "This mailbox's answer could not be read; shown as unknown.";
        EwsMailboxError = "EWS_MAILBOX_ERROR", "Exchange answered this mailbox with another error code.";
        // EWS, HTTP and the body
        EwsHttp5xx = "EWS_HTTP_5XX", "Exchange answered with a server error status.";
        EwsHttp4xx = "EWS_HTTP_4XX", "Exchange answered with an unexpected client error status.";
        EwsHttpUnexpected = "EWS_HTTP_UNEXPECTED", "Exchange answered with an unexpected HTTP status.";
        EwsTimeout = "EWS_TIMEOUT", "The EWS request timed out.";
        EwsConnect = "EWS_CONNECT", "calgate could not connect to the EWS URL (name, network or TLS).";
        EwsCredentialUnavailable = "EWS_CREDENTIAL_UNAVAILABLE", "No credential was available to sign the EWS request.";
        EwsBodyTooLarge = "EWS_BODY_TOO_LARGE", "The EWS answer exceeded the size limit.";
        EwsDoctypeRejected = "EWS_DOCTYPE_REJECTED", "The EWS answer declared a DOCTYPE and was refused.";
        EwsTooDeep = "EWS_TOO_DEEP", "The EWS answer nested deeper than the limit.";
        EwsMalformedResponse = "EWS_MALFORMED_RESPONSE", "The EWS answer could not be read.";
        EwsCountMismatch = "EWS_COUNT_MISMATCH", "The EWS answer held a different number of mailboxes than asked.";
        EwsInvalidRequest = "EWS_INVALID_REQUEST", "calgate refused to send an invalid EWS request.";
        EwsUnsupportedByVersion = "EWS_UNSUPPORTED_BY_VERSION", "The operation is not available in the configured Exchange version.";
        // Graph (calgate-graph, calgate-sources)
        GraphThrottled = "GRAPH_ERROR_THROTTLED", "Graph throttled calgate (HTTP 429).";
        GraphServiceUnavailable = "GRAPH_ERROR_SERVICE_UNAVAILABLE", "Graph is unavailable (HTTP 503).";
        GraphUnauthorized = "GRAPH_ERROR_UNAUTHORIZED", "Graph refused the token (HTTP 401).";
        GraphForbidden = "GRAPH_ERROR_FORBIDDEN", "The token lacks a Graph permission (HTTP 403).";
        GraphBadRequest = "GRAPH_ERROR_BAD_REQUEST", "Graph refused the request as written (HTTP 400).";
        GraphNotFound = "GRAPH_ERROR_NOT_FOUND", "The mailbox the Graph call was made on does not exist (HTTP 404).";
        GraphServerError = "GRAPH_ERROR_SERVER", "Graph answered with a server error status.";
        GraphUnexpectedStatus = "GRAPH_ERROR_UNEXPECTED_STATUS", "Graph answered with an unexpected HTTP status.";
        GraphMalformedResponse = "GRAPH_ERROR_MALFORMED_RESPONSE", "The Graph answer could not be read.";
        GraphResponseTooLarge = "GRAPH_ERROR_RESPONSE_TOO_LARGE", "The Graph answer exceeded the size limit.";
        GraphScheduleMissing = "GRAPH_ERROR_SCHEDULE_MISSING", "Graph's answer did not mention a requested schedule.";
        GraphMalformedSchedule = "GRAPH_ERROR_MALFORMED_SCHEDULE", "A schedule's items could not be read (bad times, unknown zone).";
        GraphMailRecipientNotFound = "GRAPH_ERROR_MAIL_RECIPIENT_NOT_FOUND", "Graph does not know this mailbox.";
        GraphNoFreeBusyAccess = "GRAPH_ERROR_NO_FREE_BUSY_ACCESS", "The app may not read this mailbox's free/busy.";
        GraphScheduleUnavailable = "GRAPH_ERROR_SCHEDULE_UNAVAILABLE", "Graph answered this schedule with another error.";
        GraphBadAddress = "GRAPH_ERROR_BAD_ADDRESS", "The address cannot be sent to Graph.";
        GraphRequestInvalid = "GRAPH_REQUEST_INVALID", "calgate could not write the Graph request.";
        GraphTimeout = "GRAPH_TIMEOUT", "The Graph request timed out.";
        GraphUnreachable = "GRAPH_UNREACHABLE", "calgate could not connect to the Graph endpoint (name, network or TLS).";
        // Entra ID (calgate-auth)
        EntraNoRefreshToken = "ENTRA_NO_REFRESH_TOKEN", "There is no stored sign-in: sign in again by device code.";
        EntraUnreachable = "ENTRA_UNREACHABLE", "calgate could not connect to Entra ID.";
        EntraInvalidResponse = "ENTRA_INVALID_RESPONSE", "Entra ID's answer could not be read.";
        EntraDeviceCodeDeclined = "ENTRA_DEVICE_CODE_DECLINED", "The device-code sign-in was declined.";
        EntraDeviceCodeExpired = "ENTRA_DEVICE_CODE_EXPIRED", "The device code expired before the sign-in finished.";
        EntraDeviceCodeInvalid = "ENTRA_DEVICE_CODE_INVALID", "Entra ID did not accept the device code.";
        EntraInvalidRequest = "ENTRA_INVALID_REQUEST", "Entra ID refused the request (OAuth invalid_request).";
        EntraInvalidClient = "ENTRA_INVALID_CLIENT", "Entra ID refused the client credentials (OAuth invalid_client).";
        EntraInvalidGrant = "ENTRA_INVALID_GRANT", "Entra ID refused the grant (OAuth invalid_grant).";
        EntraUnauthorizedClient = "ENTRA_UNAUTHORIZED_CLIENT", "The app may not use this grant (OAuth unauthorized_client).";
        EntraUnsupportedGrantType = "ENTRA_UNSUPPORTED_GRANT_TYPE", "Entra ID does not support this grant (OAuth unsupported_grant_type).";
        EntraInvalidScope = "ENTRA_INVALID_SCOPE", "The requested scope is not valid (OAuth invalid_scope).";
        EntraInvalidTenant = "ENTRA_INVALID_TENANT", "The tenant is not valid (OAuth invalid_tenant).";
        EntraAccessDenied = "ENTRA_ACCESS_DENIED", "The sign-in was denied (OAuth access_denied).";
        EntraInteractionRequired = "ENTRA_INTERACTION_REQUIRED", "The account needs an interactive sign-in (OAuth interaction_required).";
        EntraConsentRequired = "ENTRA_CONSENT_REQUIRED", "The app needs consent (OAuth consent_required).";
        EntraLoginRequired = "ENTRA_LOGIN_REQUIRED", "The account must sign in again (OAuth login_required).";
        EntraServerError = "ENTRA_SERVER_ERROR", "Entra ID had a server error (OAuth server_error).";
        EntraTemporarilyUnavailable = "ENTRA_TEMPORARILY_UNAVAILABLE", "Entra ID is temporarily unavailable (OAuth temporarily_unavailable).";
        EntraAuthorizationPending = "ENTRA_AUTHORIZATION_PENDING", "The device-code sign-in is not finished yet.";
        EntraSlowDown = "ENTRA_SLOW_DOWN", "Entra ID asked calgate to poll more slowly.";
        EntraExpiredToken = "ENTRA_EXPIRED_TOKEN", "The device code expired (OAuth expired_token).";
        EntraAuthorizationDeclined = "ENTRA_AUTHORIZATION_DECLINED", "The user declined the device-code sign-in.";
        EntraBadVerificationCode = "ENTRA_BAD_VERIFICATION_CODE", "Entra ID did not recognize the device code.";
        EntraOAuthError = "ENTRA_OAUTH_ERROR", "Entra ID answered with an OAuth error class calgate does not know.";
        // Sign-in (calgate-auth)
        AuthSettingsInvalid = "AUTH_SETTINGS_INVALID", "The sign-in settings are invalid.";
        AuthCredentialsReplaced = "AUTH_CREDENTIALS_REPLACED", "The credentials were replaced while a request was waiting.";
        AuthCredentialHeld = "AUTH_CREDENTIAL_HELD", "Another gateway on the same database is trying this credential first; this one waits for its verdict.";
        // Building a source from settings (calgate-sources)
        SettingsEwsUrlMissing = "SETTINGS_EWS_URL_MISSING", "No EWS URL is configured.";
        SettingsNoAuth = "SETTINGS_NO_AUTH", "No sign-in method is granted.";
        SettingsEwsClient = "SETTINGS_EWS_CLIENT", "The HTTP client for EWS could not be built.";
        SettingsUsernameMissing = "SETTINGS_USERNAME_MISSING", "No service account username is configured.";
        SettingsPasswordMissing = "SETTINGS_PASSWORD_MISSING", "No service account password is configured.";
        SettingsCredentialsInvalid = "SETTINGS_CREDENTIALS_INVALID", "The service account's credentials cannot be used.";
        SettingsExtraCaInvalid = "SETTINGS_EXTRA_CA_INVALID", "The extra CA bundle holds no usable certificate.";
        SettingsEntraClient = "SETTINGS_ENTRA_CLIENT", "The HTTP client for Entra ID could not be built.";
        SettingsSignInMissing = "SETTINGS_SIGN_IN_MISSING", "No administrator sign-in has been made yet.";
        SettingsTenantIdMissing = "SETTINGS_TENANT_ID_MISSING", "No Directory (tenant) ID is configured.";
        SettingsClientIdMissing = "SETTINGS_CLIENT_ID_MISSING", "No Application (client) ID is configured.";
        SettingsSignIn = "SETTINGS_SIGN_IN", "The Entra ID sign-in could not be set up from the settings.";
        SettingsCertificateMissing = "SETTINGS_CERTIFICATE_MISSING", "No client certificate is configured.";
        SettingsCertificateInvalid = "SETTINGS_CERTIFICATE_INVALID", "The client certificate or its key cannot be used.";
        SettingsClientSecretMissing = "SETTINGS_CLIENT_SECRET_MISSING", "No client secret is configured.";
        SettingsGraphClient = "SETTINGS_GRAPH_CLIENT", "The HTTP client for Graph could not be built.";
        SettingsGraphEndpoint = "SETTINGS_GRAPH_ENDPOINT", "The Graph endpoint is not a usable URL.";
        // The engine (calgate-engine)
        SourceMissingAnswer = "SOURCE_MISSING_ANSWER", "The source answered without this mailbox.";
        SourceMailboxErrors = "SOURCE_MAILBOX_ERRORS", "Some mailboxes of the last answer failed.";
        RouteSourceNotConfigured = "ROUTE_SOURCE_NOT_CONFIGURED", "The mailbox is routed to a source that is not configured.";
        SourceNoNotifications = "SOURCE_NO_NOTIFICATIONS", "The calendar source does not offer change notifications.";
        // Directory sync (calgate-directory)
        DirectoryMassRemovalHeld = "DIRECTORY_MASS_REMOVAL_HELD", "A sync would remove more of the directory's people than allowed; nothing was removed until an administrator confirms.";
        DirectoryEmptyAnswer = "DIRECTORY_EMPTY_ANSWER", "The directory answered with no people at all; the watch list was left as it was.";
        DirectoryInsecureRefused = "DIRECTORY_INSECURE_REFUSED", "A plain ldap:// bind without StartTLS was refused; use LDAPS or StartTLS, or allow it explicitly.";
        DirectoryConnect = "DIRECTORY_CONNECT", "calgate could not connect to the directory server (name, network or port).";
        DirectoryTls = "DIRECTORY_TLS", "The TLS handshake with the directory server failed (certificate not trusted, or no TLS).";
        DirectoryTimeout = "DIRECTORY_TIMEOUT", "The directory server did not answer in time.";
        DirectoryBindRefused = "DIRECTORY_BIND_REFUSED", "The directory server refused the bind DN or password.";
        DirectoryBindHeld = "DIRECTORY_BIND_HELD", "The lockout guard holds binds after a refused password until the next probe.";
        DirectoryFilterInvalid = "DIRECTORY_FILTER_INVALID", "The LDAP filter cannot be parsed.";
        DirectoryBaseNotFound = "DIRECTORY_BASE_NOT_FOUND", "The base DN does not exist on the directory server.";
        DirectoryReferral = "DIRECTORY_REFERRAL", "The directory server answered with a referral to another server, which calgate does not follow.";
        DirectorySearchFailed = "DIRECTORY_SEARCH_FAILED", "The directory server refused the search with another result code.";
        DirectoryEntrySkipped = "DIRECTORY_ENTRY_SKIPPED", "An entry could not be used (several or no mail values, or an oversized attribute) and was skipped.";
        DirectoryMalformedResponse = "DIRECTORY_MALFORMED_RESPONSE", "The directory's answer could not be read (for Graph: a page or next link that cannot be followed).";
        DirectoryGraphSourceMissing = "DIRECTORY_GRAPH_SOURCE_MISSING", "The Graph source whose app credentials the directory uses does not exist or is not a Graph source.";
        DirectoryDeltaExpired = "DIRECTORY_DELTA_EXPIRED", "Graph no longer accepts the saved delta token; a full sync was made instead.";
        DirectoryGroupNotFound = "DIRECTORY_GROUP_NOT_FOUND", "Graph has no group with the directory's group object ID.";
        // The gateway (calgate): connection test and sign-in
        InvalidMailbox = "INVALID_MAILBOX", "The connection test needs a mailbox address.";
        TooManyTests = "TOO_MANY_TESTS", "Too many connection tests in a minute.";
        DeviceCodeStoreFailed = "DEVICE_CODE_STORE_FAILED", "The device-code sign-in could not be saved.";
    }
    numbered {
        /// EWS answered with this HTTP status (401, 403, 429, 503, or a refused credential).
        EwsHttp(u16) = "EWS_HTTP_", "EWS_HTTP_<status>", "EWS answered with this HTTP status (401: credentials refused, 403: access blocked, 429: throttled, 503: unavailable).";
        /// Graph refused the credential with this HTTP status.
        GraphHttp(u16) = "GRAPH_HTTP_", "GRAPH_HTTP_<status>", "Graph refused the credential with this HTTP status.";
        /// Entra ID answered with this HTTP status and no error body.
        EntraHttp(u16) = "ENTRA_HTTP_", "ENTRA_HTTP_<status>", "Entra ID answered with this HTTP status and no error body.";
        /// Entra ID refused the sign-in with this AADSTS number.
        EntraAadsts(u32) = "ENTRA_AADSTS", "ENTRA_AADSTS<number>", "Entra ID refused the sign-in with this AADSTS number (look it up as AADSTS followed by the number).";
    }
}

impl Code {
    /// A mailbox that refuses the service account (no free/busy permission) or that the server
    /// does not know: that mailbox's own setting, not a fault of the source.
    pub fn is_mailbox_refusal(&self) -> bool {
        matches!(
            self,
            Code::EwsNoFreeBusyAccess
                | Code::EwsMailRecipientNotFound
                | Code::GraphNoFreeBusyAccess
                | Code::GraphMailRecipientNotFound
        )
    }

    /// The `ENTRA_…` code of an OAuth `error` class (`invalid_grant` → `ENTRA_INVALID_GRANT`);
    /// a class calgate does not know is `ENTRA_OAUTH_ERROR`, so the codes stay a bounded set.
    pub fn for_oauth_error(error: &str) -> Code {
        match error {
            "invalid_request" => Code::EntraInvalidRequest,
            "invalid_client" => Code::EntraInvalidClient,
            "invalid_grant" => Code::EntraInvalidGrant,
            "unauthorized_client" => Code::EntraUnauthorizedClient,
            "unsupported_grant_type" => Code::EntraUnsupportedGrantType,
            "invalid_scope" => Code::EntraInvalidScope,
            "invalid_tenant" => Code::EntraInvalidTenant,
            "access_denied" => Code::EntraAccessDenied,
            "interaction_required" => Code::EntraInteractionRequired,
            "consent_required" => Code::EntraConsentRequired,
            "login_required" => Code::EntraLoginRequired,
            "server_error" => Code::EntraServerError,
            "temporarily_unavailable" => Code::EntraTemporarilyUnavailable,
            "authorization_pending" => Code::EntraAuthorizationPending,
            "slow_down" => Code::EntraSlowDown,
            "expired_token" => Code::EntraExpiredToken,
            "authorization_declined" => Code::EntraAuthorizationDeclined,
            "bad_verification_code" => Code::EntraBadVerificationCode,
            _ => Code::EntraOAuthError,
        }
    }

    /// The generated Markdown table of every code (`docs/error-codes.md`).
    pub fn markdown() -> String {
        let mut out = String::from(
            "# Error codes\n\n\
             Every error code calgate emits, in the API, the portal, log lines and metric labels. \
             Generated from `crates/calgate-core/src/code.rs`; do not edit by hand (regenerate with \
             `CALGATE_UPDATE_ERROR_CODES=1 cargo test -p calgate-core error_codes_doc`).\n\n\
             | Code | Meaning |\n|---|---|\n",
        );
        for (code, meaning) in Code::table() {
            out.push_str(&format!("| `{code}` | {meaning} |\n"));
        }
        out
    }
}

impl From<Code> for String {
    fn from(code: Code) -> String {
        code.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_reads_back() {
        for &c in Code::FIXED {
            assert_eq!(Code::parse(&c.to_string()), Some(c));
        }
        for c in [
            Code::EwsHttp(401),
            Code::GraphHttp(401),
            Code::EntraHttp(503),
            Code::EntraAadsts(50126),
        ] {
            assert_eq!(Code::parse(&c.to_string()), Some(c));
        }
        assert_eq!(Code::EwsHttp(401).to_string(), "EWS_HTTP_401");
        assert_eq!(Code::EntraAadsts(50126).to_string(), "ENTRA_AADSTS50126");
        assert_eq!(Code::parse("EWS_HTTP_5XX"), Some(Code::EwsHttp5xx));
        for junk in [
            "",
            "EWS_HTTP_",
            "EWS_HTTP_0401",
            "ENTRA_AADSTS-1",
            "SOURCE_MODERN_AUTH_UNAVAILABLE",
        ] {
            assert_eq!(Code::parse(junk), None, "{junk}");
        }
    }

    #[test]
    fn forms_are_unique() {
        let rows = Code::table();
        let mut seen = std::collections::HashSet::new();
        for (code, _) in &rows {
            assert!(seen.insert(*code), "{code} twice");
        }
    }

    /// `docs/error-codes.md` is generated from the registry; this keeps it in step. Regenerate
    /// with `CALGATE_UPDATE_ERROR_CODES=1 cargo test -p calgate-core error_codes_doc`.
    #[test]
    fn error_codes_doc_matches_the_registry() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/error-codes.md");
        let generated = Code::markdown();
        if std::env::var_os("CALGATE_UPDATE_ERROR_CODES").is_some() {
            std::fs::write(&path, &generated).expect("write docs/error-codes.md");
        }
        let checked_in = std::fs::read_to_string(&path).expect("docs/error-codes.md exists");
        assert!(
            checked_in == generated,
            "docs/error-codes.md is out of date; regenerate it with CALGATE_UPDATE_ERROR_CODES=1"
        );
    }
}
