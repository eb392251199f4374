//! The directory as Graph lists it: `/users` (`$top`, `$skiptoken` paging), `/users/delta`
//! (the initial round in pages of [`GraphSettings::directory_page_size`], then the changes since
//! a delta token) and `/groups/{id}/transitiveMembers` (nested groups flattened), each with
//! `$select`. The pages are written with calgate-graph's directory types, the ones the client
//! reads. Authentication, permissions, throttling and statistics are `graph.rs`'s.
//!
//! Tokens are opaque to the client, as Graph's are: URL-safe base64 of what the next request
//! needs (the round, where the page stopped, the selection). A delta token names the directory
//! version its round read up to; the next round lists people whose last change is newer and the
//! removals since. Pages follow directory-id order and stop after an id, so people added or
//! removed during a round neither shift nor repeat the pages after them. A token from before
//! the last `DELETE /_sim/graph/delta-tokens`, or one that cannot be read, is answered as Graph
//! answers an expired one: 400 `syncStateNotFound`.

use axum::http::StatusCode;
use base64::Engine as _;
use calgate_graph::directory::{
    DirectoryObject, DirectoryPage, GROUP_TYPE, MAX_MEMBERS_PAGE_SIZE, ORG_CONTACT_TYPE,
    RemovedReason, SYNC_STATE_NOT_FOUND, SYNC_STATE_NOT_FOUND_MESSAGE, Selection, UserRecord,
};
use calgate_graph::users::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};

use crate::graph::{Answer, NextLinkFault, settings};
use crate::state::SimState;
use crate::stats::Outcome;
use crate::tenant::{Member, Person, Tenant};

/// Where a delta request stands.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Round {
    /// The version the changes are counted from; `None` in the initial round (everyone).
    since: Option<u64>,
    /// The directory version when the round began; the delta token at its end names it.
    upto: u64,
    /// The last id already listed in this round.
    after: Option<String>,
    select: String,
}

fn encode(fields: &[&str]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(fields.join("|"))
}

fn decode(token: &str) -> Option<Vec<String>> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.trim())
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    Some(text.split('|').map(str::to_owned).collect())
}

fn delta_token(epoch: u32, upto: u64, select: &str) -> String {
    encode(&["delta", &epoch.to_string(), &upto.to_string(), select])
}

fn round_skip_token(epoch: u32, round: &Round, after: &str) -> String {
    let since = round
        .since
        .map_or_else(|| "-".to_owned(), |s| s.to_string());
    encode(&[
        "round",
        &epoch.to_string(),
        &since,
        &round.upto.to_string(),
        after,
        &round.select,
    ])
}

/// The round a delta request continues or starts; `None` when its token is not (or no longer)
/// accepted.
fn round_of(tenant: &Tenant, query: &Query) -> Option<Round> {
    let current = tenant.directory_version;
    if let Some(token) = query.get("$skiptoken") {
        let f = decode(token)?;
        let [kind, epoch, since, upto, after, select] = f.as_slice() else {
            return None;
        };
        let upto: u64 = upto.parse().ok()?;
        let since = match since.as_str() {
            "-" => None,
            s => Some(s.parse::<u64>().ok()?),
        };
        let valid = kind == "round"
            && epoch.parse::<u32>().ok()? == tenant.delta_epoch
            && upto <= current
            && since.is_none_or(|s| s <= upto);
        return valid.then(|| Round {
            since,
            upto,
            after: Some(after.clone()).filter(|a| !a.is_empty()),
            select: select.clone(),
        });
    }
    if let Some(token) = query.get("$deltatoken") {
        let f = decode(token)?;
        let [kind, epoch, version, select] = f.as_slice() else {
            return None;
        };
        let version: u64 = version.parse().ok()?;
        let valid = kind == "delta"
            && epoch.parse::<u32>().ok()? == tenant.delta_epoch
            && version <= current;
        return valid.then(|| Round {
            since: Some(version),
            upto: current,
            after: None,
            select: select.clone(),
        });
    }
    Some(Round {
        since: None,
        upto: current,
        after: None,
        select: query.get("$select").unwrap_or_default().to_owned(),
    })
}

