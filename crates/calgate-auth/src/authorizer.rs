//! The `Authorization` header of an EWS or Graph request, for whichever sign-in is configured.
//!
//! The transport asks [`Authorizer::authorize`] before each request and reports how the server
//! took it: [`Authorizer::accepted`] or [`Authorizer::refused`] on HTTP 401. Basic credentials
//! are quarantined on the first 401; a bearer token is fetched again once, and a second 401 is a
//! credential failure (SPEC §6).
//!
//! Basic credentials travel with every request, so a wrong password would be counted once per
//! request already in flight. Until the server has accepted a Basic credential once, it is used
//! by one request at a time: a wrong password costs exactly one failed attempt, however many
//! requests wanted to go. Several gateways sharing the guard also take turns across processes
//! ([`LockoutGuard::take_turn`]): one of them tries the credential, the others wait for its verdict.
//!
//! calgate-engine's `ews_transport::CredentialProvider` is defined downstream of this crate, so
//! the engine implements it for [`Authorizer`]: `authorize()` →
//! `Authorizer::authorize(Resource::Ews)` returning `(header_value().clone(), authorization)`,
//! `accepted` → [`Authorizer::accepted`], `refused` → [`Authorizer::refused`] with `"EWS"` and
//! 401, mapping [`AuthError`] to `EwsError::Credential` (`permanent` unless `Unavailable`). After
//! a [`Refusal::RetryWithNewToken`] the request may be repeated once.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use reqwest::header::HeaderValue;
use secrecy::ExposeSecret;

use calgate_core::Code;

use crate::credentials::BasicCredential;
use crate::failure::SignInFailure;
use crate::guard::{Attempt, AttemptKind, AuthFailed, CredentialFingerprint, LockoutGuard, Turn};
use crate::scopes::Resource;
use crate::tokens::{AccessToken, AuthError, Refusal, TokenSource};

/// A password sign-in watched by the lockout guard: HTTP Basic, or Windows authentication
/// (NTLM, alone or inside Negotiate), where the transport proves the password in a handshake
/// instead of sending it. Both are guarded alike: a refused handshake is one failed sign-in.
pub struct BasicSignIn {
    credential: BasicCredential,
    /// Windows authentication rather than Basic.
    windows: bool,
    guard: Arc<LockoutGuard>,
    fingerprint: CredentialFingerprint,
    label: String,
    /// The server accepted this credential since it was configured or last refused.
    proven: AtomicBool,
    /// Held by the one request that may use an unproven credential.
    first_use: Arc<tokio::sync::Mutex<()>>,
    /// New credentials replaced these.
    retired: AtomicBool,
}

impl fmt::Debug for BasicSignIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BasicSignIn")
            .field("username", &self.credential.username)
            .finish_non_exhaustive()
    }
}

impl BasicSignIn {
    /// Watches `credential` with `guard`.
    pub fn new(credential: BasicCredential, guard: Arc<LockoutGuard>) -> Self {
        Self::watched(credential, guard, false)
    }

    /// Watches `credential`, used for Windows authentication (NTLM/Negotiate), with `guard`.
    pub fn windows(credential: BasicCredential, guard: Arc<LockoutGuard>) -> Self {
        Self::watched(credential, guard, true)
    }

    fn watched(credential: BasicCredential, guard: Arc<LockoutGuard>, windows: bool) -> Self {
        let fingerprint = guard.fingerprint(
            if windows { "windows" } else { "basic" },
            &[
                credential.username.to_ascii_lowercase().as_bytes(),
                credential.password.expose_secret().as_bytes(),
            ],
        );
        let label = if windows {
            format!("Windows password of {}", credential.username)
        } else {
            format!("password of {}", credential.username)
        };
        Self {
            credential,
            windows,
            guard,
            fingerprint,
            label,
            proven: AtomicBool::new(false),
            first_use: Arc::new(tokio::sync::Mutex::new(())),
            retired: AtomicBool::new(false),
        }
    }

    /// Whether the server has accepted the credential since it was configured or last refused.
    pub fn proven(&self) -> bool {
        self.proven.load(Ordering::SeqCst)
    }

    /// The fingerprint the lockout guard knows this credential by.
    pub fn fingerprint(&self) -> &CredentialFingerprint {
        &self.fingerprint
    }
}

/// Whichever sign-in a source uses.
#[derive(Debug, Clone)]
pub enum Authorizer {
    /// HTTP Basic (on-premises Exchange; Exchange Online refuses it).
    Basic(Arc<BasicSignIn>),
    /// Windows authentication (NTLM, alone or inside Negotiate) to on-premises Exchange.
    Windows(Arc<BasicSignIn>),
    /// Entra ID bearer tokens.
    OAuth(Arc<TokenSource>),
}

