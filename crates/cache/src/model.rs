//! A model of the engine's semantics, for state-machine tests on any store
//! (feature `conformance`). Every source change is paired with the
//! invalidation the matrix would apply, so the property is: every read
//! returns the source's current value, and its outcome (hit, stale, miss)
//! is the one the model predicts from ages and invalidations.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use macrotrack_cache_keys::{Bucket, EntryAddress, Guard, QueryKey, ReadFamily, Target, Tier1Key};
use macrotrack_domain::{Day, UserId};
use macrotrack_ports::{CacheStore, Clock};

use crate::{Engine, EngineConfig, Freshness, Policy};

/// One step of a test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Read entry `0..ENTRIES`.
    Read(usize),
    /// Change the source under target `0..TARGETS` and invalidate it.
    Write(usize),
    /// Invalidate target `0..TARGETS` without changing the source.
    Invalidate(usize),
    /// Let seconds pass.
    Advance(u32),
}

/// Entries the model's operations address.
pub const ENTRIES: usize = 6;
/// Targets the model's operations invalidate.
pub const TARGETS: usize = 8;
const POLICY: Policy = Policy { ttl: Duration::from_secs(10), swr: Duration::from_secs(20) };

fn day(n: i64) -> Day {
    "2026-11-24".parse::<Day>().ok().and_then(|d| d.plus_days(n)).unwrap_or_else(|| unreachable!())
}

fn addresses(scope: i64) -> [EntryAddress; ENTRIES] {
    let (u1, u2) = (UserId(scope), UserId(scope + 1));
    [
        logs(u1, day(0)),
        logs(u1, day(1)),
        logs(u2, day(0)),
        EntryAddress::tier2(QueryKey::FrequentFoods { user: u1, limit: 5 }, &[own(u1), shared(u1)]),
        EntryAddress::tier2(QueryKey::Me { user: u1 }, &[shared(u1)]),
        EntryAddress::tier2(QueryKey::Me { user: u2 }, &[shared(u2)]),
    ]
}

fn logs(user: UserId, date: Day) -> EntryAddress {
    EntryAddress::tier1(Tier1Key::DayLogs { user, date }, &[Guard::new(user, ReadFamily::Logs, Bucket::Day(date))])
}

/// A guard of one entry only.
fn own(user: UserId) -> Guard {
    Guard::new(user, ReadFamily::FrequentFoods, Bucket::Whole)
}

/// A guard two entries share (as entries of one read share their read's).
fn shared(user: UserId) -> Guard {
    Guard::new(user, ReadFamily::Me, Bucket::Whole)
}