/// Whether a `/users/delta` request reads changes (a delta token, or a later page of a round
/// that began with one) rather than the initial listing; the statistics count them apart.
pub fn reads_changes(query: &[(String, String)]) -> bool {
    let query = Query(query);
    if query.get("$deltatoken").is_some() {
        return true;
    }
    query.get("$skiptoken").and_then(decode).is_some_and(|f| {
        f.first().is_some_and(|k| k == "round") && f.get(2).is_some_and(|s| s != "-")
    })
}

/// Query parameters, looked up without regard to case.
struct Query<'a>(&'a [(String, String)]);

impl Query<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// `$select`, or Graph's default properties; an unknown property is Graph's 400.
fn selection(select: &str, request_id: &str) -> Result<Selection, Answer> {
    if select.trim().is_empty() {
        return Ok(Selection::default_user());
    }
    let s = Selection::parse(select);
    match s.unknown_user_property() {
        Some(p) => Err(Answer::bad_request(
            "Request_BadRequest",
            &format!("Could not find a property named '{p}' on type 'microsoft.graph.user'."),
            request_id,
        )),
        None => Ok(s),
    }
}

/// A person as a directory user record.
pub fn record(p: &Person) -> UserRecord {
    let d = &p.directory;
    UserRecord {
        id: p.id.clone(),
        display_name: Some(p.name.clone()),
        mail: d.mail_listed.then(|| p.email.clone()),
        user_principal_name: Some(p.email.clone()),
        given_name: Some(p.given_name.clone()).filter(|s| !s.is_empty()),
        surname: Some(p.surname.clone()).filter(|s| !s.is_empty()),
        business_phones: d.business_phones.clone(),
        mobile_phone: d.mobile_phone.clone(),
        account_enabled: d.account_enabled,
        extension_attributes: d.extension_attributes.clone(),
        department: d.department.clone(),
    }
}

/// A next link as the fault switch leaves it: on another host, or not a link at all.
fn next_link(state: &SimState, path_and_query: &str) -> String {
    match settings(state).next_link_fault {
        NextLinkFault::None => format!("{}{path_and_query}", state.base_url),
        NextLinkFault::ForeignHost => format!("https://graph.attacker.example{path_and_query}"),
        NextLinkFault::Unparseable => format!("::{path_and_query}"),
    }
}

/// `GET /v1.0/users`: everyone, `$top` per page (100 by default, 999 at most).
pub(crate) fn users_page(state: &SimState, query: &[(String, String)], request_id: &str) -> Answer {
    let query = Query(query);
    let top = match query.get("$top") {
        None => DEFAULT_PAGE_SIZE,
        Some(v) => match v.trim().parse::<usize>() {
            Ok(n) if (1..=MAX_PAGE_SIZE).contains(&n) => n,
            _ => {
                return Answer::bad_request(
                    "Request_UnsupportedQuery",
                    &format!(
                        "Invalid page size specified: '{v}'. Must be between 1 and {MAX_PAGE_SIZE} inclusive."
                    ),
                    request_id,
                );
            }
        },
    };
    let skip = match query.get("$skiptoken") {
        None => 0,
        Some(v) => match v.trim().parse::<usize>() {
            Ok(n) => n,
            Err(_) => {
                return Answer::bad_request(
                    "Directory_ExpiredPageToken",
                    "The specified page token value has expired and can no longer be included in your request.",
                    request_id,
                );
            }
        },
    };
    let select_param = query.get("$select").unwrap_or_default();
    let select = match selection(select_param, request_id) {
        Ok(s) => s,
        Err(a) => return a,
    };
    let tenant = state.tenant();
    let objects: Vec<DirectoryObject> = tenant
        .people
        .iter()
        .skip(skip)
        .take(top)
        .map(|p| DirectoryObject::user(&record(p), &select, false))
        .collect();
    let next = skip.saturating_add(top);
    let select_part = if select_param.trim().is_empty() {
        String::new()
    } else {
        format!("&$select={}", select.query_value())
    };
    let next_link = (next < tenant.people.len()).then(|| {
        next_link(
            state,
            &format!("/v1.0/users?$top={top}&$skiptoken={next}{select_part}"),
        )
    });
    drop(tenant);
    let page = DirectoryPage {
        context: Some(DirectoryPage::users_context(&select)),
        objects,
        next_link,
        ..DirectoryPage::default()
    };
    Answer::ok(page.to_json(), Outcome::Success)
}

