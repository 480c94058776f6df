//! Log entries and the day's logs (tier 1).

use bytes::Bytes;
use macrotrack_cache::Freshness;
use macrotrack_cache_keys::{EntryAddress, Tier1Key};
use macrotrack_domain::{
    Day, DayLogs, LogEntry, LogEntryId, LogEntryPatch, LogItem, NewLogEntry, UserId, ValidationErrors,
};
use macrotrack_ports::{CacheStore, CreateLogsError};

use crate::{Facts, ItemKind, Operation, ReadError, Service, WriteError};

pub(crate) fn item_kind(item: LogItem) -> ItemKind {
    match item {
        LogItem::Food(_) => ItemKind::Food,
        LogItem::Recipe(_) => ItemKind::Recipe,
    }
}

fn entry_kind(entry: &LogEntry) -> ItemKind {
    if entry.recipe_id.is_some() { ItemKind::Recipe } else { ItemKind::Food }
}

impl<S: CacheStore> Service<S> {
    /// Logs a validated batch, all or nothing, then forgets what it touched.
    pub async fn create_log_entries(
        &self,
        user: UserId,
        entries: Vec<NewLogEntry>,
    ) -> Result<Vec<LogEntry>, WriteError> {
        let created =
            self.repos.logs.create_log_entries(user, &entries, self.now()).await.map_err(|error| match error {
                CreateLogsError::UnknownFood { index } => {
                    WriteError::Invalid(ValidationErrors::single(format!("entries.{index}.food_id"), "unknown food"))
                }
                CreateLogsError::UnknownRecipe { index } => WriteError::Invalid(ValidationErrors::single(
                    format!("entries.{index}.recipe_id"),
                    "unknown recipe",
                )),
                CreateLogsError::Unavailable(unavailable) => WriteError::Unavailable(unavailable),
            })?;
        let touched = entries.iter().map(|entry| (entry.date, item_kind(entry.item)));
        let report =
            self.forget(Operation::CreateLogEntries, Facts::touched(user, touched), Some(created.outbox)).await;
        self.warm(user, entries.iter().map(|entry| entry.date), report);
        Ok(created.value)
    }

    /// Changes servings, meal or date; the snapshot is recomputed.
    pub async fn update_log_entry(
        &self,
        user: UserId,
        id: LogEntryId,
        patch: LogEntryPatch,
    ) -> Result<LogEntry, WriteError> {
        let updated =
            self.repos.logs.update_log_entry(user, id, patch, self.now()).await?.ok_or(WriteError::NotFound)?;
        let (before, after) = updated.value;
        let kind = entry_kind(&before);
        let facts = Facts::touched(user, [(before.date, kind), (after.date, kind)]);
        let report = self.forget(Operation::UpdateLogEntry, facts, Some(updated.outbox)).await;
        self.warm(user, [before.date, after.date], report);
        Ok(after)
    }

    pub async fn delete_log_entry(&self, user: UserId, id: LogEntryId) -> Result<(), WriteError> {
        let deleted = self.repos.logs.delete_log_entry(user, id).await?.ok_or(WriteError::NotFound)?;
        let facts = Facts::touched(user, [(deleted.value.date, entry_kind(&deleted.value))]);
        let report = self.forget(Operation::DeleteLogEntry, facts, Some(deleted.outbox)).await;
        self.warm(user, [deleted.value.date], report);
        Ok(())
    }

    /// A day's entries and totals (tier 1).
    pub async fn day_logs(&self, user: UserId, date: Day) -> Result<DayLogs, ReadError> {
        self.day_logs_with(user, date, Freshness::Cached).await
    }

    /// The same day's logs as JSON: a cache hit hands over the stored bytes
    /// without decoding or re-encoding them (the hot read path of the API).
    pub async fn day_logs_json(&self, user: UserId, date: Day) -> Result<Bytes, ReadError> {
        let address = EntryAddress::tier1(Tier1Key::DayLogs { user, date });
        let logs = self.repos.logs.clone();
        let fetch = move || {
            let logs = logs.clone();
            async move { logs.day_logs(user, date).await }
        };
        Ok(self.cache.read_json(&address, self.policies.day_logs, Freshness::Cached, DayLogs::check, fetch).await?)
    }

    pub(crate) async fn day_logs_with(
        &self,
        user: UserId,
        date: Day,
        freshness: Freshness,
    ) -> Result<DayLogs, ReadError> {
        let address = EntryAddress::tier1(Tier1Key::DayLogs { user, date });
        self.cached(address, self.policies.day_logs, freshness, DayLogs::check, move |repos| async move {
            repos.logs.day_logs(user, date).await
        })
        .await
    }
}
