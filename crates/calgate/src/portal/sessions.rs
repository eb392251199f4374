//! Sign-in sessions for the pages, kept in memory (a restart signs everyone out, which is the
//! safe direction), and the rate limit on failed sign-ins.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, header};

use super::SESSION_COOKIE;

/// How long a session lasts from sign-in.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(8 * 3600);
/// Failed sign-ins allowed within [`FAILURE_WINDOW`] before further attempts wait.
pub const MAX_FAILURES: usize = 5;
pub const FAILURE_WINDOW: Duration = Duration::from_secs(300);
/// Sessions kept at most; the oldest go first (a bound on memory, not a feature).
const MAX_SESSIONS: usize = 1024;

pub const CLEAR_COOKIE: &str = "calgate_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0";

/// Who a session belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The administrator: every page.
    Admin,
    /// An operator signed in with a console token: the console page and the read API.
    Console,
}

/// One signed-in browser.
#[derive(Clone)]
pub struct Session {
    pub role: Role,
    pub user: String,
    /// The token every state-changing request of this session must carry.
    pub csrf: String,
    pub expires: Instant,
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
    failures: VecDeque<Instant>,
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
    /// cookie for HTTPS only (the pages are served through a TLS front end).
    pub fn create(&self, role: Role, user: &str, secure: bool) -> (String, Session) {
        let id = random_token();
        let session = Session {
            role,
            user: user.to_string(),
            csrf: random_token(),
            expires: Instant::now() + SESSION_LIFETIME,
        };
        let mut inner = self.lock();
        let now = Instant::now();
        inner.by_id.retain(|_, s| s.expires > now);
        if inner.by_id.len() >= MAX_SESSIONS
            && let Some(oldest) = inner
                .by_id
                .iter()
                .min_by_key(|(_, s)| s.expires)
                .map(|(k, _)| k.clone())
        {
            inner.by_id.remove(&oldest);
        }
        inner.by_id.insert(id.clone(), session.clone());
        let cookie = format!(
            "{SESSION_COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
            SESSION_LIFETIME.as_secs(),
            if secure { "; Secure" } else { "" }
        );
        (cookie, session)
    }

    /// The live session named by the request's cookie.
    pub fn signed_in(&self, headers: &HeaderMap) -> Option<Session> {
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

    pub fn record_failure(&self) {
        let mut inner = self.lock();
        inner.failures.push_back(Instant::now());
        while inner.failures.len() > MAX_FAILURES {
            inner.failures.pop_front();
        }
    }

    /// How long sign-ins are refused, when too many failed recently.
    pub fn locked_for(&self) -> Option<Duration> {
        let mut inner = self.lock();
        let now = Instant::now();
        inner
            .failures
            .retain(|t| now.duration_since(*t) < FAILURE_WINDOW);
        if inner.failures.len() < MAX_FAILURES {
            return None;
        }
        let oldest = *inner.failures.front()?;
        Some(FAILURE_WINDOW.saturating_sub(now.duration_since(oldest)))
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

    #[test]
    fn a_session_is_found_by_its_cookie_and_ends_on_logout() {
        let sessions = Sessions::default();
        let (cookie, s) = sessions.create(Role::Admin, "admin", false);
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
        assert!(!cookie.contains("Secure"));
        assert!(
            sessions
                .create(Role::Admin, "admin", true)
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
    fn five_failures_lock_sign_in() {
        let sessions = Sessions::default();
        for _ in 0..MAX_FAILURES - 1 {
            sessions.record_failure();
        }
        assert!(sessions.locked_for().is_none());
        sessions.record_failure();
        assert!(sessions.locked_for().is_some());
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
    }
}
