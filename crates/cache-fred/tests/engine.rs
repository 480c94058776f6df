//! The cache engine on real Redis: the model's state machine, the
//! stale-set race, and fail-open on a paused server (the breaker opens and
//! reads keep answering from the source within the command timeout).

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use macrotrack_cache::model::{ENTRIES, Op, TARGETS, check_against_model, stale_set_race};
use macrotrack_cache::{BreakerConfig, Engine, EngineConfig, Freshness, Policy};
use macrotrack_cache_keys::{EntryAddress, Tier1Key};
use macrotrack_domain::UserId;
use macrotrack_ports::SystemClock;
use macrotrack_testkit::RedisServer;
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestRunner};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_set_race_is_closed_on_redis() {
    let Some(store) = common::store().await else { return };
    stale_set_race(store, 500).await.unwrap();
}

#[test]
fn redis_follows_the_model() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let Some(store) = runtime.block_on(common::store()) else { return };
    let op = prop_oneof![
        5 => (0..ENTRIES).prop_map(Op::Read),
        2 => (0..TARGETS).prop_map(Op::Write),
        1 => (0..TARGETS).prop_map(Op::Invalidate),
        2 => (0u32..40).prop_map(Op::Advance),
    ];
    let scope = Arc::new(AtomicUsize::new(1000));
    let mut runner = TestRunner::new(ProptestConfig { cases: 40, ..ProptestConfig::default() });
    runner
        .run(&proptest::collection::vec(op, 1..80), |ops| {
            // Each case gets user ids of its own: the store is shared.
            let scope = scope.fetch_add(2, Ordering::SeqCst) as i64;
            let outcome = runtime.block_on(check_against_model(store.clone(), scope, &ops));
            prop_assert!(outcome.is_ok(), "{}", outcome.unwrap_err());
            Ok(())
        })
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paused_redis_serves_the_source_and_opens_the_breaker() {
    let Some(server) = RedisServer::start(&[]) else { return };
    let mut config = common::config(&server.url());
    config.command_timeout = Duration::from_millis(100);
    let Some(store) = common::connect(config).await else { return };
    let breaker = BreakerConfig { failure_threshold: 2, open_for: Duration::from_secs(30) };
    let engine = Engine::new(store, Arc::new(SystemClock), EngineConfig { breaker, ..EngineConfig::default() });
    let address = EntryAddress::tier1(Tier1Key::DayLogs { user: UserId(7), date: "2026-11-24".parse().unwrap() }, &[]);
    let policy = Policy { ttl: Duration::from_secs(60), swr: Duration::from_secs(60) };
    let fetch = || std::future::ready(Ok::<i64, String>(42));
    assert_eq!(engine.read(&address, policy, Freshness::Cached, |_| Ok(()), fetch).await.unwrap(), 42);
    server.signal("STOP");
    let started = Instant::now();
    for _ in 0..10 {
        assert_eq!(engine.read(&address, policy, Freshness::Cached, |_| Ok(()), fetch).await.unwrap(), 42);
    }
    let elapsed = started.elapsed();
    server.signal("CONT");
    assert!(engine.breaker_open(), "the breaker opened");
    let stats = engine.stats();
    assert_eq!(stats.error, 2, "two reads waited for the timeout");
    assert_eq!(stats.bypass, 8, "the rest skipped the store");
    // Two timeouts of 100 ms and eight skipped calls: far below ten timeouts.
    assert!(elapsed < Duration::from_millis(900), "ten reads took {elapsed:?}");
}

/// 1000 concurrent cold reads of one key split over two instances (two
/// engines, each with its own single-flight, on one Redis) cost one fetch:
/// the instance that loses the lease waits for the other's value.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stampede_over_two_instances_fetches_once() {
    // Two connections with one key prefix: two instances of one deployment.
    let config = common::config(&macrotrack_testkit::redis_url());
    let Some(first) = common::connect(config.clone()).await else { return };
    let Some(second) = common::connect(config).await else { return };
    let lease = macrotrack_cache::LeaseConfig {
        min_hold: Duration::from_millis(50),
        max_hold: Duration::from_secs(2),
        poll: Duration::from_millis(5),
    };
    let engine_config = EngineConfig { lease: Some(lease), ..EngineConfig::default() };
    let instances = [
        Engine::new(first, Arc::new(SystemClock), engine_config),
        Engine::new(second, Arc::new(SystemClock), engine_config),
    ];
    let address = EntryAddress::tier1(Tier1Key::DayLogs { user: UserId(77), date: "2026-11-24".parse().unwrap() }, &[]);
    let policy = Policy { ttl: Duration::from_secs(60), swr: Duration::from_secs(60) };
    let fetches = Arc::new(AtomicUsize::new(0));
    let gate = Arc::new(tokio::sync::Barrier::new(1000));
    let mut readers = Vec::new();
    for reader in 0..1000 {
        let (engine, address, fetches, gate) =
            (instances[reader % 2].clone(), address.clone(), fetches.clone(), gate.clone());
        readers.push(tokio::spawn(async move {
            gate.wait().await;
            let fetch = move || {
                let fetches = fetches.clone();
                async move {
                    fetches.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    Ok::<i64, String>(31)
                }
            };
            engine.read(&address, policy, Freshness::Cached, |_| Ok(()), fetch).await.unwrap()
        }));
    }
    for reader in readers {
        assert_eq!(reader.await.unwrap(), 31);
    }
    assert_eq!(fetches.load(Ordering::SeqCst), 1, "one fetch for both instances");
}
