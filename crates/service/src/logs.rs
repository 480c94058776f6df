//! Log entries and the day's logs (tier 1).

use bytes::Bytes;
use macrotrack_cache::{Freshness, Prefetched, Read};
use macrotrack_cache_keys::{EntryAddress, ReadFamily, Tier, Tier1Key};
use macrotrack_domain::{
    Day, DayLogs, LogEntry, LogEntryId, LogEntryPatch, LogItem, NewLogEntry, UserId, ValidationErrors,
};
use macrotrack_ports::{CacheStore, CreateLogsError};

use crate::facts::{Change, Changes, Fact, FactKind, Granularity, MutationSpec, Operation, ReadSpec};
use macrotrack_ports::Unavailable;

use crate::{CacheReport, ChangeError, CreateError, Service};

/// A day's entries, their totals, and whether the day is completed.
pub(crate) const DAY_LOGS: ReadSpec = ReadSpec {
    family: ReadFamily::Logs,
    name: "day logs",
    tier: Tier::One,
    depends_on: &[FactKind::FoodEntries, FactKind::RecipeEntries, FactKind::Completions],
    granularity: Granularity::Day,
};

pub(crate) const CREATE_LOG_ENTRIES: MutationSpec = MutationSpec {
    operation: Operation::CreateLogEntries,
    name: "create log entries (batch)",
    dates: "each date of the batch",
    changes: &[
        Change { kind: FactKind::FoodEntries, which: "each date with a food entry" },
        Change { kind: FactKind::RecipeEntries, which: "each date with a recipe entry" },
        Change { kind: FactKind::FoodUses, which: "if a food entry" },
    ],
    everything: false,
};

/// An update changes no use count: the entry keeps its food.
pub(crate) const UPDATE_LOG_ENTRY: MutationSpec = MutationSpec {
    operation: Operation::UpdateLogEntry,
    name: "update a log entry",
    dates: "original and new date",
    changes: &[
        Change { kind: FactKind::FoodEntries, which: "original and new date of a food entry" },
        Change { kind: FactKind::RecipeEntries, which: "original and new date of a recipe entry" },
    ],
    everything: false,
};

pub(crate) const DELETE_LOG_ENTRY: MutationSpec = MutationSpec {
    operation: Operation::DeleteLogEntry,
    name: "delete a log entry",
    dates: "its date",
    changes: &[
        Change { kind: FactKind::FoodEntries, which: "its date, if a food entry" },
        Change { kind: FactKind::RecipeEntries, which: "its date, if a recipe entry" },
        Change { kind: FactKind::FoodUses, which: "if a food entry" },
    ],
    everything: false,
};

/// The fact an entry of `item`'s kind on `date` is.
fn entry_fact(date: Day, recipe: bool) -> Fact {
    Fact::on(if recipe { FactKind::RecipeEntries } else { FactKind::FoodEntries }, date)
}

/// What creating `entries` changes: their dates, by kind; uses of foods.
pub(crate) fn created_changes(user: UserId, entries: &[NewLogEntry]) -> Changes {
    let mut facts: Vec<Fact> =
        entries.iter().map(|entry| entry_fact(entry.date, matches!(entry.item, LogItem::Recipe(_)))).collect();
    if entries.iter().any(|entry| matches!(entry.item, LogItem::Food(_))) {
        facts.push(Fact::undated(FactKind::FoodUses));
    }
    facts.sort_unstable();
    facts.dedup();
    Changes::new(user, facts)
}

/// What moving or editing an entry changes: its kind on both dates.
pub(crate) fn updated_changes(user: UserId, before: &LogEntry, after: &LogEntry) -> Changes {
    let recipe = before.recipe_id.is_some();
    Changes::new(user, [entry_fact(before.date, recipe), entry_fact(after.date, recipe)])
}

/// What deleting an entry changes: its kind on its date; a food's uses.
pub(crate) fn deleted_changes(user: UserId, entry: &LogEntry) -> Changes {
    let recipe = entry.recipe_id.is_some();
    let uses = (!recipe).then(|| Fact::undated(FactKind::FoodUses));
    Changes::new(user, std::iter::once(entry_fact(entry.date, recipe)).chain(uses))
}

/// Where a day's logs are cached.
pub(crate) fn day_logs_address(user: UserId, date: Day) -> EntryAddress {
    EntryAddress::tier1(Tier1Key::DayLogs { user, date }, &DAY_LOGS.guards(user, Some((date, date))))
}

impl<S: CacheStore> Service<S> {
    /// Logs a validated batch, all or nothing, then forgets what it touched.
    pub async fn create_log_entries(
        &self,
        user: UserId,
        entries: Vec<NewLogEntry>,
    ) -> Result<Vec<LogEntry>, CreateError> {
        let created =
            self.repos.logs.create_log_entries(user, &entries, self.now()).await.map_err(|error| match error {
                CreateLogsError::UnknownFood { index } => {
                    CreateError::Invalid(ValidationErrors::single(format!("entries.{index}.food_id"), "unknown food"))
                }
                CreateLogsError::UnknownRecipe { index } => CreateError::Invalid(ValidationErrors::single(
                    format!("entries.{index}.recipe_id"),
                    "unknown recipe",
                )),
                CreateLogsError::Unavailable(unavailable) => CreateError::Unavailable(unavailable),
            })?;
        let report = self.forget(&CREATE_LOG_ENTRIES, created_changes(user, &entries), Some(created.outbox)).await;
        self.warm(user, entries.iter().map(|entry| entry.date), report);
        Ok(created.value)
    }

    /// Changes servings, meal or date; the snapshot is recomputed.
    pub async fn update_log_entry(
        &self,
        user: UserId,
        id: LogEntryId,
        patch: LogEntryPatch,
    ) -> Result<LogEntry, ChangeError> {
        let updated =
            self.repos.logs.update_log_entry(user, id, patch, self.now()).await?.ok_or(ChangeError::NotFound)?;
        let (before, after) = updated.value;
        let report = self.forget(&UPDATE_LOG_ENTRY, updated_changes(user, &before, &after), Some(updated.outbox)).await;
        self.warm(user, [before.date, after.date], report);
        Ok(after)
    }

    pub async fn delete_log_entry(&self, user: UserId, id: LogEntryId) -> Result<(), ChangeError> {
        let deleted = self.repos.logs.delete_log_entry(user, id).await?.ok_or(ChangeError::NotFound)?;
        let report = self.forget(&DELETE_LOG_ENTRY, deleted_changes(user, &deleted.value), Some(deleted.outbox)).await;
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
        let json = self.cache.read_json(&address, self.policies.day_logs, Freshness::Cached, DayLogs::check, fetch);
        json.await.map_err(crate::errors::from_cache)
    }

    /// `day_logs_json` at an address already computed, from its snapshot
    /// if it was read ahead, with its report handed back (the hot read,
    /// `authenticated_day_logs_json`).
    pub(crate) async fn day_logs_json_at(
        &self,
        address: &EntryAddress,
        user: UserId,
        date: Day,
        prefetched: Option<Prefetched>,
    ) -> (Result<Bytes, Unavailable>, CacheReport) {
        let logs = self.repos.logs.clone();
        let fetch = move || {
            let logs = logs.clone();
            async move { logs.day_logs(user, date).await }
        };
        let read = Read::new(address, self.policies.day_logs, DayLogs::check, fetch);
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
