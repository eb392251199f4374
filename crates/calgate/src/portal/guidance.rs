//! Plain-language causes and fixes for the error codes an administrator meets, and the short
//! explanation shown under each settings warning. The seed's troubleshooting chapter (an account
//! locked after too frequent refreshes or a changed password) is the `auth` case here.
//! The texts are in the catalogues (`locales/<lang>/guidance.ftl`); this module maps each code
//! and warning to its keys and answers in the reader's language.

use calgate_core::Code;
use calgate_settings::WarningCode;

use crate::i18n::{self, Lang};

/// What probably happened and what to do about it, in the reader's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guidance {
    pub cause: String,
    pub fix: String,
}

/// The catalogue keys of a guidance's two texts (`locales/<lang>/guidance.ftl`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Keys {
    cause: &'static str,
    fix: &'static str,
}

impl Keys {
    fn text_in(self, lang: Lang) -> Guidance {
        Guidance {
            cause: i18n::text_in(lang, self.cause, &[]),
            fix: i18n::text_in(lang, self.fix, &[]),
        }
    }
}

/// The three likely reasons behind a refused service account, from the seed's troubleshooting
/// notes, written as things to check.
const AUTH_FAILED_CAUSES: [Keys; 3] = [
    Keys {
        cause: "g-auth-1-cause",
        fix: "g-auth-1-fix",
    },
    Keys {
        cause: "g-auth-2-cause",
        fix: "g-auth-2-fix",
    },
    Keys {
        cause: "g-auth-3-cause",
        fix: "g-auth-3-fix",
    },
];

/// The likely reasons behind a refused service account, as (cause, fix) in the current
/// language, in the order to check them.
pub fn auth_failed_causes() -> Vec<(String, String)> {
    let lang = i18n::current();
    AUTH_FAILED_CAUSES
        .iter()
        .map(|k| {
            let g = k.text_in(lang);
            (g.cause, g.fix)
        })
        .collect()
}

/// Guidance for an error code from a connection test or the source's health. The code is read
/// back into the registry's [`Code`]; one calgate does not emit gets the general answer. In the
/// current language.
pub fn for_code(code: &str) -> Guidance {
    for_code_in(i18n::current(), code)
}

/// [`for_code`] in `lang`.
fn for_code_in(lang: Lang, code: &str) -> Guidance {
    keys_for_code(code).text_in(lang)
}

fn keys_for_code(code: &str) -> Keys {
    match Code::parse(code) {
        Some(code) => keys_for_known(code),
        None => UNREADABLE,
    }
}

const UNREADABLE: Keys = Keys {
    cause: "g-unreadable-cause",
    fix: "g-unreadable-fix",
};

