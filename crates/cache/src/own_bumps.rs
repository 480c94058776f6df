//! The generations this instance set lately, so that a store answering
//! older ones is caught being behind this instance's own writes.
//!
//! A Redis Cluster can answer a read from a node that does not have an
//! acknowledged bump: an old master that has not yet heard it was failed
//! over (it still serves reads for a moment), or a replica promoted before
//! the bump reached it (a master killed right after acknowledging it). The
//! entries recorded under the old generations would then match again. The
//! caller treats the user's targets as not applied (read from the source,
//! bump again).
//!
//! Generations grow with time (see `generation`), so only an older one (or
//! none) contradicts: a newer one comes from a bump still in flight or from
//! another instance. Only bumps acknowledged before a read was sent are
//! held against it: a read racing a bump may rightly answer the generation
//! before it. That order is a counter of acknowledged bumps, not a clock.
//! Instances whose clocks disagree by more than the time between their
//! bumps of one guard cost each other one needless bump, never a stale read.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{PoisonError, RwLock};

use macrotrack_cache_keys::Target;

pub(crate) struct OwnBumps {
    window_ms: i64,
    /// Read on every store read (shared), written on every bump.
    by_guard: RwLock<Remembered>,
    /// Bumps acknowledged so far; each remembered guard keeps its number.
    /// Zero means nothing is remembered, so reads skip the lock.
    acknowledged: AtomicU64,
}

#[derive(Default)]
struct Remembered {
    guards: HashMap<String, OwnBump>,
    /// Size after the last sweep of expired guards: sweeping again once it
    /// doubles keeps the map bounded at an amortised O(1) per bump.
    swept_at: usize,
}

/// What this instance last set one guard to.
struct OwnBump {
    generation: u64,
    target: Target,
    /// Its number in the order of acknowledgements.
    acknowledged: u64,
    /// Until when (ms) it is held against reads.
    until_ms: i64,
}

impl OwnBumps {
    pub(crate) fn new(window_ms: i64) -> Self {
        OwnBumps { window_ms, by_guard: RwLock::default(), acknowledged: AtomicU64::new(0) }
    }

    /// To take before a store read and pass to `contradicted` with its answer.
    pub(crate) fn mark(&self) -> u64 {
        self.acknowledged.load(Ordering::Acquire)
    }

    /// Records that the store acknowledged `guards` (key, new generation)
    /// of `targets`, in the same order.
    pub(crate) fn remember(&self, targets: impl IntoIterator<Item = Target>, guards: &[(String, u64)], now_ms: i64) {
        let until_ms = now_ms.saturating_add(self.window_ms);
        let mut remembered = self.by_guard.write().unwrap_or_else(PoisonError::into_inner);
        // Numbered under the lock, so a read marked after this bump finds it.
        let acknowledged = self.acknowledged.fetch_add(1, Ordering::AcqRel) + 1;
        for (target, (key, generation)) in targets.into_iter().zip(guards) {
            let bump = OwnBump { generation: *generation, target, acknowledged, until_ms };
            remembered.guards.insert(key.clone(), bump);
        }
        if remembered.guards.len() > 2 * remembered.swept_at + 1024 {
            remembered.guards.retain(|_, bump| bump.until_ms > now_ms);
            remembered.swept_at = remembered.guards.len();
        }
    }

    /// The targets whose generation the store answered older than (or
    /// without) the one this instance set within the window, acknowledged
    /// before `mark` was taken (`seen[i]` is the store's generation of
    /// `keys[i]`). Empty when the store is not behind. The clock is read
    /// only when a remembered guard is found.
    pub(crate) fn contradicted(
        &self,
        keys: &[String],
        seen: &[Option<u64>],
        mark: u64,
        now_ms: impl Fn() -> i64,
    ) -> Vec<Target> {
        if mark == 0 {
            return Vec::new(); // nothing was acknowledged before the read
        }
        let remembered = self.by_guard.read().unwrap_or_else(PoisonError::into_inner);
        keys.iter()
            .zip(seen)
            .filter_map(|(key, seen)| {
                let bump = remembered.guards.get(key)?;
                let behind = seen.is_none_or(|seen| seen < bump.generation);
                (behind && bump.acknowledged <= mark && bump.until_ms > now_ms()).then_some(bump.target)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use macrotrack_cache_keys::Target;
    use macrotrack_domain::{Day, UserId};

    use super::OwnBumps;

    fn target() -> Target {
        Target::day_logs(UserId(7), "2026-11-26".parse::<Day>().expect("a date"))
    }

    #[test]
    fn a_store_behind_the_last_own_bump_is_caught_within_the_window_only() {
        let bumps = OwnBumps::new(1_000);
        let key = target().guard();
        bumps.remember([target()], &[(key.clone(), 42)], 10_000);
        let keys = [key];
        let mark = bumps.mark();
        assert_eq!(bumps.contradicted(&keys, &[Some(41)], mark, || 10_500), vec![target()], "an older generation");
        assert_eq!(bumps.contradicted(&keys, &[None], mark, || 10_500), vec![target()], "a lost guard");
        assert!(bumps.contradicted(&keys, &[Some(42)], mark, || 10_500).is_empty(), "the store agrees");
        assert!(bumps.contradicted(&keys, &[Some(43)], mark, || 10_500).is_empty(), "the store moved on");
        assert!(bumps.contradicted(&keys, &[Some(41)], mark, || 11_000).is_empty(), "the window is over");
    }

    #[test]
    fn a_read_sent_before_the_bump_was_acknowledged_may_answer_the_old_generation() {
        let bumps = OwnBumps::new(1_000);
        let key = target().guard();
        let before = bumps.mark();
        bumps.remember([target()], &[(key.clone(), 42)], 0);
        let keys = [key];
        assert!(bumps.contradicted(&keys, &[Some(41)], before, || 0).is_empty(), "the read raced the bump");
        assert_eq!(bumps.contradicted(&keys, &[Some(41)], bumps.mark(), || 0), vec![target()], "a read after it");
    }

    #[test]
    fn only_remembered_guards_are_compared_and_expired_ones_are_swept() {
        let bumps = OwnBumps::new(1_000);
        for n in 0..2_000u64 {
            bumps.remember([target()], &[(format!("guard-{n}"), n)], 0);
        }
        let other = "not-remembered".to_owned();
        assert!(bumps.contradicted(std::slice::from_ref(&other), &[Some(1)], bumps.mark(), || 0).is_empty());
        let remembered = "guard-1999".to_owned();
        assert_eq!(
            bumps.contradicted(std::slice::from_ref(&remembered), &[Some(1)], bumps.mark(), || 0),
            vec![target()]
        );
        // Past the window, the next bump sweeps what expired.
        for n in 0..1_100u64 {
            bumps.remember([target()], &[(format!("later-{n}"), n)], 5_000);
        }
        let size = bumps.by_guard.read().unwrap().guards.len();
        assert!(size <= 1_100, "expired guards were swept: {size} left");
    }
}
