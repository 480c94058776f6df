//! New generations: the millisecond they were made in the high 42 bits
//! (enough until the year 2109), random low 22 bits, and strictly increasing
//! within one instance.
//!
//! Equality is all an entry needs (it is served only while its guards still
//! hold the generations it was stored under). The order lets an instance
//! tell a store that is behind its own last bump (an older generation) from
//! one that moved on (a newer one, set by a bump in flight or by another
//! instance), see `own_bumps`. Two instances collide only by making a
//! generation of the same guard in the same millisecond with the same 22
//! random bits.

use std::sync::atomic::{AtomicU64, Ordering};

const RANDOM_BITS: u32 = 22;

#[derive(Default)]
pub(crate) struct Generations {
    last: AtomicU64,
}

impl Generations {
    pub(crate) fn next(&self, now_ms: i64) -> u64 {
        let millis = u64::try_from(now_ms).unwrap_or(0);
        let made = (millis << RANDOM_BITS) | (rand::random::<u64>() >> (64 - RANDOM_BITS));
        let previous = self
            .last
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |last| Some(made.max(last.saturating_add(1))))
            .unwrap_or_else(|last| last);
        made.max(previous.saturating_add(1))
    }
}

#[cfg(test)]
mod tests {
    use super::Generations;

    #[test]
    fn later_milliseconds_make_larger_generations_and_one_instance_never_repeats() {
        let generations = Generations::default();
        let now = 1_764_000_000_000;
        let first = generations.next(now);
        assert_eq!(first >> 22, now as u64, "the millisecond is readable");
        let same_ms: Vec<u64> = (0..1000).map(|_| generations.next(now)).collect();
        assert!(same_ms.windows(2).all(|pair| pair[0] < pair[1]), "strictly increasing within a millisecond");
        assert!(same_ms[0] > first);
        // A clock that steps back does not make an older generation.
        assert!(generations.next(now - 5_000) > same_ms[999]);
        assert!(Generations::default().next(now + 1) > first, "another instance, a millisecond later");
        assert_eq!(Generations::default().next(4_398_046_511_103) >> 22, 4_398_046_511_103, "2109 still fits");
    }
}
