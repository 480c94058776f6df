//! The engine's configuration and the types of its API.

use std::time::Duration;

use crate::breaker::BreakerConfig;

/// How long an entry is fresh (`ttl`) and then servable while refreshed (`swr`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub ttl: Duration,
    pub swr: Duration,
}

/// Whether a read may be answered from the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    Cached,
    /// Fetch from the source, store and return, whatever is cached. Never
    /// joins a fetch that started before it.
    Force,
}

/// Validates a value (check-value): cached copies that fail are replaced,
/// fresh values that fail are an error.
pub type Check<T> = fn(&T) -> Result<(), String>;

/// Why a read failed. The cache itself never fails a read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError<E> {
    #[error(transparent)]
    Source(E),
    /// The source returned a value that breaks its own invariants; it was
    /// not stored.
    #[error("fetched value failed validation: {0}")]
    InvalidFresh(String),
}

/// How instances sharing a store agree which one fetches a cold entry, so a
/// stampede over several instances costs one fetch, not one per instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseConfig {
    /// How long a lease holds; past it another instance may fetch.
    pub hold: Duration,
    /// How long an instance that lost the lease waits for the value before
    /// fetching on its own.
    pub wait: Duration,
    /// How often it looks for the value meanwhile.
    pub poll: Duration,
}

impl Default for LeaseConfig {
    fn default() -> Self {
        LeaseConfig { hold: Duration::from_secs(2), wait: Duration::from_millis(500), poll: Duration::from_millis(5) }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct EngineConfig {
    /// `false` (MACROTRACK_CACHE=off): reads go to the source; invalidations
    /// are still applied so other instances never go stale.
    pub enabled: bool,
    /// How long a generation lives without being written.
    pub guard_ttl: Duration,
    pub breaker: BreakerConfig,
    /// Cross-instance single-flight; `None` for a store of one process.
    pub lease: Option<LeaseConfig>,
    /// How long this instance remembers the generations it set, and takes a
    /// store that answers older ones as behind its own writes (a Redis
    /// Cluster node that missed a bump around a failover): those targets are
    /// bumped again and the user's reads go to the source meanwhile. `None`
    /// for a store of one process, which is never behind.
    pub own_bumps_window: Option<Duration>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            enabled: true,
            guard_ttl: Duration::from_secs(7 * 24 * 3600),
            breaker: BreakerConfig::default(),
            lease: None,
            own_bumps_window: None,
        }
    }
}

/// What `/readyz` says about the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreStatus {
    Ok,
    Down,
    InProcess,
    Off,
}

impl StoreStatus {
    pub fn label(self) -> &'static str {
        match self {
            StoreStatus::Ok => "ok",
            StoreStatus::Down => "down",
            StoreStatus::InProcess => "in-process",
            StoreStatus::Off => "off",
        }
    }
}

/// What an invalidation call did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct InvalidationReport {
    pub applied: usize,
    /// Not applied now (store down or breaker open): kept and retried; the
    /// users concerned read from the source until it is applied.
    pub deferred: usize,
}
