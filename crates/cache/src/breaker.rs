//! A small circuit breaker over the store. Written by hand: the crates that
//! offer one (failsafe, ...) bring their own clocks and futures wrappers,
//! while ours must run on the injected `Clock` so tests never sleep.

use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};

/// When the breaker opens and how it probes the store again.
#[derive(Debug, Clone, Copy)]
pub struct BreakerConfig {
    /// Consecutive failures that open the breaker.
    pub failure_threshold: u32,
    /// How long an open breaker skips the store before one probe.
    pub open_for: Duration,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig { failure_threshold: 3, open_for: Duration::from_secs(5) }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Closed {
        failures: u32,
    },
    Open {
        until: DateTime<Utc>,
    },
    /// One caller is probing the store since `since`; others skip it
    /// meanwhile. A probe whose answer never came back (a path that made
    /// no store call after asking) is given up after `open_for`, and the
    /// next caller probes instead, so the breaker cannot stay half-open.
    HalfOpen {
        since: DateTime<Utc>,
    },
}

#[derive(Debug)]
pub struct Breaker {
    config: BreakerConfig,
    state: Mutex<State>,
}

impl Breaker {
    pub fn new(config: BreakerConfig) -> Self {
        Breaker { config, state: Mutex::new(State::Closed { failures: 0 }) }
    }

    /// Whether the caller may use the store now.
    pub fn allow(&self, now: DateTime<Utc>) -> bool {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match *state {
            State::Closed { .. } => true,
            State::Open { until } if now >= until => {
                *state = State::HalfOpen { since: now };
                true
            }
            State::HalfOpen { since } if now >= since + self.config.open_for => {
                *state = State::HalfOpen { since: now };
                true
            }
            State::Open { .. } | State::HalfOpen { .. } => false,
        }
    }

    pub fn success(&self) {
        *self.state.lock().unwrap_or_else(|e| e.into_inner()) = State::Closed { failures: 0 };
    }

    pub fn failure(&self, now: DateTime<Utc>) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let open = State::Open { until: now + self.config.open_for };
        *state = match *state {
            State::Closed { failures } if failures + 1 < self.config.failure_threshold => {
                State::Closed { failures: failures + 1 }
            }
            _ => open,
        };
    }

    pub fn is_open(&self) -> bool {
        !matches!(*self.state.lock().unwrap_or_else(|e| e.into_inner()), State::Closed { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_threshold_then_probes_once() {
        let breaker = Breaker::new(BreakerConfig { failure_threshold: 2, open_for: Duration::from_secs(5) });
        let t0 = DateTime::UNIX_EPOCH;
        breaker.failure(t0);
        assert!(breaker.allow(t0), "one failure keeps it closed");
        breaker.failure(t0);
        assert!(!breaker.allow(t0 + Duration::from_secs(4)), "open");
        assert!(breaker.allow(t0 + Duration::from_secs(5)), "half-open: one probe");
        assert!(!breaker.allow(t0 + Duration::from_secs(5)), "only one probe at a time");
        breaker.failure(t0 + Duration::from_secs(5));
        assert!(!breaker.allow(t0 + Duration::from_secs(9)), "failed probe reopens");
        assert!(breaker.allow(t0 + Duration::from_secs(10)));
        breaker.success();
        assert!(breaker.allow(t0 + Duration::from_secs(10)) && !breaker.is_open());
    }

    #[test]
    fn a_probe_that_never_answers_is_given_up_and_another_one_probes() {
        let breaker = Breaker::new(BreakerConfig { failure_threshold: 1, open_for: Duration::from_secs(5) });
        let t0 = DateTime::UNIX_EPOCH;
        breaker.failure(t0);
        assert!(breaker.allow(t0 + Duration::from_secs(5)), "the probe");
        // Its caller recorded nothing (no store call followed).
        assert!(!breaker.allow(t0 + Duration::from_secs(9)), "still probing");
        assert!(breaker.allow(t0 + Duration::from_secs(10)), "given up: a new probe");
        assert!(!breaker.allow(t0 + Duration::from_secs(10)));
        breaker.success();
        assert!(!breaker.is_open());
    }
}