fn keys_for_known(code: Code) -> Keys {
    match code {
        Code::EwsHttp(401)
        | Code::GraphHttp(401)
        | Code::EntraAadsts(50126)
        | Code::GraphUnauthorized
        | Code::SettingsCredentialsInvalid
        | Code::EwsCredentialUnavailable => Keys {
            cause: "g-credentials-refused-cause",
            fix: "g-credentials-refused-fix",
        },
        Code::EntraAadsts(50053 | 50055 | 50057) => Keys {
            cause: "g-account-blocked-cause",
            fix: "g-account-blocked-fix",
        },
        Code::EntraAadsts(65001 | 65004) => Keys {
            cause: "g-admin-consent-cause",
            fix: "g-admin-consent-fix",
        },
        Code::EwsConnect
        | Code::EwsTimeout
        | Code::GraphUnreachable
        | Code::GraphTimeout
        | Code::EntraUnreachable => Keys {
            cause: "g-unreachable-cause",
            fix: "g-unreachable-fix",
        },
        Code::EwsServerBusy
        | Code::EwsHttp(429 | 503)
        | Code::GraphThrottled
        | Code::EwsMailboxServerBusy
        | Code::EwsExceededConnectionCount => Keys {
            cause: "g-throttled-cause",
            fix: "g-throttled-fix",
        },
        Code::EwsMailRecipientNotFound
        | Code::GraphMailRecipientNotFound
        | Code::EwsInvalidSmtpAddress
        | Code::GraphNotFound => Keys {
            cause: "g-mailbox-unknown-cause",
            fix: "g-mailbox-unknown-fix",
        },
        Code::EwsNoFreeBusyAccess
        | Code::GraphNoFreeBusyAccess
        | Code::GraphForbidden
        | Code::EwsHttp(403) => Keys {
            cause: "g-no-free-busy-cause",
            fix: "g-no-free-busy-fix",
        },
        Code::EwsInvalidServerVersion
        | Code::EwsUnsupportedByVersion
        | Code::EwsSchemaValidation => Keys {
            cause: "g-exchange-version-cause",
            fix: "g-exchange-version-fix",
        },
        Code::SettingsSignInMissing | Code::EntraNoRefreshToken => Keys {
            cause: "g-sign-in-missing-cause",
            fix: "g-sign-in-missing-fix",
        },
        Code::EntraAadsts(_) | Code::EntraHttp(_) => Keys {
            cause: "g-entra-refused-cause",
            fix: "g-entra-refused-aadsts-fix",
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
        | Code::EntraOAuthError => Keys {
            cause: "g-entra-refused-cause",
            fix: "g-entra-refused-fix",
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
        | Code::SettingsGraphEndpoint => Keys {
            cause: "g-settings-incomplete-cause",
            fix: "g-settings-incomplete-fix",
        },
        Code::DirectoryBindRefused => Keys {
            cause: "g-dir-bind-refused-cause",
            fix: "g-dir-bind-refused-fix",
        },
        Code::DirectoryBindHeld => Keys {
            cause: "g-dir-bind-held-cause",
            fix: "g-dir-bind-held-fix",
        },
        Code::DirectoryMassRemovalHeld => Keys {
            cause: "g-dir-removal-held-cause",
            fix: "g-dir-removal-held-fix",
        },
        Code::DirectoryEmptyAnswer => Keys {
            cause: "g-dir-empty-cause",
            fix: "g-dir-empty-fix",
        },
        Code::DirectoryInsecureRefused => Keys {
            cause: "g-dir-insecure-cause",
            fix: "g-dir-insecure-fix",
        },
        Code::DirectoryConnect | Code::DirectoryTimeout => Keys {
            cause: "g-dir-unreachable-cause",
            fix: "g-dir-unreachable-fix",
        },
        Code::DirectoryTls => Keys {
            cause: "g-dir-tls-cause",
            fix: "g-dir-tls-fix",
        },
        Code::DirectoryFilterInvalid => Keys {
            cause: "g-dir-filter-cause",
            fix: "g-dir-filter-fix",
        },
        Code::DirectoryBaseNotFound => Keys {
            cause: "g-dir-base-cause",
            fix: "g-dir-base-fix",
        },
        Code::DirectoryReferral => Keys {
            cause: "g-dir-referral-cause",
            fix: "g-dir-referral-fix",
        },
        Code::DirectorySearchFailed => Keys {
            cause: "g-dir-search-cause",
            fix: "g-dir-search-fix",
        },
        Code::DirectoryEntrySkipped => Keys {
            cause: "g-dir-skipped-cause",
            fix: "g-dir-skipped-fix",
        },
        Code::DirectoryMalformedResponse => Keys {
            cause: "g-dir-malformed-cause",
            fix: "g-dir-malformed-fix",
        },
        Code::DirectoryGraphSourceMissing => Keys {
            cause: "g-dir-graph-source-cause",
            fix: "g-dir-graph-source-fix",
        },
        Code::DirectoryDeltaExpired => Keys {
            cause: "g-dir-delta-expired-cause",
            fix: "g-dir-delta-expired-fix",
        },
        Code::DirectoryGroupNotFound => Keys {
            cause: "g-dir-group-cause",
            fix: "g-dir-group-fix",
        },
        _ => UNREADABLE,
    }
}

/// Why a settings warning matters, in a sentence, in the current language.
pub fn warning_explanation(code: WarningCode) -> String {
    i18n::t(warning_key(code))
}

fn warning_key(code: WarningCode) -> &'static str {
    match code {
        WarningCode::BothAuthEnabled => "gw-both-auth-enabled",
        WarningCode::WindowsAuthOrder => "gw-windows-auth-order",
        WarningCode::BasicAuthExchangeOnline => "gw-basic-auth-exchange-online",
        WarningCode::EwsOnlineRetirement => "gw-ews-online-retirement",
        WarningCode::RefreshIntervalLow => "gw-refresh-interval-low",
        WarningCode::InsecureHttp => "gw-insecure-http",
        WarningCode::LocalTarget => "gw-local-target",
        WarningCode::EwsUrlUnusualPath => "gw-ews-url-unusual-path",
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
            assert_eq!(keys_for_code(code), UNREADABLE, "{code}");
        }
        assert_eq!(
            keys_for_code(&Code::EntraAadsts(50053).to_string()),
            keys_for_known(Code::EntraAadsts(50057))
        );
        assert_ne!(keys_for_code("EWS_HTTP_401"), UNREADABLE);
        assert_ne!(
            for_code_in(Lang::En, "EWS_HTTP_401").cause,
            for_code_in(Lang::En, "NO_SUCH_CODE").cause
        );
    }

    #[test]
    fn every_key_has_an_english_text() {
        let (english, _) = i18n::message_ids(Lang::En);
        let warnings = [
            WarningCode::BothAuthEnabled,
            WarningCode::WindowsAuthOrder,
            WarningCode::BasicAuthExchangeOnline,
            WarningCode::EwsOnlineRetirement,
            WarningCode::RefreshIntervalLow,
            WarningCode::InsecureHttp,
            WarningCode::LocalTarget,
            WarningCode::EwsUrlUnusualPath,
        ];
        let codes = [
            keys_for_known(Code::EwsHttp(401)),
            keys_for_known(Code::EntraAadsts(50053)),
            keys_for_known(Code::EntraAadsts(65001)),
            keys_for_known(Code::EwsConnect),
            keys_for_known(Code::GraphThrottled),
            keys_for_known(Code::GraphNotFound),
            keys_for_known(Code::GraphForbidden),
            keys_for_known(Code::EwsInvalidServerVersion),
            keys_for_known(Code::SettingsSignInMissing),
            keys_for_known(Code::EntraAadsts(1)),
            keys_for_known(Code::EntraInvalidGrant),
            keys_for_known(Code::SettingsNoAuth),
            keys_for_code("NO_SUCH_CODE"),
            keys_for_known(Code::DirectoryBindRefused),
            keys_for_known(Code::DirectoryBindHeld),
            keys_for_known(Code::DirectoryMassRemovalHeld),
            keys_for_known(Code::DirectoryEmptyAnswer),
            keys_for_known(Code::DirectoryInsecureRefused),
            keys_for_known(Code::DirectoryTimeout),
            keys_for_known(Code::DirectoryTls),
            keys_for_known(Code::DirectoryFilterInvalid),
            keys_for_known(Code::DirectoryBaseNotFound),
            keys_for_known(Code::DirectoryReferral),
            keys_for_known(Code::DirectorySearchFailed),
            keys_for_known(Code::DirectoryEntrySkipped),
            keys_for_known(Code::DirectoryMalformedResponse),
            keys_for_known(Code::DirectoryGraphSourceMissing),
            keys_for_known(Code::DirectoryDeltaExpired),
            keys_for_known(Code::DirectoryGroupNotFound),
        ];
        let keys = codes
            .iter()
            .chain(&AUTH_FAILED_CAUSES)
            .flat_map(|k| [k.cause, k.fix])
            .chain(warnings.map(warning_key));
        for key in keys {
            assert!(english.iter().any(|k| k == key), "{key}");
        }
    }

    /// Every directory code has its own words, never the general answer.
    #[test]
    fn directory_codes_are_explained() {
        for code in Code::FIXED
            .iter()
            .filter(|c| c.to_string().starts_with("DIRECTORY_"))
        {
            assert_ne!(keys_for_known(*code), UNREADABLE, "{code}");
        }
        let german = for_code_in(Lang::De, "DIRECTORY_BIND_REFUSED");
        assert!(german.fix.contains("Bind-DN"), "{}", german.fix);
    }

    #[tokio::test]
    async fn guidance_is_in_the_readers_language() {
        let english = for_code_in(Lang::En, "EWS_HTTP_401");
        let german = i18n::scope(Lang::De, async { for_code("EWS_HTTP_401") }).await;
        let italian = i18n::scope(Lang::It, async { for_code("EWS_HTTP_401") }).await;
        assert_ne!(german, english);
        assert_ne!(italian, english);
        assert!(german.cause.contains("Dienstkonto"), "{}", german.cause);
        assert!(german.fix.contains("Kennwort"), "{}", german.fix);
        assert!(
            italian.cause.contains("account di servizio"),
            "{}",
            italian.cause
        );
        assert!(italian.fix.contains("Controlla"), "{}", italian.fix);

        let causes = i18n::scope(Lang::De, async { auth_failed_causes() }).await;
        assert_eq!(causes.len(), 3);
        assert!(
            causes[0].1.contains("Jetzt erneut versuchen"),
            "{}",
            causes[0].1
        );
        let warning = i18n::scope(Lang::It, async {
            warning_explanation(WarningCode::InsecureHttp)
        })
        .await;
        assert!(warning.contains("http://"), "{warning}");
        assert_ne!(warning, warning_explanation(WarningCode::InsecureHttp));
    }
}
