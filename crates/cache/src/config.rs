//! The engine's configuration and the types of its API.

use std::time::Duration;

use macrotrack_cache_keys::{ReadFamily, Target};

use crate::breaker::BreakerConfig;

/// How long an entry is fresh (`ttl`) and then servable while refreshed (`swr`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// How long a stored value is served as fresh.
    pub ttl: Duration,
    /// How long after that it is served stale while one read refreshes it.
    pub swr: Duration,
}

impl Policy {
    /// How long an entry lives in all (`ttl + swr`): what the guards
    /// created for it need to live, no longer.
    pub fn lifetime(&self) -> Duration {
        self.ttl + self.swr
    }
}

/// How long each read family's guards live after a bump: as long as that
/// family's entries can (its policy's `ttl + swr`), no longer, so a client
/// that makes guards (writes on many dates) holds them in the store only as
/// long as they could matter. The user's epoch, which every family's entries
/// record, lives as long as the longest. (A guard created by a read lives
/// as long as that read's entry: `Policy::lifetime`.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GuardTtls {
    by_family: [Duration; ReadFamily::ALL.len()],
}

impl GuardTtls {
    /// Every family's guards live `ttl`.
    pub const fn uniform(ttl: Duration) -> Self {
        GuardTtls { by_family: [ttl; ReadFamily::ALL.len()] }
    }

    /// The same, with `family`'s guards living `ttl`.
    pub fn with(mut self, family: ReadFamily, ttl: Duration) -> Self {
        self.by_family[index(family)] = ttl;
        self
    }

    /// How long `family`'s guards live.
    pub fn of(&self, family: ReadFamily) -> Duration {
        self.by_family[index(family)]
    }

    /// The longest of them: the user's epoch's.
    pub fn longest(&self) -> Duration {
        self.by_family.iter().copied().max().unwrap_or_default()
    }

    /// How long the guard `target` bumps lives.
    pub(crate) fn of_target(&self, target: Target) -> Duration {
        match target {
            Target::Guard(guard) => self.of(guard.read),
            Target::AllOfUser(_) => self.longest(),
        }
    }
}

fn index(family: ReadFamily) -> usize {
    ReadFamily::ALL.iter().position(|known| *known == family).unwrap_or_else(|| unreachable!("{family:?} in ALL"))
}

/// Whether a read may be answered from the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// Answered from the cache when it holds a servable entry.
    Cached,
    /// Fetch from the source, store and return, whatever is cached. Never
    /// joins a fetch that started before it.
    Force,
    /// Fetch from the source and leave the store alone: for parameters the
    /// cache does not keep (so a client cannot make it hold a key per
    /// value it invents). Counted as `bypass`.
    Bypass,
}

/// What a miss may write to the store before its fetch has answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Absent guards are created and a lease taken before the fetch (the
    /// stampede protection): for keys of data that exists.
    Eager,
    /// Nothing is written until the source has answered a value: for keys
    /// a client names and the source may not know (a token's credential),
    /// so that one naming nothing leaves no entry, guard or lease behind.
    /// No lease: concurrent misses still share one fetch per instance.
    Confirmed,
}

/// Validates a value (check-value): cached copies that fail are replaced,
/// fresh values that fail are an error.
pub type Check<T> = fn(&T) -> Result<(), String>;

/// Why a read failed. The cache itself never fails a read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError<E> {
    /// The source failed; its own error, for the caller to map.
    #[error(transparent)]
    Source(E),
    /// The source returned a value that breaks its own invariants; it was
    /// not stored.
    #[error("fetched value failed validation: {0}")]
    InvalidFresh(String),
}

/// How instances sharing a store agree which one fetches a cold entry, so a
/// stampede over several instances costs one fetch, not one per instance.
///
/// A lease belongs to one fetch under one set of generations and ends when
/// that fetch stores or fails, or its read is dropped. An instance that lost
/// it waits while it is held, and stops as soon as the value is there, the
/// generations move or the lease ends. The lease is held for a multiple of
/// the fetch time measured lately (between `min_hold` and `max_hold`) and
/// renewed for as long while its fetch runs, so a slow leader keeps it and
/// a leader whose instance died holds the others back about as long as a
/// fetch takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseConfig {
    /// The shortest a lease is held for (fetch times of a few ms would
    /// otherwise make it shorter than one scheduling hiccup under load: at
    /// 50 ms, a stampede over two processes on a machine busy with the test
    /// suite saw the lease lapse before its fetch stored, and a second fetch).
    pub min_hold: Duration,
    /// The longest a lease is held for at a time (renewals extend it by
    /// as much while its fetch runs), and the hold before any fetch of its
    /// family was measured.
    pub max_hold: Duration,
    /// How often a waiting instance looks for the value, at most (it polls
    /// faster when fetches are faster).
    pub poll: Duration,
}

impl Default for LeaseConfig {
    fn default() -> Self {
        LeaseConfig {
            min_hold: Duration::from_millis(250),
            max_hold: Duration::from_secs(2),
            poll: Duration::from_millis(5),
        }
    }
}

/// How the engine is set up (from the server's settings).
#[derive(Debug, Clone, Copy)]
pub struct EngineConfig {
    /// `false` (MACROTRACK_CACHE=off): reads go to the source; invalidations
    /// are still applied so other instances never go stale.
    pub enabled: bool,
    /// How long each family's generations live after a bump. They need
    /// not outlive the entries they guard (a missing guard reads as a miss,
    /// and every store makes its guards live as long as the entry): the
    /// family's entry lifetime (ttl + swr) is enough.
    pub guard_ttls: GuardTtls,
    /// When the store is skipped after failures.
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
            guard_ttls: GuardTtls::uniform(Duration::from_secs(5 * 3600)),
            breaker: BreakerConfig::default(),
            lease: None,
            own_bumps_window: None,
        }
    }
}

/// What `/readyz` says about the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreStatus {
    /// A shared store answered a ping.
    Ok,
    /// A shared store did not answer: reads go to the source.
    Down,
    /// The store is in this process: nothing to ping.
    InProcess,
    /// The cache is off (`MACROTRACK_CACHE=off`).
    Off,
}

impl StoreStatus {
    /// The status as `/readyz` spells it.
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
    /// Targets applied now.
    pub applied: usize,
    /// Not applied now (store down or breaker open): kept and retried; the
    /// users concerned read from the source until it is applied.
    pub deferred: usize,
    /// Applied, but no replica acknowledged them in time: a failover could
    /// still lose them for other instances, so whatever made them durable
    /// elsewhere (the outbox row) must stay until a later bump is durable.
    pub unreplicated: usize,
}

impl InvalidationReport {
    /// Whether every target was applied and will survive a failover.
    pub fn durable(&self) -> bool {
        self.deferred == 0 && self.unreplicated == 0
    }
}
