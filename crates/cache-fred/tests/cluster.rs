//! The store and the engine on a 3-master Redis Cluster started by the
//! test: every key of a user shares the `{user:ID}` hash tag, so each
//! script touches one slot, whichever node owns it.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use macrotrack_cache::model::{ENTRIES, Op, TARGETS, check_against_model, stale_set_race};
use macrotrack_cache_fred::RedisStore;
use macrotrack_ports::{BumpOutcome, CacheStore};
use macrotrack_testkit::RedisCluster;
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestRunner};

#[test]
fn the_engine_runs_on_a_redis_cluster() {
    let Some(cluster) = RedisCluster::start(3) else { return };
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let store: RedisStore =
        runtime.block_on(common::connect(common::config(&cluster.url()))).expect("connects to the cluster");
    // The store's own rules, on users spread over all three masters.
    runtime.block_on(macrotrack_cache::conformance::run_all(&store));
    // Without replicas there is nothing to wait for: bumps are durable.
    let (_, guards) = common::keys(99);
    let bumped = runtime.block_on(store.bump(&[(guards[0].clone(), 1)], &[], &[common::TTL])).unwrap();
    assert_eq!(bumped, BumpOutcome::Durable);
    for scope in (100..160).step_by(2) {
        runtime.block_on(stale_set_race(store.clone(), scope)).unwrap();
    }
    let op = prop_oneof![
        5 => (0..ENTRIES).prop_map(Op::Read),
        2 => (0..TARGETS).prop_map(Op::Write),
        1 => (0..TARGETS).prop_map(Op::Invalidate),
        2 => (0u32..40).prop_map(Op::Advance),
    ];
    let scope = Arc::new(AtomicUsize::new(2000));
    let mut runner = TestRunner::new(ProptestConfig { cases: 20, ..ProptestConfig::default() });
    runner
        .run(&proptest::collection::vec(op, 1..60), |ops| {
            let scope = scope.fetch_add(2, Ordering::SeqCst) as i64;
            let outcome = runtime.block_on(check_against_model(store.clone(), scope, &ops));
            prop_assert!(outcome.is_ok(), "{}", outcome.unwrap_err());
            Ok(())
        })
        .unwrap();
    // Users were spread: more than one master holds keys of this test.
    let holding = cluster
        .nodes
        .iter()
        .filter(|node| {
            let output = std::process::Command::new("redis-cli")
                .args(["-p", &node.port.to_string(), "dbsize"])
                .output()
                .unwrap();
            String::from_utf8_lossy(&output.stdout).trim().parse::<u64>().unwrap_or(0) > 0
        })
        .count();
    assert!(holding >= 2, "keys landed on {holding} master(s)");
}

/// With replicas, a bump waits for one to acknowledge it: a master killed
/// right after answering cannot take it away from the other instances.
#[test]
fn a_bump_no_replica_acknowledged_is_reported_not_replicated() {
    let Some(cluster) = RedisCluster::start_with_replicas(3, 1) else { return };
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    // A generous wait: a replica of a loaded test machine may take a while
    // to acknowledge; a paused one never does.
    let config = macrotrack_cache_fred::RedisConfig {
        replica_wait: Some(std::time::Duration::from_secs(1)),
        command_timeout: std::time::Duration::from_secs(3),
        ..common::config(&cluster.url())
    };
    let store: RedisStore = runtime.block_on(common::connect(config)).expect("connects to the cluster");
    let (key, guards) = common::keys(41);
    let bump = |generation: u64| {
        runtime.block_on(store.bump(&[(guards[0].clone(), generation)], std::slice::from_ref(&key), &[common::TTL]))
    };
    // A cluster's view of its replicas settles a moment after it formed.
    let started = std::time::Instant::now();
    while !store.waits_for_replicas() {
        assert!(started.elapsed() < std::time::Duration::from_secs(30), "never saw the replicas");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(bump(1).unwrap(), BumpOutcome::Durable, "the replica acknowledged it");
    // The store prefixes the key, but the slot is the hash tag's.
    let slot = cluster.key_slot(&key).expect("the key's slot");
    let master = cluster.master_of_slot(slot).expect("the slot's master");
    let replica = cluster.replicas_of(master)[0];
    cluster.nodes[replica].signal("STOP");
    let unacknowledged = bump(2);
    cluster.nodes[replica].signal("CONT");
    assert_eq!(unacknowledged.unwrap(), BumpOutcome::NotReplicated, "applied on the master only");
    assert_eq!(bump(3).unwrap(), BumpOutcome::Durable, "acknowledged again once the replica answers");
}
