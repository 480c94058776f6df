//! The engine's semantics on the in-process store, with a test clock: no
//! sleeps, every timing is moved by hand.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use macrotrack_cache::{EngineConfig, Freshness, MemoryStore, Outcome, ReadError};
use macrotrack_cache_keys::Target;
use macrotrack_domain::UserId;
use macrotrack_ports::CacheStore;
use support::*;
use tokio::sync::{Barrier, Notify};

#[tokio::test]
async fn miss_then_hit_then_invalidated() {
    let clock = Arc::new(TestClock::default());
    let engine = memory_engine(clock.clone());
    let source = Arc::new(Source::default());
    let address = logs_address("2026-11-24");
    source.set(1);
    for _ in 0..3 {
        let value = engine.read(&address, POLICY, Freshness::Cached, check, source.fetcher()).await.unwrap();
        assert_eq!(value.version, 1);
    }
    assert_eq!(source.fetches(), 1);
    source.set(2);
    engine.invalidate(&[Target::day_logs(USER, day("2026-11-24"))]).await;
    let value = engine.read(&address, POLICY, Freshness::Cached, check, source.fetcher()).await.unwrap();
    assert_eq!(value.version, 2, "no stale read after an invalidation");
    let stats = engine.stats();
    assert_eq!((stats.miss, stats.hit, stats.invalidations), (2, 2, 1));
}

#[tokio::test]
async fn fresh_stale_expired_by_age() {
    let clock = Arc::new(TestClock::default());
    let engine = memory_engine(clock.clone());
    let source = Arc::new(Source::default());
    let address = logs_address("2026-11-24");
    source.set(1);
    engine.read(&address, POLICY, Freshness::Cached, check, source.fetcher()).await.unwrap();
    source.set(2);
    clock.advance(Duration::from_secs(299));
    assert_eq!(
        engine.read(&address, POLICY, Freshness::Cached, check, source.fetcher()).await.unwrap().version,
        1,
        "fresh"
    );
    clock.advance(Duration::from_secs(1));
    // At ttl: served stale, refreshed in the background.
    assert_eq!(
        engine.read(&address, POLICY, Freshness::Cached, check, source.fetcher()).await.unwrap().version,
        1,
        "stale"
    );
    wait_for(|| source.fetches() == 2).await;
    wait_for_value(&engine, &address, &source, 2).await;
    assert_eq!(engine.stats().stale, 1);
    // Past ttl + swr with no read: fetched in line.
    source.set(3);
    clock.advance(Duration::from_secs(1200));
    assert_eq!(engine.read(&address, POLICY, Freshness::Cached, check, source.fetcher()).await.unwrap().version, 3);
}

async fn wait_for(condition: impl Fn() -> bool) {
    for _ in 0..10_000 {
        if condition() {
            return;
        }
        tokio::task::yield_now().await;
    }
    panic!("condition not reached");
}

async fn wait_for_value(
    engine: &macrotrack_cache::Engine<macrotrack_cache::MemoryStore>,
    address: &macrotrack_cache_keys::EntryAddress,
    source: &Arc<Source>,
    version: i64,
) {
    for _ in 0..10_000 {
        let snapshot = engine.store().read(&address.key, &address.guards).await.unwrap();
        if snapshot.value.is_some_and(|bytes| bytes.ends_with(format!("{{\"version\":{version}}}").as_bytes())) {
            let fetches = source.fetches();
            let value = engine.read(address, POLICY, Freshness::Cached, check, source.fetcher()).await.unwrap();
            assert_eq!(value.version, version);
            assert_eq!(source.fetches(), fetches, "served from the refreshed entry");
            return;
        }
        tokio::task::yield_now().await;
    }
    panic!("background refresh never stored version {version}");
}

