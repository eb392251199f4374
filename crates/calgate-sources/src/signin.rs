//! The EWS transport's credentials from calgate-auth: Basic and Entra ID sign-ins watched by the
//! lockout guard, and the "both granted" rule of SPEC §3.
//!
//! [`Authorizer`] implements [`CredentialProvider`] as its module documentation asks: a 401 on a
//! bearer token drops the token and the request is repeated once with a new one; a second 401 is
//! a credential failure. A Basic 401 is never repeated: the guard quarantines the password at
//! once. Whatever the guard holds is reported through [`CredentialProvider::stopped`] with its
//! stable code, plain reason and next probe.
//!
//! [`EwsSignIn::PreferModern`] is the "both granted" case: bearer tokens are used; Basic only when
//! the server's 401 offers no Bearer scheme at all (an on-premises server without OAuth), and
//! never after a credential failure of the modern sign-in.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use calgate_auth::{AuthError, Authorization, Authorizer, Refusal, Resource};
use calgate_core::Code;
use calgate_ews::{AuthChallenge, EwsError};
use reqwest::header::HeaderValue;

use crate::ews_transport::{CredentialProvider, CredentialStop, Verdict};

fn auth_error(error: AuthError) -> EwsError {
    let permanent = matches!(error, AuthError::AuthFailed(_) | AuthError::Settings(_));
    // `AuthError`'s text carries codes and plain reasons, never a secret.
    EwsError::Credential {
        reason: error.to_string(),
        permanent,
    }
}

fn stop_of(authorizer: &Authorizer) -> Option<CredentialStop> {
    let failed = authorizer.auth_failed()?;
    Some(CredentialStop {
        code: failed.code().to_string(),
        reason: failed.reason(),
        next_attempt: Some(failed.next_probe_at),
    })
}

impl CredentialProvider for Authorizer {
    type Grant = Authorization;

    async fn authorize(&self) -> Result<(HeaderValue, Authorization), EwsError> {
        let authorization = Authorizer::authorize(self, Resource::Ews)
            .await
            .map_err(auth_error)?;
        Ok((authorization.header_value().clone(), authorization))
    }

    fn accepted(&self, grant: Authorization) {
        Authorizer::accepted(self, grant);
    }

    fn refused(&self, grant: Authorization, challenge: &AuthChallenge) {
        let _ = CredentialProvider::refusal(self, grant, challenge);
    }

    fn refusal(&self, grant: Authorization, _challenge: &AuthChallenge) -> Verdict {
        let basic = matches!(self, Authorizer::Basic(_));
        match Authorizer::refused(self, grant, Code::EwsHttp(401)) {
            // Basic is never repeated: the same password would count twice at the server.
            Refusal::RetryWithNewToken if !basic => Verdict::RetryOnce,
            Refusal::RetryWithNewToken | Refusal::Stop(_) => Verdict::Stop,
        }
    }

    fn stopped(&self) -> Option<CredentialStop> {
        stop_of(self)
    }
}

/// The credentials of one EWS source.
#[derive(Debug)]
pub enum EwsSignIn {
    /// One sign-in (Basic or modern).
    Single(Authorizer),
    /// Both granted: modern first; Basic only if the server offers no Bearer at all.
    PreferModern {
        modern: Authorizer,
        basic: Authorizer,
        /// Set once the server showed it does not know Bearer; never unset.
        basic_chosen: AtomicBool,
    },
}

impl EwsSignIn {
    /// Both granted (SPEC §3).
    pub fn prefer_modern(modern: Authorizer, basic: Authorizer) -> EwsSignIn {
        EwsSignIn::PreferModern {
            modern,
            basic,
            basic_chosen: AtomicBool::new(false),
        }
    }

    /// The sign-in requests use now.
    pub fn active(&self) -> &Authorizer {
        match self {
            EwsSignIn::Single(a) => a,
            EwsSignIn::PreferModern {
                modern,
                basic,
                basic_chosen,
            } => {
                if basic_chosen.load(Ordering::SeqCst) {
                    basic
                } else {
                    modern
                }
            }
        }
    }

    /// Every sign-in this source may use (for "retry now" and retiring old credentials).
    pub fn all(&self) -> Vec<&Authorizer> {
        match self {
            EwsSignIn::Single(a) => vec![a],
            EwsSignIn::PreferModern { modern, basic, .. } => vec![modern, basic],
        }
    }
}

/// A header from one of the [`EwsSignIn`] sign-ins.
#[derive(Debug)]
pub struct EwsGrant {
    modern: bool,
    authorization: Authorization,
}

impl CredentialProvider for Arc<EwsSignIn> {
    type Grant = EwsGrant;

    async fn authorize(&self) -> Result<(HeaderValue, EwsGrant), EwsError> {
        let active = self.active();
        let modern = matches!(active, Authorizer::OAuth(_));
        let (header, authorization) = CredentialProvider::authorize(active).await?;
        Ok((
            header,
            EwsGrant {
                modern,
                authorization,
            },
        ))
    }

    fn accepted(&self, grant: EwsGrant) {
        CredentialProvider::accepted(self.pick(grant.modern), grant.authorization);
    }

    fn refused(&self, grant: EwsGrant, challenge: &AuthChallenge) {
        let _ = CredentialProvider::refusal(self, grant, challenge);
    }

    fn refusal(&self, grant: EwsGrant, challenge: &AuthChallenge) -> Verdict {
        if let EwsSignIn::PreferModern { basic_chosen, .. } = self.as_ref()
            && grant.modern
            && !challenge.bearer
            && (challenge.basic || challenge.negotiate || challenge.ntlm)
        {
            // The server does not speak OAuth at all: the token was not judged, so nothing is
            // reported against it, and Basic is tried once in its place.
            tracing::info!("the EWS server offers no Bearer sign-in; using Basic authentication");
            basic_chosen.store(true, Ordering::SeqCst);
            drop(grant.authorization);
            return Verdict::RetryOnce;
        }
        CredentialProvider::refusal(self.pick(grant.modern), grant.authorization, challenge)
    }

    fn stopped(&self) -> Option<CredentialStop> {
        // Only the sign-in in use speaks for the source: an unused Basic password that was
        // refused long ago does not make a busy Entra look like a credential failure.
        stop_of(self.active())
    }
}

impl EwsSignIn {
    fn pick(&self, modern: bool) -> &Authorizer {
        match self {
            EwsSignIn::Single(a) => a,
            EwsSignIn::PreferModern {
                modern: m, basic, ..
            } => {
                if modern {
                    m
                } else {
                    basic
                }
            }
        }
    }
}
