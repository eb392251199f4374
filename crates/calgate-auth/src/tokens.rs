//! The OAuth token source: one per configured Entra sign-in, shared by every request.
//!
//! * Tokens are cached per [`Resource`] and renewed `renew_margin` before `expires_in` runs out
//!   (at most half the lifetime early, so a short-lived token is not renewed on every call).
//! * Renewal is single-flight: one token request at a time per sign-in, whoever else needs a
//!   token waits for it and reuses its result — a hundred concurrent callers cause one request.
//! * The delegated sign-in lives on refresh tokens; every rotated refresh token is handed to the
//!   [`RefreshTokenStore`] before the new access token is used, and the password grant runs only
//!   when no refresh token is stored or Entra says it is no longer valid (once per attempt).
//! * Every request to Entra goes through the [`LockoutGuard`]: after a credential failure the
//!   callers get [`AuthError::AuthFailed`] at once and nothing reaches Entra except the guard's
//!   probes.
//! * An access token refused by EWS or Graph is dropped and fetched again once; a refusal of the
//!   token fetched after a refusal is a credential failure.
//! * A `Retry-After` from Entra (429, 503) is honoured: no token request before it has passed.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use jiff::{SignedDuration, Timestamp};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use calgate_core::Code;

use crate::clock::Clock;
use crate::credentials::AppSecret;
use crate::entra::{EntraClient, GrantError, TokenGrant};
use crate::failure::{FailureClass, SignInFailure};
use crate::guard::{AuthFailed, CredentialFingerprint, Held, LockoutGuard, TurnRefused};
use crate::scopes::{self, Resource};

/// Default renewal margin before `expires_in` runs out.
pub const DEFAULT_RENEW_MARGIN: SignedDuration = SignedDuration::from_mins(5);

/// How the gateway signs in to Entra ID.
#[derive(Clone)]
pub enum SignIn {
    /// The seed's modern mode: a service account with a stored password (resource-owner
    /// password grant once, then refresh tokens).
    Password {
        /// The account's UPN.
        username: String,
        /// Its password.
        password: SecretString,
    },
    /// An admin signed in once by device code (MFA included); only the refresh token is kept.
    /// `sign_in_id` names that sign-in (a new device-code sign-in gets a new one).
    DeviceCode {
        /// The signed-in account's UPN, for display and the store key.
        username: String,
        /// Identifies the sign-in whose refresh token is stored.
        sign_in_id: String,
    },
    /// App-only access (client credentials).
    App(AppSecret),
}

impl fmt::Debug for SignIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Password { username, .. } => f
                .debug_struct("Password")
                .field("username", username)
                .finish_non_exhaustive(),
            Self::DeviceCode {
                username,
                sign_in_id,
            } => f
                .debug_struct("DeviceCode")
                .field("username", username)
                .field("sign_in_id", sign_in_id)
                .finish(),
            Self::App(secret) => f.debug_tuple("App").field(secret).finish(),
        }
    }
}

/// Everything a [`TokenSource`] needs to know about the tenant and the app registration.
#[derive(Debug, Clone)]
pub struct OAuthSettings {
    /// The sign-in host, `https://login.microsoftonline.com` in production.
    pub authority: Url,
    /// Directory (tenant) ID.
    pub tenant: String,
    /// Application (client) ID.
    pub client_id: String,
    /// How to sign in.
    pub sign_in: SignIn,
    /// Renew this long before expiry.
    pub renew_margin: SignedDuration,
}

/// Which stored refresh token belongs to which sign-in. `credential` is the sign-in's
/// fingerprint, so a token obtained with an old password is never used with a new one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AccountKey {
    /// Directory (tenant) ID.
    pub tenant: String,
    /// Application (client) ID.
    pub client_id: String,
    /// The account's UPN.
    pub username: String,
    /// Fingerprint of the sign-in that produced the token.
    pub credential: String,
}

/// Where refresh tokens live between uses; the store crate implements it with encryption at rest.
pub trait RefreshTokenStore: Send + Sync + fmt::Debug {
    /// The newest refresh token of the account, if any.
    fn load(&self, account: &AccountKey) -> Option<SecretString>;
    /// Replaces the refresh token; called at once for every rotation, before the access token
    /// that came with it is used.
    fn save(&self, account: &AccountKey, token: &SecretString);
    /// Forgets a refresh token Entra no longer accepts.
    fn discard(&self, account: &AccountKey);
}

/// A [`RefreshTokenStore`] in memory (tests, or a gateway without persistence).
#[derive(Debug, Default)]
pub struct MemoryRefreshTokens {
    tokens: Mutex<HashMap<AccountKey, SecretString>>,
    saves: AtomicU64,
}

