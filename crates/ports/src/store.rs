//! The cache-store port: the few atomic primitives the engine is built on.
//!
//! Entries are opaque bytes. Guards are generation counters (random u64s);
//! an entry records the generations of its guards when its value was
//! fetched, and is valid only while they are unchanged. All keys passed in
//! one call belong to one user and share a Redis Cluster slot.

use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;

/// The store could not be used; the engine fails open on it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The store did not answer within its timeout.
    #[error("cache store timed out")]
    Timeout,
    /// The store refused or could not be reached.
    #[error("cache store unavailable: {0}")]
    Unavailable(String),
}

/// An entry's bytes with the current generations of the guards asked for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Snapshot {
    /// The entry's bytes, `None` when absent.
    pub value: Option<Bytes>,
    /// One per guard asked for, in order; `None` when the guard is absent.
    pub guards: Vec<Option<u64>>,
}

/// A lease on fetching one entry under one set of generations: the key
/// (rendered by cache-keys from the entry and those generations) and the
/// token of the fetch that holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// Where the lease lives.
    pub key: String,
    /// The holding fetch's token: only it may end the lease.
    pub token: u64,
}

/// What an applied bump is known to survive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BumpOutcome {
    /// Applied, and on a replica too where the store has replicas to wait
    /// for: a failover cannot lose it.
    Durable,
    /// Applied by the master, but no replica acknowledged it within the
    /// bounded wait: a failover now could lose it for other instances.
    NotReplicated,
}

/// What a conditional store did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreOutcome {
    /// Stored: every guard held its expected generation.
    Stored,
    /// A guard changed since the snapshot: the value is from before an
    /// invalidation and was not stored.
    Rejected,
}

/// Where a store keeps its entries, which decides what its health means:
/// an in-process store is there whenever the process is, a shared one
/// (Redis) can be down while the process serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StoreKind {
    /// In this process's memory: one instance's, never unreachable.
    InProcess,
    /// A server the instances share (Redis, Redis Cluster): pinged for health.
    Shared,
}

impl StoreKind {
    /// The kind as health reports and logs spell it.
    pub fn label(self) -> &'static str {
        match self {
            StoreKind::InProcess => "in-process",
            StoreKind::Shared => "shared",
        }
    }
}

