//! The engine: its state, and what every path of it shares (the clock,
//! the outcome counters, the breaker's hearing of every store call).
//!
//! Every entry is guarded by generation counters (its own for tier 1, its
//! tags' for tier 2, and its user's epoch for both). A read takes the
//! generations before it fetches; the store keeps the fetched value only if
//! they are unchanged (closing the stale-set race), and a cached entry is
//! served only while they are unchanged (making invalidation O(1)).
//!
//! The paths are `impl Engine` blocks of their own files, which import
//! this one and are never imported by it: `serve.rs` the read path up to
//! a miss, `miss.rs` what a miss does (single-flight, leases, fetch and
//! store), `ahead.rs` reading several entries in one round trip,
//! `report.rs` what each read tells its client, `invalidation.rs` the
//! bumps and the pending set.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Mutex};

use macrotrack_cache_keys::{EntryAddress, Target};
use macrotrack_domain::UserId;
use macrotrack_ports::{CacheStore, Clock, StoreError, StoreKind};

use crate::breaker::{Breaker, Call};
use crate::config::{EngineConfig, StoreStatus};
use crate::flight::{FetchTimes, Flights};
use crate::generation::Generations;
use crate::lock::lock;
use crate::outcome::{Outcome, Stats, StatsSnapshot};
use crate::own_bumps::OwnBumps;

/// Envelopes whose JSON this instance has run check-value on, so the JSON
/// hot path checks each stored value once, not on every hit.
const VERIFIED_ENVELOPES: usize = 65_536;

/// Where the store stands after an outage (`Engine::probe_recovery`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recovery {
    /// The breaker is closed: reads use the store.
    Trusted,
    /// The store answers again, but reads go around it until `trust_store`.
    Unconfirmed,
    /// The store is still unusable (or no probe is due yet).
    Down,
}

/// The two-tier cache engine over a store `S`. Cheap to clone.
pub struct Engine<S> {
    pub(crate) inner: Arc<Inner<S>>,
}

impl<S> Clone for Engine<S> {
    fn clone(&self) -> Self {
        Engine { inner: Arc::clone(&self.inner) }
    }
}

pub(crate) struct Inner<S> {
    pub(crate) store: S,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) config: EngineConfig,
    pub(crate) breaker: Breaker,
    pub(crate) stats: Stats,
    pub(crate) flights: Flights,
    pub(crate) fetch_times: FetchTimes,
    pub(crate) refreshing: Mutex<HashSet<String>>,
    /// Invalidations not applied yet, per user, each with the number of its
    /// latest deferral (so a retry clears only what it applied).
    pub(crate) pending: Mutex<BTreeMap<UserId, BTreeMap<Target, u64>>>,
    pub(crate) deferrals: AtomicU64,
    pub(crate) has_pending: AtomicBool,
    pub(crate) retrying: tokio::sync::Mutex<()>,
    pub(crate) own_bumps: Option<OwnBumps>,
    pub(crate) generations: Generations,
    /// Identities of stored values check-value passed (see `serve.rs`).
    pub(crate) verified: quick_cache::sync::Cache<u64, ()>,
}

impl<S: CacheStore> Engine<S> {
    /// An engine over `store`, with its own breaker, counters and flights.
    pub fn new(store: S, clock: Arc<dyn Clock>, config: EngineConfig) -> Self {
        Engine {
            inner: Arc::new(Inner {
                store,
                clock,
                breaker: Breaker::new(config.breaker),
                config,
                stats: Stats::default(),
                flights: Flights::default(),
                fetch_times: FetchTimes::default(),
                refreshing: Mutex::default(),
                pending: Mutex::default(),
                deferrals: AtomicU64::new(0),
                has_pending: AtomicBool::new(false),
                retrying: tokio::sync::Mutex::new(()),
                own_bumps: config
                    .own_bumps_window
                    .map(|window| OwnBumps::new(i64::try_from(window.as_millis()).unwrap_or(i64::MAX))),
                generations: Generations::default(),
                verified: quick_cache::sync::Cache::new(VERIFIED_ENVELOPES),
            }),
        }
    }

