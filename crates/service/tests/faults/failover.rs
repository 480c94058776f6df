//! A master of a Redis Cluster with replicas fails over under concurrent
//! reads and writes, coordinated (`CLUSTER FAILOVER`) or after a SIGKILL:
//! no request fails, and no read after a write returns data from before it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use macrotrack_cache::StatsSnapshot;
use macrotrack_cache_fred::RedisStore;
use macrotrack_domain::{Day, UserId};
use macrotrack_service::{Repositories, Service};
use macrotrack_testkit::{RedisCluster, report, unique_name};

use crate::support::*;

const MASTERS: usize = 3;
const USERS: usize = 6;
/// Readers per group (users of the failing master, users of the others).
const READERS: usize = 2;
const POLL: Duration = Duration::from_millis(500);
const GRACE: Duration = Duration::from_millis(1000);
/// Shorter than the testkit's default, so an automatic failover fits in a test.
const NODE_TIMEOUT: Duration = Duration::from_millis(1000);
/// Only so that a failover that never happens fails the test instead of hanging it.
const LIMIT: Duration = Duration::from_secs(30);
/// Load after the failover is known cluster-wide.
const AFTER: Duration = Duration::from_millis(1500);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// `CLUSTER FAILOVER` sent to the replica: the master stops writes
    /// until the replica has caught up, so no acknowledged write is lost.
    Coordinated,
    /// The master is SIGKILLed; its replica takes over after the node
    /// timeout. Replication is asynchronous: a write acknowledged just
    /// before the kill may not have reached it.
    Killed,
}

