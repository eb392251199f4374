//! The safe sync: what a directory's answer changes in the watch list, decided before anything
//! is written.
//!
//! A directory adds, updates and removes only its own people (those whose origin is the
//! directory), never people watched by hand, imported, or synced from another directory. An
//! answer with nobody in it never empties the list, and when a sync would remove more than the
//! directory's share of its people the removals are held (adds and updates still go through)
//! until an administrator confirms.

use std::collections::{HashMap, HashSet};

use calgate_core::Code;
use serde::Serialize;

use crate::entry::{Entry, Listing, Read, Warning};

/// A watched person the directory synced before, as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Synced {
    pub email: String,
    pub name: String,
    pub extension: Option<String>,
    /// The source the directory routed the mailbox to.
    pub source: Option<String>,
    /// The directory's id of the entry.
    pub id: Option<String>,
}

/// What the plan is made against.
#[derive(Debug)]
pub struct Current<'a> {
    /// The directory's own people.
    pub own: &'a [Synced],
    /// Every other watched address (manual, imported, other directories), lower-cased.
    pub others: &'a HashSet<String>,
    /// The sources a person may be routed to.
    pub sources: &'a [String],
}

/// How a sync may remove.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    /// The largest share of the directory's people one sync removes without confirmation.
    pub max_removal_share: f64,
    /// The administrator confirmed the removals of a held sync.
    pub confirm_removals: bool,
}

/// One change of a person's fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Update {
    pub entry: Entry,
    /// The fields that change: `name`, `extension`, `source`, `id`.
    pub fields: Vec<&'static str>,
}

/// What a sync writes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub add: Vec<Entry>,
    pub update: Vec<Update>,
    /// Addresses to stop watching (empty when held).
    pub remove: Vec<String>,
    /// Addresses that would be removed but are held for confirmation.
    pub held_removals: Vec<String>,
    pub unchanged: usize,
    #[serde(skip)]
    pub warnings: Vec<Warning>,
}

impl Plan {
    /// The removals wait for an administrator.
    pub fn held(&self) -> bool {
        !self.held_removals.is_empty()
    }

    /// Nothing to write.
    pub fn is_empty(&self) -> bool {
        self.add.is_empty() && self.update.is_empty() && self.remove.is_empty()
    }
}

/// The plan for `read` against `current`.
pub fn plan(read: &Read, current: &Current<'_>, rules: Rules) -> Plan {
    let mut plan = Plan {
        warnings: read.warnings.clone(),
        ..Plan::default()
    };
    let by_email: HashMap<&str, &Synced> =
        current.own.iter().map(|s| (s.email.as_str(), s)).collect();
    let by_id: HashMap<&str, &Synced> = current
        .own
        .iter()
        .filter_map(|s| s.id.as_deref().map(|id| (id, s)))
        .collect();
    let mut removals: Vec<String> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();

    let changed: &[Entry] = match &read.listing {
        Listing::Full(entries) => entries,
        Listing::Changes { changed, .. } => changed,
    };
    for entry in changed {
        let entry = tidy(entry, current.sources, &mut plan.warnings);
        if !seen.insert(entry.email.clone()) {
            plan.warnings.push(Warning {
                code: Code::DirectoryEntrySkipped,
                message: format!(
                    "{} is listed twice in the directory; the first entry is used",
                    entry.email
                ),
            });
            continue;
        }
        if current.others.contains(&entry.email) {
            plan.warnings.push(Warning {
                code: Code::DirectoryEntrySkipped,
                message: format!(
                    "{} is already watched (added by hand, imported or from another directory) \
                     and is left as it is",
                    entry.email
                ),
            });
            continue;
        }
        // A renamed address: the entry's id was synced under another address.
        if let Some(old) = entry.id_key().and_then(|id| by_id.get(id))
            && old.email != entry.email
        {
            removals.push(old.email.clone());
        }
        match by_email.get(entry.email.as_str()) {
            None => plan.add.push(entry),
            Some(old) => {
                let fields = changed_fields(old, &entry);
                if fields.is_empty() {
                    plan.unchanged += 1;
                } else {
                    plan.update.push(Update { entry, fields });
                }
            }
        }
    }
    match &read.listing {
        Listing::Full(_) => {
            removals.extend(
                current
                    .own
                    .iter()
                    .filter(|s| !seen.contains(&s.email))
                    .map(|s| s.email.clone()),
            );
        }
        Listing::Changes { removed_ids, .. } => {
            for id in removed_ids {
                if let Some(old) = by_id.get(id.as_str())
                    && !seen.contains(&old.email)
                {
                    removals.push(old.email.clone());
                }
            }
        }
    }
    removals.sort();
    removals.dedup();
    // An empty full answer never empties the list.
    let empty_answer = matches!(&read.listing, Listing::Full(e) if e.is_empty());
    if empty_answer && !current.own.is_empty() {
        plan.warnings.push(Warning {
            code: Code::DirectoryEmptyAnswer,
            message: "the directory listed nobody; no one was removed".to_string(),
        });
        plan.held_removals = removals;
        return plan;
    }
    let limit = allowed_removals(current.own.len(), rules.max_removal_share);
    if removals.len() > limit && !rules.confirm_removals {
        plan.warnings.push(Warning {
            code: Code::DirectoryMassRemovalHeld,
            message: format!(
                "the sync would remove {} of {} people (more than {:.0} %); nothing was removed \
                 until an administrator confirms",
                removals.len(),
                current.own.len(),
                rules.max_removal_share * 100.0
            ),
        });
        plan.held_removals = removals;
    } else {
        plan.remove = removals;
    }
    plan
}

