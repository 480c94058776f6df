//! A process that dies between a commit and its invalidation: the outbox
//! row survives it, and the next process's start-up drain forgets the user
//! before serving them (or, with the store down, keeps them away from it).

use std::time::Duration;

use macrotrack_domain::Macros;
use macrotrack_ports::OutboxRepository;
use macrotrack_service::{Fault, Repositories};
use macrotrack_testkit::{RedisServer, report, unique_name};

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_after_the_commit_is_repaired_by_the_next_start_up_drain() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let Some(redis) = RedisServer::start(&[]) else { return };
    let prefix = unique_name("crash");
    let file = SqliteFile::new();
    let plain = uncached(Repositories::from_one(file.connect().await));

    // Process A: reads (cached), then commits and "dies" before invalidating.
    let a = cached(Repositories::from_one(file.connect().await), redis_store(&redis.url(), &prefix).await);
    let user = a.create_user("crash").await.unwrap().user.id;
    let food = some_food(&a, user).await;
    a.create_log_entries(user, vec![food_entry(day(0), food)]).await.unwrap();
    let old_logs = a.day_logs(user, day(0)).await.unwrap();
    let old_me = a.me(user).await.unwrap();
    assert_eq!(a.day_logs(user, day(0)).await.unwrap(), old_logs);
    assert_eq!(a.cache().stats().hit, 1, "the day's logs are cached");
    // A's drainer tick: the row of the write A applied is deleted.
    assert_eq!(a.flush_applied_outbox_rows().await, 1);
    let dying = a.clone().with_fault(Fault::SkipInvalidation);
    dying.create_log_entries(user, vec![food_entry(day(0), food)]).await.unwrap();
    let targets = Macros { calories: macrotrack_domain::Amount::from_hundredths(200_000), ..Macros::default() };
    dying.set_targets(user, targets).await.unwrap();
    let outbox = file.connect().await;
    assert_eq!(outbox.pending_users().await.unwrap(), [user], "the rows outlive the process");
    drop((a, dying));

    // Without the drain, a new process would serve what A cached: the test can fail.
    let careless = cached(Repositories::from_one(file.connect().await), redis_store(&redis.url(), &prefix).await);
    assert_eq!(careless.day_logs(user, day(0)).await.unwrap(), old_logs, "stale without the drain");
    assert_eq!(careless.me(user).await.unwrap(), old_me, "stale without the drain");
    drop(careless);

    // Process B drains at start-up: its first reads are the committed data.
    let b = cached(Repositories::from_one(file.connect().await), redis_store(&redis.url(), &prefix).await);
    let drained = b.recover_outbox().await.unwrap();
    assert_eq!((drained.rows, drained.users, drained.distrusted), (2, 1, 0));
    let fresh = b.day_logs(user, day(0)).await.unwrap();
    assert_eq!(fresh, plain.day_logs(user, day(0)).await.unwrap());
    assert_eq!(fresh.entries.len(), 2);
    assert_eq!(b.me(user).await.unwrap().targets, Some(targets));
    assert!(outbox.pending_users().await.unwrap().is_empty(), "drained rows are gone");
    report(
        "crash::a_crash_after_the_commit_is_repaired_by_the_next_start_up_drain",
        "SQLite file + Redis. Process A caches a day's logs and `me`, then writes a log entry and targets with the \
         fault knob (committed, rows kept, invalidation skipped) and is dropped. A second process without the drain \
         reads. Process B runs the start-up drain, then reads.",
        &format!(
            "without the drain: the old logs and old targets are served (asserted, so the test can fail); B drained \
             {} rows for {} user; **B's first reads are the committed data** ({} entries); outbox empty",
            drained.rows,
            drained.users,
            fresh.entries.len()
        ),
    );
}

/// The next process starts while the store cannot take the bump: the users
/// with rows are distrusted, so even after the store comes back with the
/// old entries, their first read is the committed data.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_store_down_at_start_up_the_users_with_rows_are_distrusted() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let Some(redis) = RedisServer::start(&[]) else { return };
    let prefix = unique_name("crash_down");
    let file = SqliteFile::new();
    let plain = uncached(Repositories::from_one(file.connect().await));

    let a = cached(Repositories::from_one(file.connect().await), redis_store(&redis.url(), &prefix).await);
    let user = a.create_user("crash").await.unwrap().user.id;
    let food = some_food(&a, user).await;
    a.create_log_entries(user, vec![food_entry(day(0), food)]).await.unwrap();
    let old_logs = a.day_logs(user, day(0)).await.unwrap();
    a.clone()
        .with_fault(Fault::SkipInvalidation)
        .create_log_entries(user, vec![food_entry(day(0), food)])
        .await
        .unwrap();
    drop(a);

    // Connected before the pause (connecting to a paused server fails).
    let b = cached(Repositories::from_one(file.connect().await), redis_store(&redis.url(), &prefix).await);
    let careless = cached(Repositories::from_one(file.connect().await), redis_store(&redis.url(), &prefix).await);
    redis.signal("STOP");
    // Reads time out and open B's breaker, so the drain's bump is not even
    // sent. (A bump that merely timed out may still run when the server
    // resumes, which would hide what distrust is for.)
    for _ in 0..3 {
        assert_eq!(b.day_logs(user, day(0)).await.unwrap(), plain.day_logs(user, day(0)).await.unwrap());
    }
    assert!(b.cache().breaker_open());
    let drained = b.recover_outbox().await.unwrap();
    assert_eq!((drained.rows, drained.distrusted), (0, 1), "{drained:?}");
    assert!(b.cache().pending().contains_key(&user));
    redis.signal("CONT");
    eventually("the store answers again", Duration::from_secs(10), async || {
        careless.cache().store_status().await == macrotrack_cache::StoreStatus::Ok
    })
    .await;

    // The old entry is back with the store; without distrust it is served.
    assert_eq!(careless.day_logs(user, day(0)).await.unwrap(), old_logs, "stale without distrust");
    let first = b.day_logs(user, day(0)).await.unwrap();
    assert_eq!(first, plain.day_logs(user, day(0)).await.unwrap());
    assert_eq!(first.entries.len(), 2);
    // Once B's breaker lets calls through, the bump is applied first, and
    // B serves from the cache again.
    eventually("B applies the bump", Duration::from_secs(5), async || {
        assert_eq!(b.day_logs(user, day(0)).await.unwrap().entries.len(), 2);
        b.cache().pending().is_empty()
    })
    .await;
    let hits = b.cache().stats().hit;
    assert_eq!(b.day_logs(user, day(0)).await.unwrap(), first);
    assert_eq!(b.day_logs(user, day(0)).await.unwrap(), first);
    assert!(b.cache().stats().hit > hits, "B uses the cache again");
    report(
        "crash::with_the_store_down_at_start_up_the_users_with_rows_are_distrusted",
        "As above, but Redis is paused (SIGSTOP) when B starts: B's breaker is open, so the drain's bump is not even \
         sent. Redis then resumes with the old entries.",
        &format!(
            "B distrusts {} user; a process without distrust serves the old logs (asserted); **B's first read is the \
             committed data**; B applies the bump once its breaker allows, then serves hits again",
            drained.distrusted
        ),
    );
}
