//! Sign-in sessions for the pages, kept in memory (a restart signs everyone out, which is the
//! safe direction).
//!
//! A session lives only as long as what it was signed in with: each request checks that the
//! API token is still live, or that the admin password is still the one entered, so a token
//! revoked or a password changed anywhere (the portal, the API, the command line while the
//! gateway runs) ends its sessions at the next request.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, header};
use uuid::Uuid;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "calgate_session";

/// How long a session lasts from sign-in.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(8 * 3600);
/// Sessions kept at most per role; the oldest of that role go first (a bound on memory). The
/// roles are counted apart, so operators signing in cannot push the administrator out.
const MAX_SESSIONS_PER_ROLE: usize = 1024;
/// Sessions one credential may hold at once (a token shared by many browsers, one admin).
pub const MAX_SESSIONS_PER_CREDENTIAL: usize = 32;

pub const CLEAR_COOKIE: &str = "calgate_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0";

/// Who a session belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The administrator: every page.
    Admin,
    /// An operator signed in with a console token: the console page and the read API.
    Console,
}

/// What a session was signed in with; it ends when that is no longer valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// The admin password whose stamp this is (`Store::admin_credential_stamp`).
    Password(String),
    /// The API token with this id.
    Token(Uuid),
}

/// One signed-in browser.
#[derive(Clone)]
pub struct Session {
    pub role: Role,
    pub user: String,
    /// The token every state-changing request of this session must carry.
    pub csrf: String,
    pub expires: Instant,
    pub credential: Credential,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("role", &self.role)
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
struct Inner {
    by_id: HashMap<String, Session>,
}

impl Inner {
    /// Ends the oldest session among those `matches` selects.
    fn evict_oldest(&mut self, matches: impl Fn(&Session) -> bool) {
        let oldest = self
            .by_id
            .iter()
            .filter(|(_, s)| matches(s))
            .min_by_key(|(_, s)| s.expires)
            .map(|(k, _)| k.clone());
        if let Some(id) = oldest {
            self.by_id.remove(&id);
        }
    }
}

/// The sessions of one gateway.
#[derive(Default)]
pub struct Sessions {
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let count = self.lock().by_id.len();
        f.debug_struct("Sessions")
            .field("count", &count)
            .finish_non_exhaustive()
    }
}

fn random_token() -> String {
    crate::random_hex::<32>()
}

/// Compares two secrets without stopping at the first difference.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn cookie_value(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim().to_string())
}