/// The most people a sync removes without confirmation (at least one, so a directory of a
/// handful can lose one person).
fn allowed_removals(own: usize, share: f64) -> usize {
    let share = if share.is_finite() {
        share.clamp(0.0, 1.0)
    } else {
        0.0
    };
    // Whole people: 20 % of 7 is 1.
    let limit = (own as f64 * share).floor() as usize;
    limit.max(usize::from(share > 0.0))
}

/// The entry as the plan compares it: a route to a source that does not exist is dropped with
/// a warning (the person is still watched, on the default routing).
fn tidy(entry: &Entry, sources: &[String], warnings: &mut Vec<Warning>) -> Entry {
    let mut entry = entry.clone();
    entry.email = entry.email.trim().to_lowercase();
    if let Some(source) = &entry.source
        && !sources.iter().any(|s| s == source)
    {
        warnings.push(Warning {
            code: Code::DirectoryEntrySkipped,
            message: format!(
                "{} names the source {source:?}, which is not configured; it is read through \
                 the routing table instead",
                entry.email
            ),
        });
        entry.source = None;
    }
    entry
}

impl Entry {
    fn id_key(&self) -> Option<&str> {
        (!self.id.is_empty()).then_some(self.id.as_str())
    }
}

fn changed_fields(old: &Synced, new: &Entry) -> Vec<&'static str> {
    let mut fields = Vec::new();
    if old.name != new.name {
        fields.push("name");
    }
    if old.extension != new.extension {
        fields.push("extension");
    }
    if old.source != new.source {
        fields.push("source");
    }
    if old.id.as_deref() != new.id_key() {
        fields.push("id");
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(n: usize) -> Entry {
        Entry {
            id: format!("id-{n}"),
            email: format!("p{n}@contoso.com"),
            name: format!("Person {n}"),
            extension: Some(format!("{}", 1000 + n)),
            source: None,
        }
    }

    fn synced(n: usize) -> Synced {
        let e = entry(n);
        Synced {
            email: e.email,
            name: e.name,
            extension: e.extension,
            source: None,
            id: Some(e.id),
        }
    }

    fn full(entries: Vec<Entry>) -> Read {
        Read {
            listing: Listing::Full(entries),
            warnings: Vec::new(),
            delta: None,
        }
    }

    const RULES: Rules = Rules {
        max_removal_share: 0.2,
        confirm_removals: false,
    };

    #[test]
    fn an_unchanged_answer_writes_nothing() {
        let own: Vec<Synced> = (0..100).map(synced).collect();
        let others = HashSet::new();
        let current = Current {
            own: &own,
            others: &others,
            sources: &[],
        };
        let p = plan(&full((0..100).map(entry).collect()), &current, RULES);
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(p.unchanged, 100);
    }

    #[test]
    fn ten_percent_go_sixty_percent_are_held_until_confirmed() {
        let own: Vec<Synced> = (0..100).map(synced).collect();
        let others = HashSet::new();
        let current = Current {
            own: &own,
            others: &others,
            sources: &[],
        };
        let p = plan(&full((10..100).map(entry).collect()), &current, RULES);
        assert_eq!(p.remove.len(), 10);
        assert!(!p.held());

        let p = plan(&full((60..100).map(entry).collect()), &current, RULES);
        assert!(p.remove.is_empty());
        assert_eq!(p.held_removals.len(), 60);
        assert!(
            p.warnings
                .iter()
                .any(|w| w.code == Code::DirectoryMassRemovalHeld)
        );

        let confirmed = Rules {
            confirm_removals: true,
            ..RULES
        };
        let p = plan(&full((60..100).map(entry).collect()), &current, confirmed);
        assert_eq!(p.remove.len(), 60);
    }

    #[test]
    fn an_empty_answer_never_empties_the_list_even_when_confirmed() {
        let own: Vec<Synced> = (0..3).map(synced).collect();
        let others = HashSet::new();
        let current = Current {
            own: &own,
            others: &others,
            sources: &[],
        };
        let confirmed = Rules {
            max_removal_share: 1.0,
            confirm_removals: true,
        };
        let p = plan(&full(Vec::new()), &current, confirmed);
        assert!(p.remove.is_empty());
        assert_eq!(p.held_removals.len(), 3);
        assert!(
            p.warnings
                .iter()
                .any(|w| w.code == Code::DirectoryEmptyAnswer)
        );
    }

    #[test]
    fn manual_people_are_never_touched_and_changes_are_seen() {
        let own: Vec<Synced> = (0..10).map(synced).collect();
        let others: HashSet<String> = ["p20@contoso.com".to_string()].into();
        let current = Current {
            own: &own,
            others: &others,
            sources: &["online".to_string()],
        };
        let mut entries: Vec<Entry> = (0..10).map(entry).collect();
        entries[0].name = "Renamed".into();
        entries[1].source = Some("online".into());
        entries[2].source = Some("nowhere".into());
        entries.push(entry(20));
        entries.push(entry(21));
        let p = plan(&full(entries), &current, RULES);
        assert_eq!(p.add.len(), 1, "p21 only: p20 is manual");
        assert_eq!(p.add[0].email, "p21@contoso.com");
        assert_eq!(p.update.len(), 2);
        assert_eq!(p.update[0].fields, vec!["name"]);
        assert_eq!(p.update[1].fields, vec!["source"]);
        assert_eq!(
            p.unchanged, 8,
            "p2's unknown source is dropped, so it is unchanged"
        );
        assert!(p.remove.is_empty());
        assert_eq!(p.warnings.len(), 2);
    }

    #[test]
    fn a_delta_removes_by_id_and_follows_a_renamed_address() {
        let own: Vec<Synced> = (0..10).map(synced).collect();
        let others = HashSet::new();
        let current = Current {
            own: &own,
            others: &others,
            sources: &[],
        };
        let mut renamed = entry(3);
        renamed.email = "p3.new@contoso.com".into();
        let read = Read {
            listing: Listing::Changes {
                changed: vec![renamed, entry(11)],
                removed_ids: vec!["id-5".into(), "id-unknown".into()],
            },
            warnings: Vec::new(),
            delta: Some("next".into()),
        };
        let p = plan(&read, &current, RULES);
        assert_eq!(p.add.len(), 2);
        assert_eq!(p.remove, vec!["p3@contoso.com", "p5@contoso.com"]);
        assert_eq!(p.unchanged, 0);
    }

    #[test]
    fn small_directories_may_lose_one() {
        assert_eq!(allowed_removals(3, 0.2), 1);
        assert_eq!(allowed_removals(100, 0.2), 20);
        assert_eq!(allowed_removals(100, 0.0), 0);
        assert_eq!(allowed_removals(100, f64::NAN), 0);
    }
}
