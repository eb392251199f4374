//! Reading people from Microsoft Entra ID through Graph, with the app credentials of a Graph
//! source: the source's settings (as stored, secret included) go through calgate-sources' own
//! builder, so the directory signs in exactly as that source does, through the gateway's
//! lockout guard, and the secret is never copied.
//!
//! Without a saved delta link a read lists everyone through `/users/delta`'s initial round, so
//! its answer ends with a delta link to save ([`Listing::Full`]); with one it lists what changed
//! since ([`Listing::Changes`]): people added or changed, and as removals the ids Graph reports
//! `@removed` plus people whose account was disabled or who lost their mail address. Graph no
//! longer accepting the link (a week old, or the attributes changed since) gives a full read
//! with a [`Code::DirectoryDeltaExpired`] warning. A directory limited to a group lists the
//! group's transitive members in full at every read (Graph has no delta for them). Only enabled
//! accounts with a mail address are listed.
//!
//! A page is read under a size cap and a round has at most [`MAX_PAGES`] pages; a link Graph
//! hands back is followed only on the Graph endpoint's own origin (the bearer token goes
//! nowhere else). A broken link, an unreadable page or any failed request fails the whole
//! read: nothing partial is answered.

use std::collections::HashMap;
use std::time::Duration;

use calgate_core::Code;
use calgate_engine::{FailureAction, SourceFailure};
use calgate_graph::ServiceError;
use calgate_graph::directory::{
    DirectoryObject, DirectoryPage, MAX_DIRECTORY_PAGE_BYTES, MAX_MEMBERS_PAGE_SIZE, Selection,
    UserAttribute, is_sync_reset,
};
use calgate_settings::{CalendarSettings, DirectoryConfig, DirectoryKind, Provider};
use calgate_sources::SignInContext;
use calgate_sources::graph_source::{GraphCallError, GraphSource};
use reqwest::Url;

use crate::entry::{Entry, Listing, Read, ReadError, Warning};

/// The most pages one round may take: 5 000 pages of 100 users (or of 999 members) is more
/// than any tenant; a server whose links never end is refused rather than followed forever.
pub const MAX_PAGES: usize = 5_000;

/// The most warnings one read answers; the rest are summed up in a last one.
pub const MAX_WARNINGS: usize = 50;

/// The longest `Retry-After` a read waits out itself before asking again (at most
/// [`MAX_THROTTLE_WAITS`] times); a longer one fails the read with Graph's throttling code.
pub const MAX_THROTTLE_WAIT: Duration = Duration::from_secs(30);
pub const MAX_THROTTLE_WAITS: usize = 3;

/// What the watch list keeps of a person, at most (the store's limits).
const MAX_EMAIL: usize = 320;
const MAX_NAME: usize = 256;
const MAX_EXTENSION: usize = 32;
const MAX_SOURCE: usize = 64;

/// The fragment a saved delta link carries: the selection its round was made with. It never
/// travels (a URL's fragment is not sent), and a link saved under other attributes starts a
/// full read.
const SELECT_FRAGMENT: &str = "select=";

/// The directory's attribute names, read as user attributes.
#[derive(Debug, Clone)]
struct Mapping {
    email: UserAttribute,
    name: UserAttribute,
    extension: UserAttribute,
    source: Option<UserAttribute>,
}

/// A Graph directory ready to read.
#[derive(Debug)]
pub struct GraphDirectory {
    source: GraphSource,
    /// The Graph source's id, for messages.
    source_id: String,
    group_id: Option<String>,
    mapping: Mapping,
    selection: Selection,
}

/// Why a page loop stopped without an answer.
enum Stop {
    /// Graph no longer accepts the token the round runs on.
    Reset,
    Failed(ReadError),
}

impl From<ReadError> for Stop {
    fn from(e: ReadError) -> Stop {
        Stop::Failed(e)
    }
}