    /// The store, for what the engine does not wrap (tests, operators).
    pub fn store(&self) -> &S {
        &self.inner.store
    }

    /// Whether reads may be answered from the store (`MACROTRACK_CACHE`).
    pub fn enabled(&self) -> bool {
        self.inner.config.enabled
    }

    /// Whether the breaker currently keeps calls away from the store.
    pub fn breaker_open(&self) -> bool {
        self.inner.breaker.is_open()
    }

    /// From now on, after an outage (the breaker opened), reads go around
    /// the store even once it answers again, until `trust_store`: the caller
    /// first forgets every user another instance may have an invalidation
    /// of that it could not apply (the outbox's users). Meanwhile only bumps
    /// probe the store (`probe_recovery`). For an instance running the
    /// outbox drainer (`Service::drain_every`), which calls `trust_store`.
    pub fn confirm_recoveries(&self) {
        self.inner.breaker.confirm_recoveries();
    }

    /// Where the store stands after an outage, probing it if a probe is due
    /// (see `confirm_recoveries`).
    pub async fn probe_recovery(&self) -> Recovery {
        if !self.inner.breaker.is_open() {
            return Recovery::Trusted;
        }
        if !self.inner.breaker.unconfirmed() && self.inner.breaker.allow(self.inner.clock.now(), Call::Bump) {
            self.answered(self.inner.store.ping()).await;
        }
        if self.inner.breaker.unconfirmed() { Recovery::Unconfirmed } else { Recovery::Down }
    }

    /// Trusts a store that answers again after an outage (see
    /// `confirm_recoveries`): reads use it from now on.
    pub fn trust_store(&self) {
        self.inner.breaker.trust();
    }

    /// Keys whose background refresh is running now.
    pub fn refreshing(&self) -> usize {
        lock(&self.inner.refreshing).len()
    }

    /// The outcome counters so far, for `/metrics`.
    pub fn stats(&self) -> StatsSnapshot {
        self.inner.stats.snapshot()
    }

    /// Invalidations waiting to be applied, per user.
    pub fn pending(&self) -> BTreeMap<UserId, BTreeSet<Target>> {
        let pending = lock(&self.inner.pending);
        pending.iter().map(|(user, targets)| (*user, targets.keys().copied().collect())).collect()
    }

    /// What `/readyz` says of the store: only a shared one is pinged.
    pub async fn store_status(&self) -> StoreStatus {
        if !self.inner.config.enabled {
            return StoreStatus::Off;
        }
        if self.inner.store.kind() == StoreKind::InProcess {
            return StoreStatus::InProcess;
        }
        match self.inner.store.ping().await {
            Ok(()) => StoreStatus::Ok,
            Err(_) => StoreStatus::Down,
        }
    }

    pub(crate) fn now_ms(&self) -> i64 {
        self.inner.clock.now().timestamp_millis()
    }

    /// Counts `outcome` for `address`'s tier and family.
    pub(crate) fn record(&self, address: &EntryAddress, outcome: Outcome) {
        self.inner.stats.record(address.tier.label(), address.family, outcome);
    }

    pub(crate) fn store_failed(&self, error: &StoreError) {
        tracing::warn!(%error, "cache store failed; serving from the source");
        self.inner.breaker.failure(self.inner.clock.now());
    }

    /// Every store call goes through here, so the breaker hears the outcome
    /// of every call, whichever path made it. The call is numbered when it
    /// starts: a half-open breaker is closed only by its probe, never by a
    /// call that started before it opened and answers late. Errors become
    /// `None`.
    pub(crate) async fn answered<T>(&self, call: impl Future<Output = Result<T, StoreError>>) -> Option<T> {
        let ticket = self.inner.breaker.ticket();
        match call.await {
            Ok(value) => {
                self.inner.breaker.success(ticket);
                Some(value)
            }
            Err(error) => {
                self.store_failed(&error);
                None
            }
        }
    }
}
