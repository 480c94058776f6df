//! A small circuit breaker over the store. Written by hand: the crates that
//! offer one (failsafe, ...) bring their own clocks and futures wrappers,
//! while ours must run on the injected `Clock` so tests never sleep.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
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
    /// Only calls numbered `probe` (started since this probe was admitted)
    /// close it.
    HalfOpen {
        since: DateTime<Utc>,
        probe: u64,
    },
    /// With recoveries confirmed (`confirm_recoveries`): the probe
    /// succeeded, the store answers again, but what it holds is not trusted
    /// yet: bumps go through (they are how it is made trustworthy again),
    /// reads go around it until `trust`.
    Unconfirmed,
}

/// What a store call is for: reads go around a store not trusted yet,
/// bumps do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    Read,
    Bump,
}

/// The number of the breaker's period a store call started in (see
/// `Breaker::ticket`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ticket(u64);

#[derive(Debug)]
pub struct Breaker {
    config: BreakerConfig,
    state: Mutex<State>,
    /// Probes admitted so far: each one starts a period of its own.
    probes: AtomicU64,
    /// Whether a recovered store waits for `trust` (see `State::Unconfirmed`).
    confirm_recoveries: AtomicBool,
}

impl Breaker {
    pub fn new(config: BreakerConfig) -> Self {
        Breaker {
            config,
            state: Mutex::new(State::Closed { failures: 0 }),
            probes: AtomicU64::new(0),
            confirm_recoveries: AtomicBool::new(false),
        }
    }

    /// From now on, a store that answers again after the breaker opened is
    /// not trusted until `trust`; only bumps probe it meanwhile.
    pub fn confirm_recoveries(&self) {
        self.confirm_recoveries.store(true, Ordering::Release);
    }