/// One item of a changes round, in id order.
enum Change<'a> {
    Person(&'a Person),
    Removed { id: &'a str, permanent: bool },
}

/// `GET /v1.0/users/delta`.
pub(crate) fn users_delta(
    state: &SimState,
    query: &[(String, String)],
    request_id: &str,
) -> Answer {
    let query = Query(query);
    let page_size = settings(state).directory_page_size.max(1);
    let tenant = state.tenant();
    let Some(round) = round_of(&tenant, &query) else {
        return Answer::bad_request(
            SYNC_STATE_NOT_FOUND,
            SYNC_STATE_NOT_FOUND_MESSAGE,
            request_id,
        );
    };
    let select = match selection(&round.select, request_id) {
        Ok(s) => s,
        Err(a) => return a,
    };
    let mut listed: Vec<(String, Change<'_>)> = match round.since {
        None => tenant
            .people_by_id_after(round.after.as_deref())
            .take(page_size + 1)
            .map(|p| (p.id.to_ascii_lowercase(), Change::Person(p)))
            .collect(),
        Some(since) => {
            let after = round.after.as_deref().map(str::to_ascii_lowercase);
            let after_cursor = |id: &str| after.as_deref().is_none_or(|a| id > a);
            let mut items: Vec<(String, Change<'_>)> = tenant
                .people_by_id_after(round.after.as_deref())
                .filter(|p| p.changed > since)
                .map(|p| (p.id.to_ascii_lowercase(), Change::Person(p)))
                .collect();
            items.extend(
                tenant
                    .removals
                    .iter()
                    .filter(|r| r.version > since && after_cursor(&r.id.to_ascii_lowercase()))
                    .map(|r| {
                        (
                            r.id.to_ascii_lowercase(),
                            Change::Removed {
                                id: &r.id,
                                permanent: r.permanent,
                            },
                        )
                    }),
            );
            items.sort_by(|a, b| a.0.cmp(&b.0));
            items
        }
    };
    let more = listed.len() > page_size;
    listed.truncate(page_size);
    let objects: Vec<DirectoryObject> = listed
        .iter()
        .map(|(_, c)| match c {
            Change::Person(p) => DirectoryObject::user(&record(p), &select, false),
            Change::Removed { id, permanent } => DirectoryObject::removal(
                id,
                if *permanent {
                    RemovedReason::Deleted
                } else {
                    RemovedReason::Changed
                },
            ),
        })
        .collect();
    let epoch = tenant.delta_epoch;
    let last = listed.last().map(|(id, _)| id.clone());
    drop(tenant);
    let (next, delta) = match last {
        Some(last) if more => {
            let token = round_skip_token(epoch, &round, &last);
            (
                Some(next_link(
                    state,
                    &format!("/v1.0/users/delta?$skiptoken={token}"),
                )),
                None,
            )
        }
        _ => (
            None,
            Some(format!(
                "{}/v1.0/users/delta?$deltatoken={}",
                state.base_url,
                delta_token(epoch, round.upto, &round.select)
            )),
        ),
    };
    let page = DirectoryPage {
        context: Some(DirectoryPage::users_context(&select)),
        objects,
        next_link: next,
        delta_link: delta,
        ..DirectoryPage::default()
    };
    Answer::ok(page.to_json(), Outcome::Success)
}

/// `GET /v1.0/groups/{id}/transitiveMembers`: `$top` per page (100 by default, 999 at most).
pub(crate) fn transitive_members(
    state: &SimState,
    group_id: &str,
    query: &[(String, String)],
    request_id: &str,
) -> Answer {
    let query = Query(query);
    let (top, after, select_param) = match query.get("$skiptoken") {
        Some(token) => {
            let fields = decode(token).unwrap_or_default();
            let [kind, top, after, select] = fields.as_slice() else {
                return expired_page_token(request_id);
            };
            match top.parse::<usize>() {
                Ok(top) if kind == "members" => (top, Some(after.clone()), select.clone()),
                _ => return expired_page_token(request_id),
            }
        }
        None => {
            let top = match query.get("$top") {
                None => DEFAULT_PAGE_SIZE,
                Some(v) => match v.trim().parse::<usize>() {
                    Ok(n) if (1..=MAX_MEMBERS_PAGE_SIZE).contains(&n) => n,
                    _ => {
                        return Answer::bad_request(
                            "Request_UnsupportedQuery",
                            &format!(
                                "Invalid page size specified: '{v}'. Must be between 1 and {MAX_MEMBERS_PAGE_SIZE} inclusive."
                            ),
                            request_id,
                        );
                    }
                },
            };
            (
                top,
                None,
                query.get("$select").unwrap_or_default().to_owned(),
            )
        }
    };
    let select = match selection(&select_param, request_id) {
        Ok(s) => s,
        Err(a) => return a,
    };
    let tenant = state.tenant();
    let Some(members) = tenant.transitive_members(group_id) else {
        return Answer::error(
            StatusCode::NOT_FOUND,
            "Request_ResourceNotFound",
            &format!(
                "Resource '{group_id}' does not exist or one of its queried reference-property objects are not present."
            ),
            request_id,
            Outcome::Error,
        );
    };
    let mut members: Vec<(String, Member)> = members
        .into_iter()
        .map(|m| {
            let id = match &m {
                Member::User { id } | Member::Group { id } | Member::Contact { id, .. } => {
                    id.to_ascii_lowercase()
                }
            };
            (id, m)
        })
        .filter(|(id, _)| after.as_deref().is_none_or(|a| id.as_str() > a))
        .collect();
    members.sort_by(|a, b| a.0.cmp(&b.0));
    let more = members.len() > top;
    members.truncate(top);
    let objects: Vec<DirectoryObject> = members
        .iter()
        .filter_map(|(_, m)| match m {
            Member::User { id } => {
                let p = tenant.find_id(id).and_then(|i| tenant.people.get(i))?;
                Some(DirectoryObject::user(&record(p), &select, true))
            }
            Member::Group { id } => {
                let name = tenant.group(id).map_or("", |g| g.name.as_str());
                Some(DirectoryObject::other(GROUP_TYPE, id, name, None))
            }
            Member::Contact { id, name, mail } => Some(DirectoryObject::other(
                ORG_CONTACT_TYPE,
                id,
                name,
                Some(mail),
            )),
        })
        .collect();
    drop(tenant);
    let next = match members.last() {
        Some((last, _)) if more => {
            let token = encode(&["members", &top.to_string(), last, &select_param]);
            Some(next_link(
                state,
                &format!("/v1.0/groups/{group_id}/transitiveMembers?$skiptoken={token}"),
            ))
        }
        _ => None,
    };
    let page = DirectoryPage {
        context: Some(DirectoryPage::directory_objects_context()),
        objects,
        next_link: next,
        ..DirectoryPage::default()
    };
    Answer::ok(page.to_json(), Outcome::Success)
}

fn expired_page_token(request_id: &str) -> Answer {
    Answer::bad_request(
        "Directory_ExpiredPageToken",
        "The specified page token value has expired and can no longer be included in your request.",
        request_id,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_carry_the_round() {
        let round = Round {
            since: Some(4),
            upto: 9,
            after: None,
            select: "id,mail".into(),
        };
        let mut tenant = Tenant::default();
        tenant.directory_version = 9;
        tenant.delta_epoch = 77;
        let token = round_skip_token(77, &round, "abc");
        let q = vec![("$skiptoken".to_owned(), token)];
        assert_eq!(
            round_of(&tenant, &Query(&q)),
            Some(Round {
                after: Some("abc".into()),
                ..round.clone()
            })
        );
        // Another epoch (tokens expired), a version from the future, or garbage: not accepted.
        tenant.delta_epoch = 78;
        assert_eq!(round_of(&tenant, &Query(&q)), None);
        for token in [
            delta_token(78, 10, ""),
            "%%%".to_owned(),
            encode(&["delta"]),
        ] {
            let q = vec![("$deltatoken".to_owned(), token)];
            assert_eq!(round_of(&tenant, &Query(&q)), None);
        }
        let q = vec![("$deltatoken".to_owned(), delta_token(78, 3, "mail"))];
        assert_eq!(
            round_of(&tenant, &Query(&q)),
            Some(Round {
                since: Some(3),
                upto: 9,
                after: None,
                select: "mail".into()
            })
        );
    }
}
