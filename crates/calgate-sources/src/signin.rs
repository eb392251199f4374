//! The EWS transport's credentials from calgate-auth: Basic and Entra ID sign-ins watched by the
//! lockout guard, and the "both granted" rule of SPEC §3.
//!
//! [`Authorizer`] implements [`CredentialProvider`] as its module documentation asks: a 401 on a
//! bearer token drops the token and the request is repeated once with a new one; a second 401 is
//! a credential failure. A Basic 401 is never repeated: the guard quarantines the password at
//! once. Whatever the guard holds is reported through [`CredentialProvider::stopped`] with its
//! stable code, plain reason and next probe.
//!
//! [`EwsSignIn::Ordered`] is the "several granted" case: modern first, then Windows
//! authentication, then Basic; the next one only when the server's 401 does not offer the scheme
//! in use (an on-premises server without OAuth) and does offer the next one's, and never after a
//! credential failure. A refused Windows handshake is guarded exactly like a refused Basic
//! password: one failed sign-in, then quarantine.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use calgate_auth::{AuthError, Authorization, Authorizer, Refusal, Resource};
use calgate_core::Code;
use calgate_ews::{AuthChallenge, EwsError};
use reqwest::header::HeaderValue;
use secrecy::SecretString;

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
        let basic = matches!(self, Authorizer::Basic(_) | Authorizer::Windows(_));
        match Authorizer::refused(self, grant, Code::EwsHttp(401)) {
            // A password is never repeated: the same password would count twice at the server.
            Refusal::RetryWithNewToken if !basic => Verdict::RetryOnce,
            Refusal::RetryWithNewToken | Refusal::Stop(_) => Verdict::Stop,
        }
    }

    fn stopped(&self) -> Option<CredentialStop> {
        stop_of(self)
    }

    fn uses_windows(&self) -> bool {
        matches!(self, Authorizer::Windows(_))
    }

    fn windows_credential(grant: &Authorization) -> Option<(&str, &SecretString)> {
        grant
            .windows_credential()
            .map(|c| (c.username.as_str(), &c.password))
    }
}

/// The scheme a sign-in answers to in a 401's `WWW-Authenticate`.
fn offered(authorizer: &Authorizer, challenge: &AuthChallenge) -> bool {
    match authorizer {
        Authorizer::OAuth(_) => challenge.bearer,
        Authorizer::Windows(_) => challenge.negotiate || challenge.ntlm,
        Authorizer::Basic(_) => challenge.basic,
    }
}

/// The credentials of one EWS source.
#[derive(Debug)]
pub enum EwsSignIn {
    /// One sign-in (Basic, Windows or modern).
    Single(Authorizer),
    /// Several granted, in the order they are tried: modern, then Windows, then Basic. The
    /// next one is taken only when the server's 401 does not offer the scheme of the one in use
    /// and offers the next one's; never after a credential failure.
    Ordered {
        sign_ins: Vec<Authorizer>,
        /// The index of the sign-in in use; it only moves forward.
        chosen: AtomicUsize,
    },
}

impl EwsSignIn {
    /// Both Basic and modern granted (SPEC §3).
    pub fn prefer_modern(modern: Authorizer, basic: Authorizer) -> EwsSignIn {
        EwsSignIn::ordered(vec![modern, basic])
    }

    /// Several sign-ins, in the order to try them (modern, Windows, Basic).
    pub fn ordered(mut sign_ins: Vec<Authorizer>) -> EwsSignIn {
        if sign_ins.len() == 1
            && let Some(only) = sign_ins.pop()
        {
            return EwsSignIn::Single(only);
        }
        EwsSignIn::Ordered {
            sign_ins,
            chosen: AtomicUsize::new(0),
        }
    }

    /// The sign-in requests use now.
    pub fn active(&self) -> &Authorizer {
        self.at(self.chosen())
    }

    fn chosen(&self) -> usize {
        match self {
            EwsSignIn::Single(_) => 0,
            EwsSignIn::Ordered { chosen, .. } => chosen.load(Ordering::SeqCst),
        }
    }

    fn at(&self, index: usize) -> &Authorizer {
        match self {
            EwsSignIn::Single(a) => a,
            EwsSignIn::Ordered { sign_ins, .. } => sign_ins
                .get(index)
                .or_else(|| sign_ins.last())
                .unwrap_or_else(|| unreachable!("an ordered sign-in holds at least two")),
        }
    }

    /// Every sign-in this source may use (for "retry now" and retiring old credentials).
    pub fn all(&self) -> Vec<&Authorizer> {
        match self {
            EwsSignIn::Single(a) => vec![a],
            EwsSignIn::Ordered { sign_ins, .. } => sign_ins.iter().collect(),
        }
    }
}

/// A header from one of the [`EwsSignIn`] sign-ins: which one, and its authorization.
#[derive(Debug)]
pub struct EwsGrant {
    index: usize,
    authorization: Authorization,
}

impl CredentialProvider for Arc<EwsSignIn> {
    type Grant = EwsGrant;

    async fn authorize(&self) -> Result<(HeaderValue, EwsGrant), EwsError> {
        let index = self.chosen();
        let (header, authorization) = CredentialProvider::authorize(self.at(index)).await?;
        Ok((
            header,
            EwsGrant {
                index,
                authorization,
            },
        ))
    }

    fn accepted(&self, grant: EwsGrant) {
        CredentialProvider::accepted(self.at(grant.index), grant.authorization);
    }

    fn refused(&self, grant: EwsGrant, challenge: &AuthChallenge) {
        let _ = CredentialProvider::refusal(self, grant, challenge);
    }

    fn refusal(&self, grant: EwsGrant, challenge: &AuthChallenge) -> Verdict {
        if let EwsSignIn::Ordered { sign_ins, chosen } = self.as_ref()
            && let Some(used) = sign_ins.get(grant.index)
            && !offered(used, challenge)
            && let Some(next) = sign_ins
                .iter()
                .enumerate()
                .skip(grant.index + 1)
                .find(|(_, a)| offered(a, challenge))
                .map(|(i, _)| i)
        {
            // The server does not speak this scheme at all: the credential was not judged, so
            // nothing is reported against it, and the next granted scheme it offers is tried.
            tracing::info!(
                from = scheme_name(used),
                to = scheme_name(self.at(next)),
                "the EWS server does not offer the sign-in in use; using the next one granted"
            );
            let _ = chosen.fetch_max(next, Ordering::SeqCst);
            drop(grant.authorization);
            return Verdict::RetryOnce;
        }
        CredentialProvider::refusal(self.at(grant.index), grant.authorization, challenge)
    }

    fn stopped(&self) -> Option<CredentialStop> {
        // Only the sign-in in use speaks for the source: an unused Basic password that was
        // refused long ago does not make a busy Entra look like a credential failure.
        stop_of(self.active())
    }

    fn uses_windows(&self) -> bool {
        self.all()
            .into_iter()
            .any(|a| matches!(a, Authorizer::Windows(_)))
    }

    fn windows_credential(grant: &EwsGrant) -> Option<(&str, &SecretString)> {
        <Authorizer as CredentialProvider>::windows_credential(&grant.authorization)
    }
}

fn scheme_name(authorizer: &Authorizer) -> &'static str {
    match authorizer {
        Authorizer::OAuth(_) => "modern",
        Authorizer::Windows(_) => "Windows",
        Authorizer::Basic(_) => "Basic",
    }
}