    /// Trusts a store that answers again (`State::Unconfirmed`).
    pub fn trust(&self) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if *state == State::Unconfirmed {
            *state = State::Closed { failures: 0 };
        }
    }

    /// Whether the store answers again but waits for `trust`.
    pub fn unconfirmed(&self) -> bool {
        *self.state.lock().unwrap_or_else(|e| e.into_inner()) == State::Unconfirmed
    }

    /// Whether `allow` would let `call` through now, without admitting a
    /// probe: a cheap look before preparing work for the store.
    pub fn may_call(&self, now: DateTime<Utc>, call: Call) -> bool {
        let may_probe = call == Call::Bump || !self.confirm_recoveries.load(Ordering::Acquire);
        match *self.state.lock().unwrap_or_else(|e| e.into_inner()) {
            State::Closed { .. } => true,
            State::Unconfirmed => call == Call::Bump,
            State::Open { until } => may_probe && now >= until,
            State::HalfOpen { since, .. } => may_probe && now >= since + self.config.open_for,
        }
    }

    /// To take when a store call starts and hand to `success` with its
    /// answer: a half-open breaker is closed only by a call started after
    /// its probe was admitted, not by one that started before the breaker
    /// opened and answers late (it says nothing of the store now).
    pub fn ticket(&self) -> Ticket {
        Ticket(self.probes.load(Ordering::Acquire))
    }

    /// Admits the one probe of a new half-open period.
    fn probe(&self, state: &mut State, now: DateTime<Utc>) -> bool {
        let probe = self.probes.fetch_add(1, Ordering::AcqRel) + 1;
        *state = State::HalfOpen { since: now, probe };
        true
    }

    /// Whether the caller may use the store now for `call`. With
    /// recoveries confirmed, only bumps probe.
    pub fn allow(&self, now: DateTime<Utc>, call: Call) -> bool {
        let may_probe = call == Call::Bump || !self.confirm_recoveries.load(Ordering::Acquire);
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match *state {
            State::Closed { .. } => true,
            State::Unconfirmed => call == Call::Bump,
            State::Open { until } if may_probe && now >= until => self.probe(&mut state, now),
            State::HalfOpen { since, .. } if may_probe && now >= since + self.config.open_for => {
                self.probe(&mut state, now)
            }
            State::Open { .. } | State::HalfOpen { .. } => false,
        }
    }

    /// A call that started with `ticket` succeeded: a closed breaker
    /// forgets its failures; a half-open one closes (or waits for `trust`)
    /// if the call started within its probe's period; an open one stays open.
    pub fn success(&self, ticket: Ticket) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match *state {
            State::Closed { .. } => *state = State::Closed { failures: 0 },
            State::HalfOpen { probe, .. } if ticket.0 == probe => {
                *state = if self.confirm_recoveries.load(Ordering::Acquire) {
                    State::Unconfirmed
                } else {
                    State::Closed { failures: 0 }
                };
            }
            State::HalfOpen { .. } | State::Open { .. } | State::Unconfirmed => {}
        }
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
        assert!(breaker.allow(t0, Call::Read), "one failure keeps it closed");
        breaker.failure(t0);
        assert!(!breaker.allow(t0 + Duration::from_secs(4), Call::Read), "open");
        assert!(breaker.allow(t0 + Duration::from_secs(5), Call::Read), "half-open: one probe");
        assert!(!breaker.allow(t0 + Duration::from_secs(5), Call::Read), "only one probe at a time");
        breaker.failure(t0 + Duration::from_secs(5));
        assert!(!breaker.allow(t0 + Duration::from_secs(9), Call::Read), "failed probe reopens");
        assert!(breaker.allow(t0 + Duration::from_secs(10), Call::Read));
        breaker.success(breaker.ticket());
        assert!(breaker.allow(t0 + Duration::from_secs(10), Call::Read) && !breaker.is_open());
    }

    #[test]
    fn a_probe_that_never_answers_is_given_up_and_another_one_probes() {
        let breaker = Breaker::new(BreakerConfig { failure_threshold: 1, open_for: Duration::from_secs(5) });
        let t0 = DateTime::UNIX_EPOCH;
        breaker.failure(t0);
        assert!(breaker.allow(t0 + Duration::from_secs(5), Call::Read), "the probe");
        // Its caller recorded nothing (no store call followed).
        assert!(!breaker.allow(t0 + Duration::from_secs(9), Call::Read), "still probing");
        assert!(breaker.allow(t0 + Duration::from_secs(10), Call::Read), "given up: a new probe");
        assert!(!breaker.allow(t0 + Duration::from_secs(10), Call::Read));
        breaker.success(breaker.ticket());
        assert!(!breaker.is_open());
    }

    #[test]
    fn only_the_probe_closes_a_half_open_breaker_not_a_call_that_started_before_it_opened() {
        let breaker = Breaker::new(BreakerConfig { failure_threshold: 1, open_for: Duration::from_secs(5) });
        let t0 = DateTime::UNIX_EPOCH;
        let late = breaker.ticket(); // a slow call, started while the breaker was closed
        breaker.failure(t0);
        breaker.success(late);
        assert!(
            breaker.is_open() && !breaker.allow(t0 + Duration::from_secs(1), Call::Read),
            "open: a late success changes nothing"
        );
        assert!(breaker.allow(t0 + Duration::from_secs(5), Call::Read), "the probe");
        let probe = breaker.ticket();
        breaker.success(late);
        assert!(breaker.is_open(), "half-open still: the late call is not the probe");
        assert!(!breaker.allow(t0 + Duration::from_secs(6), Call::Read), "and no second probe is admitted");
        breaker.success(probe);
        assert!(!breaker.is_open(), "the probe's success closes it");
    }

    #[test]
    fn a_confirmed_recovery_keeps_reads_away_until_trusted_while_bumps_probe_and_go_through() {
        let breaker = Breaker::new(BreakerConfig { failure_threshold: 1, open_for: Duration::from_secs(5) });
        breaker.confirm_recoveries();
        let t0 = DateTime::UNIX_EPOCH;
        breaker.failure(t0);
        let later = t0 + Duration::from_secs(5);
        assert!(!breaker.may_call(later, Call::Read) && !breaker.allow(later, Call::Read), "reads do not probe");
        assert!(breaker.may_call(later, Call::Bump) && breaker.allow(later, Call::Bump), "a bump probes");
        breaker.success(breaker.ticket());
        assert!(breaker.unconfirmed() && breaker.is_open());
        assert!(!breaker.allow(later, Call::Read), "not trusted yet");
        assert!(breaker.allow(later, Call::Bump), "bumps go through");
        breaker.trust();
        assert!(!breaker.is_open() && breaker.allow(later, Call::Read));
    }
}
