//! What the engine asks of the store and when, with a mocked store: reads
//! and invalidations fail open, the breaker stops calling a failing store,
//! and invalidations that could not be applied are kept and retried.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use macrotrack_cache::{BreakerConfig, EngineConfig, Freshness};
use macrotrack_cache_keys::Target;
use macrotrack_ports::{BumpOutcome, MockCacheStore, Snapshot, StoreError, StoreOutcome};
use mockall::predicate::*;
use support::*;

fn config() -> EngineConfig {
    EngineConfig {
        breaker: BreakerConfig { failure_threshold: 2, open_for: Duration::from_secs(5) },
        ..EngineConfig::default()
    }
}

#[tokio::test]
async fn a_hit_costs_one_store_read_and_nothing_else() {
    let address = logs_address("2026-11-24");
    let mut store = MockCacheStore::new();
    store.expect_kind().return_const(macrotrack_ports::StoreKind::Shared);
    // Cold: read, then guards are initialised, then the conditional store.
    let stored = Arc::new(std::sync::Mutex::new(None::<bytes::Bytes>));
    let key = address.key.clone();
    let guards = address.guards.clone();
    {
        let stored = stored.clone();
        store.expect_read().with(eq(key.clone()), eq(guards.clone())).returning(move |_, _| {
            let value = stored.lock().unwrap().clone();
            let guards = if value.is_some() { vec![Some(11), Some(22)] } else { vec![None, None] };
            Ok(Snapshot { value, guards })
        });
    }
    store.expect_init_guards().times(1).returning(|_, _, _| Ok(vec![11, 22]));
    {
        let stored = stored.clone();
        store
            .expect_store_if_current()
            .withf(|_, _, ttl, _, expected, _| *ttl == Duration::from_secs(1200) && expected == [11, 22])
            .times(1)
            .returning(move |_, value, _, _, _, _| {
                *stored.lock().unwrap() = Some(value);
                Ok(StoreOutcome::Stored)
            });
    }
    store.expect_bump().never();
    store.expect_delete().never();
    let engine = engine_over(store, Arc::new(TestClock::default()), config());
    let source = Arc::new(Source::default());
    source.set(5);
    for _ in 0..3 {
        assert_eq!(engine.read(&address, POLICY, Freshness::Cached, check, source.fetcher()).await.unwrap().version, 5);
    }
    assert_eq!(source.fetches(), 1);
}

#[tokio::test]
async fn failing_store_serves_the_source_and_opens_the_breaker() {
    let mut store = MockCacheStore::new();
    // Two failures open the breaker; after that the store is not called
    // until the breaker's time is up.
    store.expect_read().times(2).returning(|_, _| Err(StoreError::Timeout));
    let clock = Arc::new(TestClock::default());
    let engine = engine_over(store, clock.clone(), config());
    let source = Arc::new(Source::default());
    source.set(9);
    for _ in 0..5 {
        assert_eq!(
            engine
                .read(&logs_address("2026-11-24"), POLICY, Freshness::Cached, check, source.fetcher())
                .await
                .unwrap()
                .version,
            9
        );
    }
    assert!(engine.breaker_open());
    let stats = engine.stats();
    assert_eq!((stats.error, stats.bypass), (2, 3));
}

#[tokio::test]
async fn breaker_probes_again_after_its_time() {
    let up = Arc::new(AtomicBool::new(false));
    let mut store = MockCacheStore::new();
    {
        let up = up.clone();
        store.expect_read().returning(move |_, _| {
            if up.load(Ordering::SeqCst) {
                Ok(Snapshot { value: None, guards: vec![Some(1), Some(2)] })
            } else {
                Err(StoreError::Timeout)
            }
        });
    }
    store.expect_store_if_current().returning(|_, _, _, _, _, _| Ok(StoreOutcome::Stored));
    let clock = Arc::new(TestClock::default());
    let engine = engine_over(store, clock.clone(), config());
    let source = Arc::new(Source::default());
    for _ in 0..2 {
        engine.read(&logs_address("2026-11-24"), POLICY, Freshness::Cached, check, source.fetcher()).await.unwrap();
    }
    assert!(engine.breaker_open());
    up.store(true, Ordering::SeqCst);
    clock.advance(Duration::from_secs(5));
    engine.read(&logs_address("2026-11-24"), POLICY, Freshness::Cached, check, source.fetcher()).await.unwrap();
    assert!(!engine.breaker_open(), "a successful probe closes it");
    assert_eq!(engine.stats().miss, 1);
}