/// Each target and the entries it covers.
fn targets(scope: i64) -> [(Target, &'static [usize]); TARGETS] {
    let (u1, u2) = (UserId(scope), UserId(scope + 1));
    [
        (Target::day_logs(u1, day(0)), &[0]),
        (Target::day_logs(u1, day(1)), &[1]),
        (Target::day_logs(u2, day(0)), &[2]),
        (Target::Guard(own(u1)), &[3]),
        (Target::Guard(shared(u1)), &[3, 4]),
        (Target::Guard(shared(u2)), &[5]),
        (Target::AllOfUser(u1), &[0, 1, 3, 4]),
        (Target::AllOfUser(u2), &[2, 5]),
    ]
}

struct ModelClock(AtomicI64);

impl Clock for ModelClock {
    fn now(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(1_764_000_000_000 + self.0.load(Ordering::SeqCst)).unwrap_or_default()
    }
}

/// Runs `ops` on an engine over `store` and on the model; `scope` picks
/// user ids no other run uses (a shared Redis). Returns the first mismatch.
pub async fn check_against_model<S: CacheStore>(store: S, scope: i64, ops: &[Op]) -> Result<(), String> {
    let clock = Arc::new(ModelClock(AtomicI64::new(0)));
    let engine = Engine::new(store, clock.clone(), EngineConfig::default());
    let addresses = addresses(scope);
    let targets = targets(scope);
    let sources: Arc<[AtomicI64; ENTRIES]> = Arc::new(std::array::from_fn(|_| AtomicI64::new(0)));
    // The model: when each entry was cached (engine clock ms), if it is.
    let mut cached_at: [Option<i64>; ENTRIES] = [None; ENTRIES];
    let ttl = POLICY.ttl.as_millis() as i64;
    let swr = POLICY.swr.as_millis() as i64;
    for (step, op) in ops.iter().enumerate() {
        let now = clock.0.load(Ordering::SeqCst);
        match *op {
            Op::Read(entry) => {
                let entry = entry % ENTRIES;
                let expected_outcome = match cached_at[entry] {
                    Some(at) if now - at < ttl => "hit",
                    Some(at) if now - at < ttl + swr => "stale",
                    _ => "miss",
                };
                let before = engine.stats();
                let fetch = {
                    let sources = sources.clone();
                    move || {
                        let value = sources[entry].load(Ordering::SeqCst);
                        std::future::ready(Ok::<i64, String>(value))
                    }
                };
                let value = engine.read(&addresses[entry], POLICY, Freshness::Cached, |_| Ok(()), fetch).await;
                // Let a background refresh finish before the next step.
                while engine.refreshing() > 0 {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                let after = engine.stats();
                let outcome = if after.hit > before.hit {
                    "hit"
                } else if after.stale > before.stale {
                    "stale"
                } else if after.miss > before.miss {
                    "miss"
                } else {
                    "other"
                };
                let current = sources[entry].load(Ordering::SeqCst);
                if value.as_ref().ok() != Some(&current) {
                    return Err(format!("step {step} {op:?}: read {value:?}, source holds {current}"));
                }
                if outcome != expected_outcome {
                    return Err(format!("step {step} {op:?}: outcome {outcome}, model expected {expected_outcome}"));
                }
                if expected_outcome != "hit" {
                    // A miss stores now; a stale read's refresh stores now too.
                    cached_at[entry] = Some(now);
                }
            }
            Op::Write(target) | Op::Invalidate(target) => {
                let (target, covered) = targets[target % TARGETS];
                if matches!(op, Op::Write(_)) {
                    for &entry in covered {
                        sources[entry].fetch_add(1, Ordering::SeqCst);
                    }
                }
                let report = engine.invalidate(&[target]).await;
                if report.deferred != 0 {
                    return Err(format!("step {step} {op:?}: invalidation deferred"));
                }
                for &entry in covered {
                    cached_at[entry] = None;
                }
            }
            Op::Advance(seconds) => {
                clock.0.fetch_add(i64::from(seconds) * 1000, Ordering::SeqCst);
            }
        }
    }
    Ok(())
}

/// The stale-set race on `store`, deterministically: a reader fetched v1
/// and is paused before storing; a writer commits v2 and invalidates; the
/// reader's store must be rejected and the next read must return v2.
pub async fn stale_set_race<S: CacheStore>(store: S, scope: i64) -> Result<(), String> {
    use tokio::sync::oneshot;
    let engine = Engine::new(store, Arc::new(ModelClock(AtomicI64::new(0))), EngineConfig::default());
    let address = addresses(scope)[0].clone();
    let source = Arc::new(AtomicI64::new(1));
    let (fetched_tx, fetched_rx) = oneshot::channel::<()>();
    let (resume_tx, resume_rx) = oneshot::channel::<()>();
    let gate = Arc::new(std::sync::Mutex::new(Some((fetched_tx, resume_rx))));
    let paused = {
        let source = source.clone();
        move || {
            let gate = gate.clone();
            let value = source.load(Ordering::SeqCst);
            async move {
                let taken = gate.lock().map(|mut slot| slot.take()).ok().flatten();
                let (fetched, resume) = taken.ok_or_else(|| "fetched twice".to_owned())?;
                let _ = fetched.send(());
                resume.await.map_err(|_| "never resumed".to_owned())?;
                Ok::<i64, String>(value)
            }
        }
    };
    let reader = {
        let (engine, address) = (engine.clone(), address.clone());
        tokio::spawn(async move { engine.read(&address, POLICY, Freshness::Cached, |_| Ok(()), paused).await })
    };
    fetched_rx.await.map_err(|_| "the reader never fetched")?;
    source.store(2, Ordering::SeqCst);
    engine.invalidate(&[Target::day_logs(UserId(scope), day(0))]).await;
    let _ = resume_tx.send(());
    let answered = reader.await.map_err(|e| e.to_string())?.map_err(|e| e.to_string())?;
    if answered != 1 {
        return Err(format!("the paused reader answered {answered}, not what it read"));
    }
    if engine.stats().rejected_store != 1 {
        return Err(format!("rejected stores: {}", engine.stats().rejected_store));
    }
    let fetch = move || std::future::ready(Ok::<i64, String>(source.load(Ordering::SeqCst)));
    let next = engine.read(&address, POLICY, Freshness::Cached, |_| Ok(()), fetch).await.map_err(|e| e.to_string())?;
    if next != 2 {
        return Err(format!("read after the write returned {next}"));
    }
    Ok(())
}
