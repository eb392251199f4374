//! What a directory reader answers.

use calgate_core::Code;
use serde::Serialize;

/// One person of a directory, mapped through the directory's attribute names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// The directory's own id of the entry, stable across renames: Graph's user `id`, LDAP's
    /// `entryUUID`/`objectGUID` (or the DN when the server has neither). A delta's removals
    /// name people by it.
    pub id: String,
    /// The primary SMTP address, lower-cased.
    pub email: String,
    /// The display name (the address when the directory has none).
    pub name: String,
    pub extension: Option<String>,
    /// The source the person's mailbox is read from (hybrid routing), when the directory's
    /// `source` attribute names one.
    pub source: Option<String>,
}

/// Every person, or the changes since the last read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listing {
    /// Everyone the directory lists now.
    Full(Vec<Entry>),
    /// What changed since the delta token the read started from: people added or changed, and
    /// the ids of people removed (deleted, disabled, or no longer matching).
    Changes {
        changed: Vec<Entry>,
        removed_ids: Vec<String>,
    },
}

/// Something a reader skipped or noticed without failing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub code: Code,
    /// Plain words for the admin: which entry and why. Never a secret.
    pub message: String,
}

/// A reader's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Read {
    pub listing: Listing,
    pub warnings: Vec<Warning>,
    /// Where the next read continues from (Graph's delta link), when the directory offers one.
    pub delta: Option<String>,
}

/// A read that failed: nothing is changed because of it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ReadError {
    pub code: Code,
    /// Plain words for the admin. Never a secret.
    pub message: String,
}

impl ReadError {
    pub fn new(code: Code, message: impl Into<String>) -> ReadError {
        ReadError {
            code,
            message: message.into(),
        }
    }
}