impl GraphDirectory {
    /// The reader for `config` (a `graph` directory) with the credentials of the Graph source
    /// it names: `source` is that source's settings as the gateway keeps them (the caller looks
    /// `config.source` up among its configured sources; `None` when there is no such source),
    /// `sign_in` the gateway's sign-in context (its lockout guard and refresh-token store).
    pub fn build(
        config: &DirectoryConfig,
        source: Option<&CalendarSettings>,
        sign_in: &SignInContext,
    ) -> Result<GraphDirectory, ReadError> {
        let id = source_id(config)?;
        let settings = source
            .filter(|s| s.provider == Provider::Microsoft365)
            .ok_or_else(|| {
                ReadError::new(
                    Code::DirectoryGraphSourceMissing,
                    format!("there is no Microsoft Graph source {id:?} whose app credentials the directory could use"),
                )
            })?;
        let graph = calgate_sources::build_graph(settings, sign_in).map_err(|e| {
            ReadError::new(
                e.code,
                format!("the Graph source {id:?} cannot be used: {}", e.message),
            )
        })?;
        GraphDirectory::with_source(config, graph)
    }

    /// The reader for `config` on a Graph source built already.
    pub fn with_source(
        config: &DirectoryConfig,
        source: GraphSource,
    ) -> Result<GraphDirectory, ReadError> {
        let source_id = source_id(config)?.to_owned();
        let map = config.attributes();
        let mapping = Mapping {
            email: UserAttribute::parse(&map.email),
            name: UserAttribute::parse(&map.name),
            extension: UserAttribute::parse(&map.extension),
            source: map.source.as_deref().map(UserAttribute::parse),
        };
        let selection = Selection::for_attributes(
            [&mapping.email, &mapping.name, &mapping.extension]
                .into_iter()
                .chain(mapping.source.as_ref()),
        );
        Ok(GraphDirectory {
            source,
            source_id,
            group_id: config.group_id.clone(),
            mapping,
            selection,
        })
    }

    /// Everyone (`delta` is `None`), or the changes since the delta link a previous read
    /// answered. The answer's `delta` is the link to save for the next read: opaque, and
    /// `None` for a group (read in full every time).
    pub async fn read(&self, delta: Option<&str>) -> Result<Read, ReadError> {
        self.read_limited(delta, None).await
    }

    /// The first `limit` people (a test query): pages are read until that many are listed, and
    /// no delta link is answered.
    pub async fn read_first(&self, limit: usize) -> Result<Read, ReadError> {
        self.read_limited(None, Some(limit.max(1))).await
    }

    async fn read_limited(
        &self,
        delta: Option<&str>,
        limit: Option<usize>,
    ) -> Result<Read, ReadError> {
        if let Some(group) = &self.group_id {
            let mut collected = Collected::new(Mode::Full);
            match self
                .round(self.members_url(group), limit, &mut collected)
                .await
            {
                Ok(_) => return collected.finish(None, limit),
                Err(Stop::Reset) => {
                    return Err(ReadError::new(
                        Code::DirectoryMalformedResponse,
                        "Microsoft Graph refused its own page link of the group's members",
                    ));
                }
                Err(Stop::Failed(e)) => return Err(e),
            }
        }
        let mut warnings = Vec::new();
        if let Some(saved) = delta.filter(|_| limit.is_none()) {
            match self.saved_link(saved) {
                Ok(url) => {
                    let mut collected = Collected::new(Mode::Changes);
                    match self.round(url, None, &mut collected).await {
                        Ok(link) => return collected.finish(link, None),
                        Err(Stop::Reset) => warnings.push(Warning {
                            code: Code::DirectoryDeltaExpired,
                            message: "Microsoft Graph no longer accepts the saved delta link (it \
                                      is older than a week, or Graph reset it); everyone was read \
                                      again"
                                .to_owned(),
                        }),
                        Err(Stop::Failed(e)) => return Err(e),
                    }
                }
                Err(why) => warnings.push(Warning {
                    code: Code::DirectoryDeltaExpired,
                    message: format!(
                        "the saved delta link cannot be used ({why}); everyone was read again"
                    ),
                }),
            }
        }
        // A reset during the initial round itself (tokens expired mid-read) starts it once more.
        for attempt in 0..2 {
            let mut collected = Collected::new(Mode::Full);
            match self.round(self.initial_url(), limit, &mut collected).await {
                Ok(link) => {
                    let link = if limit.is_some() { None } else { link };
                    let mut read = collected.finish(link, limit)?;
                    warnings.append(&mut read.warnings);
                    read.warnings = warnings;
                    return Ok(read);
                }
                Err(Stop::Reset) if attempt == 0 => {}
                Err(Stop::Reset) => break,
                Err(Stop::Failed(e)) => return Err(e),
            }
        }
        Err(ReadError::new(
            Code::DirectoryDeltaExpired,
            "Microsoft Graph refused the page links of its own initial listing twice",
        ))
    }

