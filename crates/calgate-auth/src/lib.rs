//! calgate-auth: credentials and sign-in for EWS and Microsoft Graph — HTTP Basic, the Entra ID
//! OAuth 2.0 grants (resource-owner password, refresh token, device code, client credentials with
//! a secret or a certificate), a single-flight token cache, and the lockout guard that keeps a
//! refused credential from locking the account it belongs to (SPEC §6).
//!
//! Secrets are `secrecy::SecretString` from configuration to the wire; no type here prints or
//! serializes one. Time is read through [`Clock`] so the guard's hour-long schedule is testable.

pub mod authorizer;
pub mod clock;
pub mod credentials;
pub mod entra;
pub mod failure;
pub mod guard;
pub mod scopes;
pub mod tokens;

pub use authorizer::{Authorization, Authorizer, BasicSignIn};
pub use clock::{Clock, ManualClock, SystemClock};
pub use credentials::{AppSecret, BasicCredential, ClientCertificate};
pub use entra::{
    DeviceAuthorization, DeviceCodeEnd, DevicePoll, EntraClient, GrantError, TokenGrant,
};
pub use failure::{EntraErrorBody, FailureClass, LIKELY_CAUSES, SignInFailure};
pub use guard::{
    AttemptKind, AuthFailed, ClaimAnswer, ClaimFuture, CredentialFingerprint, GuardState, Held,
    LockoutGuard, Quarantine, SharedClaims, Turn, TurnRefused,
};
pub use scopes::Resource;
pub use tokens::{
    AccessToken, AccountKey, AuthError, DEFAULT_RENEW_MARGIN, MemoryRefreshTokens, OAuthSettings,
    RefreshTokenStore, Refusal, SignIn, TokenSource,
};
