//! Leases between instances: two engines on one store play two instances
//! sharing Redis. Time is tokio's paused clock, so waits are measured in
//! virtual time, exactly and without sleeping.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use macrotrack_cache::{Engine, EngineConfig, Freshness, LeaseConfig, MemoryStore};
use macrotrack_cache_keys::Target;
use support::*;
use tokio::time::Instant;

const LEASE: LeaseConfig = LeaseConfig {
    min_hold: Duration::from_millis(50),
    max_hold: Duration::from_secs(2),
    poll: Duration::from_millis(5),
};

type Instance = Engine<Arc<Observed<MemoryStore>>>;

/// Two instances on one observed store.
fn two_instances() -> (Instance, Instance, Arc<Observed<MemoryStore>>) {
    let store = Observed::new(MemoryStore::new(16 << 20));
    let config = EngineConfig { lease: Some(LEASE), ..EngineConfig::default() };
    let clock = Arc::new(TestClock::default());
    (engine_over(store.clone(), clock.clone(), config), engine_over(store.clone(), clock, config), store)
}

/// Waits (in virtual time) until `condition` holds.
async fn until(condition: impl Fn() -> bool) {
    for _ in 0..10_000 {
        if condition() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    panic!("condition not reached");
}

#[tokio::test(start_paused = true)]
async fn a_read_right_after_a_write_takes_a_new_lease_and_waits_for_nothing() {
    let (engine, _, store) = two_instances();
    let address = logs_address("2026-11-24");
    let source = Arc::new(Source::default());
    for version in 1..=5 {
        source.set(version);
        let reads_before = store.count_on("read", &address.key);
        let started = Instant::now();
        let value = engine.read(&address, POLICY, Freshness::Cached, check, source.fetcher()).await.unwrap();
        assert_eq!(value.version, version, "the write is seen at once");
        assert_eq!(store.count_on("read", &address.key) - reads_before, 1, "one read of the entry, no polling");
        assert_eq!(started.elapsed(), Duration::ZERO, "no wait, not even a poll");
        engine.invalidate(&[Target::day_logs(USER, day("2026-11-24"))]).await;
    }
    assert_eq!(store.count("lease"), 5, "a lease per fetch, each under the generations of its read");
    assert_eq!(source.fetches(), 5);
}

#[tokio::test(start_paused = true)]
async fn a_waiter_takes_over_as_soon_as_the_lease_ends_without_a_value() {
    let (first, second, store) = two_instances();
    let address = logs_address("2026-11-24");
    let (failing, started, fail) = paused_fetch_answering(None);
    let leader = {
        let (first, address) = (first.clone(), address.clone());
        tokio::spawn(async move { first.read(&address, POLICY, Freshness::Cached, check, failing).await })
    };
    started.await.unwrap();
    let source = Arc::new(Source::default());
    source.set(7);
    let waiter = {
        let (second, address, source) = (second.clone(), address.clone(), source.clone());
        tokio::spawn(async move { second.read(&address, POLICY, Freshness::Cached, check, source.fetcher()).await })
    };
    let polls = || store.count_on("read", &address.key);
    until(|| polls() >= 3).await; // the second instance lost the lease and polls
    assert_eq!(source.fetches(), 0, "it waits for the leader");
    let failed_at = Instant::now();
    fail.send(()).unwrap();
    assert!(leader.await.unwrap().is_err(), "the leader's error is its own");
    assert_eq!(waiter.await.unwrap().unwrap().version, 7);
    assert!(failed_at.elapsed() <= LEASE.poll * 2, "took over {:?} after the lease ended", failed_at.elapsed());
    assert_eq!((store.count("release"), source.fetches()), (1, 1), "the failed fetch ended its lease");
}

#[tokio::test(start_paused = true)]
async fn a_waiter_stops_when_the_generations_move() {
    let (first, second, _) = two_instances();
    let address = logs_address("2026-11-24");
    let (before_write, started, resume) = paused_fetch_answering(Some(1));
    let leader = {
        let (first, address) = (first.clone(), address.clone());
        tokio::spawn(async move { first.read(&address, POLICY, Freshness::Cached, check, before_write).await })
    };
    started.await.unwrap();
    let source = Arc::new(Source::default());
    source.set(2);
    let waiter = {
        let (second, address, source) = (second.clone(), address.clone(), source.clone());
        tokio::spawn(async move { second.read(&address, POLICY, Freshness::Cached, check, source.fetcher()).await })
    };
    tokio::time::sleep(LEASE.poll * 3).await;
    let written_at = Instant::now();
    first.invalidate(&[Target::day_logs(USER, day("2026-11-24"))]).await;
    assert_eq!(waiter.await.unwrap().unwrap().version, 2, "the waiter reads after the write");
    assert!(written_at.elapsed() <= LEASE.poll * 2, "stopped {:?} after the write", written_at.elapsed());
    resume.send(()).unwrap();
    assert_eq!(leader.await.unwrap().unwrap().version, 1, "the leader answers what it read before the write");
    assert_eq!(first.stats().rejected_store, 1, "but cannot store it");
    assert_eq!(second.read(&address, POLICY, Freshness::Cached, check, source.fetcher()).await.unwrap().version, 2);
}

/// Fetches of `family` timed at `took` each, on the first instance, so its
/// leases follow that time.
async fn measure_fetches(engine: &Instance, took: Duration) {
    for date in ["2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04"] {
        let fetch = move || async move {
            tokio::time::sleep(took).await;
            Ok::<_, String>(Versioned { version: 0 })
        };
        engine.read(&logs_address(date), POLICY, Freshness::Cached, check, fetch).await.unwrap();
    }
}

#[tokio::test(start_paused = true)]
async fn a_lease_abandoned_by_a_dead_instance_holds_the_others_back_about_as_long_as_a_fetch_takes() {
    let (first, second, _) = two_instances();
    measure_fetches(&first, Duration::from_millis(2)).await;
    let address = logs_address("2026-11-24");
    let (never, started, _resume) = paused_fetch_answering(Some(1));
    // The instance dies holding the lease: its read is never polled again
    // and never dropped (a dropped read ends its lease: see below).
    let mut dying = Box::pin(first.read(&address, POLICY, Freshness::Cached, check, never));
    tokio::select! {
        _ = &mut dying => panic!("the fetch never answers"),
        _ = started => {}
    }
    std::mem::forget(dying);
    let source = Arc::new(Source::default());
    source.set(3);
    let waited = Instant::now();
    assert_eq!(second.read(&address, POLICY, Freshness::Cached, check, source.fetcher()).await.unwrap().version, 3);
    // Fetches took 2 ms: the lease was held for the floor, 50 ms, not seconds.
    assert!(waited.elapsed() >= LEASE.min_hold, "the lease was respected while held: {:?}", waited.elapsed());
    assert!(waited.elapsed() <= LEASE.min_hold + LEASE.poll * 2, "waited {:?}", waited.elapsed());
}

#[tokio::test(start_paused = true)]
async fn a_leader_whose_read_is_dropped_ends_its_lease_and_a_waiter_fetches_at_once() {
    let (first, second, store) = two_instances();
    let address = logs_address("2026-11-24");
    let (never, started, _resume) = paused_fetch_answering(Some(1));
    let leader = {
        let (first, address) = (first.clone(), address.clone());
        tokio::spawn(async move { first.read(&address, POLICY, Freshness::Cached, check, never).await })
    };
    started.await.unwrap();
    let source = Arc::new(Source::default());
    source.set(3);
    let waiter = {
        let (second, address, source) = (second.clone(), address.clone(), source.clone());
        tokio::spawn(async move { second.read(&address, POLICY, Freshness::Cached, check, source.fetcher()).await })
    };
    until(|| store.count_on("read", &address.key) >= 3).await; // the second instance waits
    // A cancelled request: its future is dropped while it holds the lease
    // (held for max_hold, 2 s: nothing was measured yet).
    leader.abort();
    let dropped_at = Instant::now();
    assert_eq!(waiter.await.unwrap().unwrap().version, 3);
    assert!(dropped_at.elapsed() <= LEASE.poll * 2, "the waiter took over {:?} after the drop", dropped_at.elapsed());
    assert_eq!((store.count("release"), source.fetches()), (1, 1), "the dropped read ended its lease; one fetch");
}

#[tokio::test(start_paused = true)]
async fn a_leader_slower_than_any_hold_still_costs_one_fetch_over_two_instances() {
    let (first, second, store) = two_instances();
    // Fast fetches measured on both: their leases are held for the floor, 50 ms.
    measure_fetches(&first, Duration::from_millis(2)).await;
    measure_fetches(&second, Duration::from_millis(2)).await;
    let address = logs_address("2026-11-24");
    let source = Gated::new(5, 0);
    let mut readers = Vec::new();
    for reader in 0..40 {
        let engine = if reader % 2 == 0 { first.clone() } else { second.clone() };
        let (address, fetch) = (address.clone(), source.fetcher());
        readers.push(tokio::spawn(async move { engine.read(&address, POLICY, Freshness::Cached, check, fetch).await }));
    }
    until(|| source.fetches() == 1).await;
    // The leader's fetch runs 100 floors, twice the longest hold: the others
    // keep waiting for it (virtual time: this sleep only moves the clock).
    tokio::time::sleep(LEASE.min_hold * 100).await;
    assert_eq!(source.fetches(), 1, "nobody else fetched while the leader ran");
    assert!(store.count("renew") >= 100, "the leader renewed its lease: {}", store.count("renew"));
    source.open();
    for reader in readers {
        assert_eq!(reader.await.unwrap().unwrap().version, 5);
    }
    assert_eq!(source.fetches(), 1);
}

#[tokio::test(start_paused = true)]
async fn after_slow_fetches_a_lease_is_held_long_enough_for_a_slow_leader() {
    let (first, second, _) = two_instances();
    measure_fetches(&first, Duration::from_millis(150)).await;
    let address = logs_address("2026-11-24");
    let fetches = Arc::new(AtomicUsize::new(0));
    let slow = {
        let fetches = fetches.clone();
        move || {
            let fetches = fetches.clone();
            async move {
                fetches.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(600)).await;
                Ok::<_, String>(Versioned { version: 9 })
            }
        }
    };
    let leader = {
        let (first, address, slow) = (first.clone(), address.clone(), slow.clone());
        tokio::spawn(async move { first.read(&address, POLICY, Freshness::Cached, check, slow).await })
    };
    until(|| fetches.load(Ordering::SeqCst) == 1).await;
    // 600 ms is four typical fetches: the lease (8 typical fetches) still holds.
    assert_eq!(second.read(&address, POLICY, Freshness::Cached, check, slow).await.unwrap().version, 9);
    assert_eq!(leader.await.unwrap().unwrap().version, 9);
    assert_eq!(fetches.load(Ordering::SeqCst), 1, "the second instance waited for the slow leader");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_cold_reads_over_two_instances_fetch_once() {
    let (first, second, _) = two_instances();
    let address = logs_address("2026-11-24");
    let fetches = Arc::new(AtomicUsize::new(0));
    let gate = Arc::new(tokio::sync::Barrier::new(1000));
    let mut readers = Vec::new();
    for reader in 0..1000 {
        let engine = if reader % 2 == 0 { first.clone() } else { second.clone() };
        let (address, fetches, gate) = (address.clone(), fetches.clone(), gate.clone());
        readers.push(tokio::spawn(async move {
            gate.wait().await;
            let fetch = move || {
                let fetches = fetches.clone();
                async move {
                    fetches.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    Ok::<_, String>(Versioned { version: 4 })
                }
            };
            engine.read(&address, POLICY, Freshness::Cached, check, fetch).await.unwrap().version
        }));
    }
    for reader in readers {
        assert_eq!(reader.await.unwrap(), 4);
    }
    assert_eq!(fetches.load(Ordering::SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn a_lease_taken_after_another_instance_stored_the_value_reads_it_instead_of_fetching() {
    let (first, second, _) = two_instances();
    let address = logs_address("2026-11-24");
    let source = Arc::new(Source::default());
    source.set(6);
    // The second instance finds the entry missing (read ahead, before the
    // first one stores it) and asks for the lease only after the first one
    // stored the value and ended its lease.
    let late = second
        .prefetch(&[&address], async {
            // Another task: what this one read ahead is its own.
            let (other, at, from) = (first.clone(), address.clone(), source.clone());
            let stored =
                tokio::spawn(async move { other.read(&at, POLICY, Freshness::Cached, check, from.fetcher()).await });
            stored.await.unwrap().unwrap();
            second.read(&address, POLICY, Freshness::Cached, check, source.fetcher()).await.unwrap()
        })
        .await;
    assert_eq!(late.version, 6);
    assert_eq!(source.fetches(), 1, "the lease's own read found the stored value");
    assert_eq!(second.stats().miss, 1, "it was a miss when read");
}

#[tokio::test(start_paused = true)]
async fn when_the_leader_fails_one_waiter_fetches_in_its_place_and_the_others_share_its_value() {
    let (first, second, _) = two_instances();
    let address = logs_address("2026-11-24");
    let source = Gated::new(8, 1); // the first fetch fails, the next ones answer
    let mut readers = Vec::new();
    for reader in 0..40 {
        let engine = if reader % 2 == 0 { first.clone() } else { second.clone() };
        let (address, fetch) = (address.clone(), source.fetcher());
        readers.push(tokio::spawn(async move { engine.read(&address, POLICY, Freshness::Cached, check, fetch).await }));
    }
    until(|| source.fetches() == 1).await;
    tokio::time::sleep(LEASE.poll * 4).await; // every reader waits (virtual time)
    source.open();
    let mut answers = Vec::new();
    for reader in readers {
        answers.push(reader.await.unwrap().map(|value| value.version).map_err(|_| "failed"));
    }
    assert_eq!(answers.iter().filter(|answer| answer.is_err()).count(), 1, "only the leader's read fails");
    assert!(answers.iter().all(|answer| *answer == Ok(8) || answer.is_err()));
    // The guarantee: a failure that passes costs one more fetch, whatever
    // the number of waiters, on one instance or several.
    assert_eq!(source.fetches(), 2);
}