/// What one run measured.
struct Run {
    /// Users whose slots the failing master owned, and the others.
    on_master: Vec<UserId>,
    elsewhere: Vec<UserId>,
    /// Requests, failures, stale reads of the load (both phases).
    moved: (u64, u64, u64),
    stayed: (u64, u64, u64),
    writes: usize,
    /// Writes of the failing master's users between the fault and the promotion.
    writes_during: usize,
    /// From the fault until the replica called itself master, and until
    /// every node that answers agreed (and, coordinated, the old master
    /// replicated the new one).
    promoted_after: Duration,
    settled_after: Duration,
    /// Each user wrote each date after the failover settled.
    rewritten_after: bool,
    /// At the end: the replica is the slot's master for every node that
    /// answers and (coordinated) the old master replicates it.
    swapped: bool,
    /// Hits during the load after the failover.
    hits_after: u64,
    /// The final sweep: every read of every user and date against the database.
    sweep: (u64, u64, u64),
    stats: StatsSnapshot,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coordinated_failover_under_load() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let Some(run) = fail_over_under_load(Fault::Coordinated, Duration::from_millis(3000)).await else { return };
    let figures = figures(&run);
    println!("coordinated failover: {figures}; cache {:?}", run.stats);
    assert_eq!(run.moved.1 + run.stayed.1, 0, "every call returned Ok");
    // No acknowledged write is lost, but the old master answers reads until
    // it hears of its demotion, possibly after a bump reached the new one:
    // the writer's own-bumps window reads around it (once in about 30 runs
    // before the window existed, a read after a write was stale here).
    assert_eq!(run.moved.2 + run.stayed.2, 0, "every read after a write equals the database");
    assert!(run.swapped, "the roles swapped");
    assert_eq!((run.sweep.1, run.sweep.2), (0, 0), "after the failover every read equals the database");
    assert!(run.hits_after > 0, "hits resumed after the failover");
    report(
        "failover::a_coordinated_failover_under_load",
        "SQLite file + a Redis Cluster of 3 masters with 1 replica each (cluster-node-timeout 1 s). All reads of \
         6 users are cached first. One writer per user (write a log entry, then compare day logs, frequent foods \
         and summary with an uncached service on the same database) and 4 readers; at 1 s CLUSTER FAILOVER is sent \
         to the replica of the master owning most of the users' slots; the load runs 3 s, then 1.5 s more once the \
         roles have swapped; then every read of every user and date is compared with the database.",
        &figures,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_master_killed_under_load_fails_over_automatically() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let Some(run) = fail_over_under_load(Fault::Killed, Duration::from_millis(5000)).await else { return };
    let figures = figures(&run);
    println!("master killed: {figures}; cache {:?}", run.stats);
    assert_eq!(run.moved.1 + run.stayed.1, 0, "every call returned Ok");
    // A bump acknowledged just before the kill may not have reached the
    // replica, whose old generations then match its old entries again; the
    // writing instance remembers what it set and refuses such a store (its
    // reads go to the database and the bump is made again).
    assert_eq!(run.moved.2 + run.stayed.2, 0, "every read after a write equals the database");
    assert!(run.writes_during > 0, "the failing master's users wrote while it was down");
    assert!(run.stats.failed_invalidations > 0, "invalidations for the dead master were deferred");
    assert!(run.swapped, "the replica took over the dead master's slots");
    // Every user wrote every date after the promotion and each of those
    // invalidations reached the new master (nothing pending), so whatever the
    // kill lost is bumped again: from then on no read may be stale.
    assert!(run.rewritten_after, "each user wrote each date after the failover");
    assert_eq!((run.sweep.1, run.sweep.2), (0, 0), "after the failover every read equals the database");
    assert!(run.hits_after > 0, "hits resumed after the failover");
    report(
        "failover::a_master_killed_under_load_fails_over_automatically",
        "SQLite file + a Redis Cluster of 3 masters with 1 replica each (cluster-node-timeout 1 s). All reads of \
         6 users are cached first. One writer per user (write a log entry, then compare day logs, frequent foods \
         and summary with an uncached service on the same database) and 4 readers; at 1 s the master owning most \
         of the users' slots is SIGKILLed and its replica promotes itself; the load runs 5 s, then 1.5 s more once \
         the cluster agrees; then every read of every user and date is compared with the database.",
        &figures,
    );
}

fn figures(run: &Run) -> String {
    let requests = run.moved.0 + run.stayed.0;
    format!(
        "{requests} requests, {} writes ({} by the failing master's users while it failed over), {} failed, \
         {} stale ({} of the {} users on the failing master, {} of the {} others); replica master after {:.2} s, \
         agreed cluster-wide after {:.2} s; {} reads around the store (error or bypass), {} invalidations deferred, \
         {} generations found behind this instance's own bumps (bumped again); \
         {} hits after the failover; final sweep {} reads, {} stale",
        run.writes,
        run.writes_during,
        run.moved.1 + run.stayed.1,
        run.moved.2 + run.stayed.2,
        run.moved.2,
        run.on_master.len(),
        run.stayed.2,
        run.elsewhere.len(),
        run.promoted_after.as_secs_f64(),
        run.settled_after.as_secs_f64(),
        run.stats.error + run.stats.bypass,
        run.stats.failed_invalidations,
        run.stats.store_behind,
        run.hits_after,
        run.sweep.0,
        run.sweep.2,
    )
}

/// The users whose slots `nodes[master]` owns.
fn owned_by(cluster: &RedisCluster, master: usize, users: &[UserId]) -> Vec<UserId> {
    let slots: Vec<u16> =
        users.iter().map(|user| cluster.key_slot(&format!("{{user:{user}}}")).expect("a node answers")).collect();
    users.iter().zip(slots).filter(|(_, slot)| cluster.master_of_slot(*slot) == Some(master)).map(|(u, _)| *u).collect()
}

async fn fail_over_under_load(fault: Fault, load_for: Duration) -> Option<Run> {
    let cluster = RedisCluster::start_with_node_timeout(MASTERS, 1, NODE_TIMEOUT)?;
    let cluster = Arc::new(cluster);
    let file = SqliteFile::new();
    let repos = Repositories::from_one(file.connect().await);
    let cached = cached(repos.clone(), redis_store(&cluster.url(), &unique_name("failover")).await);
    let plain = uncached(repos);
    let mut users = Vec::new();
    for _ in 0..USERS {
        users.push(cached.create_user("failover").await.unwrap().user.id);
    }
    let food = some_food(&cached, users[0]).await;

    // Fail the master that owns most of the users' slots; keep a user's slot
    // to tell when the cluster agrees on its new owner.
    let masters: Vec<usize> = (0..cluster.nodes.len()).filter(|&n| !cluster.replicas_of(n).is_empty()).collect();
    assert_eq!(masters.len(), MASTERS, "each master has a replica");
    let master = masters.iter().copied().max_by_key(|&m| owned_by(&cluster, m, &users).len()).expect("masters");
    let replica = cluster.replicas_of(master)[0];
    let on_master = owned_by(&cluster, master, &users);
    let elsewhere: Vec<UserId> = users.iter().copied().filter(|u| !on_master.contains(u)).collect();
    assert!(!on_master.is_empty() && !elsewhere.is_empty(), "users on the failing master and on others");
    let slot = cluster.key_slot(&format!("{{user:{}}}", on_master[0])).expect("a node answers");

    // Warm: every read of every user is cached, old entries the failover must not bring back.
    let warm = Tally::default();
    for user in &users {
        for offset in 0..3 {
            check_reads(&cached, &plain, *user, day(offset), &warm).await;
        }
    }
    assert_eq!(warm.get().1 + warm.get().2, 0, "the warm-up reads agree with the database");
    let drainer = tokio::spawn({
        let cached = cached.clone();
        async move { cached.drain_every(POLL, GRACE).await }
    });

    let (moved, stayed) = (Arc::new(Tally::default()), Arc::new(Tally::default()));
    let started = Instant::now();
    let failover = {
        let cluster = Arc::clone(&cluster);
        async move {
            tokio::time::sleep(Duration::from_millis(1000)).await;
            tokio::task::spawn_blocking(move || {
                let at = Instant::now();
                match fault {
                    Fault::Coordinated => {
                        cluster.failover(replica, None).expect("the replica accepts CLUSTER FAILOVER")
                    }
                    Fault::Killed => cluster.nodes[master].signal("KILL"),
                }
                assert!(cluster.wait_until(LIMIT, |c| c.is_master(replica)), "the replica was promoted");
                let promoted = Instant::now();
                let settled = cluster.wait_until(LIMIT, |c| match fault {
                    Fault::Coordinated => c.roles_swapped(master, replica, slot),
                    Fault::Killed => c.promoted(replica, slot),
                });
                assert!(settled, "the cluster agreed on the new master ({fault:?})");
                (at, promoted, Instant::now())
            })
            .await
            .expect("the failover thread")
        }
    };
    let until = started + load_for;
    let (mut writes, others, (fault_at, promoted_at, settled_at)) = tokio::join!(
        load(&cached, &plain, &on_master, food, READERS, until, &moved),
        load(&cached, &plain, &elsewhere, food, READERS, until, &stayed),
        failover
    );
    let writes_during =
        writes.iter().filter(|(at, user, _)| *at > fault_at && *at < promoted_at && on_master.contains(user)).count();
    writes.extend(others);

    // The same load once the cluster agrees: the cache must serve again.
    let hits_before = cached.cache().stats().hit;
    let until = Instant::now() + AFTER;
    let (after, others) = tokio::join!(
        load(&cached, &plain, &on_master, food, READERS, until, &moved),
        load(&cached, &plain, &elsewhere, food, READERS, until, &stayed),
    );
    let hits_after = cached.cache().stats().hit - hits_before;
    let dates: Vec<Day> = (0..3).map(day).collect();
    let rewritten_after = users.iter().all(|user| {
        dates
            .iter()
            .all(|date| after.iter().chain(&others).any(|(at, u, d)| u == user && d == date && *at > settled_at))
    });
    writes.extend(after);
    writes.extend(others);
    drainer.abort();

    // Whatever this instance deferred is applied and the outbox is drained.
    eventually("deferred invalidations applied, outbox drained", Duration::from_secs(10), async || {
        cached.cache().retry_pending().await;
        let drained = cached.drain_outbox(Duration::ZERO).await.is_ok_and(|report| report.distrusted == 0);
        drained && cached.cache().pending().is_empty()
    })
    .await;
    let sweep = Tally::default();
    for user in &users {
        for date in &dates {
            check_reads(&cached, &plain, *user, *date, &sweep).await;
        }
    }
    hit_on(&cached, on_master[0]).await;
    let swapped = {
        let cluster = Arc::clone(&cluster);
        tokio::task::spawn_blocking(move || match fault {
            Fault::Coordinated => cluster.roles_swapped(master, replica, slot),
            Fault::Killed => cluster.promoted(replica, slot) && !cluster.is_master(master),
        })
        .await
        .expect("the check thread")
    };
    let stats = cached.cache().stats();
    Some(Run {
        on_master,
        elsewhere,
        moved: moved.get(),
        stayed: stayed.get(),
        writes: writes.len(),
        writes_during,
        promoted_after: promoted_at - fault_at,
        settled_after: settled_at - fault_at,
        rewritten_after,
        swapped,
        hits_after,
        sweep: sweep.get(),
        stats,
    })
}

/// Reads `user`'s day logs until one is a hit: the slot's new master serves
/// the cache (nothing else reads now).
async fn hit_on(cached: &Service<RedisStore>, user: UserId) {
    eventually("a hit from the new master", Duration::from_secs(10), async || {
        let before = cached.cache().stats().hit;
        cached.day_logs(user, day(0)).await.expect("the read answers");
        cached.cache().stats().hit > before
    })
    .await;
}