    /// `{root}/users/delta?$select=…`.
    fn initial_url(&self) -> Url {
        let mut url = self.source.api_root().clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty().extend(["users", "delta"]);
        }
        url.set_query(Some(&format!("$select={}", self.selection.query_value())));
        url
    }

    /// `{root}/groups/{id}/transitiveMembers?$select=…&$top=999`.
    fn members_url(&self, group: &str) -> Url {
        let mut url = self.source.api_root().clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments
                .pop_if_empty()
                .extend(["groups", group, "transitiveMembers"]);
        }
        url.set_query(Some(&format!(
            "$select={}&$top={MAX_MEMBERS_PAGE_SIZE}",
            self.selection.query_value()
        )));
        url
    }

    fn followable(&self, link: &str) -> Result<Url, String> {
        followable(self.source.api_root(), link)
    }

    /// The saved delta link, when it was made with today's selection and is followable.
    fn saved_link(&self, saved: &str) -> Result<Url, String> {
        let (link, fragment) = saved.split_once('#').unwrap_or((saved, ""));
        let made_with = fragment.strip_prefix(SELECT_FRAGMENT).unwrap_or("");
        if made_with != self.selection.query_value() {
            return Err("the attributes read have changed since it was saved".to_owned());
        }
        self.followable(link)
    }

    /// A delta link as saved: Graph's link with the selection in its fragment.
    fn to_saved(&self, link: &Url) -> String {
        let mut url = link.clone();
        url.set_fragment(Some(&format!(
            "{SELECT_FRAGMENT}{}",
            self.selection.query_value()
        )));
        url.to_string()
    }

    /// Reads every page of one round from `first` into `collected`; the round's delta link
    /// (as saved), if it ended with one.
    async fn round(
        &self,
        first: Url,
        limit: Option<usize>,
        collected: &mut Collected,
    ) -> Result<Option<String>, Stop> {
        let mut url = first;
        for _ in 0..MAX_PAGES {
            let body = self.get(&url).await?;
            let page = DirectoryPage::read(&body).map_err(|e| {
                ReadError::new(
                    Code::DirectoryMalformedResponse,
                    format!("a page of Microsoft Graph's directory listing cannot be read: {e}"),
                )
            })?;
            collected.take(&page, &self.mapping);
            if limit.is_some_and(|n| collected.listed() >= n) {
                return Ok(None);
            }
            match (page.next_link, page.delta_link) {
                (Some(next), _) => {
                    url = self.followable(&next).map_err(|why| {
                        ReadError::new(
                            Code::DirectoryMalformedResponse,
                            format!("Microsoft Graph's next link cannot be followed: {why}"),
                        )
                    })?;
                }
                (None, Some(delta)) => {
                    let link = self.followable(&delta).map_err(|why| {
                        ReadError::new(
                            Code::DirectoryMalformedResponse,
                            format!("Microsoft Graph's delta link cannot be used: {why}"),
                        )
                    })?;
                    return Ok(Some(self.to_saved(&link)));
                }
                (None, None) => return Ok(None),
            }
        }
        Err(Stop::Failed(ReadError::new(
            Code::DirectoryMalformedResponse,
            format!("Microsoft Graph's listing did not end within {MAX_PAGES} pages"),
        )))
    }

    /// One page, waiting out short throttling itself.
    async fn get(&self, url: &Url) -> Result<Vec<u8>, Stop> {
        let mut waits = 0;
        loop {
            let (wait, error) = match self
                .source
                .get("directory", url, MAX_DIRECTORY_PAGE_BYTES)
                .await
            {
                Ok(body) => return Ok(body),
                Err(GraphCallError::Answered(e)) if is_sync_reset(&e) => return Err(Stop::Reset),
                Err(GraphCallError::Answered(e)) => match e.retry_after {
                    Some(wait) if matches!(e.status, 429 | 503) => (wait, self.answered(&e)),
                    _ => return Err(Stop::Failed(self.answered(&e))),
                },
                Err(GraphCallError::Failed(f)) => match f.action {
                    FailureAction::RetryAfter(wait) => (wait.unsigned_abs(), failed(&f)),
                    _ => return Err(Stop::Failed(failed(&f))),
                },
            };
            if wait > MAX_THROTTLE_WAIT || waits >= MAX_THROTTLE_WAITS {
                return Err(Stop::Failed(error));
            }
            waits += 1;
            tokio::time::sleep(wait).await;
        }
    }

    /// Graph's error answer as the admin reads it.
    fn answered(&self, e: &ServiceError) -> ReadError {
        let graph_code = e
            .graph_code
            .as_deref()
            .map(|c| format!(", {c}"))
            .unwrap_or_default();
        let graph_message = e.message.as_deref().unwrap_or("no message");
        match e.status {
            404 if self.group_id.is_some() => ReadError::new(
                Code::DirectoryGroupNotFound,
                format!(
                    "Microsoft Graph has no group with the object ID {} (HTTP 404{graph_code})",
                    self.group_id.as_deref().unwrap_or_default()
                ),
            ),
            403 => ReadError::new(
                e.code.code(),
                format!(
                    "Microsoft Graph refused to list the directory (HTTP 403{graph_code}): the app \
                     registration of the Graph source {:?} needs the application permission \
                     User.Read.All{}, granted with admin consent",
                    self.source_id,
                    if self.group_id.is_some() {
                        " and GroupMember.Read.All to read a group's members"
                    } else {
                        ""
                    }
                ),
            ),
            429 | 503 => ReadError::new(
                e.code.code(),
                format!(
                    "Microsoft Graph asked to wait{} (HTTP {}{graph_code}); the next sync tries again",
                    e.retry_after
                        .map(|w| format!(" {:.1} s", w.as_secs_f64()))
                        .unwrap_or_default(),
                    e.status
                ),
            ),
            status => ReadError::new(
                e.code.code(),
                format!("Microsoft Graph answered HTTP {status}{graph_code}: {graph_message}"),
            ),
        }
    }
}

