//! The cache outbox: a durable note, written in a mutation's own
//! transaction, that one user's cached data may be out of date until the
//! invalidation of that mutation has been applied.
//!
//! The service applies the invalidation after the commit and then marks the
//! row done (deletes it). A row that stays (the store was down, or the
//! process died in between) is drained later by bumping the user's epoch,
//! which forgets every entry of that user in O(1).

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use macrotrack_domain::UserId;

use crate::Unavailable;

/// The id of one outbox row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OutboxId(pub i64);

impl fmt::Display for OutboxId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// What a mutation returns once its transaction has committed: its value
/// and the outbox row it wrote in that same transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Committed<T> {
    /// What the mutation answers.
    pub value: T,
    /// Its outbox row, deleted once its invalidation is applied.
    pub outbox: OutboxId,
}

impl<T> Committed<T> {
    /// `value`, committed with `outbox`.
    pub fn new(value: T, outbox: OutboxId) -> Self {
        Committed { value, outbox }
    }
}

/// How far behind the drain is: what operators watch (`/metrics`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OutboxBacklog {
    /// Rows waiting, whatever their age.
    pub rows: u64,
    /// When the oldest of them was written; `None` without rows.
    pub oldest: Option<DateTime<Utc>>,
}

/// Reads and clears the cache outbox.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait OutboxRepository: Send + Sync + 'static {
    /// MUST delete the rows `ids`, in one statement; deleting a row that is
    /// already gone is not an error (another instance may have drained it).
    async fn done(&self, ids: &[OutboxId]) -> Result<(), Unavailable>;

    /// MUST return at most `limit` rows created at least `older_than` ago,
    /// oldest first, with the user each is about.
    async fn pending(&self, older_than: Duration, limit: u32) -> Result<Vec<(OutboxId, UserId)>, Unavailable>;

    /// MUST return every user that has at least one row, whatever its age,
    /// each once.
    async fn pending_users(&self) -> Result<Vec<UserId>, Unavailable>;

    /// MUST count every row, whatever its age, and give the creation time
    /// of the oldest, in one query.
    async fn backlog(&self) -> Result<OutboxBacklog, Unavailable>;
}