#[tokio::test]
async fn failed_invalidation_is_kept_and_the_user_reads_the_source_until_applied() {
    let up = Arc::new(AtomicBool::new(false));
    let bumps = Arc::new(std::sync::Mutex::new(Vec::<Vec<String>>::new()));
    let mut store = MockCacheStore::new();
    {
        let (up, bumps) = (up.clone(), bumps.clone());
        store.expect_bump().returning(move |guards, _, _| {
            if up.load(Ordering::SeqCst) {
                bumps.lock().unwrap().push(guards.iter().map(|(g, _)| g.clone()).collect());
                Ok(BumpOutcome::Durable)
            } else {
                Err(StoreError::Unavailable("down".into()))
            }
        });
    }
    // While the invalidation is pending, reads of that user never touch the store.
    let reads_allowed = Arc::new(AtomicBool::new(false));
    {
        let reads_allowed = reads_allowed.clone();
        store.expect_read().returning(move |_, _| {
            assert!(reads_allowed.load(Ordering::SeqCst), "read the store while an invalidation was pending");
            Ok(Snapshot { value: None, guards: vec![Some(1), Some(2)] })
        });
    }
    store.expect_store_if_current().returning(|_, _, _, _, _, _| Ok(StoreOutcome::Stored));
    let clock = Arc::new(TestClock::default());
    let engine = engine_over(
        store,
        clock.clone(),
        EngineConfig {
            breaker: BreakerConfig { failure_threshold: 1, open_for: Duration::from_secs(5) },
            ..EngineConfig::default()
        },
    );
    let target = Target::day_logs(USER, day("2026-11-24"));
    let report = engine.invalidate(&[target]).await;
    assert_eq!((report.applied, report.deferred), (0, 1));
    assert_eq!(engine.pending().get(&USER).map(|t| t.len()), Some(1));
    let source = Arc::new(Source::default());
    source.set(3);
    assert_eq!(
        engine
            .read(&logs_address("2026-11-24"), POLICY, Freshness::Cached, check, source.fetcher())
            .await
            .unwrap()
            .version,
        3
    );
    assert_eq!(engine.stats().bypass, 1);
    // The store returns; once the breaker lets a probe through, the pending
    // invalidation is applied first, then reads use the store again.
    up.store(true, Ordering::SeqCst);
    reads_allowed.store(true, Ordering::SeqCst);
    clock.advance(Duration::from_secs(5));
    engine.read(&logs_address("2026-11-24"), POLICY, Freshness::Cached, check, source.fetcher()).await.unwrap();
    assert!(engine.pending().is_empty());
    assert_eq!(bumps.lock().unwrap().as_slice(), [vec![target.guard()]]);
    assert_eq!(engine.stats().failed_invalidations, 1);
}

/// Users distrusted from outside (a previous process's outbox) bypass the
/// store, even though it holds a matching entry, until the bump is applied.
#[tokio::test]
async fn distrusted_users_read_the_source_until_their_epoch_is_bumped() {
    let clock = Arc::new(TestClock::default());
    let engine = memory_engine(clock);
    let address = logs_address("2026-11-24");
    let source = Arc::new(Source::default());
    source.set(1);
    engine.read(&address, POLICY, Freshness::Cached, check, source.fetcher()).await.unwrap();
    // The database changed behind the cache's back (the writer died).
    source.set(2);
    assert_eq!(engine.read(&address, POLICY, Freshness::Cached, check, source.fetcher()).await.unwrap().version, 1);

    engine.distrust(&[Target::AllOfUser(USER)]);
    assert!(engine.pending().contains_key(&USER));
    // The next read retries the pending bump first (the store works), so it
    // is applied and the stale entry is gone.
    assert_eq!(engine.read(&address, POLICY, Freshness::Cached, check, source.fetcher()).await.unwrap().version, 2);
    assert!(engine.pending().is_empty());
    engine.distrust(&[]);
    assert!(engine.pending().is_empty());
}