/// A link Graph handed back, when it stays on the origin of the API root and under its path;
/// why not otherwise.
fn followable(root: &Url, link: &str) -> Result<Url, String> {
    let url = Url::parse(link.trim()).map_err(|_| "not a URL".to_owned())?;
    let same_origin = url.scheme() == root.scheme()
        && url.host_str() == root.host_str()
        && url.port_or_known_default() == root.port_or_known_default();
    if !same_origin {
        return Err(format!(
            "it points to {}, not to the Graph endpoint",
            url.host_str().unwrap_or("no host")
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("it carries a user name".to_owned());
    }
    let base = root.path().trim_end_matches('/');
    if !url.path().starts_with(&format!("{base}/")) {
        return Err("it leaves the Graph API root".to_owned());
    }
    Ok(url)
}

fn source_id(config: &DirectoryConfig) -> Result<&str, ReadError> {
    if config.kind != DirectoryKind::Graph {
        return Err(ReadError::new(
            Code::DirectoryGraphSourceMissing,
            "this directory is not read through Microsoft Graph",
        ));
    }
    config.source.as_deref().ok_or_else(|| {
        ReadError::new(
            Code::DirectoryGraphSourceMissing,
            "the directory names no Graph source whose app credentials it could use",
        )
    })
}

/// A failure before or without an answer (sign-in, network, hold, size) in the registry's code.
fn failed(f: &SourceFailure) -> ReadError {
    let code = Code::parse(&f.code).unwrap_or(Code::GraphUnexpectedStatus);
    ReadError::new(code, f.message.clone())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Everyone now: people not listable are left out.
    Full,
    /// Changes: people not listable (any more) are removals.
    Changes,
}

/// One object's verdict.
#[derive(Debug)]
enum State {
    Listed(Entry),
    /// Removed, disabled, without a (usable) mail address.
    Gone,
}

/// What the pages of one read said, by directory id; a later page's word on an id wins.
#[derive(Debug)]
struct Collected {
    mode: Mode,
    /// Ids (lower case) in first-seen order, with the id as Graph wrote it.
    order: Vec<(String, String)>,
    states: HashMap<String, State>,
    listed: usize,
    warnings: Vec<Warning>,
    warnings_left_off: usize,
}

impl Collected {
    fn new(mode: Mode) -> Collected {
        Collected {
            mode,
            order: Vec::new(),
            states: HashMap::new(),
            listed: 0,
            warnings: Vec::new(),
            warnings_left_off: 0,
        }
    }

    fn listed(&self) -> usize {
        self.listed
    }

    fn warn(&mut self, message: String) {
        if self.warnings.len() < MAX_WARNINGS {
            self.warnings.push(Warning {
                code: Code::DirectoryEntrySkipped,
                message,
            });
        } else {
            self.warnings_left_off += 1;
        }
    }

    fn take(&mut self, page: &DirectoryPage, mapping: &Mapping) {
        if page.unreadable > 0 {
            self.warn(format!(
                "{} entries of a page had no id and were skipped",
                page.unreadable
            ));
        }
        for object in &page.objects {
            // Groups, contacts and devices among a group's members are not people.
            if !object.is_user() {
                continue;
            }
            let Some(id) = object.id() else { continue };
            let state = match self.verdict(object, id, mapping) {
                Ok(state) => state,
                Err(why) => {
                    self.warn(why);
                    State::Gone
                }
            };
            let key = id.to_ascii_lowercase();
            let was_listed = matches!(self.states.get(&key), Some(State::Listed(_)));
            let is_listed = matches!(state, State::Listed(_));
            self.listed = self.listed + usize::from(is_listed) - usize::from(was_listed);
            if self.states.insert(key.clone(), state).is_none() {
                self.order.push((key, id.to_owned()));
            }
        }
    }

    /// Listed, gone, or skipped with a reason.
    fn verdict(
        &self,
        object: &DirectoryObject,
        id: &str,
        mapping: &Mapping,
    ) -> Result<State, String> {
        if object.removed().is_some() || object.account_enabled() == Some(false) {
            return Ok(State::Gone);
        }
        let Some(raw) = object.attribute(&mapping.email) else {
            return Ok(State::Gone);
        };
        let email = raw.to_lowercase();
        let valid = email.len() <= MAX_EMAIL
            && !email.chars().any(|c| c.is_whitespace() || c.is_control())
            && email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty() && !domain.is_empty() && !domain.contains('@')
            });
        if !valid {
            return Err(format!("user {id}: the mail address {raw:?} is not usable"));
        }
        let fits =
            |v: &str, max: usize| v.chars().count() <= max && !v.chars().any(char::is_control);
        let name = object
            .attribute(&mapping.name)
            .unwrap_or_else(|| email.clone());
        if !fits(&name, MAX_NAME) {
            return Err(format!(
                "user {id} ({email}): the name is longer than {MAX_NAME} characters or has control characters"
            ));
        }
        let extension = object.attribute(&mapping.extension);
        if extension
            .as_deref()
            .is_some_and(|e| !fits(e, MAX_EXTENSION))
        {
            return Err(format!(
                "user {id} ({email}): the extension is longer than {MAX_EXTENSION} characters or has control characters"
            ));
        }
        let source = mapping.source.as_ref().and_then(|s| object.attribute(s));
        if source.as_deref().is_some_and(|s| !fits(s, MAX_SOURCE)) {
            return Err(format!(
                "user {id} ({email}): the source attribute is longer than {MAX_SOURCE} characters or has control characters"
            ));
        }
        Ok(State::Listed(Entry {
            id: id.to_owned(),
            email,
            name,
            extension,
            source,
        }))
    }

    /// The answer. A full listing with nobody in it is refused: an empty answer must never
    /// empty a watch list.
    fn finish(mut self, delta: Option<String>, limit: Option<usize>) -> Result<Read, ReadError> {
        let mut listed: Vec<Entry> = Vec::new();
        let mut removed_ids: Vec<String> = Vec::new();
        let mut addresses: HashMap<String, String> = HashMap::new();
        let mut duplicates: Vec<String> = Vec::new();
        for (key, id) in std::mem::take(&mut self.order) {
            match self.states.remove(&key) {
                Some(State::Listed(entry)) => {
                    if self.mode == Mode::Full
                        && let Some(first) = addresses.get(&entry.email)
                    {
                        duplicates.push(format!(
                            "user {}: {} is also the address of user {first}; only the first is listed",
                            entry.id, entry.email
                        ));
                        continue;
                    }
                    addresses.insert(entry.email.clone(), entry.id.clone());
                    listed.push(entry);
                }
                Some(State::Gone) => removed_ids.push(id),
                None => {}
            }
        }
        for d in duplicates {
            self.warn(d);
        }
        if let Some(n) = limit {
            listed.truncate(n);
        }
        if self.warnings_left_off > 0 {
            self.warnings.push(Warning {
                code: Code::DirectoryEntrySkipped,
                message: format!("{} more entries were skipped", self.warnings_left_off),
            });
        }
        let listing = match self.mode {
            Mode::Full if listed.is_empty() => {
                return Err(ReadError::new(
                    Code::DirectoryEmptyAnswer,
                    "Microsoft Graph listed no enabled account with a mail address",
                ));
            }
            Mode::Full => Listing::Full(listed),
            Mode::Changes => Listing::Changes {
                changed: listed,
                removed_ids,
            },
        };
        Ok(Read {
            listing,
            warnings: self.warnings,
            delta,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping(extension: &str, source: Option<&str>) -> Mapping {
        Mapping {
            email: UserAttribute::parse("mail"),
            name: UserAttribute::parse("displayName"),
            extension: UserAttribute::parse(extension),
            source: source.map(UserAttribute::parse),
        }
    }

    fn page(json: &str) -> DirectoryPage {
        DirectoryPage::read(json.as_bytes()).expect("page")
    }

    const PEOPLE: &str = r##"{"value": [
      {"id": "A1", "mail": "Anna.Rossi@Contoso.com", "displayName": "Anna Rossi", "accountEnabled": true,
       "businessPhones": ["2001"], "mobilePhone": "+39 333 1", "onPremisesExtensionAttributes": {"extensionAttribute3": "online"}},
      {"id": "B2", "mail": "luca@contoso.com", "displayName": " ", "accountEnabled": true, "businessPhones": []},
      {"id": "C3", "mail": "off@contoso.com", "displayName": "Disabled", "accountEnabled": false},
      {"id": "D4", "mail": null, "displayName": "No mail", "accountEnabled": true},
      {"id": "E5", "mail": "not an address", "displayName": "Odd", "accountEnabled": true},
      {"id": "F6", "mail": "anna.rossi@contoso.com", "displayName": "Twin", "accountEnabled": true},
      {"@odata.type": "#microsoft.graph.group", "id": "G7", "displayName": "Nested"},
      {"id": "H8", "@removed": {"reason": "deleted"}}
    ]}"##;

    #[test]
    fn a_full_listing_keeps_enabled_accounts_with_a_usable_mail() {
        let mut c = Collected::new(Mode::Full);
        c.take(
            &page(PEOPLE),
            &mapping("businessPhones", Some("extensionAttribute3")),
        );
        let read = c.finish(Some("d".into()), None).expect("read");
        let Listing::Full(people) = read.listing else {
            panic!("full")
        };
        assert_eq!(
            people,
            [
                Entry {
                    id: "A1".into(),
                    email: "anna.rossi@contoso.com".into(),
                    name: "Anna Rossi".into(),
                    extension: Some("2001".into()),
                    source: Some("online".into()),
                },
                Entry {
                    id: "B2".into(),
                    email: "luca@contoso.com".into(),
                    name: "luca@contoso.com".into(),
                    extension: None,
                    source: None,
                },
            ]
        );
        let codes: Vec<Code> = read.warnings.iter().map(|w| w.code).collect();
        assert_eq!(
            codes,
            [Code::DirectoryEntrySkipped, Code::DirectoryEntrySkipped]
        );
        assert!(read.warnings[0].message.contains("E5"));
        assert!(read.warnings[1].message.contains("F6"));
        assert_eq!(read.delta.as_deref(), Some("d"));
    }

    #[test]
    fn changes_remove_the_disabled_the_mailless_and_the_removed() {
        let mut c = Collected::new(Mode::Changes);
        c.take(&page(PEOPLE), &mapping("mobilePhone", None));
        let read = c.finish(None, None).expect("read");
        let Listing::Changes {
            changed,
            removed_ids,
        } = read.listing
        else {
            panic!("changes")
        };
        let emails: Vec<&str> = changed.iter().map(|e| e.email.as_str()).collect();
        // A changes listing keeps both holders of an address: the plan sees the id change.
        assert_eq!(
            emails,
            [
                "anna.rossi@contoso.com",
                "luca@contoso.com",
                "anna.rossi@contoso.com"
            ]
        );
        assert_eq!(changed[0].extension.as_deref(), Some("+39 333 1"));
        assert_eq!(removed_ids, ["C3", "D4", "E5", "H8"]);
    }

    #[test]
    fn a_later_word_on_an_id_wins() {
        let mut c = Collected::new(Mode::Full);
        let m = mapping("businessPhones", None);
        c.take(
            &page(r#"{"value": [{"id": "a", "mail": "a@x.com", "accountEnabled": true}, {"id": "b", "mail": "b@x.com"}]}"#),
            &m,
        );
        assert_eq!(c.listed(), 2);
        c.take(
            &page(r#"{"value": [{"id": "A", "@removed": {"reason": "changed"}}, {"id": "b", "mail": "b2@x.com", "displayName": "B"}]}"#),
            &m,
        );
        assert_eq!(c.listed(), 1);
        let read = c.finish(None, None).expect("read");
        assert_eq!(
            read.listing,
            Listing::Full(vec![Entry {
                id: "b".into(),
                email: "b2@x.com".into(),
                name: "B".into(),
                extension: None,
                source: None,
            }])
        );
    }

    #[test]
    fn nobody_at_all_is_an_error_and_oversized_values_are_skipped() {
        let mut c = Collected::new(Mode::Full);
        let long = "9".repeat(MAX_EXTENSION + 1);
        c.take(
            &page(&format!(
                r#"{{"value": [{{"id": "a", "mail": "a@x.com", "businessPhones": ["{long}"]}}, 7]}}"#
            )),
            &mapping("businessPhones", None),
        );
        let e = c.finish(None, None).expect_err("empty");
        assert_eq!(e.code, Code::DirectoryEmptyAnswer);
        // No changes is a fine answer.
        let c = Collected::new(Mode::Changes);
        assert!(c.finish(None, None).is_ok());
    }

    #[test]
    fn warnings_are_capped() {
        let mut c = Collected::new(Mode::Full);
        let items: Vec<String> = (0..MAX_WARNINGS + 10)
            .map(|i| format!(r#"{{"id": "u{i}", "mail": "bad {i}"}}"#))
            .chain([r#"{"id": "ok", "mail": "ok@x.com"}"#.to_owned()])
            .collect();
        c.take(
            &page(&format!(r#"{{"value": [{}]}}"#, items.join(","))),
            &mapping("businessPhones", None),
        );
        let read = c.finish(None, None).expect("read");
        assert_eq!(read.warnings.len(), MAX_WARNINGS + 1);
        assert!(read.warnings[MAX_WARNINGS].message.starts_with("10 more"));
    }

    #[test]
    fn links_are_followed_only_on_the_graph_origin() {
        let root: Url = "https://graph.microsoft.com/v1.0".parse().expect("root");
        let ok = "https://graph.microsoft.com/v1.0/users/delta?$skiptoken=abc";
        assert_eq!(
            followable(&root, ok).map(|u| u.to_string()),
            Ok(ok.to_owned())
        );
        assert!(followable(&root, "https://GRAPH.microsoft.com:443/v1.0/users/delta").is_ok());
        for bad in [
            "https://graph.attacker.example/v1.0/users/delta?$skiptoken=abc",
            "http://graph.microsoft.com/v1.0/users/delta",
            "https://graph.microsoft.com:8443/v1.0/users/delta",
            "https://user:pw@graph.microsoft.com/v1.0/users/delta",
            "https://graph.microsoft.com/beta/users/delta",
            "https://graph.microsoft.com/v1.0",
            "::/v1.0/users/delta",
            "/v1.0/users/delta",
            "",
        ] {
            assert!(followable(&root, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_limited_read_is_cut_to_its_limit() {
        let mut c = Collected::new(Mode::Full);
        c.take(&page(PEOPLE), &mapping("businessPhones", None));
        let read = c.finish(None, Some(1)).expect("read");
        assert!(matches!(read.listing, Listing::Full(ref p) if p.len() == 1));
    }
}