#[tokio::test]
async fn stale_reads_refresh_once_per_key() {
    let clock = Arc::new(TestClock::default());
    let engine = memory_engine(clock.clone());
    let address = logs_address("2026-11-24");
    let fetches = Arc::new(AtomicUsize::new(0));
    let release = Arc::new(Notify::new());
    let fetch = {
        let (fetches, release) = (fetches.clone(), release.clone());
        move || {
            let (fetches, release) = (fetches.clone(), release.clone());
            async move {
                if fetches.fetch_add(1, Ordering::SeqCst) > 0 {
                    release.notified().await; // the refresh waits until released
                }
                Ok::<_, String>(Versioned { version: 1 })
            }
        }
    };
    engine.read(&address, POLICY, Freshness::Cached, check, fetch.clone()).await.unwrap();
    clock.advance(Duration::from_secs(301));
    for _ in 0..50 {
        engine.read(&address, POLICY, Freshness::Cached, check, fetch.clone()).await.unwrap();
    }
    wait_for(|| fetches.load(Ordering::SeqCst) == 2).await;
    for _ in 0..100 {
        tokio::task::yield_now().await;
    }
    assert_eq!(fetches.load(Ordering::SeqCst), 2, "fifty stale reads started one refresh");
    assert_eq!(engine.stats().stale, 50);
    release.notify_waiters();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_cold_callers_one_fetch() {
    let engine = memory_engine(Arc::new(TestClock::default()));
    let address = logs_address("2026-11-24");
    let fetches = Arc::new(AtomicUsize::new(0));
    let gate = Arc::new(Barrier::new(1000));
    let mut tasks = Vec::new();
    for _ in 0..1000 {
        let (engine, address, fetches, gate) = (engine.clone(), address.clone(), fetches.clone(), gate.clone());
        tasks.push(tokio::spawn(async move {
            gate.wait().await;
            let fetch = move || {
                let fetches = fetches.clone();
                async move {
                    fetches.fetch_add(1, Ordering::SeqCst);
                    // Stay in flight long enough for every caller to join.
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    Ok::<_, String>(Versioned { version: 7 })
                }
            };
            engine.read(&address, POLICY, Freshness::Cached, check, fetch).await.unwrap()
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap().version, 7);
    }
    assert_eq!(fetches.load(Ordering::SeqCst), 1);
}

/// A reader fetched v1, is paused before storing; a writer commits v2 and
/// invalidates; the reader's store must be rejected and the next read is v2.
pub async fn stale_set_race_is_closed<S: CacheStore + Clone>(store: S) {
    let clock = Arc::new(TestClock::default());
    let engine = engine_over(store, clock, EngineConfig::default());
    let address = logs_address("2026-11-24");
    let source = Arc::new(Source::default());
    source.set(1);
    // The reader fetches v1 (the source's version now), then pauses.
    let (paused, fetched_rx, resume_tx) = paused_fetch(source.version.load(Ordering::SeqCst));
    let reader = {
        let (engine, address) = (engine.clone(), address.clone());
        tokio::spawn(async move { engine.read(&address, POLICY, Freshness::Cached, check, paused).await })
    };
    fetched_rx.await.unwrap();
    source.set(2); // the writer commits...
    engine.invalidate(&[Target::day_logs(USER, day("2026-11-24"))]).await; // ...and invalidates
    resume_tx.send(()).unwrap();
    assert_eq!(reader.await.unwrap().unwrap().version, 1, "the slow reader answers what it read");
    assert_eq!(engine.stats().rejected_store, 1, "its store was rejected");
    let next = engine.read(&address, POLICY, Freshness::Cached, check, source.fetcher()).await.unwrap();
    assert_eq!(next.version, 2);
}

#[tokio::test]
async fn stale_set_race_on_the_memory_store() {
    stale_set_race_is_closed(macrotrack_cache::MemoryStore::new(1 << 20)).await;
}

#[tokio::test]
async fn force_fresh_never_joins_an_older_flight() {
    let engine = memory_engine(Arc::new(TestClock::default()));
    let address = logs_address("2026-11-24");
    let source = Arc::new(Source::default());
    source.set(1);
    let (slow, started_rx, resume_tx) = paused_fetch(1);
    let old = {
        let (engine, address) = (engine.clone(), address.clone());
        tokio::spawn(async move { engine.read(&address, POLICY, Freshness::Cached, check, slow).await })
    };
    started_rx.await.unwrap();
    source.set(2);
    let forced = engine.read(&address, POLICY, Freshness::Force, check, source.fetcher()).await.unwrap();
    assert_eq!(forced.version, 2, "force-fresh fetched on its own");
    resume_tx.send(()).unwrap();
    old.await.unwrap().unwrap();
    assert_eq!(engine.stats().refresh, 1);
}

#[tokio::test]
async fn reader_after_invalidation_does_not_join_the_older_flight() {
    let engine = memory_engine(Arc::new(TestClock::default()));
    let address = logs_address("2026-11-24");
    let (slow, started_rx, resume_tx) = paused_fetch(1);
    let old = {
        let (engine, address) = (engine.clone(), address.clone());
        tokio::spawn(async move { engine.read(&address, POLICY, Freshness::Cached, check, slow).await })
    };
    started_rx.await.unwrap();
    engine.invalidate(&[Target::day_logs(USER, day("2026-11-24"))]).await;
    let source = Arc::new(Source::default());
    source.set(2);
    let after = engine.read(&address, POLICY, Freshness::Cached, check, source.fetcher()).await.unwrap();
    assert_eq!(after.version, 2);
    resume_tx.send(()).unwrap();
    old.await.unwrap().unwrap();
}

#[tokio::test]
async fn tags_invalidate_only_their_entries_in_o1() {
    let engine = memory_engine(Arc::new(TestClock::default()));
    let source = Arc::new(Source::default());
    source.set(1);
    for limit in 1..=50 {
        engine.read(&frequent_address(limit), POLICY, Freshness::Cached, check, source.fetcher()).await.unwrap();
    }
    engine.read(&me_address(), POLICY, Freshness::Cached, check, source.fetcher()).await.unwrap();
    assert_eq!(source.fetches(), 51);
    source.set(2);
    let report = engine.invalidate(&[Target::Guard(frequent_guard())]).await;
    assert_eq!(report.applied, 1);
    for limit in 1..=50 {
        assert_eq!(
            engine
                .read(&frequent_address(limit), POLICY, Freshness::Cached, check, source.fetcher())
                .await
                .unwrap()
                .version,
            2
        );
    }
    assert_eq!(
        engine.read(&me_address(), POLICY, Freshness::Cached, check, source.fetcher()).await.unwrap().version,
        1,
        "untagged entry kept"
    );
    assert_eq!(source.fetches(), 101);
}

#[tokio::test]
async fn deleting_a_user_forgets_both_tiers_of_that_user_only() {
    let engine = memory_engine(Arc::new(TestClock::default()));
    let source = Arc::new(Source::default());
    source.set(1);
    let other = macrotrack_cache_keys::EntryAddress::tier1(
        macrotrack_cache_keys::Tier1Key::DayLogs { user: UserId(43), date: day("2026-11-24") },
        &[],
    );
    for address in [logs_address("2026-11-24"), me_address(), other.clone()] {
        engine.read(&address, POLICY, Freshness::Cached, check, source.fetcher()).await.unwrap();
    }
    source.set(2);
    engine.invalidate(&[Target::AllOfUser(USER)]).await;
    for address in [logs_address("2026-11-24"), me_address()] {
        assert_eq!(engine.read(&address, POLICY, Freshness::Cached, check, source.fetcher()).await.unwrap().version, 2);
    }
    assert_eq!(engine.read(&other, POLICY, Freshness::Cached, check, source.fetcher()).await.unwrap().version, 1);
}

#[tokio::test]
async fn invalid_entries_are_replaced() {
    let engine = memory_engine(Arc::new(TestClock::default()));
    let address = logs_address("2026-11-24");
    let source = Arc::new(Source::default());
    source.set(3);
    let guards = engine.store().init_guards(&address.guards, &[1, 2], Duration::from_secs(60)).await.unwrap();
    let garbage = [Bytes::from_static(b"not an envelope"), Bytes::from_static(b"MTC1\x00\x01")];
    for bytes in garbage {
        engine
            .store()
            .store_if_current(&address.key, bytes, Duration::from_secs(60), &address.guards, &guards, None)
            .await
            .unwrap();
        assert_eq!(engine.read(&address, POLICY, Freshness::Cached, check, source.fetcher()).await.unwrap().version, 3);
    }
    assert_eq!(engine.stats().invalid, 2);
    // A value of another type under the same key: another schema fingerprint.
    #[derive(Clone, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
    struct Other {
        version: String,
    }
    engine.invalidate(&[Target::day_logs(USER, day("2026-11-24"))]).await;
    let other = || std::future::ready(Ok::<_, String>(Other { version: "x".into() }));
    engine.read(&address, POLICY, Freshness::Cached, |_: &Other| Ok(()), other).await.unwrap();
    assert_eq!(engine.read(&address, POLICY, Freshness::Cached, check, source.fetcher()).await.unwrap().version, 3);
    assert_eq!(engine.stats().invalid, 3);
}

#[tokio::test]
async fn cached_value_failing_check_is_invalid_and_fresh_failure_is_an_error() {
    let engine = memory_engine(Arc::new(TestClock::default()));
    let address = logs_address("2026-11-24");
    let source = Arc::new(Source::default());
    source.set(-1);
    let error = engine.read(&address, POLICY, Freshness::Cached, check, source.fetcher()).await.unwrap_err();
    assert!(matches!(error, ReadError::InvalidFresh(_)));
    let snapshot = engine.store().read(&address.key, &address.guards).await.unwrap();
    assert_eq!(snapshot.value, None, "an invalid fresh value is not stored");
    // A cached value that passed an older, laxer check fails today's.
    engine.read(&address, POLICY, Freshness::Cached, |_| Ok(()), source.fetcher()).await.unwrap();
    source.set(4);
    assert_eq!(engine.read(&address, POLICY, Freshness::Cached, check, source.fetcher()).await.unwrap().version, 4);
    assert_eq!(engine.stats().invalid, 1);
}

#[tokio::test]
async fn disabled_cache_reads_the_source_but_still_invalidates() {
    let store = macrotrack_cache::MemoryStore::new(1 << 20);
    let clock = Arc::new(TestClock::default());
    let on = engine_over(store.clone(), clock.clone(), EngineConfig::default());
    let off = engine_over(store, clock, EngineConfig { enabled: false, ..EngineConfig::default() });
    let address = logs_address("2026-11-24");
    let source = Arc::new(Source::default());
    source.set(1);
    on.read(&address, POLICY, Freshness::Cached, check, source.fetcher()).await.unwrap();
    source.set(2);
    assert_eq!(off.read(&address, POLICY, Freshness::Cached, check, source.fetcher()).await.unwrap().version, 2);
    off.invalidate(&[Target::day_logs(USER, day("2026-11-24"))]).await;
    assert_eq!(
        on.read(&address, POLICY, Freshness::Cached, check, source.fetcher()).await.unwrap().version,
        2,
        "the other instance is not stale"
    );
}

#[tokio::test]
async fn json_reads_hand_over_the_stored_bytes_and_refuse_damaged_ones() {
    let engine = memory_engine(Arc::new(TestClock::default()));
    let address = logs_address("2026-11-24");
    let source = Arc::new(Source::default());
    source.set(8);
    let first = engine.read_json(&address, POLICY, Freshness::Cached, check, source.fetcher()).await.unwrap();
    assert_eq!(&first[..], br#"{"version":8}"#);
    let hit = engine.read_json(&address, POLICY, Freshness::Cached, check, source.fetcher()).await.unwrap();
    assert_eq!(hit, first);
    assert_eq!((source.fetches(), engine.stats().hit), (1, 1));
    // Flip one payload byte in the store: the checksum refuses it.
    let snapshot = engine.store().read(&address.key, &address.guards).await.unwrap();
    let mut damaged = snapshot.value.unwrap().to_vec();
    let last = damaged.len() - 2;
    damaged[last] = b'9';
    let guards: Vec<u64> = snapshot.guards.into_iter().map(Option::unwrap).collect();
    engine
        .store()
        .store_if_current(&address.key, Bytes::from(damaged), Duration::from_secs(60), &address.guards, &guards, None)
        .await
        .unwrap();
    let replaced = engine.read_json(&address, POLICY, Freshness::Cached, check, source.fetcher()).await.unwrap();
    assert_eq!(&replaced[..], br#"{"version":8}"#, "never the damaged {{\"version\":9}}");
    assert_eq!(engine.stats().invalid, 1);
}

/// Two reads in progress at once in one request (the day screen's parts)
/// are noted apart: two misses whose fetches interleave, one of them
/// stored, the other's store rejected by an invalidation during its fetch.
#[tokio::test]
async fn reads_in_progress_together_are_reported_apart() {
    let clock = Arc::new(TestClock::default());
    let engine = memory_engine(clock.clone());
    let (kept, changed) = (logs_address("2026-11-24"), logs_address("2026-11-25"));
    let fetch = |version: i64, invalidate: Option<Target>| {
        let engine = engine.clone();
        move || {
            let engine = engine.clone();
            async move {
                // Let the other read start before this one ends.
                tokio::task::yield_now().await;
                if let Some(target) = invalidate {
                    engine.invalidate(&[target]).await;
                }
                Ok::<_, String>(Versioned { version })
            }
        }
    };
    let (_, reports) = engine
        .reporting(async {
            tokio::join!(
                engine.read(&kept, POLICY, Freshness::Cached, check, fetch(3, None)),
                engine.read(
                    &changed,
                    POLICY,
                    Freshness::Cached,
                    check,
                    fetch(5, Some(Target::day_logs(USER, day("2026-11-25"))))
                ),
            )
        })
        .await;
    let digest = |version| macrotrack_cache::digest(&serde_json::to_vec(&Versioned { version }).unwrap());
    let summary: Vec<_> = reports.iter().map(|r| (r.outcome, r.absent, r.stored, r.digest)).collect();
    assert_eq!(summary.len(), 2, "{summary:?}");
    assert!(summary.contains(&(Outcome::Miss, true, true, digest(3))), "{summary:?}");
    assert!(summary.contains(&(Outcome::Miss, true, false, digest(5))), "{summary:?}");
}

/// What a read tells its client: the outcome, the freshness left, whether
/// it stored, and the digest of its value's JSON, the same whichever path
/// served it (the store, the source, the cache off).
#[tokio::test]
async fn reads_report_their_outcome_and_the_digest_of_their_json() {
    let clock = Arc::new(TestClock::default());
    let engine = memory_engine(clock.clone());
    let source = Arc::new(Source::default());
    source.set(3);
    let expected = macrotrack_cache::digest(&serde_json::to_vec(&Versioned { version: 3 }).unwrap());
    let address = logs_address("2026-11-24");

    let read = || engine.read(&address, POLICY, Freshness::Cached, check, source.fetcher());
    let (value, reports) = engine.reporting(read()).await;
    assert_eq!(value.unwrap().version, 3);
    assert_eq!(reports.len(), 1);
    let miss = &reports[0];
    assert_eq!((miss.family, miss.outcome, miss.absent, miss.stored), ("logs", Outcome::Miss, true, true));
    assert_eq!(miss.digest, expected);

    clock.advance(Duration::from_secs(100));
    let (_, reports) = engine.reporting(async { (read().await, read().await) }).await;
    assert_eq!(reports.len(), 2, "each read of the body, in order");
    for hit in &reports {
        assert_eq!((hit.outcome, hit.stored, hit.digest), (Outcome::Hit, false, expected));
        assert_eq!(hit.fresh_for, Some(POLICY.ttl - Duration::from_secs(100)));
    }
    let (json, reports) =
        engine.reporting(engine.read_json(&address, POLICY, Freshness::Cached, check, source.fetcher())).await;
    assert_eq!(macrotrack_cache::digest(&json.unwrap()), expected, "the tag of the JSON served");
    assert_eq!(reports[0].digest, expected);

    // Invalidated: a miss of an entry still held, fetched and stored again.
    engine.invalidate(&[Target::AllOfUser(USER)]).await;
    let (_, reports) = engine.reporting(read()).await;
    assert_eq!((reports[0].outcome, reports[0].absent, reports[0].stored), (Outcome::Miss, false, true));

    // The cache off: the source answers, and the digest is the same.
    let off = macrotrack_cache::Engine::new(
        MemoryStore::new(1 << 20),
        clock.clone(),
        EngineConfig { enabled: false, ..EngineConfig::default() },
    );
    let (_, reports) = off.reporting(off.read(&address, POLICY, Freshness::Cached, check, source.fetcher())).await;
    assert_eq!((reports[0].outcome, reports[0].stored, reports[0].digest), (Outcome::Bypass, false, expected));
    // Outside `reporting`, nothing is collected (and nothing breaks).
    assert_eq!(read().await.unwrap().version, 3);
}

/// A read that fails after it was counted a miss leaves nothing behind in
/// the request's reports: the next read of the same address (the same
/// `EntryAddress`, as a handler retrying would pass) reports only itself.
#[tokio::test]
async fn a_read_that_errors_leaves_nothing_in_the_reports_of_the_next_one() {
    let engine = memory_engine(Arc::new(TestClock::default()));
    let address = logs_address("2026-11-24");
    let source = Arc::new(Source::default());
    source.set(3);
    let failing = || std::future::ready(Err::<Versioned, String>("the database failed".into()));
    let (_, reports) = engine
        .reporting(async {
            // Cold: counted a miss of an absent key, then the source fails.
            assert!(engine.read(&address, POLICY, Freshness::Cached, check, failing).await.is_err());
            // Another request stores the entry meanwhile (a task of its own).
            let (other, elsewhere, from) = (engine.clone(), address.clone(), source.clone());
            tokio::spawn(async move { other.read(&elsewhere, POLICY, Freshness::Cached, check, from.fetcher()).await })
                .await
                .unwrap()
                .unwrap();
            engine.read(&address, POLICY, Freshness::Cached, check, source.fetcher()).await.unwrap()
        })
        .await;
    let summary: Vec<_> = reports.iter().map(|r| (r.outcome, r.absent, r.stored)).collect();
    assert_eq!(summary, [(Outcome::Hit, false, false)], "the failed read left no note behind");
}