/// One request's `Authorization` header and what is needed to report the server's verdict.
/// `Debug` shows no secret.
pub struct Authorization {
    header: HeaderValue,
    grant: Granted,
    /// For Windows authentication: the credential the transport's handshake proves.
    windows: Option<BasicCredential>,
}

enum Granted {
    Basic {
        /// A probe or retry whose verdict the guard waits for.
        attempt: Option<Attempt>,
        /// Sole use of a credential the server has not accepted yet.
        _first_use: Option<tokio::sync::OwnedMutexGuard<()>>,
    },
    Bearer(AccessToken),
}

impl fmt::Debug for Authorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match &self.grant {
            Granted::Basic { .. } if self.windows.is_some() => "Windows",
            Granted::Basic { .. } => "Basic",
            Granted::Bearer(_) => "Bearer",
        };
        f.debug_struct("Authorization")
            .field("scheme", &scheme)
            .finish_non_exhaustive()
    }
}

impl Authorization {
    /// The header value, marked sensitive so HTTP stacks do not print it.
    pub fn header_value(&self) -> &HeaderValue {
        &self.header
    }

    /// For Windows authentication: the user and password the transport's NTLM handshake proves
    /// (the request carries no fixed header).
    pub fn windows_credential(&self) -> Option<&BasicCredential> {
        self.windows.as_ref()
    }
}

fn sensitive(value: &str) -> Result<HeaderValue, AuthError> {
    let mut header = HeaderValue::from_str(value).map_err(|_| {
        AuthError::Settings(crate::entra::GrantError::Settings(
            "the credential contains characters a header cannot carry".into(),
        ))
    })?;
    header.set_sensitive(true);
    Ok(header)
}

impl Authorizer {
    /// The header for one request to `resource`.
    pub async fn authorize(&self, resource: Resource) -> Result<Authorization, AuthError> {
        match self {
            Self::Basic(basic) | Self::Windows(basic) => {
                // Refuse at once while quarantined, without queueing behind the first use.
                if !basic.guard.attempt_due(&basic.fingerprint) {
                    basic.guard.check(&basic.fingerprint)?;
                }
                // A quarantine (perhaps another gateway's) makes a credential unproven again:
                // its probe goes alone.
                let unproven =
                    || !basic.proven() || basic.guard.quarantine_of(&basic.fingerprint).is_some();
                let mut first_use = if unproven() {
                    let permit = Arc::clone(&basic.first_use).lock_owned().await;
                    // Whoever went first may have proven it (go freely) or been refused (the
                    // guard now says no).
                    unproven().then_some(permit)
                } else {
                    None
                };
                // Checked after waiting: a request queued behind the first use must not send a
                // password that was replaced meanwhile.
                if basic.retired.load(Ordering::SeqCst) {
                    return Err(AuthError::Retired);
                }
                if first_use.is_some()
                    && basic.guard.take_turn(&basic.fingerprint).await? == Turn::Proven
                {
                    // Another gateway's request was accepted with it.
                    basic.proven.store(true, Ordering::SeqCst);
                    first_use = None;
                }
                let attempt = basic.guard.admit(&basic.fingerprint, &basic.label)?;
                let (header, windows) = if basic.windows {
                    (HeaderValue::from_static(""), Some(basic.credential.clone()))
                } else {
                    let header = sensitive(basic.credential.header_value().expose_secret())?;
                    (header, None)
                };
                // Normal requests need no bookkeeping; a probe or retry must report its verdict.
                let attempt = (attempt.kind() != AttemptKind::Normal).then_some(attempt);
                Ok(Authorization {
                    header,
                    grant: Granted::Basic {
                        attempt,
                        _first_use: first_use,
                    },
                    windows,
                })
            }
            Self::OAuth(source) => {
                let token = source.access_token(resource).await?;
                let header = sensitive(&format!("Bearer {}", token.token.expose_secret()))?;
                Ok(Authorization {
                    header,
                    grant: Granted::Bearer(token),
                    windows: None,
                })
            }
        }
    }

    /// The server accepted the request.
    pub fn accepted(&self, authorization: Authorization) {
        match (self, authorization.grant) {
            (Self::Basic(basic) | Self::Windows(basic), Granted::Basic { attempt, .. }) => {
                // The first acceptance here, or a probe's: tell the gateways sharing the guard.
                let news = !basic.proven.swap(true, Ordering::SeqCst) || attempt.is_some();
                if let Some(attempt) = attempt {
                    attempt.succeeded();
                }
                if news {
                    basic.guard.proven(&basic.fingerprint);
                }
            }
            (Self::OAuth(source), Granted::Bearer(token)) => source.accepted(&token),
            _ => {}
        }
    }

