//! A store that answers a read from behind this instance's own last bump
//! (a Redis Cluster node that missed it around a failover), with a mocked
//! store: the old entry is not served, the targets are bumped again, and the
//! cache serves again once the store has the new generations.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use macrotrack_cache::{EngineConfig, Freshness};
use macrotrack_cache_keys::Target;
use macrotrack_ports::{BumpOutcome, MockCacheStore, Snapshot, StoreOutcome};
use support::*;

const DATE: &str = "2026-11-24";
const EPOCH: u64 = 22;

/// What the node that answers reads holds: the entry and its guards.
struct Node {
    entry: Option<Bytes>,
    guards: Vec<Option<u64>>,
    /// Every bump the store acknowledged: the day's new generation.
    bumps: Vec<u64>,
    /// Whether an acknowledged bump reaches the node that answers reads.
    bumps_reach_reads: bool,
    conditional_stores: usize,
}

impl Default for Node {
    fn default() -> Self {
        Node {
            entry: None,
            guards: vec![None, None],
            bumps: Vec::new(),
            bumps_reach_reads: false,
            conditional_stores: 0,
        }
    }
}

/// A mocked store whose reads come from `node`; the day's guard is first
/// in the address, the user's epoch second.
fn store_over(node: &Arc<Mutex<Node>>) -> MockCacheStore {
    let mut store = MockCacheStore::new();
    store.expect_kind().return_const(macrotrack_ports::StoreKind::Shared);
    let n = Arc::clone(node);
    store.expect_read().returning(move |_, _| {
        let node = n.lock().unwrap();
        Ok(Snapshot { value: node.entry.clone(), guards: node.guards.clone() })
    });
    let n = Arc::clone(node);
    store.expect_read_many().returning(move |reads| {
        let node = n.lock().unwrap();
        Ok(reads.iter().map(|_| Snapshot { value: node.entry.clone(), guards: node.guards.clone() }).collect())
    });
    let n = Arc::clone(node);
    store.expect_init_guards().returning(move |_, fresh, _| {
        let mut node = n.lock().unwrap();
        node.guards = vec![Some(fresh[0]), Some(EPOCH)];
        Ok(vec![fresh[0], EPOCH])
    });
    let n = Arc::clone(node);
    store.expect_store_if_current().returning(move |_, value, _, _, expected, _| {
        let mut node = n.lock().unwrap();
        node.conditional_stores += 1;
        if node.guards.iter().copied().eq(expected.iter().copied().map(Some)) {
            node.entry = Some(value);
            Ok(StoreOutcome::Stored)
        } else {
            Ok(StoreOutcome::Rejected)
        }
    });
    let n = Arc::clone(node);
    store.expect_bump().returning(move |guards, _, _| {
        let mut node = n.lock().unwrap();
        let generation = guards[0].1;
        node.bumps.push(generation);
        if node.bumps_reach_reads {
            node.guards[0] = Some(generation);
            node.entry = None;
        }
        Ok(BumpOutcome::Durable)
    });
    store
}

async fn read(engine: &macrotrack_cache::Engine<MockCacheStore>, source: &Arc<Source>) -> i64 {
    engine.read(&logs_address(DATE), POLICY, Freshness::Cached, check, source.fetcher()).await.unwrap().version
}

/// Caches version 1, then writes version 2 and bumps; the bump is
/// acknowledged but the node answering reads still has the old generation
/// and entry. Returns the answer to the read after the write, made on its
/// own or (`ahead`) from a snapshot read ahead by `Engine::prefetch`.
async fn read_after_a_lost_bump(
    window: Option<Duration>,
    ahead: bool,
) -> (i64, Arc<Mutex<Node>>, macrotrack_cache::Engine<MockCacheStore>) {
    let node = Arc::new(Mutex::new(Node::default()));
    let config = EngineConfig { own_bumps_window: window, ..EngineConfig::default() };
    let engine = engine_over(store_over(&node), Arc::new(TestClock::default()), config);
    let source = Arc::new(Source::default());
    source.set(1);
    assert_eq!(read(&engine, &source).await, 1);
    assert_eq!(read(&engine, &source).await, 1, "a hit");
    source.set(2);
    let report = engine.invalidate(&[Target::day_logs(USER, day(DATE))]).await;
    assert_eq!(report.applied, 1, "the store acknowledged the bump");
    let version = if ahead {
        engine.prefetch(&[&logs_address(DATE)], read(&engine, &source)).await
    } else {
        read(&engine, &source).await
    };
    (version, node, engine)
}

