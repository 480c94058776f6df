//! What one read brings back inside the engine, shared by the read path,
//! the miss path and the report.

use std::time::Duration;

use bytes::Bytes;

use crate::digest::Digest;
use crate::outcome::Outcome;

/// What the caller of the engine wants back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Want {
    Value,
    Json,
    /// Both, for a value shared with the other callers of a flight.
    Both,
}

/// A value, its JSON, or both (a fetched value has both; a hit has the
/// one that was wanted), and what a report says of it.
#[derive(Debug, Clone)]
pub(crate) struct Answer<T> {
    pub(crate) value: Option<T>,
    pub(crate) json: Option<Bytes>,
    /// The JSON's digest, when the envelope or the store step knows it.
    pub(crate) digest: Option<Digest>,
    /// A fresh hit's remaining freshness.
    pub(crate) fresh_for: Option<Duration>,
    /// A fetched value was written to the store.
    pub(crate) stored: bool,
}

impl<T> Answer<T> {
    pub(crate) fn value(value: T) -> Self {
        Answer { value: Some(value), json: None, digest: None, fresh_for: None, stored: false }
    }
}

/// What a stored entry is worth to a read.
pub(crate) enum Classified<T> {
    Fresh(Answer<T>),
    Stale(Answer<T>, Vec<u64>),
    Invalid,
    /// Nothing servable: `stored` when an entry was there but outdated
    /// (invalidated or expired), not when the key held nothing.
    Absent {
        stored: bool,
    },
}

/// How one read went so far, kept by the read itself (each read in
/// progress has its own, so two at once never mix) and turned into its
/// report when it ends.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Trace {
    /// `None` when nothing was recorded: the cache is off, the source answered.
    pub(crate) outcome: Option<Outcome>,
    /// A miss of a key the store did not hold at all.
    pub(crate) absent: bool,
}
