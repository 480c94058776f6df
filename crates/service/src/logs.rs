//! Log entries and the day's logs (tier 1).

use bytes::Bytes;
use macrotrack_cache::{Freshness, Prefetched};
use macrotrack_domain::{Day, DayCopy, DayLogs, LogEntry, LogEntryId, LogEntryPatch, NewLogEntry, UserId};
use macrotrack_ports::{CacheStore, CopyDayError, CreateLogsError, Keep, Unavailable, UpdateLogError};

use crate::catalog::{COPY_DAY, CREATE_LOG_ENTRIES, DELETE_LOG_ENTRY, UPDATE_LOG_ENTRY, day_logs_address};
use crate::vocabulary::Addressed;
use crate::{CacheReport, ChangeError, CreateError, EditLogError, Service};

impl<S: CacheStore> Service<S> {
    /// Logs a validated batch, all or nothing, then forgets what it touched.
    pub async fn create_log_entries(
        &self,
        user: UserId,
        entries: Vec<NewLogEntry>,
    ) -> Result<Vec<LogEntry>, CreateError> {
        self.create_log_entries_keeping(user, entries, None).await
    }

    /// `create_log_entries`, keeping its answer (`keep` renders it) in the write's own
    /// transaction, for replays of its idempotency key.
    pub async fn create_log_entries_keeping(
        &self,
        user: UserId,
        entries: Vec<NewLogEntry>,
        keep: Option<Keep<Vec<LogEntry>>>,
    ) -> Result<Vec<LogEntry>, CreateError> {
        let now = self.now();
        let created = match keep {
            Some(keep) => self.repos.logs.create_log_entries_keeping(user, &entries, now, keep).await,
            None => self.repos.logs.create_log_entries(user, &entries, now).await,
        };
        let created = created.map_err(|error| match error {
            CreateLogsError::UnknownFood { index } => CreateError::Invalid(NewLogEntry::unknown_food(index)),
            CreateLogsError::UnknownRecipe { index } => CreateError::Invalid(NewLogEntry::unknown_recipe(index)),
            CreateLogsError::Amount { index, error } => CreateError::Invalid(NewLogEntry::bad_amount(index, error)),
            CreateLogsError::DayFull { date } => CreateError::Invalid(NewLogEntry::day_full(date)),
            CreateLogsError::Unavailable(unavailable) => CreateError::Unavailable(unavailable),
        })?;
        let report = self.forget(&CREATE_LOG_ENTRIES, user, &entries, Some(created.outbox)).await;
        self.warm(user, entries.iter().map(|entry| entry.date), report);
        Ok(created.value)
    }

    /// Changes the amount, meal or date; the snapshot is recomputed.
    pub async fn update_log_entry(
        &self,
        user: UserId,
        id: LogEntryId,
        patch: LogEntryPatch,
    ) -> Result<LogEntry, EditLogError> {
        let updated =
            self.repos.logs.update_log_entry(user, id, patch, self.now()).await.map_err(|error| match error {
                UpdateLogError::DayFull { date } => EditLogError::Invalid(LogEntryPatch::day_full(date)),
                UpdateLogError::Amount(error) => EditLogError::Invalid(LogEntryPatch::bad_amount(error)),
                UpdateLogError::NotQuick => EditLogError::Invalid(LogEntryPatch::not_quick()),
                UpdateLogError::QuickAmount(field) => EditLogError::Invalid(LogEntryPatch::quick_has_no_amount(field)),
                UpdateLogError::Unavailable(unavailable) => EditLogError::Unavailable(unavailable),
            })?;
        let updated = updated.ok_or(EditLogError::NotFound)?;
        let report = self.forget(&UPDATE_LOG_ENTRY, user, &updated.value, Some(updated.outbox)).await;
        let (before, after) = updated.value;
        self.warm(user, [before.date, after.date], report);
        Ok(after)
    }