    /// The server answered 401 (`code` names it: `EWS_HTTP_401`, `GRAPH_HTTP_401`).
    pub fn refused(&self, authorization: Authorization, code: Code) -> Refusal {
        match (self, authorization.grant) {
            (Self::Basic(basic) | Self::Windows(basic), Granted::Basic { attempt, .. }) => {
                basic.proven.store(false, Ordering::SeqCst);
                let failure = SignInFailure::refused_by_resource(code);
                match attempt {
                    Some(attempt) => attempt.failed(failure),
                    None => basic
                        .guard
                        .report_refusal(&basic.fingerprint, &basic.label, failure),
                }
                match basic.guard.check(&basic.fingerprint) {
                    Err(failed) => Refusal::Stop(failed),
                    Ok(()) => Refusal::RetryWithNewToken,
                }
            }
            (Self::OAuth(source), Granted::Bearer(token)) => source.refused(&token, code),
            // A header from another authorizer: nothing of ours was refused.
            _ => Refusal::RetryWithNewToken,
        }
    }

    /// The quarantine, if the lockout guard holds this credential (the source is `auth_failed`).
    pub fn auth_failed(&self) -> Option<AuthFailed> {
        match self {
            Self::Basic(basic) | Self::Windows(basic) => {
                basic.guard.check(&basic.fingerprint).err()
            }
            Self::OAuth(source) => source.auth_failed(),
        }
    }

    /// "Retry now": the next request makes one attempt at once, even while quarantined.
    pub fn retry_now(&self) {
        match self {
            Self::Basic(basic) | Self::Windows(basic) => basic.guard.retry_now(&basic.fingerprint),
            Self::OAuth(source) => source.retry_now(),
        }
    }

    /// New credentials were saved: this sign-in is never used again, not even by requests
    /// already waiting for a header (SPEC §3).
    pub fn retire(&self) {
        match self {
            Self::Basic(basic) | Self::Windows(basic) => {
                basic.retired.store(true, Ordering::SeqCst)
            }
            Self::OAuth(source) => source.retire(),
        }
    }