#[tokio::test]
async fn without_the_window_the_old_entry_is_served() {
    // What the window prevents: the old generation matches the old entry.
    let (version, _, _) = read_after_a_lost_bump(None, false).await;
    assert_eq!(version, 1);
}

#[tokio::test]
async fn a_snapshot_read_ahead_behind_the_own_bump_is_not_served_either() {
    let (version, _, engine) = read_after_a_lost_bump(Some(Duration::from_secs(10)), true).await;
    assert_eq!(version, 2);
    assert_eq!(engine.stats().store_behind, 1);
    let (version, _, _) = read_after_a_lost_bump(None, true).await;
    assert_eq!(version, 1, "what the window prevents on this path");
}

#[tokio::test]
async fn a_store_behind_the_own_bump_is_not_served_and_the_bump_is_made_again() {
    let (version, node, engine) = read_after_a_lost_bump(Some(Duration::from_secs(10)), false).await;
    assert_eq!(version, 2, "the read after the write saw it");
    let stats = engine.stats();
    assert_eq!((stats.store_behind, stats.bypass), (1, 1));
    assert_eq!(engine.pending().get(&USER).map(|targets| targets.len()), Some(1), "the target is pending again");
    assert_eq!(node.lock().unwrap().conditional_stores, 1, "nothing stored under the old generation");

    // The node catches up (the failover settles): the next read bumps again
    // first, then caches under the new generation and hits.
    node.lock().unwrap().bumps_reach_reads = true;
    let source = Arc::new(Source::default());
    source.set(2);
    assert_eq!(read(&engine, &source).await, 2);
    assert_eq!(read(&engine, &source).await, 2);
    let node = node.lock().unwrap();
    assert_eq!(node.bumps.len(), 2, "the lost bump was made again");
    assert_ne!(node.bumps[0], node.bumps[1], "with a new generation");
    assert!(engine.pending().is_empty());
    assert_eq!(source.fetches(), 1, "the second read was a hit");
    assert_eq!(engine.stats().store_behind, 1, "the store agrees again");
}

#[tokio::test]
async fn a_newer_generation_is_accepted_and_past_the_window_an_older_one_too() {
    let node = Arc::new(Mutex::new(Node { bumps_reach_reads: true, ..Node::default() }));
    let clock = Arc::new(TestClock::default());
    let config = EngineConfig { own_bumps_window: Some(Duration::from_secs(10)), ..EngineConfig::default() };
    let engine = engine_over(store_over(&node), clock.clone(), config);
    let source = Arc::new(Source::default());
    read(&engine, &source).await;
    engine.invalidate(&[Target::day_logs(USER, day(DATE))]).await;
    let own = *node.lock().unwrap().bumps.last().unwrap();
    // Another instance bumped since (or a bump of ours is in flight).
    node.lock().unwrap().guards[0] = Some(own + 1);
    read(&engine, &source).await;
    assert_eq!((engine.stats().store_behind, engine.stats().bypass), (0, 0));
    // Past the window even an older generation is trusted again: the window
    // must cover the store's failover time.
    clock.advance(Duration::from_secs(10));
    node.lock().unwrap().guards[0] = Some(own - 1);
    read(&engine, &source).await;
    assert_eq!((engine.stats().store_behind, engine.stats().bypass), (0, 0));
}
