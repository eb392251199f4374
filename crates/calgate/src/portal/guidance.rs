//! Plain-language causes and fixes for the error codes an administrator meets, and the short
//! explanation shown under each settings warning. The seed's troubleshooting chapter (an account
//! locked after too frequent refreshes or a changed password) is the `auth` case here.

use calgate_core::Code;
use calgate_settings::WarningCode;

/// What probably happened and what to do about it.
#[derive(Debug, Clone)]
pub struct Guidance {
    pub cause: &'static str,
    pub fix: &'static str,
}

/// The three likely reasons behind a refused service account, from the seed's troubleshooting
/// notes, written as things to check.
pub const AUTH_FAILED_CAUSES: &[(&str, &str)] = &[
    (
        "The account's policy does not allow calendar reads this often.",
        "Raise the Data refresh interval (300 s is a safe start) or ask for the account to be \
         exempted from the throttling/lockout policy, then press Retry now.",
    ),
    (
        "Someone changed the service account's password, so the stored one is no longer valid.",
        "Enter the new password under Calendar Integration Settings and save; calgate stops \
         using the old one at once.",
    ),
    (
        "The credentials were changed while calgate was running, and repeated attempts with the \
         old ones got the account locked.",
        "calgate holds further attempts (the lockout guard) so the lock can expire. Save the \
         correct credentials, wait for the lock to clear, then press Retry now.",
    ),
];

/// Guidance for an error code from a connection test or the source's health. The code is read
/// back into the registry's [`Code`]; one calgate does not emit gets the general answer.
pub fn for_code(code: &str) -> Guidance {
    match Code::parse(code) {
        Some(code) => for_known(code),
        None => UNREADABLE,
    }
}

const UNREADABLE: Guidance = Guidance {
    cause: "The server answered in a way calgate could not use.",
    fix: "See the message and the Logs page for details; test again after fixing.",
};

fn for_known(code: Code) -> Guidance {
    match code {
        Code::EwsHttp(401)
        | Code::GraphHttp(401)
        | Code::EntraAadsts(50126)
        | Code::GraphUnauthorized
        | Code::SettingsCredentialsInvalid
        | Code::EwsCredentialUnavailable => Guidance {
            cause: "The server refused the service account's credentials (wrong or changed \
                    password, locked account, or the sign-in method is not allowed).",
            fix: "Check the username and password (or the tenant, client ID and secret), save \
                  them again, and test. If the account was locked, wait for the lock to clear \
                  first.",
        },
        Code::EntraAadsts(50053 | 50055 | 50057) => Guidance {
            cause: "Entra ID reports the account as locked, disabled or blocked by policy.",
            fix: "Ask your Microsoft 365 administrator to unlock or enable the service account, \
                  or to exempt it from the conditional-access policy that blocks it.",
        },
        Code::EntraAadsts(65001 | 65004) => Guidance {
            cause: "The app registration has not been granted admin consent.",
            fix: "In Entra ID, open the app registration's API permissions and grant admin \
                  consent, then test again.",
        },
        Code::EwsConnect
        | Code::EwsTimeout
        | Code::GraphUnreachable
        | Code::GraphTimeout
        | Code::EntraUnreachable => Guidance {
            cause: "calgate could not reach the server (name, firewall, proxy or TLS).",
            fix: "Check the EWS URL or Graph endpoint, that this machine can reach it, and that \
                  its certificate is trusted (add a private CA under Advanced).",
        },
        Code::EwsServerBusy
        | Code::EwsHttp(429 | 503)
        | Code::GraphThrottled
        | Code::EwsMailboxServerBusy
        | Code::EwsExceededConnectionCount => Guidance {
            cause: "The server is throttling calgate: too many requests for the account.",
            fix: "calgate backs off on its own. If it happens often, raise the Data refresh \
                  interval or watch fewer people with this account.",
        },
        Code::EwsMailRecipientNotFound
        | Code::GraphMailRecipientNotFound
        | Code::EwsInvalidSmtpAddress
        | Code::GraphNotFound => Guidance {
            cause: "The server does not know this mailbox.",
            fix: "Check the email address (the primary SMTP address, not an alias).",
        },
        Code::EwsNoFreeBusyAccess
        | Code::GraphNoFreeBusyAccess
        | Code::GraphForbidden
        | Code::EwsHttp(403) => Guidance {
            cause: "The service account may not read this calendar's free/busy information.",
            fix: "Grant the account free/busy (or Calendars.Read) access to the mailbox, or \
                  the application permission for Graph app-only access.",
        },
        Code::EwsInvalidServerVersion
        | Code::EwsUnsupportedByVersion
        | Code::EwsSchemaValidation => Guidance {
            cause: "The server does not accept requests in the chosen Exchange version.",
            fix: "Choose the oldest Exchange version among your servers under Version.",
        },
        Code::SettingsSignInMissing | Code::EntraNoRefreshToken => Guidance {
            cause: "Modern authentication is chosen, but no administrator has signed in yet \
                    (or the stored sign-in was removed).",
            fix: "Sign in by device code under Calendar Integration Settings, then test again.",
        },
        Code::EntraAadsts(_) | Code::EntraHttp(_) => Guidance {
            cause: "Entra ID refused the sign-in.",
            fix: "Check the Directory (tenant) ID, the Application (client) ID and the account; \
                  the code names Entra ID's reason (look it up as AADSTS followed by the number).",
        },
        Code::EntraInvalidResponse
        | Code::EntraDeviceCodeDeclined
        | Code::EntraDeviceCodeExpired
        | Code::EntraDeviceCodeInvalid
        | Code::EntraInvalidRequest
        | Code::EntraInvalidClient
        | Code::EntraInvalidGrant
        | Code::EntraUnauthorizedClient
        | Code::EntraUnsupportedGrantType
        | Code::EntraInvalidScope
        | Code::EntraInvalidTenant
        | Code::EntraAccessDenied
        | Code::EntraInteractionRequired
        | Code::EntraConsentRequired
        | Code::EntraLoginRequired
        | Code::EntraServerError
        | Code::EntraTemporarilyUnavailable
        | Code::EntraAuthorizationPending
        | Code::EntraSlowDown
        | Code::EntraExpiredToken
        | Code::EntraAuthorizationDeclined
        | Code::EntraBadVerificationCode
        | Code::EntraOAuthError => Guidance {
            cause: "Entra ID refused the sign-in.",
            fix: "Check the Directory (tenant) ID, the Application (client) ID and the account; \
                  the code names Entra ID's reason.",
        },
        Code::SettingsEwsUrlMissing
        | Code::SettingsNoAuth
        | Code::SettingsEwsClient
        | Code::SettingsUsernameMissing
        | Code::SettingsPasswordMissing
        | Code::SettingsExtraCaInvalid
        | Code::SettingsEntraClient
        | Code::SettingsTenantIdMissing
        | Code::SettingsClientIdMissing
        | Code::SettingsSignIn
        | Code::SettingsCertificateMissing
        | Code::SettingsCertificateInvalid
        | Code::SettingsClientSecretMissing
        | Code::SettingsGraphClient
        | Code::SettingsGraphEndpoint => Guidance {
            cause: "The saved settings are incomplete for the chosen provider.",
            fix: "Fill in the fields the message names and save again.",
        },
        _ => UNREADABLE,
    }
}

