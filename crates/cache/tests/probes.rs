//! Edges of the engine, each against a mocked or observed store: the
//! breaker's probe is answered on every path, the JSON path runs
//! check-value, a retry never drops a newer deferral, and a key the source
//! does not know leaves nothing in the store.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use macrotrack_cache::{BreakerConfig, EngineConfig, Freshness, LeaseConfig, MemoryStore, ReadError};
use macrotrack_cache_keys::Target;
use macrotrack_ports::{MockCacheStore, Snapshot, StoreError, StoreOutcome};
use support::*;

fn breaker_config() -> EngineConfig {
    EngineConfig {
        breaker: BreakerConfig { failure_threshold: 2, open_for: Duration::from_secs(5) },
        ..EngineConfig::default()
    }
}

/// A store whose reads fail while `down` holds; its conditional stores
/// answer `outcome`. Counts the reads that reached it.
fn flaky_store(down: Arc<AtomicBool>, reads: Arc<AtomicUsize>, outcome: StoreOutcome) -> MockCacheStore {
    let mut store = MockCacheStore::new();
    store.expect_read().returning(move |_, guards| {
        reads.fetch_add(1, Ordering::SeqCst);
        if down.load(Ordering::SeqCst) {
            Err(StoreError::Timeout)
        } else {
            Ok(Snapshot { value: None, guards: vec![Some(1); guards.len()] })
        }
    });
    store.expect_init_guards().returning(|guards, _, _| Ok(vec![1; guards.len()]));
    store.expect_store_if_current().returning(move |_, _, _, _, _, _| Ok(outcome));
    store
}

/// Opens the breaker with two failed reads, lets its time pass and brings
/// the store back; then `probe` is the first call through.
async fn after_a_probe(outcome: StoreOutcome, probe_fetch_fails: bool) -> (bool, usize) {
    let (down, reads) = (Arc::new(AtomicBool::new(true)), Arc::new(AtomicUsize::new(0)));
    let clock = Arc::new(TestClock::default());
    let engine = engine_over(flaky_store(down.clone(), reads.clone(), outcome), clock.clone(), breaker_config());
    let source = Arc::new(Source::default());
    let address = logs_address("2026-11-24");
    for _ in 0..2 {
        engine.read(&address, POLICY, Freshness::Cached, check, source.fetcher()).await.unwrap();
    }
    assert!(engine.breaker_open());
    down.store(false, Ordering::SeqCst);
    clock.advance(Duration::from_secs(5));
    // The probe: a forced refresh (the admin route), whose store calls are
    // init_guards and the conditional store.
    let failing = || std::future::ready(Err::<Versioned, String>("the database failed".into()));
    let probed = if probe_fetch_fails {
        engine.read(&address, POLICY, Freshness::Force, check, failing).await.map(|_| ())
    } else {
        engine.read(&address, POLICY, Freshness::Force, check, source.fetcher()).await.map(|_| ())
    };
    assert_eq!(probed.is_err(), probe_fetch_fails);
    let reads_before = reads.load(Ordering::SeqCst);
    engine.read(&address, POLICY, Freshness::Cached, check, source.fetcher()).await.unwrap();
    (engine.breaker_open(), reads.load(Ordering::SeqCst) - reads_before)
}

#[tokio::test]
async fn a_probe_whose_store_was_rejected_closes_the_breaker() {
    assert_eq!(after_a_probe(StoreOutcome::Rejected, false).await, (false, 1), "closed: the next read uses the store");
}

#[tokio::test]
async fn a_probe_whose_fetch_failed_after_init_guards_answered_closes_the_breaker() {
    assert_eq!(after_a_probe(StoreOutcome::Stored, true).await, (false, 1), "closed: the next read uses the store");
}

fn check_below_five(value: &Versioned) -> Result<(), String> {
    if value.version < 5 { Ok(()) } else { Err("5 and above are refused".into()) }
}

