//! A slow database: 200 concurrent readers of one cold key cause one fetch
//! (single-flight); once the entry is stale, 200 readers are all answered
//! with the stale value at once, and exactly one background refresh runs.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use macrotrack_db_seaorm::SeaOrmRepository;
use macrotrack_domain::{
    Day, DayLogs, LogEntry, LogEntryId, LogEntryPatch, NewLogEntry, SummaryDay, Timestamp, UserId,
};
use macrotrack_ports::{Committed, CreateLogsError, LogRepository, Unavailable, UpdateLogError};
use macrotrack_service::Repositories;
use macrotrack_testkit::{RedisServer, report, unique_name};

use crate::support::*;

const READERS: usize = 200;
const FETCH_TAKES: Duration = Duration::from_millis(1000);

/// The SeaORM logs, with a day's logs that take `FETCH_TAKES` and are counted.
struct SlowLogs {
    inner: SeaOrmRepository,
    fetches: AtomicUsize,
}

#[async_trait]
impl LogRepository for SlowLogs {
    async fn create_log_entries(
        &self,
        user: UserId,
        entries: &[NewLogEntry],
        now: Timestamp,
    ) -> Result<Committed<Vec<LogEntry>>, CreateLogsError> {
        self.inner.create_log_entries(user, entries, now).await
    }

    async fn create_log_entries_keeping(
        &self,
        user: UserId,
        entries: &[NewLogEntry],
        now: Timestamp,
        keep: macrotrack_ports::Keep<Vec<LogEntry>>,
    ) -> Result<Committed<Vec<LogEntry>>, CreateLogsError> {
        self.inner.create_log_entries_keeping(user, entries, now, keep).await
    }

    async fn day_logs(&self, user: UserId, date: Day) -> Result<DayLogs, Unavailable> {
        self.fetches.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(FETCH_TAKES).await;
        self.inner.day_logs(user, date).await
    }

    async fn log_entry(&self, user: UserId, id: LogEntryId) -> Result<Option<LogEntry>, Unavailable> {
        self.inner.log_entry(user, id).await
    }

    async fn update_log_entry(
        &self,
        user: UserId,
        id: LogEntryId,
        patch: LogEntryPatch,
        now: Timestamp,
    ) -> Result<Option<Committed<(LogEntry, LogEntry)>>, UpdateLogError> {
        self.inner.update_log_entry(user, id, patch, now).await
    }

    async fn delete_log_entry(&self, user: UserId, id: LogEntryId) -> Result<Option<Committed<LogEntry>>, Unavailable> {
        self.inner.delete_log_entry(user, id).await
    }

    async fn summary(&self, user: UserId, from: Day, to: Day) -> Result<Vec<SummaryDay>, Unavailable> {
        self.inner.summary(user, from, to).await
    }

    async fn entries_between(&self, user: UserId, from: Day, to: Day) -> Result<Vec<LogEntry>, Unavailable> {
        self.inner.entries_between(user, from, to).await
    }

    async fn copy_day(
        &self,
        user: UserId,
        copy: macrotrack_domain::DayCopy,
        now: Timestamp,
        keep: Option<macrotrack_ports::Keep<Vec<LogEntry>>>,
    ) -> Result<Committed<Vec<LogEntry>>, macrotrack_ports::CopyDayError> {
        self.inner.copy_day(user, copy, now, keep).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_fetch_for_a_cold_stampede_and_one_refresh_for_a_stale_one() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let Some(redis) = RedisServer::start(&[]) else { return };
    let file = SqliteFile::new();
    let repository = file.connect().await;
    let slow = Arc::new(SlowLogs { inner: repository.clone(), fetches: AtomicUsize::new(0) });
    let repos = Repositories { logs: slow.clone(), ..Repositories::from_one(repository.clone()) };
    let clock = Arc::new(ManualClock::default());
    let cached = cached_with_clock(repos, redis_store(&redis.url(), &unique_name("slow")).await, clock.clone());
    let user = cached.create_user("hot").await.unwrap().user.id;
    let food = some_food(&cached, user).await;
    cached.create_log_entries(user, vec![food_entry(day(0), food)]).await.unwrap();

    let stampede = async || {
        let started = Instant::now();
        let readers: Vec<_> = (0..READERS)
            .map(|_| {
                let cached = cached.clone();
                tokio::spawn(async move { (cached.day_logs(user, day(0)).await.unwrap(), started.elapsed()) })
            })
            .collect();
        let mut answers = Vec::new();
        for reader in readers {
            answers.push(reader.await.unwrap());
        }
        answers
    };

    // Cold: every reader misses; one fetch answers them all.
    let cold = stampede().await;
    let slowest = cold.iter().map(|(_, took)| *took).max().unwrap();
    assert!(cold.iter().all(|(logs, _)| logs.entries.len() == 1));
    assert_eq!(slow.fetches.load(Ordering::SeqCst), 1, "single-flight: one fetch for {READERS} cold readers");
    assert_eq!(cached.cache().stats().miss, READERS as u64);

    // The database changes behind the cache (no invalidation), then the
    // entry ages past its ttl (5 min) into its stale-while-revalidate window.
    repository.create_log_entries(user, &[food_entry(day(0), food)], Timestamp::new(chrono::Utc::now())).await.unwrap();
    clock.advance(Duration::from_secs(5 * 60 + 1));
    let stale = stampede().await;
    let slowest_stale = stale.iter().map(|(_, took)| *took).max().unwrap();
    assert!(stale.iter().all(|(logs, _)| logs.entries.len() == 1), "all served the stale value");
    assert!(slowest_stale < FETCH_TAKES, "none waited for the refresh ({slowest_stale:?})");
    assert_eq!(cached.cache().stats().stale, READERS as u64);
    eventually("the refresh ends", Duration::from_secs(5), async || cached.cache().refreshing() == 0).await;
    assert_eq!(slow.fetches.load(Ordering::SeqCst), 2, "exactly one background refresh");
    assert_eq!(cached.day_logs(user, day(0)).await.unwrap().entries.len(), 2, "the refreshed value is served");
    report(
        "slow_db::one_fetch_for_a_cold_stampede_and_one_refresh_for_a_stale_one",
        &format!(
            "The day's logs take {:.0} s to fetch. {READERS} concurrent readers of the cold key; then the database \
             changes behind the cache and the clock moves past the ttl; {READERS} readers again.",
            FETCH_TAKES.as_secs_f64()
        ),
        &format!(
            "Cold: **1 fetch** for {READERS} misses, slowest answer {:.3} s. Stale: all {READERS} served the stale \
             value, slowest answer {:.1} ms, **exactly 1 background refresh**, after which the new value is served",
            slowest.as_secs_f64(),
            slowest_stale.as_secs_f64() * 1000.0
        ),
    );
}