/// Why a settings warning matters, in a sentence.
pub fn warning_explanation(code: WarningCode) -> &'static str {
    match code {
        WarningCode::BothAuthEnabled => {
            "If you keep both authentications enabled, a warning is displayed once configuration \
             is saved: modern authentication is used, and Basic only when the server offers no \
             Bearer sign-in at all — never after a credential failure. Uncheck Basic unless \
             you need that fallback."
        }
        WarningCode::WindowsAuthOrder => {
            "Windows authentication is granted beside another sign-in. The order is fixed: \
             modern, then Windows, then Basic, each only when the server does not offer the one \
             before it. A refused password is never tried again under another scheme."
        }
        WarningCode::BasicAuthExchangeOnline => {
            "Exchange Online refuses Basic authentication, so this grant will not work there. \
             Keep it unchecked."
        }
        WarningCode::EwsOnlineRetirement => {
            "Microsoft is retiring EWS in Exchange Online. Plan the move to Microsoft 365 \
             (Graph) before the dates above."
        }
        WarningCode::RefreshIntervalLow => {
            "Refreshing this often can get the service account throttled or locked — the \
             first cause in the troubleshooting notes. Meeting starts and ends are shown at \
             the second anyway."
        }
        WarningCode::InsecureHttp => {
            "Passwords and calendar data travel unencrypted over http://. Use it in a test lab \
             only."
        }
        WarningCode::LocalTarget => {
            "The address points at the gateway's own machine. That is right for a local proxy \
             or a test lab; against a real Exchange or Microsoft 365 it is a mistake."
        }
        WarningCode::EwsUrlUnusualPath => {
            "EWS URLs normally end in /EWS/Exchange.asmx; check the address if the connection \
             test fails."
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_nobody_emits_get_the_general_answer() {
        for code in [
            "SOURCE_MODERN_AUTH_UNAVAILABLE",
            "SOURCE_GRAPH_UNAVAILABLE",
            "EWS_HTTP_",
        ] {
            assert_eq!(for_code(code).cause, UNREADABLE.cause, "{code}");
        }
        assert_eq!(
            for_code(&Code::EntraAadsts(50053).to_string()).cause,
            for_known(Code::EntraAadsts(50057)).cause
        );
        assert_ne!(for_code("EWS_HTTP_401").cause, UNREADABLE.cause);
    }
}