    /// Copies a day's (or one meal's) entries to `copy.to`, all or
    /// nothing, then forgets what the copies touched.
    pub async fn copy_day(&self, user: UserId, copy: DayCopy) -> Result<Vec<LogEntry>, CreateError> {
        self.copy_day_keeping(user, copy, None).await
    }

    /// `copy_day`, keeping its answer for replays of its idempotency key.
    pub async fn copy_day_keeping(
        &self,
        user: UserId,
        copy: DayCopy,
        keep: Option<Keep<Vec<LogEntry>>>,
    ) -> Result<Vec<LogEntry>, CreateError> {
        let copied = self.repos.logs.copy_day(user, copy, self.now(), keep).await.map_err(|error| match error {
            CopyDayError::Nothing => CreateError::Invalid(copy.nothing_to_copy()),
            CopyDayError::DayFull => CreateError::Invalid(copy.day_full()),
            CopyDayError::Unavailable(unavailable) => CreateError::Unavailable(unavailable),
        })?;
        let report = self.forget(&COPY_DAY, user, &copied.value, Some(copied.outbox)).await;
        self.warm(user, [copy.to], report);
        Ok(copied.value)
    }

    /// Removes one of the user's entries, then forgets what it touched.
    pub async fn delete_log_entry(&self, user: UserId, id: LogEntryId) -> Result<(), ChangeError> {
        let deleted = self.repos.logs.delete_log_entry(user, id).await?.ok_or(ChangeError::NotFound)?;
        let report = self.forget(&DELETE_LOG_ENTRY, user, &deleted.value, Some(deleted.outbox)).await;
        self.warm(user, [deleted.value.date], report);
        Ok(())
    }

    /// A day's entries and totals (tier 1).
    pub async fn day_logs(&self, user: UserId, date: Day) -> Result<DayLogs, Unavailable> {
        self.day_logs_with(user, date, Freshness::Cached).await
    }

    /// The same day's logs as JSON: a cache hit hands over the stored bytes
    /// without decoding or re-encoding them (the hot read path of the API).
    pub async fn day_logs_json(&self, user: UserId, date: Day) -> Result<Bytes, Unavailable> {
        let address = day_logs_address(user, date);
        let logs = self.repos.logs.clone();
        let fetch = move || {
            let logs = logs.clone();
            async move { logs.day_logs(user, date).await }
        };
        let read = self.read_of(&address, self.policies.day_logs, Freshness::Cached, DayLogs::check, fetch).await;
        self.cache.json(read).await.map_err(crate::errors::from_cache)
    }

    /// `day_logs_json` at an address already computed, from its snapshot
    /// if it was read ahead, with its report handed back (the hot read,
    /// `authenticated_day_logs_json`).
    pub(crate) async fn day_logs_json_at(
        &self,
        address: &Addressed,
        user: UserId,
        date: Day,
        prefetched: Option<Prefetched>,
    ) -> (Result<Bytes, Unavailable>, CacheReport) {
        let logs = self.repos.logs.clone();
        let fetch = move || {
            let logs = logs.clone();
            async move { logs.day_logs(user, date).await }
        };
        let read = self.read_of(address, self.policies.day_logs, Freshness::Cached, DayLogs::check, fetch).await;
        match self.cache.json_reported(read.prefetched(prefetched)).await {
            Ok((json, report)) => (Ok(json), CacheReport { reads: report.into_iter().collect() }),
            Err(error) => (Err(crate::errors::from_cache(error)), CacheReport::default()),
        }
    }

    pub(crate) async fn day_logs_with(
        &self,
        user: UserId,
        date: Day,
        freshness: Freshness,
    ) -> Result<DayLogs, Unavailable> {
        let address = day_logs_address(user, date);
        self.cached(address, self.policies.day_logs, freshness, DayLogs::check, move |repos| async move {
            repos.logs.day_logs(user, date).await
        })
        .await
    }
}
