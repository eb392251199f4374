//! Mailboxes split into a fixed number of shards, so several gateways sharing one database can
//! divide the fetching: each holds leases on some shards and fetches only their mailboxes.
//!
//! The shard of a mailbox is FNV-1a (64-bit) of its trimmed, lower-cased address, modulo
//! [`SHARDS`]. It must never change between releases or processes (a `RandomState` hash would
//! differ per process and two gateways would disagree about who fetches whom), so it is written
//! out here rather than taken from a hasher with a seed.

/// How many shards the mailboxes are split into. Also the number of lease rows in the store.
pub const SHARDS: u16 = 64;

/// A shard number, `0..SHARDS`.
pub type Shard = u16;

/// The shard of `mailbox` (case and surrounding spaces ignored).
pub fn shard_of(mailbox: &str) -> Shard {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut hash = OFFSET;
    for c in mailbox.trim().chars().flat_map(char::to_lowercase) {
        let mut buf = [0u8; 4];
        for byte in c.encode_utf8(&mut buf).bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(PRIME);
        }
    }
    // The remainder is below SHARDS, so it fits.
    u16::try_from(hash % u64::from(SHARDS)).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shard_is_fixed_and_ignores_case() {
        // FNV-1a of "a" is 0xaf63dc4c8601ec8c (the published test vector).
        assert_eq!(shard_of("a"), (0xaf63_dc4c_8601_ec8c_u64 % 64) as u16);
        assert_eq!(
            shard_of(" Anna.Rossi@Contoso.com "),
            shard_of("anna.rossi@contoso.com")
        );
        // Spread: 6 400 addresses fill every shard.
        let mut counts = [0u32; SHARDS as usize];
        for i in 0..6_400 {
            counts[usize::from(shard_of(&format!("user{i}@contoso.com")))] += 1;
        }
        assert!(counts.iter().all(|c| (50..=150).contains(c)), "{counts:?}");
    }
}
