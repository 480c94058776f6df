//! Invalidation: generations bumped atomically per user, and what could not
//! be applied kept pending (those users read from the source meanwhile).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::Ordering;
use std::time::Duration;

use macrotrack_cache_keys::{EntryAddress, Target};
use macrotrack_domain::UserId;
use macrotrack_ports::{BumpOutcome, CacheStore};

use crate::breaker::Call;
use crate::config::InvalidationReport;
use crate::engine::Engine;
use crate::lock::lock;

impl<S: CacheStore> Engine<S> {
    /// Whether reads of `user` may use the store now: no invalidation of
    /// theirs is waiting, and the breaker lets calls through.
    pub(crate) async fn store_usable(&self, user: UserId) -> bool {
        if self.inner.has_pending.load(Ordering::Acquire) {
            self.retry_some().await;
            if lock(&self.inner.pending).contains_key(&user) {
                return false;
            }
        }
        self.inner.breaker.allow(self.inner.clock.now(), Call::Read)
    }

    /// Makes the store forget `targets`. Never fails: what cannot be applied
    /// now is kept, retried before later calls, and the users concerned read
    /// from the source meanwhile.
    pub async fn invalidate(&self, targets: &[Target]) -> InvalidationReport {
        if self.inner.has_pending.load(Ordering::Acquire) {
            self.retry_some().await;
        }
        let mut by_user: BTreeMap<UserId, BTreeSet<Target>> = BTreeMap::new();
        for target in targets {
            by_user.entry(target.user()).or_default().insert(*target);
        }
        let mut report = InvalidationReport::default();
        for (user, targets) in by_user {
            match self.apply(&targets).await {
                Applied::Durable => report.applied += targets.len(),
                Applied::NotReplicated => {
                    report.applied += targets.len();
                    report.unreplicated += targets.len();
                }
                Applied::Failed => {
                    report.deferred += targets.len();
                    self.inner.stats.invalidation_failed(targets.len() as u64);
                    self.defer(user, targets);
                }
            }
        }
        report
    }

    /// Keeps `targets` of `user` pending, each under a new deferral number:
    /// a retry that read an older one leaves it.
    /// Past `PENDING_TARGETS_PER_USER`, the user's epoch replaces them all.
    fn defer(&self, user: UserId, targets: impl IntoIterator<Item = Target>) {
        let mut pending = lock(&self.inner.pending);
        let entry = pending.entry(user).or_default();
        for target in targets {
            entry.insert(target, self.inner.deferrals.fetch_add(1, Ordering::Relaxed));
        }
        if entry.len() > PENDING_TARGETS_PER_USER {
            // The epoch forgets every entry of the user: what they guard and more.
            entry.clear();
            entry.insert(Target::AllOfUser(user), self.inner.deferrals.fetch_add(1, Ordering::Relaxed));
        }
        self.inner.has_pending.store(true, Ordering::Release);
    }

    /// Marks `targets` as not applied without trying the store: until a
    /// retry applies them, reads of their users go to the source. For
    /// invalidations known from outside this process (the outbox of a
    /// previous process, read at start-up while the store is down).
    pub fn distrust(&self, targets: &[Target]) {
        let mut by_user: BTreeMap<UserId, Vec<Target>> = BTreeMap::new();
        for target in targets {
            by_user.entry(target.user()).or_default().push(*target);
        }
        for (user, targets) in by_user {
            self.defer(user, targets);
        }
    }

    /// Taken before a store read: which of this instance's bumps had been
    /// acknowledged by then (see `agrees_with_own_bumps`).
    pub(crate) fn own_bumps_mark(&self) -> u64 {
        self.inner.own_bumps.as_ref().map_or(0, |own| own.mark())
    }

    /// Whether the store answered `address`'s guards (`seen`, read after
    /// `mark` was taken) as this instance last set them, when it did so
    /// within the configured window and before the read. If not, the store
    /// is behind this instance's own writes: those targets become pending
    /// (bumped again by the next retry, their user's reads go to the source
    /// meanwhile).
    pub(crate) fn agrees_with_own_bumps(&self, address: &EntryAddress, seen: &[Option<u64>], mark: u64) -> bool {
        let Some(own) = &self.inner.own_bumps else { return true };
        let behind = own.contradicted(&address.guards, seen, mark, || self.now_ms());
        if behind.is_empty() {
            return true;
        }
        // Debug, not warn: skewed clocks between instances can make this
        // frequent and harmless; operators watch the metric instead.
        tracing::debug!(user = %address.user, targets = behind.len(), "the store is behind this instance's own invalidations; bumping them again");
        self.inner.stats.store_behind(behind.len() as u64);
        self.distrust(&behind);
        false
    }

