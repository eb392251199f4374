//! One shared copy of each event subject and location.
//!
//! A calendar repeats its words: a team's standup, a recurring 1:1, the same meeting in every
//! attendee's calendar, a handful of rooms. With 100 000 people watched over a working day the
//! gateway holds about a million subjects and locations, nearly all of them repeats; as one
//! `String` each they took about 30 MB of small allocations. [`intern`] hands out one shared
//! `Arc<str>` per distinct text instead.
//!
//! The table holds only texts still in use somewhere: when it has doubled since it was last
//! pruned, the texts nobody else holds any more are dropped, so its size follows what the
//! watched calendars say now, not everything ever read.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, MutexGuard};

/// The table is pruned when it is at least this long and has doubled since the last pruning.
const PRUNE_FROM: usize = 4_096;

#[derive(Default)]
struct Table {
    texts: HashSet<Arc<str>>,
    /// Length after the last pruning.
    kept: usize,
}

static TABLE: Mutex<Option<Table>> = Mutex::new(None);

fn table() -> MutexGuard<'static, Option<Table>> {
    // The table is only ever a cache: a panic elsewhere cannot leave it wrong.
    TABLE.lock().unwrap_or_else(|e| e.into_inner())
}

/// The shared copy of `text`.
pub fn intern(text: &str) -> Arc<str> {
    let mut guard = table();
    let table = guard.get_or_insert_with(Table::default);
    if let Some(found) = table.texts.get(text) {
        return found.clone();
    }
    if table.texts.len() >= PRUNE_FROM.max(table.kept * 2) {
        table.texts.retain(|t| Arc::strong_count(t) > 1);
        table.texts.shrink_to_fit();
        table.kept = table.texts.len();
    }
    let shared: Arc<str> = Arc::from(text);
    table.texts.insert(shared.clone());
    shared
}

/// How many distinct texts the table holds now (for tests).
pub fn table_len() -> usize {
    table().as_ref().map_or(0, |t| t.texts.len())
}

/// Serde helpers for `Option<Arc<str>>` fields read through [`intern`], so data read back
/// from disk shares its texts like data read from a source.
pub mod serde_opt {
    use std::sync::Arc;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(text: &Option<Arc<str>>, s: S) -> Result<S::Ok, S::Error> {
        match text {
            Some(t) => s.serialize_some(&**t),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Arc<str>>, D::Error> {
        // A borrowed `&str` fails on JSON text with escapes; `Cow` takes both.
        let text: Option<std::borrow::Cow<'de, str>> = Option::deserialize(d)?;
        Ok(text.map(|t| super::intern(&t)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_texts_share_one_copy() {
        let a = intern("Interned: sprint planning");
        let b = intern(&String::from("Interned: sprint planning"));
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(&*a, "Interned: sprint planning");
        let c = intern("Interned: design review");
        assert!(!Arc::ptr_eq(&a, &c));
    }

    #[test]
    fn texts_no_one_holds_are_dropped_when_the_table_grows() {
        // Other tests use the table at the same time: only what this test holds is checked.
        let kept = intern("Interned: kept while held");
        for i in 0..(4 * PRUNE_FROM) {
            drop(intern(&format!("Interned: passing text {i}")));
        }
        assert!(table_len() < 3 * PRUNE_FROM, "{} texts kept", table_len());
        assert!(Arc::ptr_eq(&kept, &intern("Interned: kept while held")));
    }
}