    /// The fingerprint of the credential in use.
    pub fn fingerprint(&self) -> &CredentialFingerprint {
        match self {
            Self::Basic(basic) | Self::Windows(basic) => basic.fingerprint(),
            Self::OAuth(source) => source.fingerprint(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use secrecy::SecretString;

    fn send<T: Send>(_: &T) {}

    #[tokio::test]
    async fn basic_headers_are_sensitive_and_the_future_can_cross_threads() {
        let guard = LockoutGuard::new(Arc::new(ManualClock::starting_now()));
        let basic = Authorizer::Basic(Arc::new(BasicSignIn::new(
            BasicCredential::new("svc", SecretString::from("pw")),
            guard,
        )));
        // A transport on a multi-threaded runtime needs both to be Send.
        let future = basic.authorize(Resource::Ews);
        send(&future);
        let authorization = future.await.expect("header");
        send(&authorization);
        assert!(authorization.header_value().is_sensitive());
        assert_eq!(
            authorization.header_value().to_str().ok(),
            Some("Basic c3ZjOnB3")
        );
        assert!(!format!("{authorization:?}").contains("c3ZjOnB3"));
        let source = TokenSource::new(
            reqwest::Client::new(),
            crate::tokens::OAuthSettings {
                authority: "https://login.invalid".parse().expect("url"),
                tenant: "contoso.com".into(),
                client_id: "app".into(),
                sign_in: crate::tokens::SignIn::App(crate::credentials::AppSecret::ClientSecret(
                    SecretString::from("s"),
                )),
                renew_margin: crate::tokens::DEFAULT_RENEW_MARGIN,
            },
            LockoutGuard::new(Arc::new(ManualClock::starting_now())),
            Arc::new(crate::tokens::MemoryRefreshTokens::default()),
        )
        .expect("source");
        send(&Authorizer::OAuth(Arc::new(source)).authorize(Resource::Graph));
        let retired = Authorizer::Basic(Arc::new(BasicSignIn::new(
            BasicCredential::new("old", SecretString::from("pw")),
            LockoutGuard::new(Arc::new(ManualClock::starting_now())),
        )));
        retired.retire();
        assert!(matches!(
            retired.authorize(Resource::Ews).await,
            Err(AuthError::Retired)
        ));
        // A refusal quarantines the password at once.
        assert!(matches!(
            basic.refused(authorization, Code::EwsHttp(401)),
            Refusal::Stop(_)
        ));
        assert!(matches!(
            basic.authorize(Resource::Ews).await,
            Err(AuthError::AuthFailed(_))
        ));
    }
}

#[cfg(test)]
mod shared {
    //! Two gateways sharing one guard, each with its own `LockoutGuard` and the claims of one
    //! table (here in memory, as the store keeps them).

    use super::*;
    use crate::clock::ManualClock;
    use crate::guard::{ClaimAnswer, ClaimFuture, GuardState, SharedClaims};
    use secrecy::SecretString;
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Table {
        /// fingerprint → (holder, proven)
        rows: Mutex<BTreeMap<CredentialFingerprint, (usize, bool)>>,
    }

    struct Claims {
        table: Arc<Table>,
        me: usize,
    }

    impl SharedClaims for Claims {
        fn claim<'a>(
            &'a self,
            fingerprint: &'a CredentialFingerprint,
            exclusive: bool,
        ) -> ClaimFuture<'a> {
            Box::pin(async move {
                let mut rows = self.table.rows.lock().expect("table");
                match rows.get(fingerprint).copied() {
                    Some((_, true)) if !exclusive => ClaimAnswer::Proven,
                    Some((holder, false)) if holder != self.me => ClaimAnswer::Held,
                    _ => {
                        rows.insert(fingerprint.clone(), (self.me, false));
                        ClaimAnswer::Mine
                    }
                }
            })
        }

        fn proven(&self, fingerprint: &CredentialFingerprint) {
            let mut rows = self.table.rows.lock().expect("table");
            rows.insert(fingerprint.clone(), (self.me, true));
        }

        fn refused(&self, fingerprint: &CredentialFingerprint) {
            let mut rows = self.table.rows.lock().expect("table");
            rows.insert(fingerprint.clone(), (self.me, false));
        }
    }

    fn gateway(table: &Arc<Table>, me: usize, salt: &str) -> Authorizer {
        let guard = LockoutGuard::restore(
            GuardState {
                salt: salt.to_string(),
                quarantined: Default::default(),
            },
            Arc::new(ManualClock::starting_now()),
        );
        guard.share(Arc::new(Claims {
            table: Arc::clone(table),
            me,
        }));
        Authorizer::Basic(Arc::new(BasicSignIn::new(
            BasicCredential::new("svc", SecretString::from("pw")),
            guard,
        )))
    }

    fn guard_of(authorizer: &Authorizer) -> Arc<LockoutGuard> {
        match authorizer {
            Authorizer::Basic(b) | Authorizer::Windows(b) => Arc::clone(&b.guard),
            Authorizer::OAuth(_) => unreachable!("basic"),
        }
    }

    #[tokio::test]
    async fn one_gateway_tries_a_new_password_and_the_others_follow_its_verdict() {
        let table = Arc::new(Table::default());
        let one = gateway(&table, 1, "salt");
        let two = gateway(&table, 2, "salt");
        assert_eq!(one.fingerprint(), two.fingerprint(), "one salt, one key");

        // Refused: the second waits, then takes the first's quarantine without sending.
        let first = one.authorize(Resource::Ews).await.expect("the first tries");
        let waiting = {
            let two = two.clone();
            tokio::spawn(async move { two.authorize(Resource::Ews).await })
        };
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert!(!waiting.is_finished(), "the second waits for the verdict");
        assert!(matches!(
            one.refused(first, Code::EwsHttp(401)),
            Refusal::Stop(_)
        ));
        let fp = one.fingerprint().clone();
        guard_of(&two).apply_shared(&fp, guard_of(&one).quarantine_of(&fp));
        assert!(matches!(
            waiting.await.expect("task"),
            Err(AuthError::AuthFailed(_))
        ));

        // Retry now (asked on the second; the first, which holds the claim since its refusal,
        // makes the one attempt): the second sends nothing meanwhile; accepted, both go.
        guard_of(&two).retry_now(&fp);
        guard_of(&one).apply_shared(&fp, guard_of(&two).quarantine_of(&fp));
        let retry = one.authorize(Resource::Ews).await.expect("the retry");
        guard_of(&two).apply_shared(&fp, guard_of(&one).quarantine_of(&fp));
        let held = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            two.authorize(Resource::Ews),
        )
        .await
        .expect("answers within the wait");
        assert!(
            matches!(
                held,
                Err(AuthError::AuthFailed(_)) | Err(AuthError::Held(_))
            ),
            "nothing sent while the other tries: {held:?}"
        );
        one.accepted(retry);
        guard_of(&two).apply_shared(&fp, guard_of(&one).quarantine_of(&fp));
        assert!(guard_of(&two).quarantine_of(&fp).is_none());
        let go = two
            .authorize(Resource::Ews)
            .await
            .expect("proven elsewhere");
        two.accepted(go);
        assert!(matches!(&two, Authorizer::Basic(b) if b.proven()));
    }
}
