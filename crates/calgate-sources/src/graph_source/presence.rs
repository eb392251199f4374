//! Microsoft Teams presence through the Graph source: `getPresencesByUserId` in requests of at
//! most 650 directory ids, under the source's own sign-in and throttling hold, so a
//! `Retry-After` heard on a presence request also holds the schedule reads, and the other way
//! round.
//!
//! Presence is asked by directory object id, so the source keeps a map from address to id, read
//! from `/users?$select=id,mail,userPrincipalName` page by page: once, then again when an
//! address it has not looked for appears, and every hour for renames. An address the directory
//! does not list has unknown presence, never available.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use calgate_core::{Code, Presence};
use calgate_engine::{FailureAction, SourceFailure};
use calgate_graph::presence::{GetPresences, MAX_PRESENCE_RESPONSE_BYTES};
use calgate_graph::users::{MAX_PAGE_SIZE, MAX_USERS_RESPONSE_BYTES};
use calgate_graph::{UserPage, presence};
use jiff::Timestamp;

use super::{GraphCallError, GraphSource, key, service_failure};

/// The id map is read again this often even when no new address appears.
const REREAD_AFTER: Duration = Duration::from_secs(3_600);

/// At most this many pages of `/users` (999 each) in one listing.
const MAX_PAGES: usize = 1_000;

/// Addresses to directory ids, as last listed.
#[derive(Debug, Default)]
pub(super) struct IdMap {
    by_address: HashMap<String, String>,
    /// Addresses looked for in the last listing (found or not): a new one makes a new listing.
    looked_for: HashSet<String>,
    read_at: Option<Instant>,
}

impl IdMap {
    fn needs_reading(&self, mailboxes: &[String]) -> bool {
        self.read_at.is_none_or(|at| at.elapsed() >= REREAD_AFTER)
            || mailboxes.iter().any(|m| !self.looked_for.contains(&key(m)))
    }
}

impl GraphSource {
    fn ids(&self) -> std::sync::MutexGuard<'_, IdMap> {
        self.presence_ids.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The presence of each mailbox, in order (`PresenceUnknown` for those not read).
    pub(super) async fn read_presence(
        &self,
        mailboxes: &[String],
    ) -> Result<Vec<Presence>, SourceFailure> {
        if self.ids().needs_reading(mailboxes) {
            let by_address = self.list_ids().await?;
            let mut ids = self.ids();
            ids.by_address = by_address;
            ids.looked_for = mailboxes.iter().map(|m| key(m)).collect();
            ids.read_at = Some(Instant::now());
        }
        let wanted: Vec<Option<String>> = {
            let ids = self.ids();
            mailboxes
                .iter()
                .map(|m| ids.by_address.get(&key(m)).cloned())
                .collect()
        };
        let mut unique: Vec<String> = wanted.iter().flatten().cloned().collect();
        unique.sort_unstable();
        unique.dedup();
        let mut read: HashMap<String, presence::Presence> = HashMap::new();
        let url = self.operation_url(&["communications", "getPresencesByUserId"]);
        for request in GetPresences::batches(&unique) {
            let body = self
                .call(
                    "getPresencesByUserId",
                    &url,
                    Some(request.to_json()),
                    MAX_PRESENCE_RESPONSE_BYTES,
                )
                .await
                .map_err(call_failure)?;
            let answered = request.read_response(&body).map_err(|e| {
                SourceFailure::new(
                    e.code().code(),
                    format!("Microsoft Graph's getPresencesByUserId answer: {e}"),
                    FailureAction::Transient,
                )
            })?;
            read.extend(answered);
        }
        let now = Timestamp::now();
        Ok(wanted
            .iter()
            .map(|id| match id.as_ref().and_then(|id| read.get(id)) {
                Some(p) => Presence::new(&p.availability, &p.activity, now),
                None => Presence::unknown(now),
            })
            .collect())
    }

    /// Every user's address (mail and user principal name) with its id, page by page.
    async fn list_ids(&self) -> Result<HashMap<String, String>, SourceFailure> {
        let mut url = self.operation_url(&["users"]);
        url.query_pairs_mut()
            .append_pair("$select", "id,mail,userPrincipalName")
            .append_pair("$top", &MAX_PAGE_SIZE.to_string());
        let mut by_address = HashMap::new();
        for _ in 0..MAX_PAGES {
            let body = self
                .get("users", &url, MAX_USERS_RESPONSE_BYTES)
                .await
                .map_err(call_failure)?;
            let page = UserPage::read(&body).map_err(|e| {
                SourceFailure::new(
                    e.code().code(),
                    format!("a page of Microsoft Graph's user listing: {e}"),
                    FailureAction::Transient,
                )
            })?;
            for user in page.value.unwrap_or_default() {
                let Some(id) = user.id.filter(|i| !i.trim().is_empty()) else {
                    continue;
                };
                // The mail address wins over a user principal name spelled the same.
                if let Some(upn) = &user.user_principal_name {
                    by_address.entry(key(upn)).or_insert_with(|| id.clone());
                }
                if let Some(mail) = &user.mail {
                    by_address.insert(key(mail), id);
                }
            }
            match page.next_link {
                Some(next) => url = self.followable(&next)?,
                None => return Ok(by_address),
            }
        }
        Err(SourceFailure::new(
            Code::GraphMalformedResponse,
            format!("Microsoft Graph's user listing went on past {MAX_PAGES} pages"),
            FailureAction::Transient,
        ))
    }

    /// `{root}/{segments…}`.
    pub(super) fn operation_url(&self, segments: &[&str]) -> reqwest::Url {
        let mut url = self.api_root().clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    /// A next link, only on the API root's origin and under its path: the token goes nowhere
    /// else.
    pub(super) fn followable(&self, link: &str) -> Result<reqwest::Url, SourceFailure> {
        let refuse = |why: &str| {
            SourceFailure::new(
                Code::GraphMalformedResponse,
                format!("Microsoft Graph's next link cannot be followed: {why}"),
                FailureAction::Transient,
            )
        };
        let root = self.api_root();
        let url = reqwest::Url::parse(link.trim()).map_err(|_| refuse("not a URL"))?;
        let same_origin = url.scheme() == root.scheme()
            && url.host_str() == root.host_str()
            && url.port_or_known_default() == root.port_or_known_default()
            && url.username().is_empty()
            && url.password().is_none();
        let base = root.path().trim_end_matches('/');
        if !same_origin || !url.path().starts_with(&format!("{base}/")) {
            return Err(refuse("it leaves the Graph API root"));
        }
        Ok(url)
    }
}

pub(super) fn call_failure(e: GraphCallError) -> SourceFailure {
    match e {
        GraphCallError::Answered(e) => service_failure(&e),
        GraphCallError::Failed(f) => f,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_map_is_read_again_for_new_addresses_only() {
        let mut map = IdMap::default();
        let people = vec!["A@x.example".to_owned()];
        assert!(map.needs_reading(&people), "never read");
        map.looked_for = people.iter().map(|m| key(m)).collect();
        map.read_at = Some(Instant::now());
        assert!(!map.needs_reading(&people));
        assert!(!map.needs_reading(&["a@x.example".to_owned()]));
        assert!(map.needs_reading(&["b@x.example".to_owned()]));
    }
}
