//! Automatic replies already read (EWS GetMailTips, Graph getMailTips), by mailbox, so a
//! refresh does not ask for them again. People stay away for days and rarely edit the text;
//! asking at every refresh nearly doubled the requests a refresh sends (one mail-tips request
//! beside almost every availability request). A reply is reused for [`REPLY_REUSE`].

use std::collections::HashMap;

use calgate_core::{Availability, BusyType, OutOfOffice};
use jiff::{SignedDuration, Timestamp};

/// How long an automatic reply is reused.
pub const REPLY_REUSE: SignedDuration = SignedDuration::from_hours(1);

/// Replies by lower-case address, with when they were read.
#[derive(Debug, Default)]
pub struct ReplyCache {
    /// `None`: the server said no automatic reply is set.
    by_mailbox: HashMap<String, (Timestamp, Option<OutOfOffice>)>,
    last_pruned: Option<Timestamp>,
}

impl ReplyCache {
    /// The reply read within the reuse period (`Some(None)`: the server said none is set), by
    /// lower-case address.
    pub fn fresh(&self, mailbox: &str, now: Timestamp) -> Option<&Option<OutOfOffice>> {
        self.by_mailbox
            .get(mailbox)
            .filter(|(at, _)| now.duration_since(*at) < REPLY_REUSE)
            .map(|(_, reply)| reply)
    }

    /// For each answer showing its person out of office at `now`: a reply read within the reuse
    /// period is handed to `apply`; the addresses with none are returned, to ask the server.
    /// `key` turns an answer's address into the cache's lower-case one.
    pub fn reuse(
        &self,
        availabilities: &mut [Availability],
        now: Timestamp,
        key: impl Fn(&str) -> String,
        mut apply: impl FnMut(&mut Availability, &OutOfOffice),
    ) -> Vec<String> {
        let mut to_ask = Vec::new();
        for a in availabilities.iter_mut() {
            if !out_of_office_now(a, now) {
                continue;
            }
            match self.fresh(&key(&a.mailbox), now) {
                Some(Some(reply)) => apply(a, reply),
                Some(None) => {}
                None => to_ask.push(a.mailbox.clone()),
            }
        }
        to_ask
    }

    /// Records what the server said for a lower-case address.
    pub fn put(&mut self, mailbox: String, reply: Option<OutOfOffice>, now: Timestamp) {
        // Entries of people back at work are dropped once per reuse period: the map holds
        // at most the people away within the last hour or so.
        if self
            .last_pruned
            .is_none_or(|t| now.duration_since(t) >= REPLY_REUSE)
        {
            self.by_mailbox
                .retain(|_, (at, _)| now.duration_since(*at) < REPLY_REUSE);
            self.last_pruned = Some(now);
        }
        self.by_mailbox.insert(mailbox, (now, reply));
    }
}

/// A reply as operators read it: its message as plain text (servers send HTML).
pub(crate) fn readable(reply: Option<OutOfOffice>) -> Option<OutOfOffice> {
    reply.map(|mut r| {
        r.message = r.message.as_deref().map(calgate_core::text::plain_text);
        r
    })
}

/// Whether the fetched data shows the mailbox out of office at `now`.
fn out_of_office_now(availability: &Availability, now: Timestamp) -> bool {
    availability.error.is_none()
        && availability
            .events
            .iter()
            .any(|e| e.busy_type == BusyType::Oof && e.covers(now))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(text: &str) -> Option<OutOfOffice> {
        Some(OutOfOffice {
            message: Some(text.to_string()),
            ..OutOfOffice::default()
        })
    }

    #[test]
    fn a_reply_is_reused_within_the_period_and_asked_again_after() {
        let t0 = Timestamp::UNIX_EPOCH + SignedDuration::from_hours(1000);
        let mut cache = ReplyCache::default();
        cache.put("anna@contoso.com".into(), reply("Back Monday"), t0);
        cache.put("bruno@contoso.com".into(), None, t0);
        let soon = t0 + SignedDuration::from_mins(59);
        assert_eq!(
            cache.fresh("anna@contoso.com", soon),
            Some(&reply("Back Monday"))
        );
        assert_eq!(
            cache.fresh("bruno@contoso.com", soon),
            Some(&None),
            "none set is known"
        );
        assert_eq!(cache.fresh("carla@contoso.com", soon), None, "never asked");
        assert_eq!(
            cache.fresh("anna@contoso.com", t0 + REPLY_REUSE),
            None,
            "expired"
        );
    }

    #[test]
    fn entries_of_people_no_longer_asked_about_are_dropped() {
        let t0 = Timestamp::UNIX_EPOCH + SignedDuration::from_hours(1000);
        let mut cache = ReplyCache::default();
        for i in 0..100 {
            cache.put(format!("p{i}@contoso.com"), None, t0);
        }
        // Two periods later one more answer arrives: the hundred old ones go.
        cache.put("new@contoso.com".into(), None, t0 + REPLY_REUSE * 2);
        assert_eq!(cache.by_mailbox.len(), 1);
    }
}