#[tokio::test]
async fn distrusted_users_bypass_a_store_that_cannot_take_the_bump() {
    let mut store = MockCacheStore::new();
    store.expect_bump().returning(|_, _, _| Err(StoreError::Unavailable("down".into())));
    store.expect_read().never();
    let engine = engine_over(store, Arc::new(TestClock::default()), config());
    engine.distrust(&[Target::AllOfUser(USER)]);
    let source = Arc::new(Source::default());
    source.set(3);
    let address = logs_address("2026-11-24");
    for _ in 0..3 {
        assert_eq!(engine.read(&address, POLICY, Freshness::Cached, check, source.fetcher()).await.unwrap().version, 3);
    }
    assert_eq!(engine.stats().bypass, 3);
}

#[tokio::test]
async fn a_prefetch_reads_several_entries_in_one_round_trip() {
    let (first, second) = (logs_address("2026-11-24"), me_address());
    let mut store = MockCacheStore::new();
    store.expect_read_many().times(1).returning(|reads| {
        assert_eq!(reads.len(), 2, "both entries in one call");
        Ok(reads.iter().map(|(_, guards)| Snapshot { value: None, guards: vec![Some(1); guards.len()] }).collect())
    });
    // Each read starts from its prefetched snapshot, not a round trip of its own.
    store.expect_read().never();
    store.expect_store_if_current().times(2).returning(|_, _, _, _, _, _| Ok(StoreOutcome::Stored));
    let engine = engine_over(store, Arc::new(TestClock::default()), config());
    let source = Arc::new(Source::default());
    let (a, b) = engine
        .prefetch(&[&first, &second], async {
            let a = engine.read(&first, POLICY, Freshness::Cached, check, source.fetcher()).await.unwrap();
            let b = engine.read(&second, POLICY, Freshness::Cached, check, source.fetcher()).await.unwrap();
            (a, b)
        })
        .await;
    assert_eq!((a.version, b.version, source.fetches()), (0, 0, 2));
    assert_eq!(engine.stats().miss, 2);
}

#[tokio::test]
async fn a_prefetch_inside_another_reads_only_what_the_outer_one_did_not() {
    let (first, second) = (logs_address("2026-11-24"), me_address());
    let mut store = MockCacheStore::new();
    let mut calls = mockall::Sequence::new();
    for expected in [first.key.clone(), second.key.clone()] {
        store.expect_read_many().times(1).in_sequence(&mut calls).returning(move |reads| {
            let keys: Vec<&String> = reads.iter().map(|(key, _)| key).collect();
            assert_eq!(keys, [&expected], "one new entry per round trip");
            Ok(reads.iter().map(|(_, guards)| Snapshot { value: None, guards: vec![Some(1); guards.len()] }).collect())
        });
    }
    store.expect_read().never();
    store.expect_store_if_current().times(2).returning(|_, _, _, _, _, _| Ok(StoreOutcome::Stored));
    let engine = engine_over(store, Arc::new(TestClock::default()), config());
    let source = Arc::new(Source::default());
    let (a, b) = engine
        .prefetch(&[&first], async {
            engine
                .prefetch(&[&first, &second], async {
                    let a = engine.read(&first, POLICY, Freshness::Cached, check, source.fetcher()).await.unwrap();
                    let b = engine.read(&second, POLICY, Freshness::Cached, check, source.fetcher()).await.unwrap();
                    (a, b)
                })
                .await
        })
        .await;
    assert_eq!((a.version, b.version, source.fetches()), (0, 0, 2));
}

#[tokio::test]
async fn every_read_of_the_source_is_counted_as_a_fetch() {
    let engine = memory_engine(Arc::new(TestClock::default()));
    let source = Arc::new(Source::default());
    let address = logs_address("2026-11-24");
    for _ in 0..3 {
        engine.read(&address, POLICY, Freshness::Cached, check, source.fetcher()).await.unwrap();
    }
    assert_eq!((engine.stats().fetches, source.fetches()), (1, 1), "one miss, then hits");
    engine.read(&address, POLICY, Freshness::Force, check, source.fetcher()).await.unwrap();
    assert_eq!((engine.stats().fetches, source.fetches()), (2, 2), "force-fresh fetches");
    engine.distrust(&[Target::AllOfUser(USER)]);
    // Whether the read bypasses the store or first applies the pending
    // bump and misses, the source is read once more, and counted.
    engine.read(&address, POLICY, Freshness::Cached, check, source.fetcher()).await.unwrap();
    assert_eq!((engine.stats().fetches, source.fetches()), (3, 3));
}
