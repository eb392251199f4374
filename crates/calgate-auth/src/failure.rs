//! What went wrong in a sign-in, classified so the caller knows whether to stop, wait or fall back.
//!
//! Entra ID answers errors with an OAuth `error` class and integer `error_codes` (the AADSTS
//! numbers). Only those two decide the class here; `error_description` is free text that Microsoft
//! rewords at will and is kept for support only. Codes not in the table fall back to their `error`
//! class, and an unknown class counts as a configuration failure: something we do not understand is
//! never retried in a loop against someone's account.

use serde::{Deserialize, Serialize};

use calgate_core::Code;

/// The seed's three causes of an account locked "within few seconds", in the admin's words.
pub const LIKELY_CAUSES: [&str; 3] = [
    "the account has a policy that does not allow such frequent sign-ins or refreshes (check the data refresh interval)",
    "someone changed the account's password elsewhere, so the stored password is no longer valid",
    "someone changed the account's credentials while calgate was running",
];

/// How a failure must be handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureClass {
    /// The account or secret was refused (wrong password, locked, disabled, MFA required, no
    /// consent…). The lockout guard quarantines the secret at once.
    Credential,
    /// The registration or settings are wrong (unknown app or tenant, public-client flows off, bad
    /// scope). Retrying cannot help either; quarantined like a credential failure.
    Configuration,
    /// The refresh token is no longer valid (expired by inactivity, revoked, password changed):
    /// fall back once to the password grant if a password is configured.
    RefreshTokenExpired,
    /// Throttling or a service fault: retry later with back-off, no quarantine.
    Transient,
}

impl FailureClass {
    /// Whether this failure stops all use of the credential.
    pub fn quarantines(self) -> bool {
        matches!(self, Self::Credential | Self::Configuration)
    }
}

/// An error body as Entra ID sends it from its token and device-code endpoints.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntraErrorBody {
    /// The OAuth error class (`invalid_grant`, `invalid_client`, `authorization_pending`…).
    pub error: String,
    /// Human text; never used to decide anything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
    /// The AADSTS numbers.
    #[serde(default)]
    pub error_codes: Vec<i64>,
    /// Optional refinement (`consent_required`, `bad_token`…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suberror: Option<String>,
    /// For Microsoft support.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    /// For Microsoft support.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    /// When Entra saw the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
}

/// One classified sign-in failure: what the admin sees, what the log line and metric carry.
/// Holds no secret and no free text from the server other than support identifiers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignInFailure {
    /// How to handle it.
    pub class: FailureClass,
    /// Stable code: `ENTRA_AADSTS50126`, `ENTRA_INVALID_GRANT`, `ENTRA_HTTP_503`, `EWS_HTTP_401`…
    pub code: String,
    /// The HTTP status of the answer, when there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    /// Entra's `error` class, when the answer was an Entra error body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Entra's AADSTS numbers.
    #[serde(default)]
    pub error_codes: Vec<i64>,
    /// Kept for Microsoft support.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    /// Kept for Microsoft support.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    /// Entra's timestamp of the failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// `Retry-After` of a throttled answer, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_secs: Option<f64>,
}

impl SignInFailure {
    /// Classifies an Entra error answer by HTTP status, `error` and `error_codes`.
    pub fn from_entra(status: u16, body: &EntraErrorBody, retry_after_secs: Option<f64>) -> Self {
        let known = body
            .error_codes
            .iter()
            .find_map(|&c| class_of_code(c).map(|class| (c, class)));
        let (class, code) = match known {
            Some((number, class)) => (class, aadsts(number)),
            None => {
                let class = if status == 429 || status >= 500 {
                    FailureClass::Transient
                } else {
                    class_of_error(&body.error)
                };
                let code = match body.error_codes.first() {
                    Some(&number) => aadsts(number),
                    None if body.error.is_empty() => Code::EntraHttp(status),
                    None => Code::for_oauth_error(&body.error),
                };
                (class, code)
            }
        };
        Self {
            class,
            code: code.to_string(),
            http_status: Some(status),
            error: (!body.error.is_empty()).then(|| body.error.clone()),
            error_codes: body.error_codes.clone(),
            trace_id: body.trace_id.clone(),
            correlation_id: body.correlation_id.clone(),
            timestamp: body.timestamp.clone(),
            retry_after_secs,
        }
    }

    /// An HTTP answer from Entra that is not an error body (a proxy page, a bare 503).
    pub fn from_http_status(status: u16, retry_after_secs: Option<f64>) -> Self {
        let class = if status == 429 || status >= 500 {
            FailureClass::Transient
        } else {
            FailureClass::Configuration
        };
        Self::bare(
            class,
            Code::EntraHttp(status),
            Some(status),
            retry_after_secs,
        )
    }