#[tokio::test]
async fn the_json_path_runs_check_value_on_a_cached_value() {
    // Another instance (another build, say) cached a value this one refuses.
    let store = MemoryStore::new(1 << 20);
    let clock = Arc::new(TestClock::default());
    let other = engine_over(store.clone(), clock.clone(), EngineConfig::default());
    let this = engine_over(store, clock, EngineConfig::default());
    let address = logs_address("2026-11-24");
    let source = Arc::new(Source::default());
    source.set(5);
    other.read(&address, POLICY, Freshness::Cached, check, source.fetcher()).await.unwrap();
    source.set(4);
    let json = this.read_json(&address, POLICY, Freshness::Cached, check_below_five, source.fetcher()).await.unwrap();
    assert_eq!(&json[..], br#"{"version":4}"#, "the refused value was replaced");
    assert_eq!((this.stats().invalid, this.stats().hit), (1, 0));
    let again = this.read_json(&address, POLICY, Freshness::Cached, check_below_five, source.fetcher()).await.unwrap();
    assert_eq!((&again[..], this.stats().hit, source.fetches()), (&br#"{"version":4}"#[..], 1, 2));
}

#[tokio::test]
async fn a_retry_does_not_drop_a_deferral_made_while_its_bump_was_in_flight() {
    let store = Observed::new(MemoryStore::new(1 << 20));
    let engine = engine_over(store.clone(), Arc::new(TestClock::default()), EngineConfig::default());
    let target = Target::day_logs(USER, day("2026-11-24"));
    store.plan_bumps([BumpStep::Fail]);
    assert_eq!(engine.invalidate(&[target]).await.deferred, 1);
    // The retry's bump is slow; meanwhile a newer write's bump fails.
    let (resume, paused) = tokio::sync::oneshot::channel();
    store.plan_bumps([BumpStep::PauseUntil(paused), BumpStep::Fail]);
    let retry = {
        let engine = engine.clone();
        tokio::spawn(async move { engine.retry_pending().await })
    };
    while store.count("bump") < 2 {
        tokio::task::yield_now().await;
    }
    assert_eq!(engine.invalidate(&[target]).await.deferred, 1, "the newer write's bump failed");
    resume.send(()).unwrap();
    retry.await.unwrap();
    assert!(
        engine.pending().get(&USER).is_some_and(|targets| targets.contains(&target)),
        "the newer deferral stays pending: the retry's bump was sent before that write"
    );
    engine.retry_pending().await;
    assert!(engine.pending().is_empty(), "the next retry applies it");
}

/// A store that must not be written to: any write fails the test.
fn read_only_store(guards_present: bool) -> MockCacheStore {
    let mut store = MockCacheStore::new();
    store.expect_read().returning(move |_, guards| {
        Ok(Snapshot { value: None, guards: vec![guards_present.then_some(7); guards.len()] })
    });
    store.expect_init_guards().never();
    store.expect_lease().never();
    store.expect_store_if_current().never();
    store.expect_delete().never();
    store.expect_bump().never();
    store
}

#[tokio::test]
async fn a_confirmed_read_of_a_key_the_source_does_not_know_writes_nothing() {
    let config = EngineConfig { lease: Some(LeaseConfig::default()), ..EngineConfig::default() };
    for guards_present in [false, true] {
        let engine = engine_over(read_only_store(guards_present), Arc::new(TestClock::default()), config);
        let unknown = || std::future::ready(Err::<Versioned, String>("no such credential".into()));
        let read = engine.read_confirmed(&me_address(), POLICY, check, unknown).await;
        assert!(matches!(read, Err(ReadError::Source(_))), "guards present: {guards_present}");
        assert_eq!(engine.stats().miss, 1);
    }
}

#[tokio::test]
async fn a_confirmed_read_of_a_known_key_makes_its_guards_after_the_source_answered() {
    let store = Observed::new(MemoryStore::new(1 << 20));
    let config = EngineConfig { lease: Some(LeaseConfig::default()), ..EngineConfig::default() };
    let engine = engine_over(store.clone(), Arc::new(TestClock::default()), config);
    let source = Arc::new(Source::default());
    source.set(3);
    assert_eq!(engine.read_confirmed(&me_address(), POLICY, check, source.fetcher()).await.unwrap().version, 3);
    // The guards are made after the fetch, and nothing moved them since it
    // started (a write would have made them): its value is stored.
    assert_eq!(source.fetches(), 1, "a cold credential costs one fetch");
    assert_eq!(store.methods(true), ["init_guards", "store_if_current"], "no lease: confirmed reads take none");
    assert_eq!(engine.read_confirmed(&me_address(), POLICY, check, source.fetcher()).await.unwrap().version, 3);
    assert_eq!((source.fetches(), engine.stats().hit), (1, 1));
}

#[tokio::test]
async fn a_confirmed_read_whose_guards_a_write_made_during_its_fetch_fetches_again() {
    let engine = engine_over(MemoryStore::new(1 << 20), Arc::new(TestClock::default()), EngineConfig::default());
    let (before_write, started, resume) = paused_fetch(1);
    let source = Arc::new(Source::default());
    source.set(2);
    let fetch = {
        let (before_write, first, source) = (Arc::new(before_write), Arc::new(AtomicBool::new(true)), source.clone());
        move || -> BoxedFetch {
            if first.swap(false, Ordering::SeqCst) {
                return before_write();
            }
            Box::pin(source.fetcher()())
        }
    };
    let read = {
        let engine = engine.clone();
        tokio::spawn(async move { engine.read_confirmed(&me_address(), POLICY, check, fetch).await })
    };
    started.await.unwrap();
    // The write's bump makes the guards the read found absent.
    engine.invalidate(&[Target::AllOfUser(USER)]).await;
    resume.send(()).unwrap();
    assert_eq!(read.await.unwrap().unwrap().version, 2, "fetched again under the write's guards");
    assert_eq!(source.fetches(), 1);
    let again = engine.read_confirmed(&me_address(), POLICY, check, source.fetcher()).await.unwrap();
    assert_eq!((again.version, engine.stats().hit), (2, 1), "the value from before the write was never stored");
}

#[tokio::test]
async fn a_late_success_of_a_call_made_before_the_breaker_opened_does_not_close_it() {
    let store = Observed::new(MemoryStore::new(1 << 20));
    let clock = Arc::new(TestClock::default());
    let engine = engine_over(store.clone(), clock.clone(), breaker_config());
    let (resume, paused) = tokio::sync::oneshot::channel();
    store.plan_bumps([BumpStep::PauseUntil(paused)]);
    let slow_bump = {
        let engine = engine.clone();
        tokio::spawn(async move { engine.invalidate(&[Target::day_logs(USER, day("2026-11-20"))]).await })
    };
    while store.count("bump") < 1 {
        tokio::task::yield_now().await;
    }
    // The store goes away while the bump is in flight: two reads open the breaker.
    store.set_down(true);
    let (source, address) = (Arc::new(Source::default()), logs_address("2026-11-24"));
    for _ in 0..2 {
        engine.read(&address, POLICY, Freshness::Cached, check, source.fetcher()).await.unwrap();
    }
    assert!(engine.breaker_open());
    store.set_down(false);
    resume.send(()).unwrap();
    assert_eq!(slow_bump.await.unwrap().applied, 1, "the slow bump succeeded, late");
    assert!(engine.breaker_open(), "a call started before the breaker opened says nothing of the store now");
    let reads = store.count("read");
    engine.read(&address, POLICY, Freshness::Cached, check, source.fetcher()).await.unwrap();
    assert_eq!(store.count("read"), reads, "still open: the read went around the store");
    clock.advance(Duration::from_secs(5));
    engine.read(&address, POLICY, Freshness::Cached, check, source.fetcher()).await.unwrap();
    assert!(!engine.breaker_open(), "the probe's success closed it");
}

#[tokio::test]
async fn a_read_after_an_outage_applies_a_bounded_batch_of_the_pending_invalidations() {
    let store = Observed::new(MemoryStore::new(1 << 20));
    let clock = Arc::new(TestClock::default());
    let engine = engine_over(store.clone(), clock.clone(), breaker_config());
    store.set_down(true);
    let users: Vec<macrotrack_domain::UserId> = (1..=100).map(macrotrack_domain::UserId).collect();
    for user in &users {
        let report = engine.invalidate(&[Target::day_logs(*user, day("2026-11-24"))]).await;
        assert_eq!(report.deferred, 1);
    }
    assert_eq!(engine.pending().len(), 100);
    store.set_down(false);
    clock.advance(Duration::from_secs(5));
    let bumps = store.count("bump");
    let source = Arc::new(Source::default());
    engine.read(&logs_address("2026-11-24"), POLICY, Freshness::Cached, check, source.fetcher()).await.unwrap();
    let applied = store.count("bump") - bumps;
    assert!((1..=8).contains(&applied), "one read applied {applied} users' bumps, not the whole backlog");
    assert_eq!(engine.pending().len(), 100 - applied);
    engine.retry_pending().await;
    assert!(engine.pending().is_empty(), "the drainer's retry applies the rest, batch after batch");
}