    /// One atomic bump of one user's targets.
    async fn apply(&self, targets: &BTreeSet<Target>) -> Applied {
        if !self.inner.breaker.allow(self.inner.clock.now(), Call::Bump) {
            return Applied::Failed;
        }
        let now_ms = self.now_ms();
        let guards: Vec<(String, u64)> =
            targets.iter().map(|t| (t.guard(), self.inner.generations.next(now_ms))).collect();
        let ttls: Vec<Duration> = targets.iter().map(|t| self.inner.config.guard_ttls.of_target(*t)).collect();
        let delete: Vec<String> = targets.iter().filter_map(|t| t.entry()).collect();
        let Some(outcome) = self.answered(self.inner.store.bump(&guards, &delete, &ttls)).await else {
            return Applied::Failed;
        };
        if let Some(own) = &self.inner.own_bumps {
            own.remember(targets.iter().copied(), &guards, now_ms);
        }
        for target in targets {
            self.inner.stats.invalidated(target.tier().label(), target.family());
        }
        match outcome {
            BumpOutcome::Durable => Applied::Durable,
            BumpOutcome::NotReplicated => {
                tracing::warn!(targets = targets.len(), "no Redis replica acknowledged a bump in time");
                Applied::NotReplicated
            }
        }
    }

    /// Applies every waiting invalidation, batch after batch, until none is
    /// left or the store fails; one caller at a time, the others go on.
    pub async fn retry_pending(&self) {
        let Ok(_retrying) = self.inner.retrying.try_lock() else { return };
        // Bounded: deferrals made meanwhile wait for the next call.
        let batches = lock(&self.inner.pending).len() / RETRY_BATCH + 1;
        for _ in 0..batches {
            if self.retry_batch().await != Retried::More {
                break;
            }
        }
    }

    /// One batch of `retry_pending`, for a read or a write that found
    /// invalidations waiting: its work does not grow with the backlog.
    async fn retry_some(&self) {
        let Ok(_retrying) = self.inner.retrying.try_lock() else { return };
        self.retry_batch().await;
    }

    /// Applies the waiting invalidations of at most `RETRY_BATCH` users; the
    /// caller holds `retrying`. Only the deferrals it read are cleared: one
    /// made while its bump was in flight (a newer write whose own bump
    /// failed) stays pending. While the breaker keeps bumps away nothing is
    /// copied: a read during an outage costs no more with a longer backlog.
    async fn retry_batch(&self) -> Retried {
        if !self.inner.breaker.may_call(self.inner.clock.now(), Call::Bump) {
            return Retried::Stopped;
        }
        let batch: Vec<(UserId, BTreeMap<Target, u64>)> = {
            let pending = lock(&self.inner.pending);
            pending.iter().take(RETRY_BATCH).map(|(user, deferred)| (*user, deferred.clone())).collect()
        };
        let mut outcome = Retried::More;
        for (user, deferred) in batch {
            let targets: BTreeSet<Target> = deferred.keys().copied().collect();
            if self.apply(&targets).await == Applied::Failed {
                outcome = Retried::Stopped; // the store is still unusable
                break;
            }
            let mut pending = lock(&self.inner.pending);
            if let Some(left) = pending.get_mut(&user) {
                left.retain(|target, number| deferred.get(target) != Some(number));
                if left.is_empty() {
                    pending.remove(&user);
                }
            }
        }
        let pending = lock(&self.inner.pending);
        self.inner.has_pending.store(!pending.is_empty(), Ordering::Release);
        if pending.is_empty() { Retried::Done } else { outcome }
    }
}

/// Users whose waiting invalidations one retry batch applies.
const RETRY_BATCH: usize = 8;
/// Targets kept pending per user at most; beyond, the user's epoch stands
/// for them (one guard), so one user's bump stays one small call.
const PENDING_TARGETS_PER_USER: usize = 64;

/// How far a retry batch got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Retried {
    /// Nothing is pending any more.
    Done,
    /// Its users were applied; others wait.
    More,
    /// The store is unusable: the rest waits.
    Stopped,
}

/// What one bump came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Applied {
    Durable,
    /// Applied on the master only (see `BumpOutcome::NotReplicated`).
    NotReplicated,
    /// Not applied: the store failed or the breaker is open.
    Failed,
}