/// A key-value store with generation guards (in-process or Redis).
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait CacheStore: Send + Sync + 'static {
    /// Where the store keeps its entries (health reports ping only a shared one).
    fn kind(&self) -> StoreKind;

    /// MUST return the value at `key` and the current generation of each
    /// guard, read atomically (one round trip in a remote store).
    async fn read(&self, key: &str, guards: &[String]) -> Result<Snapshot, StoreError>;

    /// MUST return one snapshot per `(key, guards)` pair, in order, as `read`
    /// would; a remote store reads them all in one round trip (the pairs of
    /// one call belong to one user and share a slot).
    async fn read_many(&self, reads: &[(String, Vec<String>)]) -> Result<Vec<Snapshot>, StoreError> {
        let mut snapshots = Vec::with_capacity(reads.len());
        for (key, guards) in reads {
            snapshots.push(self.read(key, guards).await?);
        }
        Ok(snapshots)
    }

    /// MUST set each absent guard to the matching `fresh` value, leave
    /// present ones unchanged, and return every guard's generation. Guards
    /// expire after `guard_ttl` without a write.
    async fn init_guards(&self, guards: &[String], fresh: &[u64], guard_ttl: Duration) -> Result<Vec<u64>, StoreError>;

    /// MUST store `value` at `key` for `ttl` only if every guard still holds
    /// the matching `expected` generation, atomically with that check; and
    /// MUST make every guard live at least `ttl` from now (a guard is never
    /// meant to expire before the entries recorded under it). With `lease`,
    /// MUST also end that lease if it still holds its token, whether the
    /// value was stored or rejected, in the same atomic step.
    async fn store_if_current<'lease>(
        &self,
        key: &str,
        value: Bytes,
        ttl: Duration,
        guards: &[String],
        expected: &[u64],
        lease: Option<&'lease Lease>,
    ) -> Result<StoreOutcome, StoreError>;

    /// MUST set every guard to its new generation and delete every key in
    /// `delete`, atomically: once it returns, no `store_if_current` with an
    /// older generation succeeds. A store with replicas MUST wait (bounded)
    /// for one to acknowledge it, and answer `NotReplicated` when none did.
    /// Each guard then expires after its own entry of `guard_ttls` (one per
    /// guard, in order: a read family's guards live as long as its entries
    /// can, no longer) without a write.
    async fn bump(
        &self,
        guards: &[(String, u64)],
        delete: &[String],
        guard_ttls: &[Duration],
    ) -> Result<BumpOutcome, StoreError>;

    /// MUST set `lease.key` to `lease.token` for `ttl` only if it is absent
    /// (a short lease: which instance fetches) and, in the same atomic step,
    /// read `key` and `guards` as `read` does: answers whether this call took
    /// the lease, and what the entry holds then (another instance may have
    /// stored it since this one found it missing). `read` MUST answer a
    /// lease key like a guard: its token while held.
    async fn lease(
        &self,
        lease: &Lease,
        ttl: Duration,
        key: &str,
        guards: &[String],
    ) -> Result<(bool, Snapshot), StoreError>;

    /// MUST delete the lease if it still holds `lease.token` (a fetch that
    /// failed ends its own lease, never one another fetch took since).
    async fn release(&self, lease: &Lease) -> Result<(), StoreError>;

    /// MUST make the lease live `ttl` from now if it still holds
    /// `lease.token`, and answer whether it did: a fetch still running keeps
    /// its lease however long it takes, while a lease another fetch took
    /// since (this one's expired) is left alone.
    async fn renew(&self, lease: &Lease, ttl: Duration) -> Result<bool, StoreError>;

    /// MUST delete `key` if present (an entry found invalid).
    async fn delete(&self, key: &str) -> Result<(), StoreError>;

    /// MUST answer whether the store is reachable now.
    async fn ping(&self) -> Result<(), StoreError>;
}

#[async_trait]
impl<S: CacheStore + ?Sized> CacheStore for std::sync::Arc<S> {
    fn kind(&self) -> StoreKind {
        (**self).kind()
    }
    async fn read(&self, key: &str, guards: &[String]) -> Result<Snapshot, StoreError> {
        (**self).read(key, guards).await
    }
    async fn read_many(&self, reads: &[(String, Vec<String>)]) -> Result<Vec<Snapshot>, StoreError> {
        (**self).read_many(reads).await
    }
    async fn init_guards(&self, guards: &[String], fresh: &[u64], guard_ttl: Duration) -> Result<Vec<u64>, StoreError> {
        (**self).init_guards(guards, fresh, guard_ttl).await
    }
    async fn store_if_current<'lease>(
        &self,
        key: &str,
        value: Bytes,
        ttl: Duration,
        guards: &[String],
        expected: &[u64],
        lease: Option<&'lease Lease>,
    ) -> Result<StoreOutcome, StoreError> {
        (**self).store_if_current(key, value, ttl, guards, expected, lease).await
    }
    async fn bump(
        &self,
        guards: &[(String, u64)],
        delete: &[String],
        guard_ttls: &[Duration],
    ) -> Result<BumpOutcome, StoreError> {
        (**self).bump(guards, delete, guard_ttls).await
    }
    async fn lease(
        &self,
        lease: &Lease,
        ttl: Duration,
        key: &str,
        guards: &[String],
    ) -> Result<(bool, Snapshot), StoreError> {
        (**self).lease(lease, ttl, key, guards).await
    }
    async fn release(&self, lease: &Lease) -> Result<(), StoreError> {
        (**self).release(lease).await
    }
    async fn renew(&self, lease: &Lease, ttl: Duration) -> Result<bool, StoreError> {
        (**self).renew(lease, ttl).await
    }
    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        (**self).delete(key).await
    }
    async fn ping(&self) -> Result<(), StoreError> {
        (**self).ping().await
    }
}
