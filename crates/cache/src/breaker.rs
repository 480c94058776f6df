//! A small circuit breaker over the store. Written by hand: the crates that
//! offer one (failsafe, ...) bring their own clocks and futures wrappers,
//! while ours must run on the injected `Clock` so tests never sleep.

use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};

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
    /// One caller is probing the store; others skip it meanwhile.
    HalfOpen,
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
                *state = State::HalfOpen;
                true
            }
            State::Open { .. } | State::HalfOpen => false,
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
}
