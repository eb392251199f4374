//! Microsoft Teams presence beside the calendar: what Teams says a person is doing now
//! (`Busy`/`InACall`, `DoNotDisturb`/`Presenting`…), kept apart from the calendar status. It
//! never changes that status (out of office stays out of office), and a presence that could not
//! be read is `PresenceUnknown`, never `Available`.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Graph's word for a presence it does not know, for availability and activity alike.
pub const PRESENCE_UNKNOWN: &str = "PresenceUnknown";

/// One person's presence as last read. Values are Graph's strings, kept as written so a value
/// Graph adds later is shown as it is rather than dropped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Presence {
    pub availability: String,
    pub activity: String,
    /// When it was read (or found unreadable).
    pub as_of: Timestamp,
}

impl Presence {
    pub fn new(availability: &str, activity: &str, as_of: Timestamp) -> Presence {
        Presence {
            availability: availability.to_owned(),
            activity: activity.to_owned(),
            as_of,
        }
    }

    /// A presence that could not be read.
    pub fn unknown(as_of: Timestamp) -> Presence {
        Presence::new(PRESENCE_UNKNOWN, PRESENCE_UNKNOWN, as_of)
    }

    pub fn is_known(&self) -> bool {
        self.availability != PRESENCE_UNKNOWN
    }

    /// Whether an operator would see a difference (the time it was read alone is none).
    pub fn differs_from(&self, other: &Presence) -> bool {
        self.availability != other.availability || self.activity != other.activity
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_is_never_available() {
        let now = Timestamp::UNIX_EPOCH;
        let unknown = Presence::unknown(now);
        assert!(!unknown.is_known());
        assert_ne!(unknown.availability, "Available");
        assert!(Presence::new("Busy", "InACall", now).is_known());
        let later = Presence::new("Busy", "InACall", now + jiff::SignedDuration::from_secs(30));
        assert!(!later.differs_from(&Presence::new("Busy", "InACall", now)));
        assert!(later.differs_from(&Presence::new("Busy", "InAMeeting", now)));
    }
}
