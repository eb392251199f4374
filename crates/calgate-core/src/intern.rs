//! One shared copy of each event subject and location, and of each set of working hours.
//!
//! A calendar repeats its words: a team's standup, a recurring 1:1, the same meeting in every
//! attendee's calendar, a handful of rooms. With 100 000 people watched over a working day the
//! gateway holds about a million subjects and locations, nearly all of them repeats; as one
//! `String` each they took about 30 MB of small allocations. [`intern`] hands out one shared
//! `Arc<str>` per distinct text instead. Working hours repeat the same way (a few zones, a few
//! office hours): [`share_working_hours`] keeps one copy of each.
//!
//! A table holds only values still in use somewhere: when it has doubled since it was last
//! pruned, the values nobody else holds any more are dropped, so its size follows what the
//! watched calendars say now, not everything ever read.

use std::borrow::Borrow;
use std::collections::HashSet;
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::WorkingHours;

/// A table is pruned when it is at least this long and has doubled since the last pruning.
const PRUNE_FROM: usize = 4_096;

struct Table<T: ?Sized> {
    values: HashSet<Arc<T>>,
    /// Length after the last pruning.
    kept: usize,
}

impl<T: ?Sized + Hash + Eq> Table<T> {
    /// The shared copy of `value`, made by `make` the first time.
    fn share<Q>(&mut self, value: &Q, make: impl FnOnce(&Q) -> Arc<T>) -> Arc<T>
    where
        Arc<T>: Borrow<Q>,
        Q: ?Sized + Hash + Eq,
    {
        if let Some(found) = self.values.get(value) {
            return found.clone();
        }
        if self.values.len() >= PRUNE_FROM.max(self.kept * 2) {
            self.values.retain(|v| Arc::strong_count(v) > 1);
            self.values.shrink_to_fit();
            self.kept = self.values.len();
        }
        let shared = make(value);
        self.values.insert(shared.clone());
        shared
    }
}

type Slot<T> = Mutex<Option<Table<T>>>;

static TEXTS: Slot<str> = Mutex::new(None);
static HOURS: Slot<WorkingHours> = Mutex::new(None);

fn lock<T: ?Sized>(slot: &'static Slot<T>) -> MutexGuard<'static, Option<Table<T>>> {
    // A table is only ever a cache: a panic elsewhere cannot leave it wrong.
    slot.lock().unwrap_or_else(|e| e.into_inner())
}

fn new_table<T: ?Sized>() -> Table<T> {
    Table {
        values: HashSet::new(),
        kept: 0,
    }
}

/// The shared copy of `text`.
pub fn intern(text: &str) -> Arc<str> {
    lock(&TEXTS)
        .get_or_insert_with(new_table)
        .share(text, |t: &str| Arc::from(t))
}

/// The shared copy of a set of working hours.
pub fn share_working_hours(hours: WorkingHours) -> Arc<WorkingHours> {
    lock(&HOURS)
        .get_or_insert_with(new_table)
        .share(&hours, |h| Arc::new(h.clone()))
}

/// How many distinct texts the table holds now (for tests).
pub fn table_len() -> usize {
    lock(&TEXTS).as_ref().map_or(0, |t| t.values.len())
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

/// Serde helpers for `Option<Arc<WorkingHours>>`, read through [`share_working_hours`].
pub mod serde_hours {
    use std::sync::Arc;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use crate::WorkingHours;

    pub fn serialize<S: Serializer>(
        hours: &Option<Arc<WorkingHours>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        hours.as_deref().serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Arc<WorkingHours>>, D::Error> {
        Ok(Option::<WorkingHours>::deserialize(d)?.map(super::share_working_hours))
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

    #[test]
    fn equal_working_hours_share_one_copy() {
        use crate::{Weekday, WorkTimeZone, WorkingPeriod};
        let hours = |zone: &str| WorkingHours {
            time_zone: WorkTimeZone::Iana(zone.to_owned()),
            periods: vec![WorkingPeriod {
                days: vec![Weekday::Mon, Weekday::Fri],
                start_minute: 480,
                end_minute: 1020,
            }],
        };
        let a = share_working_hours(hours("Europe/Rome"));
        let b = share_working_hours(hours("Europe/Rome"));
        let c = share_working_hours(hours("Europe/Paris"));
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &c));
        assert_eq!(*a, hours("Europe/Rome"));
    }
}