    /// A resource (EWS or Graph) refused the credential: `code` is `EWS_HTTP_<status>` or
    /// `GRAPH_HTTP_<status>`.
    pub fn refused_by_resource(code: Code) -> Self {
        let status = match code {
            Code::EwsHttp(s) | Code::GraphHttp(s) => Some(s),
            _ => None,
        };
        Self::bare(FailureClass::Credential, code, status, None)
    }

    fn bare(class: FailureClass, code: Code, status: Option<u16>, retry: Option<f64>) -> Self {
        Self {
            class,
            code: code.to_string(),
            http_status: status,
            error: None,
            error_codes: Vec::new(),
            trace_id: None,
            correlation_id: None,
            timestamp: None,
            retry_after_secs: retry,
        }
    }

    /// Plain-language reason and fix for the administrator.
    pub fn admin_message(&self) -> String {
        if Code::parse(&self.code) == Some(Code::EntraNoRefreshToken) {
            return "There is no stored sign-in for this account: sign in again by device code in the portal.".into();
        }
        let first_known = self.error_codes.iter().find_map(|&c| message_of_code(c));
        if let Some(text) = first_known {
            return text.to_string();
        }
        match (self.class, self.error.as_deref(), self.http_status) {
            (FailureClass::Transient, _, _) => {
                "The sign-in service is busy or unavailable; calgate retries later on its own.".into()
            }
            (FailureClass::RefreshTokenExpired, _, _) => {
                "The stored sign-in has expired or was revoked; calgate signs in again with the stored password if there is one, otherwise sign in again in the portal.".into()
            }
            (_, Some("invalid_client"), _) => {
                "The application registration refused the client credentials: check the client ID, the client secret or certificate, and that \"Allow public client flows\" is enabled for password sign-in.".into()
            }
            (_, Some("invalid_grant"), _) => {
                "Entra ID refused the account's credentials: check the username and password, and whether the account is locked, disabled or needs multi-factor sign-in.".into()
            }
            (_, Some("invalid_scope"), _) => {
                "The permissions requested are not valid for this application: check the API permissions of the app registration.".into()
            }
            (_, Some(_), _) => {
                "Entra ID refused the sign-in; check the tenant ID, the client ID and the app registration.".into()
            }
            (_, None, Some(401)) => {
                "The server refused the credentials (HTTP 401): check the username and password, and whether the account is locked.".into()
            }
            (_, None, Some(403)) => {
                "The server refused access (HTTP 403): check the account's permissions and whether the service is enabled for it.".into()
            }
            _ => "The sign-in failed for a reason calgate does not know; check the settings.".into(),
        }
    }
}

/// `ENTRA_AADSTS<number>`; a number outside the AADSTS range is an unknown OAuth error.
fn aadsts(number: i64) -> Code {
    u32::try_from(number).map_or(Code::EntraOAuthError, Code::EntraAadsts)
}

/// The class of an AADSTS number we know; `None` leaves the decision to the `error` class.
pub fn class_of_code(code: i64) -> Option<FailureClass> {
    use FailureClass::{Configuration, Credential, RefreshTokenExpired, Transient};
    Some(match code {
        // Account and secret refused.
        50126 | 50053 | 50055 | 50144 | 50057 | 50034 | 50076 | 50079 | 50072 | 50074 | 53003
        | 530035 | 530032 | 53000 | 53001 | 65001 | 65004 | 50105 | 90072 | 7000215 | 7000222
        | 700027 | 50012 => Credential,
        // Registration or settings wrong.
        700016 | 90002 | 7000218 | 70011 | 28002 | 700022 | 700025 | 9001023 | 90130 | 90124
        | 650056 | 650057 | 500011 | 90014 | 900144 => Configuration,
        // Refresh token no longer usable: one password sign-in may repair it.
        700082 | 70008 | 50173 | 50132 | 50133 | 70043 => RefreshTokenExpired,
        // Throttled or unavailable.
        90055 | 90024 | 50033 | 90033 | 90006 | 50087 | 50196 => Transient,
        _ => return None,
    })
}

fn class_of_error(error: &str) -> FailureClass {
    match error {
        "invalid_grant"
        | "interaction_required"
        | "consent_required"
        | "access_denied"
        | "login_required" => FailureClass::Credential,
        "temporarily_unavailable" | "server_error" => FailureClass::Transient,
        // invalid_client, unauthorized_client, invalid_request, invalid_scope, invalid_tenant and
        // anything unknown: stop rather than guess.
        _ => FailureClass::Configuration,
    }
}