impl Sessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts a session; returns its `Set-Cookie` value and the session. `secure` marks the
    /// cookie for HTTPS only (the request came over TLS, or through a trusted proxy that
    /// terminated it).
    pub fn create(
        &self,
        role: Role,
        user: &str,
        credential: Credential,
        secure: bool,
    ) -> (String, Session) {
        let id = random_token();
        let session = Session {
            role,
            user: user.to_string(),
            csrf: random_token(),
            expires: Instant::now() + SESSION_LIFETIME,
            credential,
        };
        let mut inner = self.lock();
        let now = Instant::now();
        inner.by_id.retain(|_, s| s.expires > now);
        let same_credential = |s: &Session| s.credential == session.credential;
        if inner.by_id.values().filter(|s| same_credential(s)).count()
            >= MAX_SESSIONS_PER_CREDENTIAL
        {
            inner.evict_oldest(same_credential);
        }
        if inner.by_id.values().filter(|s| s.role == role).count() >= MAX_SESSIONS_PER_ROLE {
            inner.evict_oldest(|s| s.role == role);
        }
        inner.by_id.insert(id.clone(), session.clone());
        let cookie = format!(
            "{SESSION_COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
            SESSION_LIFETIME.as_secs(),
            if secure { "; Secure" } else { "" }
        );
        (cookie, session)
    }

    /// The session named by the request's cookie, if it is live and what it was signed in with
    /// is still valid. A session whose token was revoked or whose password was changed ends
    /// here. When the database cannot answer, the request is refused (the session is kept).
    pub async fn current(
        &self,
        store: &calgate_store::Store,
        headers: &HeaderMap,
    ) -> Option<Session> {
        let session = self.signed_in(headers)?;
        let valid = match &session.credential {
            Credential::Token(id) => store.api_token(*id).await.map(|t| t.is_some()),
            Credential::Password(stamp) => store
                .admin_credential_stamp()
                .await
                .map(|now| now.as_deref() == Some(stamp.as_str())),
        };
        match valid {
            Ok(true) => Some(session),
            Ok(false) => {
                self.end_all(&session.credential);
                tracing::info!(user = %session.user, "session ended: its credential is no longer valid");
                None
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not check a session's credential");
                None
            }
        }
    }

    /// Ends every session signed in with `credential`.
    pub fn end_all(&self, credential: &Credential) {
        self.lock().by_id.retain(|_, s| s.credential != *credential);
    }

    /// The live session named by the request's cookie, without checking its credential.
    fn signed_in(&self, headers: &HeaderMap) -> Option<Session> {
        let id = cookie_value(headers)?;
        let mut inner = self.lock();
        match inner.by_id.get(&id) {
            Some(s) if s.expires > Instant::now() => Some(s.clone()),
            Some(_) => {
                inner.by_id.remove(&id);
                None
            }
            None => None,
        }
    }

    /// Ends the session named by the request's cookie.
    pub fn end(&self, headers: &HeaderMap) {
        if let Some(id) = cookie_value(headers) {
            self.lock().by_id.remove(&id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_cookie(cookie: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        let value = cookie.split(';').next().unwrap_or_default().to_string();
        h.insert(
            header::COOKIE,
            axum::http::HeaderValue::from_str(&format!("other=1; {value}"))
                .unwrap_or_else(|_| axum::http::HeaderValue::from_static("")),
        );
        h
    }

    fn password() -> Credential {
        Credential::Password("stamp".to_string())
    }

    #[test]
    fn a_session_is_found_by_its_cookie_and_ends_on_logout() {
        let sessions = Sessions::default();
        let (cookie, s) = sessions.create(Role::Admin, "admin", password(), false);
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
        assert!(!cookie.contains("Secure"));
        assert!(
            sessions
                .create(Role::Admin, "admin", password(), true)
                .0
                .ends_with("; Secure")
        );
        let h = with_cookie(&cookie);
        let found = sessions.signed_in(&h).map(|f| f.csrf);
        assert_eq!(found.as_deref(), Some(s.csrf.as_str()));
        sessions.end(&h);
        assert!(sessions.signed_in(&h).is_none());
        assert!(
            sessions
                .signed_in(&with_cookie("calgate_session=forged"))
                .is_none()
        );
    }

    #[test]
    fn one_token_cannot_push_the_administrator_out() {
        let sessions = Sessions::default();
        let (admin_cookie, _) = sessions.create(Role::Admin, "admin", password(), false);
        let token = Credential::Token(Uuid::new_v4());
        let mut cookies = Vec::new();
        for _ in 0..MAX_SESSIONS_PER_ROLE + 10 {
            cookies.push(
                sessions
                    .create(Role::Console, "token:t", token.clone(), false)
                    .0,
            );
        }
        assert!(sessions.signed_in(&with_cookie(&admin_cookie)).is_some());
        let live = cookies
            .iter()
            .filter(|c| sessions.signed_in(&with_cookie(c)).is_some())
            .count();
        assert_eq!(live, MAX_SESSIONS_PER_CREDENTIAL);
        sessions.end_all(&token);
        assert!(
            cookies
                .iter()
                .all(|c| sessions.signed_in(&with_cookie(c)).is_none())
        );
        assert!(sessions.signed_in(&with_cookie(&admin_cookie)).is_some());
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
    }
}
