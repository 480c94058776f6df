//! Two instances on one database and one store that goes away and comes
//! back. A writes while the store is down: its bump is deferred, kept in
//! its own memory, and its outbox row stays. The store returns and B's
//! breaker closes first: B must not serve the entry A's write invalidated.
//! The store is an in-process one the test switches off, so no Redis is
//! needed and the breaker's time is the test's clock.

use std::sync::Arc;
use std::time::{Duration, Instant};

use macrotrack_cache::MemoryStore;
use macrotrack_cache::observed::Observed;
use macrotrack_service::Repositories;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_an_outage_an_instance_serves_nothing_another_one_invalidated_meanwhile() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let file = SqliteFile::new();
    let store = Observed::new(MemoryStore::new(16 << 20));
    let clock = Arc::new(ManualClock::default());
    let a = cached_with_clock(Repositories::from_one(file.connect().await), store.clone(), clock.clone());
    let b = cached_with_clock(Repositories::from_one(file.connect().await), store.clone(), clock.clone());
    let plain = uncached(Repositories::from_one(file.connect().await));
    // B runs the drainer as the server does; its grace is long, so only a
    // recovery (not the age of the row) makes it forget anyone.
    let drainer = tokio::spawn({
        let b = b.clone();
        async move { b.drain_every(Duration::from_millis(20), Duration::from_secs(3600)).await }
    });

    let user = a.create_user("recovery").await.unwrap().user.id;
    let food = some_food(&a, user).await;
    a.create_log_entries(user, vec![food_entry(day(0), food)]).await.unwrap();
    let old = b.day_logs(user, day(0)).await.unwrap();
    assert_eq!(b.day_logs(user, day(0)).await.unwrap(), old, "cached on B");

    store.set_down(true);
    a.create_log_entries(user, vec![food_entry(day(0), food)]).await.expect("A writes with the store down");
    let truth = plain.day_logs(user, day(0)).await.unwrap();
    assert_ne!(truth, old);
    assert!(a.cache().pending().contains_key(&user), "A's bump is deferred, in A's memory only");
    // B reads during the outage (from the database) until its breaker opens.
    while !b.cache().breaker_open() {
        assert_eq!(b.day_logs(user, day(0)).await.unwrap(), truth);
    }

    store.set_down(false);
    clock.advance(Duration::from_secs(1)); // past the breakers' 500 ms: a probe is due
    // A does nothing: B's breaker closes first. Every read B answers meanwhile
    // and after is the database's.
    let started = Instant::now();
    while b.cache().breaker_open() {
        assert_eq!(b.day_logs(user, day(0)).await.unwrap(), truth, "B served an entry A's write invalidated");
        assert!(started.elapsed() < Duration::from_secs(10), "B never trusted the store again");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(a.cache().pending().contains_key(&user), "A has still not applied its bump: B went first");
    for _ in 0..2 {
        assert_eq!(b.day_logs(user, day(0)).await.unwrap(), truth, "B served an entry A's write invalidated");
    }
    assert!(b.cache().stats().hit > 0, "B uses the store again");
    drainer.abort();
}