fn message_of_code(code: i64) -> Option<&'static str> {
    Some(match code {
        50126 => {
            "Wrong username or password (AADSTS50126): enter the service account's current password in calgate's settings."
        }
        50053 => {
            "The account is locked (AADSTS50053), after too many failed sign-ins or because the sign-in came from an address Microsoft considers malicious: wait for the lockout to end or ask an administrator to unlock it, then check the stored password."
        }
        50055 | 50144 => {
            "The account's password has expired (AADSTS50055): set a new password for the service account and enter it in calgate's settings."
        }
        50057 => {
            "The account is disabled (AADSTS50057): enable it or configure another service account."
        }
        50034 => {
            "No such user in this tenant (AADSTS50034): check the username and the Directory (tenant) ID."
        }
        50076 | 50079 | 50072 | 50074 => {
            "The account must use multi-factor sign-in, which a stored password cannot do: exclude the service account from MFA, or sign in once by device code, or use app-only access."
        }
        53003 | 530035 | 530032 | 53000 | 53001 => {
            "A Conditional Access or security policy blocked the sign-in: exclude the service account from the policy or use app-only access."
        }
        65001 | 65004 => {
            "The application has no consent for the permissions it asks for (AADSTS65001): an administrator must grant admin consent in the app registration."
        }
        700016 => {
            "The application (client) ID is not known in this tenant (AADSTS700016): check the client ID and the Directory (tenant) ID."
        }
        90002 | 90014 | 900144 => {
            "The Directory (tenant) ID is not known (AADSTS90002): check the tenant ID."
        }
        7000218 => {
            "The app registration does not allow public client flows (AADSTS7000218): enable \"Allow public client flows\" under Authentication in the app registration."
        }
        70011 | 28002 | 700022 => {
            "The requested permission (scope) is not valid (AADSTS70011): check the app registration's API permissions."
        }
        7000215 | 7000222 => {
            "The client secret is wrong or has expired: create a new secret in the app registration and enter it in calgate."
        }
        700027 | 50012 => {
            "The certificate's signature was refused: upload the certificate to the app registration and check its thumbprint."
        }
        700082 | 70008 | 50173 | 50132 | 50133 | 70043 => {
            "The stored sign-in has expired or was revoked (for example after a password change): calgate signs in again with the stored password if there is one; otherwise sign in again in the portal."
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(error: &str, codes: &[i64]) -> EntraErrorBody {
        EntraErrorBody {
            error: error.into(),
            error_description: Some("AADSTS99999: the text must never decide anything".into()),
            error_codes: codes.to_vec(),
            trace_id: Some("t".into()),
            ..Default::default()
        }
    }

    #[test]
    fn classification_by_code_then_by_error_class() {
        let wrong = SignInFailure::from_entra(400, &body("invalid_grant", &[50126]), None);
        assert_eq!(
            (wrong.class, wrong.code.as_str()),
            (FailureClass::Credential, "ENTRA_AADSTS50126")
        );
        assert!(wrong.admin_message().contains("password"));
        let public = SignInFailure::from_entra(401, &body("invalid_client", &[7000218]), None);
        assert_eq!(public.class, FailureClass::Configuration);
        let expired = SignInFailure::from_entra(400, &body("invalid_grant", &[700082]), None);
        assert_eq!(expired.class, FailureClass::RefreshTokenExpired);
        // An unknown code falls back to its error class, with the number kept in the code.
        let unknown = SignInFailure::from_entra(400, &body("invalid_grant", &[123456]), None);
        assert_eq!(
            (unknown.class, unknown.code.as_str()),
            (FailureClass::Credential, "ENTRA_AADSTS123456")
        );
        let busy = SignInFailure::from_entra(503, &body("temporarily_unavailable", &[]), Some(2.5));
        assert_eq!(
            (busy.class, busy.code.as_str()),
            (FailureClass::Transient, "ENTRA_TEMPORARILY_UNAVAILABLE")
        );
        let strange = SignInFailure::from_entra(400, &body("brand_new_error", &[]), None);
        assert!(
            strange.class.quarantines(),
            "unknown answers never count as retryable"
        );
        assert_eq!(
            SignInFailure::from_http_status(429, None).class,
            FailureClass::Transient
        );
    }

    #[test]
    fn the_description_is_never_consulted() {
        let mut b = body("invalid_grant", &[50126]);
        b.error_description = Some("AADSTS700082: expired".into());
        assert_eq!(
            SignInFailure::from_entra(400, &b, None).class,
            FailureClass::Credential
        );
    }
}
