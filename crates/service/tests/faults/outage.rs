//! Redis dies or freezes under concurrent reads and writes: no request
//! fails, and no read after a write returns data from before it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use macrotrack_service::Repositories;
use macrotrack_testkit::{RedisServer, report, unique_name};

use crate::support::*;

const USERS: usize = 4;
const READERS: usize = 4;
const POLL: Duration = Duration::from_millis(500);
const GRACE: Duration = Duration::from_millis(1000);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_under_load_and_restarted_empty() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let Some(mut redis) = RedisServer::start(&[]) else { return };
    let file = SqliteFile::new();
    let repos = Repositories::from_one(file.connect().await);
    let cached = cached(repos.clone(), redis_store(&redis.url(), &unique_name("kill")).await);
    let plain = uncached(repos);
    let mut users = Vec::new();
    for _ in 0..USERS {
        users.push(cached.create_user("loaded").await.unwrap().user.id);
    }
    let food = some_food(&cached, users[0]).await;
    let drainer = tokio::spawn({
        let cached = cached.clone();
        async move { cached.drain_every(POLL, GRACE).await }
    });

    let tally = Arc::new(Tally::default());
    let started = Instant::now();
    let until = started + Duration::from_millis(4500);
    let outage = async {
        tokio::time::sleep(Duration::from_millis(1000)).await;
        redis.signal("KILL");
        let killed = started.elapsed();
        tokio::time::sleep(Duration::from_millis(1500)).await;
        redis.restart_empty();
        (killed, started.elapsed())
    };
    let (writes, (killed, restarted)) =
        tokio::join!(load(&cached, &plain, &users, food, READERS, until, &tally), outage);
    let stats = cached.cache().stats();
    let (requests, failures, stale) = tally.get();
    println!(
        "redis killed at {killed:?}, restarted empty at {restarted:?}, load for {:?}: {requests} requests, \
         {} writes, {failures} failed, {stale} stale; cache {stats:?}",
        until - started,
        writes.len()
    );
    assert_eq!(failures, 0, "every call returned Ok");
    assert_eq!(stale, 0, "every read after a write equals the database");
    let during = writes.iter().filter(|(at, ..)| *at - started > killed && *at - started < restarted).count();
    assert!(during > 0, "writes happened while Redis was down");
    assert!(stats.error + stats.bypass > 0, "reads went around the dead store");

    // Service resumes by itself: the deferred bumps are applied and the
    // cache answers again.
    let hits = stats.hit;
    eventually("the cache serves again", Duration::from_secs(10), async || {
        for user in &users {
            check_reads(&cached, &plain, *user, day(0), &tally).await;
        }
        cached.cache().pending().is_empty() && cached.cache().stats().hit > hits
    })
    .await;
    let serving_again = started.elapsed();
    assert_eq!(tally.get().1 + tally.get().2, 0, "no failure or stale read after the restart either");
    drainer.abort();
    report(
        "outage::redis_killed_under_load_and_restarted_empty",
        &format!(
            "SQLite file + a redis-server of the test's own. {USERS} writers (one user each: write, then compare day \
             logs, frequent foods and summary with an uncached service on the same database) and {READERS} readers \
             for {:.1} s; Redis SIGKILLed at {:.1} s and restarted empty on the same port at {:.1} s; the drainer runs \
             (poll {POLL:?}, grace {GRACE:?}).",
            (until - started).as_secs_f64(),
            killed.as_secs_f64(),
            restarted.as_secs_f64()
        ),
        &format!(
            "{requests} requests, {} writes ({during} while Redis was down); **{failures} failed, {stale} stale**; \
             {} reads went around the dead store (`error` {}, `bypass` {}); hits again and nothing pending {:.1} s \
             after the restart",
            writes.len(),
            stats.error + stats.bypass,
            stats.error,
            stats.bypass,
            (serving_again - restarted).as_secs_f64()
        ),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_paused_longer_than_the_command_timeout_then_resumed_with_its_old_data() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let Some(redis) = RedisServer::start(&[]) else { return };
    let file = SqliteFile::new();
    let repos = Repositories::from_one(file.connect().await);
    let cached = cached(repos.clone(), redis_store(&redis.url(), &unique_name("pause")).await);
    let plain = uncached(repos);
    let mut users = Vec::new();
    for _ in 0..USERS {
        users.push(cached.create_user("paused").await.unwrap().user.id);
    }
    let food = some_food(&cached, users[0]).await;
    // Warm: every read of every user is cached before the pause.
    let warm = Tally::default();
    for user in &users {
        for offset in 0..3 {
            check_reads(&cached, &plain, *user, day(offset), &warm).await;
        }
    }
    let drainer = tokio::spawn({
        let cached = cached.clone();
        async move { cached.drain_every(POLL, GRACE).await }
    });

    let tally = Arc::new(Tally::default());
    let started = Instant::now();
    let until = started + Duration::from_millis(3500);
    let pause = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        redis.signal("STOP");
        let paused = started.elapsed();
        // Longer than the command timeout (100 ms) and than the time after
        // which connections are dropped as unresponsive (1 s).
        tokio::time::sleep(Duration::from_millis(1500)).await;
        redis.signal("CONT");
        (paused, started.elapsed())
    };
    let (writes, (paused, resumed)) = tokio::join!(load(&cached, &plain, &users, food, READERS, until, &tally), pause);
    let during = writes.iter().filter(|(at, ..)| *at - started > paused && *at - started < resumed).count();
    let (requests, failures, stale) = tally.get();
    println!(
        "redis paused at {paused:?} for {:?}: {requests} requests, {} writes ({during} during the pause), \
         {failures} failed, {stale} stale; cache {:?}",
        resumed - paused,
        writes.len(),
        cached.cache().stats()
    );
    assert_eq!(failures, 0, "every call returned Ok");
    assert_eq!(stale, 0, "every read after a write equals the database");
    assert!(during > 0, "writes happened during the pause");

    // After one retry and drain tick, no read returns data from before a
    // write made during the pause (the old entries are still in Redis).
    tokio::time::sleep(POLL + GRACE).await;
    cached.cache().retry_pending().await;
    cached.drain_outbox(GRACE).await.unwrap();
    let after = Tally::default();
    for user in &users {
        for offset in 0..3 {
            check_reads(&cached, &plain, *user, day(offset), &after).await;
        }
    }
    let (after_requests, after_failures, after_stale) = after.get();
    println!("after the resume: {after_requests} reads, {after_failures} failed, {after_stale} stale");
    assert_eq!((after_failures, after_stale), (0, 0));
    drainer.abort();
    report(
        "outage::redis_paused_longer_than_the_command_timeout_then_resumed_with_its_old_data",
        &format!(
            "Same load for {:.1} s, every read of every user warmed first; Redis SIGSTOPped at {:.1} s for {:.1} s \
             (past the 100 ms command timeout and the 1 s unresponsive limit), then SIGCONTed with every pre-pause \
             entry still in it. After one retry and drain tick, every read of every user and date is compared with \
             the database.",
            (until - started).as_secs_f64(),
            paused.as_secs_f64(),
            (resumed - paused).as_secs_f64()
        ),
        &format!(
            "{requests} requests, {} writes ({during} during the pause); **{failures} failed, {stale} stale**; after \
             the resume {after_requests} reads, **{after_stale} stale**",
            writes.len()
        ),
    );
}
