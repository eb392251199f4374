//! The id of a status change on the stream: the board's epoch and the change's sequence number,
//! written `EPOCH-SEQ` (16 lowercase hex digits, a dash, a decimal number).
//!
//! Sequence numbers start again at 1 with every process, so a number alone would let a client
//! resuming after a restart skip every change up to its old number. The epoch is drawn at random
//! when a board is made: an id from another epoch is not resumable and gets a fresh snapshot.

use std::fmt;

/// A stream position that a client may present as `Last-Event-ID`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EventId {
    pub epoch: u64,
    pub seq: u64,
}

/// Longest text [`EventId::parse`] looks at: 16 hex digits, a dash and 20 decimal digits.
const MAX_LEN: usize = 16 + 1 + 20;

impl EventId {
    /// Reads an id as written by `Display`; anything else (an old plain number, a forged or
    /// overlong value) is `None`, which a stream answers with a snapshot.
    pub fn parse(text: &str) -> Option<EventId> {
        let text = text.trim();
        if text.len() > MAX_LEN {
            return None;
        }
        let (epoch, seq) = text.split_once('-')?;
        let hex = |c: u8| c.is_ascii_digit() || (b'a'..=b'f').contains(&c);
        if epoch.len() != 16 || !epoch.bytes().all(hex) {
            return None;
        }
        if seq.is_empty() || !seq.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        Some(EventId {
            epoch: u64::from_str_radix(epoch, 16).ok()?,
            seq: seq.parse().ok()?,
        })
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}-{}", self.epoch, self.seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_reads_back_as_written() {
        for id in [
            EventId { epoch: 0, seq: 0 },
            EventId {
                epoch: 0x0123_4567_89ab_cdef,
                seq: 42,
            },
            EventId {
                epoch: u64::MAX,
                seq: u64::MAX,
            },
        ] {
            assert_eq!(EventId::parse(&id.to_string()), Some(id));
        }
        assert_eq!(
            EventId::parse(" 00000000000000ff-7 "),
            Some(EventId { epoch: 255, seq: 7 })
        );
    }

    #[test]
    fn anything_else_is_not_an_id() {
        for text in [
            "",
            "17",
            "-1",
            "00000000000000ff",
            "00000000000000ff-",
            "00000000000000FF-1",
            "0000000000000ff-1",
            "000000000000000ff-1",
            "00000000000000ff-+1",
            "00000000000000ff--1",
            "00000000000000ff-1-2",
            "00000000000000ff-18446744073709551616",
            "zzzzzzzzzzzzzzzz-1",
            "00000000000000ff-\u{0661}",
        ] {
            assert_eq!(EventId::parse(text), None, "{text:?}");
        }
    }
}