impl MemoryRefreshTokens {
    /// How many times a token was saved.
    pub fn saves(&self) -> u64 {
        self.saves.load(Ordering::SeqCst)
    }
}

impl RefreshTokenStore for MemoryRefreshTokens {
    fn load(&self, account: &AccountKey) -> Option<SecretString> {
        lock(&self.tokens).get(account).cloned()
    }
    fn save(&self, account: &AccountKey, token: &SecretString) {
        lock(&self.tokens).insert(account.clone(), token.clone());
        self.saves.fetch_add(1, Ordering::SeqCst);
    }
    fn discard(&self, account: &AccountKey) {
        lock(&self.tokens).remove(account);
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Why no token could be had.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AuthError {
    /// The credential is quarantined by the lockout guard: the source is `auth_failed`.
    #[error(transparent)]
    AuthFailed(#[from] AuthFailed),
    /// Entra is busy or unreachable; try again after back-off. Not a credential problem.
    #[error("sign-in temporarily impossible: {0}")]
    Unavailable(GrantError),
    /// The settings cannot work (bad authority, unreadable certificate).
    #[error(transparent)]
    Settings(GrantError),
    /// New credentials replaced these; they are never sent again.
    #[error("the credentials were replaced")]
    Retired,
    /// Another gateway sharing the lockout guard is trying this credential first; nothing was
    /// sent. Not a credential problem: try again shortly.
    #[error(transparent)]
    Held(#[from] Held),
}

impl From<TurnRefused> for AuthError {
    fn from(refused: TurnRefused) -> Self {
        match refused {
            TurnRefused::Quarantined(failed) => AuthError::AuthFailed(failed),
            TurnRefused::Held(held) => AuthError::Held(held),
        }
    }
}

impl AuthError {
    /// Stable code for APIs, logs and metric labels.
    pub fn code(&self) -> String {
        match self {
            Self::AuthFailed(f) => f.code().to_string(),
            Self::Unavailable(e) | Self::Settings(e) => e.code(),
            Self::Retired => Code::AuthCredentialsReplaced.into(),
            Self::Held(_) => Code::AuthCredentialHeld.into(),
        }
    }

    /// For a throttled Entra answer, how long it asked us to wait.
    pub fn retry_after_secs(&self) -> Option<f64> {
        match self {
            Self::Unavailable(GrantError::Refused(f)) => f.retry_after_secs,
            _ => None,
        }
    }
}

/// An access token as handed to a request. `Debug` shows no token.
#[derive(Clone)]
pub struct AccessToken {
    /// The bearer token.
    pub token: SecretString,
    /// The resource it is for.
    pub resource: Resource,
    /// When it expires.
    pub expires_at: Timestamp,
    generation: u64,
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("resource", &self.resource)
            .field("expires_at", &self.expires_at)
            .field("generation", &self.generation)
            .finish_non_exhaustive()
    }
}

/// What to do after EWS or Graph refused a token.
#[derive(Debug, Clone)]
pub enum Refusal {
    /// Fetch a token again (the source has dropped the refused one) and repeat the request once.
    RetryWithNewToken,
    /// The credential is now quarantined.
    Stop(AuthFailed),
}

struct Cached {
    token: SecretString,
    expires_at: Timestamp,
    renew_at: Timestamp,
    generation: u64,
    /// Fetched because the previous token was refused: one more refusal is a credential failure.
    after_refusal: bool,
}

/// See the module documentation.
pub struct TokenSource {
    entra: EntraClient,
    settings: OAuthSettings,
    guard: Arc<LockoutGuard>,
    store: Arc<dyn RefreshTokenStore>,
    clock: Arc<dyn Clock>,
    fingerprint: CredentialFingerprint,
    label: String,
    account: AccountKey,
    cache: Mutex<HashMap<Resource, Cached>>,
    /// Resources whose next token is fetched because of a refusal.
    refused: Mutex<HashMap<Resource, bool>>,
    single_flight: tokio::sync::Mutex<()>,
    generation: AtomicU64,
    token_requests: AtomicU64,
    retired: AtomicBool,
    /// Entra asked us (`Retry-After`) not to come back before this instant.
    not_before: Mutex<Option<(Timestamp, Box<SignInFailure>)>>,
}

impl fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSource")
            .field("label", &self.label)
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

impl TokenSource {
    /// A token source for `settings`. `http` carries TLS trust and timeouts; `guard` is shared by
    /// every credential of the gateway so its state can be persisted in one piece.
    pub fn new(
        http: reqwest::Client,
        settings: OAuthSettings,
        guard: Arc<LockoutGuard>,
        store: Arc<dyn RefreshTokenStore>,
    ) -> Result<Self, GrantError> {
        let clock = Arc::clone(guard.clock());
        let entra = EntraClient::new(
            http,
            &settings.authority,
            &settings.tenant,
            Arc::clone(&clock),
        )?;
        let tenant = settings.tenant.as_bytes();
        let client = settings.client_id.as_bytes();
        let (fingerprint, label, username) = match &settings.sign_in {
            SignIn::Password { username, password } => (
                guard.fingerprint(
                    "entra-password",
                    &[
                        tenant,
                        client,
                        username.to_ascii_lowercase().as_bytes(),
                        password.expose_secret().as_bytes(),
                    ],
                ),
                format!("password of {username}"),
                username.clone(),
            ),
            SignIn::DeviceCode {
                username,
                sign_in_id,
            } => (
                guard.fingerprint(
                    "entra-device-code",
                    &[
                        tenant,
                        client,
                        username.to_ascii_lowercase().as_bytes(),
                        sign_in_id.as_bytes(),
                    ],
                ),
                format!("device-code sign-in of {username}"),
                username.clone(),
            ),
            SignIn::App(AppSecret::ClientSecret(secret)) => (
                guard.fingerprint(
                    "entra-client-secret",
                    &[tenant, client, secret.expose_secret().as_bytes()],
                ),
                format!("client secret of application {}", settings.client_id),
                String::new(),
            ),
            SignIn::App(AppSecret::Certificate(cert)) => (
                guard.fingerprint(
                    "entra-client-certificate",
                    &[tenant, client, cert.thumbprint_hex().as_bytes()],
                ),
                format!(
                    "certificate {} of application {}",
                    cert.thumbprint_hex(),
                    settings.client_id
                ),
                String::new(),
            ),
        };
        let account = AccountKey {
            tenant: settings.tenant.clone(),
            client_id: settings.client_id.clone(),
            username,
            credential: fingerprint.as_str().to_string(),
        };
        Ok(Self {
            entra,
            settings,
            guard,
            store,
            clock,
            fingerprint,
            label,
            account,
            cache: Mutex::new(HashMap::new()),
            refused: Mutex::new(HashMap::new()),
            single_flight: tokio::sync::Mutex::new(()),
            generation: AtomicU64::new(0),
            token_requests: AtomicU64::new(0),
            retired: AtomicBool::new(false),
            not_before: Mutex::new(None),
        })
    }

    /// The fingerprint the lockout guard knows this credential by.
    pub fn fingerprint(&self) -> &CredentialFingerprint {
        &self.fingerprint
    }

    /// The key its refresh token is stored under.
    pub fn account_key(&self) -> &AccountKey {
        &self.account
    }

    /// The Entra client (device-code sign-in, diagnostics).
    pub fn entra(&self) -> &EntraClient {
        &self.entra
    }

    /// Token requests sent to Entra by this source so far.
    pub fn token_requests(&self) -> u64 {
        self.token_requests.load(Ordering::SeqCst)
    }

    /// The quarantine, if the credential is `auth_failed`.
    pub fn auth_failed(&self) -> Option<AuthFailed> {
        self.guard.check(&self.fingerprint).err()
    }

    /// "Retry now": the next request makes one attempt at once.
    pub fn retry_now(&self) {
        self.guard.retry_now(&self.fingerprint);
    }

    /// New credentials were saved (SPEC §3: the old ones are never used again): from now on
    /// every call fails with [`AuthError::Retired`], including callers already waiting for a
    /// token, and the cached tokens are dropped.
    pub fn retire(&self) {
        self.retired.store(true, Ordering::SeqCst);
        self.drop_tokens();
    }

    /// A valid access token for `resource`, from the cache or from Entra.
    pub async fn access_token(&self, resource: Resource) -> Result<AccessToken, AuthError> {
        if let Some(token) = self.cached(resource)? {
            return Ok(token);
        }
        let _flight = match self.guard.check(&self.fingerprint) {
            Ok(()) => self.single_flight.lock().await,
            // Quarantined with a probe due: one caller probes, the others are told at once
            // rather than queueing behind the probe.
            Err(failed) => match self.single_flight.try_lock() {
                Ok(flight) => flight,
                Err(_) => return Err(AuthError::AuthFailed(failed)),
            },
        };
        // Whoever held the lock before us may have fetched the token, or failed for good.
        if let Some(token) = self.cached(resource)? {
            return Ok(token);
        }
        // Checked last before the network: a caller that waited while the settings changed
        // must not send the old secret.
        if self.retired.load(Ordering::SeqCst) {
            return Err(AuthError::Retired);
        }
        if let Some((until, failure)) = lock(&self.not_before).as_ref()
            && self.clock.now() < *until
        {
            // Entra's Retry-After has not passed: no request before it does.
            return Err(AuthError::Unavailable(GrantError::Refused(failure.clone())));
        }
        // Several gateways sharing the guard: one of them signs in first with a credential no
        // server has accepted yet; the others wait for its verdict.
        self.guard.take_turn(&self.fingerprint).await?;
        let attempt = self.guard.admit(&self.fingerprint, &self.label)?;
        let result = self.fetch(resource).await;
        match result {
            Ok(grant) => {
                attempt.succeeded();
                self.guard.proven(&self.fingerprint);
                Ok(self.remember(resource, grant))
            }
            Err(GrantError::Refused(failure)) if failure.class.quarantines() => {
                attempt.failed(*failure);
                self.drop_tokens();
                Err(self.guard.check(&self.fingerprint).err().map_or_else(
                    || AuthError::Settings(GrantError::Settings("credential refused".into())),
                    AuthError::AuthFailed,
                ))
            }
            Err(e @ GrantError::Settings(_)) => {
                drop(attempt);
                Err(AuthError::Settings(e))
            }
            Err(e) => {
                // Busy, unreachable or a strange answer: no verdict on the credential.
                drop(attempt);
                if let GrantError::Refused(failure) = &e
                    && let Some(seconds) = failure.retry_after_secs
                {
                    let wait = SignedDuration::try_from_secs_f64(seconds.min(3600.0))
                        .unwrap_or(SignedDuration::from_secs(1));
                    *lock(&self.not_before) = Some((self.clock.now() + wait, failure.clone()));
                }
                Err(AuthError::Unavailable(e))
            }
        }
    }

    /// EWS or Graph answered 401 to `token` (`code` is `EWS_HTTP_<status>` or
    /// `GRAPH_HTTP_<status>`).
    pub fn refused(&self, token: &AccessToken, code: Code) -> Refusal {
        let second_refusal = {
            let mut cache = lock(&self.cache);
            match cache.get(&token.resource) {
                // Someone already replaced that token: use the new one.
                Some(current) if current.generation != token.generation => {
                    return Refusal::RetryWithNewToken;
                }
                Some(current) if current.after_refusal => {
                    cache.remove(&token.resource);
                    true
                }
                Some(_) => {
                    cache.remove(&token.resource);
                    lock(&self.refused).insert(token.resource, true);
                    false
                }
                None => return Refusal::RetryWithNewToken,
            }
        };
        if !second_refusal {
            return Refusal::RetryWithNewToken;
        }
        self.guard.report_refusal(
            &self.fingerprint,
            &self.label,
            SignInFailure::refused_by_resource(code),
        );
        self.drop_tokens();
        match self.guard.check(&self.fingerprint) {
            Err(failed) => Refusal::Stop(failed),
            Ok(()) => Refusal::RetryWithNewToken,
        }
    }

    /// EWS or Graph accepted `token`: a refusal before it is forgiven.
    pub fn accepted(&self, token: &AccessToken) {
        if let Some(current) = lock(&self.cache).get_mut(&token.resource)
            && current.generation == token.generation
        {
            current.after_refusal = false;
        }
    }

    fn cached(&self, resource: Resource) -> Result<Option<AccessToken>, AuthError> {
        if self.retired.load(Ordering::SeqCst) {
            return Err(AuthError::Retired);
        }
        if let Err(failed) = self.guard.check(&self.fingerprint) {
            // Quarantined: no token is handed out, and only the caller that may probe goes on.
            self.drop_tokens();
            if !self.guard.attempt_due(&self.fingerprint) {
                return Err(AuthError::AuthFailed(failed));
            }
            return Ok(None);
        }
        let now = self.clock.now();
        Ok(lock(&self.cache)
            .get(&resource)
            .filter(|c| now < c.renew_at && now < c.expires_at)
            .map(|c| AccessToken {
                token: c.token.clone(),
                resource,
                expires_at: c.expires_at,
                generation: c.generation,
            }))
    }

    fn drop_tokens(&self) {
        lock(&self.cache).clear();
    }

    fn remember(&self, resource: Resource, grant: TokenGrant) -> AccessToken {
        let generation = self.generation.fetch_add(1, Ordering::SeqCst) + 1;
        let margin = self.settings.renew_margin.min(grant.expires_in / 2);
        let after_refusal = lock(&self.refused).remove(&resource).unwrap_or(false);
        let cached = Cached {
            token: grant.access_token.clone(),
            expires_at: grant.expires_at,
            renew_at: grant.expires_at - margin,
            generation,
            after_refusal,
        };
        lock(&self.cache).insert(resource, cached);
        AccessToken {
            token: grant.access_token,
            resource,
            expires_at: grant.expires_at,
            generation,
        }
    }

    async fn fetch(&self, resource: Resource) -> Result<TokenGrant, GrantError> {
        let client_id = self.settings.client_id.as_str();
        match &self.settings.sign_in {
            SignIn::App(secret) => {
                self.token_requests.fetch_add(1, Ordering::SeqCst);
                self.entra
                    .client_credentials(client_id, secret, &resource.app_only_scope())
                    .await
            }
            SignIn::Password { username, password } => {
                let scopes = scopes::join(&resource.delegated_scopes());
                match self.refresh(resource).await {
                    Some(Ok(grant)) => return Ok(grant),
                    Some(Err(GrantError::Refused(f))) if refresh_token_is_dead(&f) => {
                        tracing::info!(code = %f.code, "refresh token no longer valid; signing in with the password once");
                    }
                    Some(Err(other)) => return Err(other),
                    None => {}
                }
                self.token_requests.fetch_add(1, Ordering::SeqCst);
                let grant = self
                    .entra
                    .password(client_id, username, password, &scopes)
                    .await?;
                self.keep_refresh_token(&grant);
                Ok(grant)
            }
            SignIn::DeviceCode { .. } => match self.refresh(resource).await {
                Some(Ok(grant)) => Ok(grant),
                // Without a password nothing can repair an expired refresh token: the admin must
                // sign in again, so it is handled as a credential failure.
                Some(Err(GrantError::Refused(mut f)))
                    if f.class == FailureClass::RefreshTokenExpired =>
                {
                    f.class = FailureClass::Credential;
                    Err(GrantError::Refused(f))
                }
                Some(Err(other)) => Err(other),
                None => Err(GrantError::Refused(Box::new(SignInFailure {
                    class: FailureClass::Credential,
                    code: Code::EntraNoRefreshToken.into(),
                    http_status: None,
                    error: None,
                    error_codes: Vec::new(),
                    trace_id: None,
                    correlation_id: None,
                    timestamp: None,
                    retry_after_secs: None,
                }))),
            },
        }
    }

    /// A refresh-token grant if a refresh token is stored; a refused one is discarded.
    async fn refresh(&self, resource: Resource) -> Option<Result<TokenGrant, GrantError>> {
        let refresh_token = self.store.load(&self.account)?;
        self.token_requests.fetch_add(1, Ordering::SeqCst);
        let scopes = scopes::join(&resource.delegated_scopes());
        let result = self
            .entra
            .refresh(&self.settings.client_id, &refresh_token, &scopes)
            .await;
        match &result {
            Ok(grant) => self.keep_refresh_token(grant),
            Err(GrantError::Refused(f)) if refresh_token_is_dead(f) => {
                self.store.discard(&self.account)
            }
            Err(_) => {}
        }
        Some(result)
    }

    fn keep_refresh_token(&self, grant: &TokenGrant) {
        if let Some(rotated) = &grant.refresh_token {
            self.store.save(&self.account, rotated);
        }
    }

    /// Completes a device-code sign-in: stores its refresh token so a [`SignIn::DeviceCode`]
    /// source with the same `sign_in_id` lives on it, and keeps the access token if it is for
    /// `resource`.
    pub fn adopt_device_code_grant(
        &self,
        resource: Resource,
        grant: TokenGrant,
    ) -> Option<AccessToken> {
        self.keep_refresh_token(&grant);
        self.guard.forget(&self.fingerprint);
        grant
            .scope
            .split(' ')
            .any(|s| s.starts_with(resource.identifier()))
            .then(|| self.remember(resource, grant))
    }
}

/// Whether a refused refresh grant means the refresh token itself is unusable (expired, revoked,
/// unknown to Entra) rather than the account or the registration being refused: only then is the
/// stored token discarded and, with a stored password, the password grant tried once. A locked,
/// disabled or MFA-bound account is not asked again with the password.
fn refresh_token_is_dead(failure: &SignInFailure) -> bool {
    match failure.class {
        FailureClass::RefreshTokenExpired => true,
        FailureClass::Credential => {
            failure.error.as_deref() == Some("invalid_grant")
                && failure
                    .error_codes
                    .iter()
                    .all(|&c| crate::failure::class_of_code(c).is_none())
        }
        FailureClass::Configuration | FailureClass::Transient => false,
    }
}
