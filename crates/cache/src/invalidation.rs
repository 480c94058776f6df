//! Invalidation: generations bumped atomically per user, and what could not
//! be applied kept pending (those users read from the source meanwhile).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::Ordering;

use macrotrack_cache_keys::{EntryAddress, Target};
use macrotrack_domain::UserId;
use macrotrack_ports::CacheStore;

use crate::config::InvalidationReport;
use crate::engine::{Engine, lock};

impl<S: CacheStore> Engine<S> {
    /// Whether reads of `user` may use the store now: no invalidation of
    /// theirs is waiting, and the breaker lets calls through.
    pub(crate) async fn store_usable(&self, user: UserId) -> bool {
        if self.inner.has_pending.load(Ordering::Acquire) {
            self.retry_pending().await;
            if lock(&self.inner.pending).contains_key(&user) {
                return false;
            }
        }
        self.inner.breaker.allow(self.inner.clock.now())
    }

    /// Makes the store forget `targets`. Never fails: what cannot be applied
    /// now is kept, retried before later calls, and the users concerned read
    /// from the source meanwhile.
    pub async fn invalidate(&self, targets: &[Target]) -> InvalidationReport {
        if self.inner.has_pending.load(Ordering::Acquire) {
            self.retry_pending().await;
        }
        let mut by_user: BTreeMap<UserId, BTreeSet<Target>> = BTreeMap::new();
        for target in targets {
            by_user.entry(target.user()).or_default().insert(*target);
        }
        let mut report = InvalidationReport::default();
        for (user, targets) in by_user {
            if self.apply(&targets).await {
                report.applied += targets.len();
            } else {
                report.deferred += targets.len();
                self.inner.stats.invalidation_failed(targets.len() as u64);
                lock(&self.inner.pending).entry(user).or_default().extend(targets);
                self.inner.has_pending.store(true, Ordering::Release);
            }
        }
        report
    }

    /// Marks `targets` as not applied without trying the store: until a
    /// retry applies them, reads of their users go to the source. For
    /// invalidations known from outside this process (the outbox of a
    /// previous process, read at start-up while the store is down).
    pub fn distrust(&self, targets: &[Target]) {
        if targets.is_empty() {
            return;
        }
        let mut pending = lock(&self.inner.pending);
        for target in targets {
            pending.entry(target.user()).or_default().insert(*target);
        }
        self.inner.has_pending.store(true, Ordering::Release);
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
    async fn apply(&self, targets: &BTreeSet<Target>) -> bool {
        if !self.inner.breaker.allow(self.inner.clock.now()) {
            return false;
        }
        let now_ms = self.now_ms();
        let guards: Vec<(String, u64)> =
            targets.iter().map(|t| (t.guard(), self.inner.generations.next(now_ms))).collect();
        let delete: Vec<String> = targets.iter().filter_map(|t| t.entry()).collect();
        match self.inner.store.bump(&guards, &delete, self.inner.config.guard_ttl).await {
            Ok(()) => {
                self.inner.breaker.success();
                if let Some(own) = &self.inner.own_bumps {
                    own.remember(targets.iter().copied(), &guards, now_ms);
                }
                for target in targets {
                    self.inner.stats.invalidated(target.tier().label(), target.family());
                }
                true
            }
            Err(error) => {
                self.store_failed(&error);
                false
            }
        }
    }

    /// Applies waiting invalidations; one caller at a time, the others go on.
    pub async fn retry_pending(&self) {
        let Ok(_retrying) = self.inner.retrying.try_lock() else { return };
        let waiting = lock(&self.inner.pending).clone();
        for (user, targets) in waiting {
            if !self.apply(&targets).await {
                break; // the store is still unusable
            }
            let mut pending = lock(&self.inner.pending);
            if let Some(left) = pending.get_mut(&user) {
                left.retain(|target| !targets.contains(target));
                if left.is_empty() {
                    pending.remove(&user);
                }
            }
        }
        let pending = lock(&self.inner.pending);
        self.inner.has_pending.store(!pending.is_empty(), Ordering::Release);
    }
}
