//! What each read and invalidation did, counted per tier and family on the
//! `metrics` facade and in local counters that tests can read.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use metrics::Counter;

/// The single outcome a read reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Fresh entry served.
    Hit,
    /// Entry within swr served; a background refresh was started or running.
    Stale,
    /// Absent, expired or invalidated: fetched from the source.
    Miss,
    /// Forced fetch (force-fresh or admin refresh).
    Refresh,
    /// Entry undecodable, of another schema or failing check-value: replaced.
    Invalid,
    /// The store failed during this read: served from the source.
    Error,
    /// The store was skipped (breaker open, or this user has invalidations
    /// not yet applied): served from the source.
    Bypass,
    /// A fetched value was not stored because an invalidation happened
    /// since the fetch began (the stale-set race, closed). Counted in
    /// addition to the read's own outcome.
    RejectedStore,
}

impl Outcome {
    /// Every outcome, so metrics show each from the start.
    pub const ALL: [Outcome; 8] = [
        Outcome::Hit,
        Outcome::Stale,
        Outcome::Miss,
        Outcome::Refresh,
        Outcome::Invalid,
        Outcome::Error,
        Outcome::Bypass,
        Outcome::RejectedStore,
    ];

    /// The outcome as metrics label it.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Hit => "hit",
            Outcome::Stale => "stale",
            Outcome::Miss => "miss",
            Outcome::Refresh => "refresh",
            Outcome::Invalid => "invalid",
            Outcome::Error => "error",
            Outcome::Bypass => "bypass",
            Outcome::RejectedStore => "rejected_store",
        }
    }
}

/// Counts of outcomes since the engine started.
#[derive(Debug, Default)]
pub struct Stats {
    counts: [AtomicU64; 8],
    invalidations: AtomicU64,
    failed_invalidations: AtomicU64,
    store_behind: AtomicU64,
    fetches: AtomicU64,
    /// Metric handles by label set, made on first use (after the server
    /// installed its recorder): the `counter!` macro's registry lookup was a
    /// visible share of a cache hit in profiles.
    requests: Mutex<HashMap<(&'static str, &'static str, Outcome), Counter>>,
}

/// A copy of the counters at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StatsSnapshot {
    /// Fresh entries served.
    pub hit: u64,
    /// Stale entries served while refreshed.
    pub stale: u64,
    /// Misses: the source answered.
    pub miss: u64,
    /// Force-fresh reads.
    pub refresh: u64,
    /// Entries found invalid.
    pub invalid: u64,
    /// Store errors: the source answered.
    pub error: u64,
    /// Reads around the store (off, pending, bypass).
    pub bypass: u64,
    /// Fetched values refused by their guards.
    pub rejected_store: u64,
    /// Targets invalidated.
    pub invalidations: u64,
    /// Targets whose invalidation was deferred.
    pub failed_invalidations: u64,
    /// Targets the store answered with an older generation (or none) than
    /// this instance had set within its window (then bumped again).
    pub store_behind: u64,
    /// Reads of the source (the database), whatever the outcome.
    pub fetches: u64,
}

impl Stats {
    pub(crate) fn record(&self, tier: &'static str, family: &'static str, outcome: Outcome) {
        self.counts[outcome as usize].fetch_add(1, Ordering::Relaxed);
        let counter = self
            .requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry((tier, family, outcome))
            .or_insert_with(|| {
                metrics::counter!("macrotrack_cache_requests_total", "tier" => tier, "family" => family, "outcome" => outcome.label())
            })
            .clone();
        counter.increment(1);
    }

    pub(crate) fn fetched(&self, tier: &'static str, family: &'static str) {
        self.fetches.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("macrotrack_cache_fetches_total", "tier" => tier, "family" => family).increment(1);
    }

    pub(crate) fn invalidated(&self, tier: &'static str, family: &'static str) {
        self.invalidations.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("macrotrack_cache_invalidations_total", "tier" => tier, "family" => family).increment(1);
    }

    pub(crate) fn invalidation_failed(&self, count: u64) {
        self.failed_invalidations.fetch_add(count, Ordering::Relaxed);
        metrics::counter!("macrotrack_cache_invalidation_failures_total").increment(count);
    }

    pub(crate) fn store_behind(&self, targets: u64) {
        self.store_behind.fetch_add(targets, Ordering::Relaxed);
        metrics::counter!("macrotrack_cache_store_behind_total").increment(targets);
    }

    pub fn snapshot(&self) -> StatsSnapshot {
        let c = |o: Outcome| self.counts[o as usize].load(Ordering::Relaxed);
        StatsSnapshot {
            hit: c(Outcome::Hit),
            stale: c(Outcome::Stale),
            miss: c(Outcome::Miss),
            refresh: c(Outcome::Refresh),
            invalid: c(Outcome::Invalid),
            error: c(Outcome::Error),
            bypass: c(Outcome::Bypass),
            rejected_store: c(Outcome::RejectedStore),
            invalidations: self.invalidations.load(Ordering::Relaxed),
            failed_invalidations: self.failed_invalidations.load(Ordering::Relaxed),
            store_behind: self.store_behind.load(Ordering::Relaxed),
            fetches: self.fetches.load(Ordering::Relaxed),
        }
    }
}
