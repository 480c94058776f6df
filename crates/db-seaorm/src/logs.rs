//! `LogRepository`: what users ate, with macros snapshotted at logging time.

use crate::parameters::Parameters;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use async_trait::async_trait;
use chrono::Utc;
use macrotrack_domain::{
    Amount, Day, DayCopy, DayLogs, LogAmount, LogEntry, LogEntryId, LogEntryPatch, LogItem, Macros, Measure,
    NewLogEntry, SummaryDay, Timestamp, UserId,
};
use macrotrack_ports::{
    Committed, CopyDayError, CreateLogsError, Keep, LogRepository, OutboxId, Unavailable, UpdateLogError,
};
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, Statement};

use crate::entities::{log_entry, recipe};
use crate::foods::visible_foods;
use crate::idempotency::keep_in;
use crate::log_rows::{
    ENTRY_COLUMN_COUNT, ENTRY_COLUMNS, QUICK_UNIT, entry_by_position, stored_unit, to_entry, unit_of,
};
use crate::write_thread::Written;
use crate::{SeaOrmRepository, bounds, corrupt, finish, log_changes, macros, outbox, portions, unavailable};

#[async_trait]
impl LogRepository for SeaOrmRepository {
    async fn create_log_entries(
        &self,
        user: UserId,
        entries: &[NewLogEntry],
        now: Timestamp,
    ) -> Result<Committed<Vec<LogEntry>>, CreateLogsError> {
        let batch = resolve(&self.db, user, entries, now).await?;
        let (created, outbox) = self.insert_batch(user, batch, true, now, None).await?;
        Ok(Committed::new(created, outbox.ok_or_else(|| corrupt("no outbox id came back"))?))
    }

    async fn create_log_entries_keeping(
        &self,
        user: UserId,
        entries: &[NewLogEntry],
        now: Timestamp,
        keep: Keep<Vec<LogEntry>>,
    ) -> Result<Committed<Vec<LogEntry>>, CreateLogsError> {
        let batch = resolve(&self.db, user, entries, now).await?;
        let (created, outbox) = self.insert_batch(user, batch, true, now, Some(keep)).await?;
        Ok(Committed::new(created, outbox.ok_or_else(|| corrupt("no outbox id came back"))?))
    }

    async fn day_logs(&self, user: UserId, date: Day) -> Result<DayLogs, Unavailable> {
        // One query (one round trip, one connection): the day's entries,
        // each with whether the day is completed, or one row of NULL entry
        // columns when it has none.
        let backend = self.db.get_database_backend();
        let (u, d) = if backend == DbBackend::Postgres { ("$1", "$2") } else { ("?1", "?2") };
        // Columns by position, not by name: sea-orm formats each name and
        // sqlx looks it up per column and row (12% of a cold day's CPU).
        let sql = format!(
            "SELECT {ENTRY_COLUMNS}, EXISTS (SELECT 1 FROM day_completions WHERE user_id = {u} AND date = {d}) \
             AS day_completed FROM (SELECT 1) AS one \
             LEFT JOIN log_entries ON log_entries.user_id = {u} AND log_entries.date = {d} ORDER BY log_entries.id"
        );
        let statement = Statement::from_sql_and_values(backend, sql, [user.0.into(), date.date().into()]);
        let rows = self.db.query_all_raw(statement).await.map_err(unavailable)?;
        let completed = match rows.first() {
            Some(row) => row.try_get_by_index::<bool>(ENTRY_COLUMN_COUNT).map_err(unavailable)?,
            None => return Err(corrupt("the day's query answered no row")),
        };
        let mut entries = Vec::with_capacity(rows.len());
        for row in &rows {
            if let Some(entry) = entry_by_position(row)? {
                entries.push(entry);
            }
        }
        Ok(DayLogs::new(date, completed, entries))
    }

    async fn log_entry(&self, user: UserId, id: LogEntryId) -> Result<Option<LogEntry>, Unavailable> {
        log_changes::log_entry(&self.db, user, id).await
    }

    async fn update_log_entry(
        &self,
        user: UserId,
        id: LogEntryId,
        patch: LogEntryPatch,
        now: Timestamp,
    ) -> Result<Option<Committed<(LogEntry, LogEntry)>>, UpdateLogError> {
        let txn = self.begin_write().await?;
        let updated = async {
            let updated = log_changes::update(&txn, user, id, patch, now).await?;
            Ok(outbox::record_some(&txn, user, updated).await?)
        }
        .await;
        finish(txn, updated).await
    }

    async fn delete_log_entry(&self, user: UserId, id: LogEntryId) -> Result<Option<Committed<LogEntry>>, Unavailable> {
        let txn = self.begin_write().await?;
        let deleted = async {
            let deleted = log_changes::delete(&txn, user, id).await?;
            outbox::record_some(&txn, user, deleted).await
        }
        .await;
        finish(txn, deleted).await
    }

    async fn summary(&self, user: UserId, from: Day, to: Day) -> Result<Vec<SummaryDay>, Unavailable> {
        log_changes::summary(&self.db, user, from, to).await
    }

    async fn entries_between(&self, user: UserId, from: Day, to: Day) -> Result<Vec<LogEntry>, Unavailable> {
        crate::export::entries_between(&self.db, user, from, to).await
    }

    async fn copy_day(
        &self,
        user: UserId,
        copy: DayCopy,
        now: Timestamp,
        keep: Option<Keep<Vec<LogEntry>>>,
    ) -> Result<Committed<Vec<LogEntry>>, CopyDayError> {
        let batch = copies(&self.db, user, copy, now).await?;
        if batch.is_empty() {
            return Err(CopyDayError::Nothing);
        }
        let (created, outbox) = self.insert_batch(user, batch, true, now, keep).await.map_err(|error| match error {
            CreateLogsError::DayFull { .. } => CopyDayError::DayFull,
            CreateLogsError::Unavailable(unavailable) => CopyDayError::Unavailable(unavailable),
            other => CopyDayError::Unavailable(corrupt(format!("a copy's write: {other}"))),
        })?;
        Ok(Committed::new(created, outbox.ok_or_else(|| corrupt("no outbox id came back"))?))
    }
}

/// The copies of `copy`'s entries, in day order, as they will be stored:
/// each keeps its item, amount as logged, snapshot and portion weight.
/// Read outside the write, as `resolve` reads: an edit racing the copy is
/// either side of it, and the copy is written all or nothing.
async fn copies(
    db: &impl ConnectionTrait,
    user: UserId,
    copy: DayCopy,
    now: Timestamp,
) -> Result<Vec<ToStore>, Unavailable> {
    let mut select = log_entry::Entity::find()
        .filter(log_entry::Column::UserId.eq(user.0))
        .filter(log_entry::Column::Date.eq(copy.from.date()));
    if let Some(meal) = copy.meal {
        select = select.filter(log_entry::Column::Meal.eq(meal.as_str()));
    }
    let mut copies = Vec::new();
    for model in select.all(db).await.map_err(unavailable)? {
        let unit = stored_unit(&model.amount_unit);
        let portion_grams = model.portion_grams.map(Amount::from_hundredths);
        let source = to_entry(model)?;
        let entry = LogEntry {
            id: LogEntryId(0),
            date: copy.to,
            meal: copy.meal_of_copy(source.meal),
            created_at: now,
            updated_at: now,
            ..source.clone()
        };
        copies.push(((source.meal, source.id), ToStore { entry, unit, portion_grams }));
    }
    // The day's order is the meals' order, not their names'.
    copies.sort_by_key(|(order, _)| *order);
    Ok(copies.into_iter().map(|(_, stored)| stored).collect())
}

impl SeaOrmRepository {
    /// `create_log_entries` without its outbox row: for the benchmark that
    /// measures what the outbox costs, never for serving (a crash after
    /// the commit would lose the batch's invalidation).
    #[doc(hidden)]
    pub async fn create_log_entries_without_outbox(
        &self,
        user: UserId,
        entries: &[NewLogEntry],
        now: Timestamp,
    ) -> Result<Vec<LogEntry>, CreateLogsError> {
        let batch = resolve(&self.db, user, entries, now).await?;
        Ok(self.insert_batch(user, batch, false, now, None).await?.0)
    }

    /// Writes a resolved batch, its food uses and (`with_outbox`) its outbox
    /// row, all or nothing, unless a date would pass its bound (`DayFull`):
    /// after the day's count, on PostgreSQL one statement (its CTEs commit
    /// together), on SQLite one call of three statements inside the
    /// writer's transaction. Answers the entries with their ids, and the
    /// outbox row's id.
    ///
    /// A kept batch (`keep`) stores its answer in the same transaction, and
    /// the answer names the entries' ids, so it is written after the
    /// batch's statement: in a transaction of its own, also on SQLite,
    /// where the writes' thread runs one statement per write.
    async fn insert_batch(
        &self,
        user: UserId,
        batch: Vec<ToStore>,
        with_outbox: bool,
        now: Timestamp,
        keep: Option<Keep<Vec<LogEntry>>>,
    ) -> Result<(Vec<LogEntry>, Option<OutboxId>), CreateLogsError> {
        let backend = self.writer.get_database_backend();
        let mut adding = bounds::Adding::new();
        for stored in &batch {
            *adding.entry(stored.entry.date).or_default() += 1;
        }
        if backend == DbBackend::Postgres && keep.is_none() {
            // Lock, count and write in one statement, committed alone.
            let statement = batch_statement(backend, user, &batch, with_outbox, now, Some(&adding));
            let rows = self.writer.query_all_raw(statement).await.map_err(unavailable)?;
            if let Some(date) = refused_day(&rows)? {
                return Err(CreateLogsError::DayFull { date });
            }
            return created_from(backend, rows, batch, with_outbox);
        }
        let refuse_if = bounds::overfull_day(backend, user, &adding);
        let statement = batch_statement(backend, user, &batch, with_outbox, now, None);
        let Some(keep) = keep else {
            let rows = match self.write_rows(user, Some(refuse_if), statement).await? {
                Written::Rows(rows) => rows,
                Written::Refused(row) => return Err(CreateLogsError::DayFull { date: bounds::overfull_date(&row)? }),
            };
            return created_from(backend, rows, batch, with_outbox);
        };
        let txn = self.begin_write().await?;
        let written = async {
            bounds::lock_user(&txn, user).await.map_err(unavailable)?;
            if let Some(row) = txn.query_one_raw(refuse_if).await.map_err(unavailable)? {
                return Err(CreateLogsError::DayFull { date: bounds::overfull_date(&row)? });
            }
            let rows = txn.query_all_raw(statement).await.map_err(unavailable)?;
            let (created, outbox) = created_from(backend, rows, batch, with_outbox)?;
            keep_in(&txn, keep, &created).await?;
            Ok((created, outbox))
        }
        .await;
        finish(txn, written).await
    }
}

/// The day a guarded statement (`batch_statement` with a guard) refused:
/// its one row then names it in its third column.
fn refused_day(rows: &[sea_orm::QueryResult]) -> Result<Option<Day>, CreateLogsError> {
    let refused = rows.iter().find_map(|row| row.try_get_by_index::<Option<chrono::NaiveDate>>(2).ok().flatten());
    Ok(refused.map(|date| crate::to_day(date, "a day over its bound")).transpose()?)
}

/// The entries of `batch` with the ids its statement answered, and its
/// outbox row's id.
fn created_from(
    backend: DbBackend,
    rows: Vec<sea_orm::QueryResult>,
    batch: Vec<ToStore>,
    with_outbox: bool,
) -> Result<(Vec<LogEntry>, Option<OutboxId>), CreateLogsError> {
    {
        let first = |row: &sea_orm::QueryResult| row.try_get_by_index::<i64>(0).map_err(unavailable);
        let mut ids: Vec<i64> = rows.iter().map(first).collect::<Result<_, _>>()?;
        let outbox = match (with_outbox, backend) {
            (false, _) => None,
            // Every row carries the outbox id beside the entry's.
            (true, DbBackend::Postgres) => {
                rows.first().map(|row| row.try_get_by_index::<i64>(1)).transpose().map_err(unavailable)?
            }
            // The outbox's RETURNING comes last, as a row of its own.
            (true, _) => ids.pop(),
        };
        if ids.len() != batch.len() {
            return Err(corrupt(format!("{} ids came back for {} entries", ids.len(), batch.len())).into());
        }
        // Ids grow with the order of VALUES.
        ids.sort_unstable();
        let created =
            batch.into_iter().zip(ids).map(|(stored, id)| LogEntry { id: LogEntryId(id), ..stored.entry }).collect();
        Ok((created, outbox.map(OutboxId)))
    }
}

/// An entry as it will be stored: its answer, and what only its row keeps.
struct ToStore {
    entry: LogEntry,
    unit: &'static str,
    portion_grams: Option<Amount>,
}

/// The batch as it will be stored: every item resolved (global foods and
/// the user's own, the user's recipes) in one query per kind on the read
/// pool, before anything is written, so nothing is written for a batch that
/// names an unknown item (or an amount its item cannot be measured in) and
/// the first such index is reported. Outside the
/// write: a food or recipe goes away only with its user (the foreign keys
/// then fail the write), and an edit racing the write is either side of it.
async fn resolve(
    db: &impl ConnectionTrait,
    user: UserId,
    entries: &[NewLogEntry],
    now: Timestamp,
) -> Result<Vec<ToStore>, CreateLogsError> {
    let food_ids: BTreeSet<i64> = entries.iter().filter_map(|e| e.item.food()).map(|id| id.0).collect();
    let recipe_ids: BTreeSet<i64> = entries.iter().filter_map(|e| e.item.recipe()).map(|id| id.0).collect();
    let mut foods = if food_ids.is_empty() {
        HashMap::new()
    } else {
        visible_foods(db, user, food_ids).await.map_err(unavailable)?
    };
    // Portions only of the foods logged by portion: one more query, only then.
    let by_portion: BTreeSet<i64> = entries
        .iter()
        .filter(|e| matches!(e.amount, LogAmount::Portion { .. }))
        .filter_map(|e| e.item.food())
        .map(|id| id.0)
        .collect();
    if !by_portion.is_empty() {
        let logged = foods.values_mut().filter(|food| by_portion.contains(&food.id.0));
        portions::fill(db, logged).await.map_err(unavailable)?;
    }
    let recipes: HashMap<i64, (String, Macros)> = if recipe_ids.is_empty() {
        HashMap::new()
    } else {
        recipe::Entity::find()
            .filter(recipe::Column::Id.is_in(recipe_ids))
            .filter(recipe::Column::OwnerUserId.eq(user.0))
            .all(db)
            .await
            .map_err(unavailable)?
            .into_iter()
            .map(|r| (r.id, (r.name, macros(r.calories, r.protein_g, r.carbs_g, r.fat_g))))
            .collect()
    };
    entries
        .iter()
        .enumerate()
        .map(|(index, entry)| {
            let (name, measure) = match &entry.item {
                LogItem::Food(id) => {
                    let food = foods.get(&id.0).ok_or(CreateLogsError::UnknownFood { index })?;
                    let (per_serving, grams_per_serving) = (food.per_serving, food.grams_per_serving);
                    (&food.name, Measure { per_serving, grams_per_serving, portions: &food.portions })
                }
                LogItem::Recipe(id) => {
                    let (name, per_serving) = recipes.get(&id.0).ok_or(CreateLogsError::UnknownRecipe { index })?;
                    (name, Measure { per_serving: *per_serving, grams_per_serving: None, portions: &[] })
                }
                // One serving of the macros given.
                LogItem::Quick(quick) => {
                    (&quick.name, Measure { per_serving: quick.macros, grams_per_serving: None, portions: &[] })
                }
            };
            let measured = entry.amount.measure(measure).map_err(|error| CreateLogsError::Amount { index, error })?;
            let (portion, portion_grams) = measured.portion.unzip();
            let logged = LogEntry {
                id: LogEntryId(0),
                date: entry.date,
                meal: entry.meal,
                food_id: entry.item.food(),
                recipe_id: entry.item.recipe(),
                name: name.clone(),
                servings: measured.servings,
                grams: measured.grams,
                portion,
                macros: measured.macros,
                created_at: now,
                updated_at: now,
            };
            let unit = if matches!(entry.item, LogItem::Quick(_)) { QUICK_UNIT } else { unit_of(entry.amount) };
            Ok(ToStore { entry: logged, unit, portion_grams })
        })
        .collect()
}

/// The write of a resolved batch: its entries, `uses += count` per food
/// (in id order, so concurrent batches lock rows in one order and cannot
/// deadlock), and its outbox row. PostgreSQL: one statement whose CTEs all
/// run (and commit) together; with `guard` (the days it adds to), the
/// statement first takes the user's lock and counts them
/// (`bounds::overfull_guard`), writes nothing when one would pass its
/// bound, and answers that day in a row of its own (third column).
/// SQLite: three statements for one call.
fn batch_statement(
    backend: DbBackend,
    user: UserId,
    batch: &[ToStore],
    with_outbox: bool,
    now: Timestamp,
    guard: Option<&bounds::Adding>,
) -> Statement {
    let postgres = backend == DbBackend::Postgres;
    let mut parameters = Parameters::new(backend);
    let guard = guard.filter(|_| postgres).map(|adding| bounds::overfull_guard(&mut parameters, user, adding));
    // Under a guard each insert selects its rows only when no day is over.
    let rows_of = |values: String, alias: &str| match guard {
        Some(_) => format!("SELECT * FROM (VALUES {values}) AS {alias} WHERE (SELECT over FROM guard) IS NULL"),
        None => format!("VALUES {values}"),
    };
    let rows: Vec<String> = batch
        .iter()
        .map(|ToStore { entry, unit, portion_grams }| {
            let portion = entry.portion.as_ref();
            parameters.row([
                user.0.into(),
                entry.date.date().into(),
                entry.meal.as_str().into(),
                entry.food_id.map(|id| id.0).into(),
                entry.recipe_id.map(|id| id.0).into(),
                entry.name.clone().into(),
                entry.servings.hundredths().into(),
                entry.macros.calories.hundredths().into(),
                entry.macros.protein_g.hundredths().into(),
                entry.macros.carbs_g.hundredths().into(),
                entry.macros.fat_g.hundredths().into(),
                now.instant().into(),
                now.instant().into(),
                (*unit).into(),
                entry.grams.map(Amount::hundredths).into(),
                portion.map(|portion| portion.id.0).into(),
                portion.map(|portion| portion.name.clone()).into(),
                portion_grams.map(Amount::hundredths).into(),
                portion.map(|portion| portion.quantity.hundredths()).into(),
            ])
        })
        .collect();
    let entries = format!(
        "INSERT INTO log_entries (user_id, date, meal, food_id, recipe_id, name, servings, calories, protein_g, \
         carbs_g, fat_g, created_at, updated_at, amount_unit, grams, portion_id, portion_name, portion_grams, \
         quantity) {} RETURNING id",
        rows_of(rows.join(", "), "batch")
    );
    let mut counts: BTreeMap<i64, i64> = BTreeMap::new();
    for food in batch.iter().filter_map(|stored| stored.entry.food_id) {
        *counts.entry(food.0).or_default() += 1;
    }
    let uses = (!counts.is_empty()).then(|| {
        let rows: Vec<String> = counts
            .into_iter()
            .map(|(food, count)| parameters.row([user.0.into(), food.into(), count.into()]))
            .collect();
        format!(
            "INSERT INTO food_uses (user_id, food_id, uses) {} \
             ON CONFLICT (user_id, food_id) DO UPDATE SET uses = food_uses.uses + excluded.uses",
            rows_of(rows.join(", "), "counted")
        )
    });
    let outbox = with_outbox.then(|| {
        let row = parameters.row([user.0.into(), Timestamp::new(Utc::now()).instant().into()]);
        format!("INSERT INTO cache_outbox (user_id, created_at) {} RETURNING id", rows_of(row, "row"))
    });
    let sql = if postgres {
        let guarded = guard.is_some();
        let mut with: Vec<String> = guard.into_iter().collect();
        with.push(format!("entries AS ({entries})"));
        with.extend(uses.map(|uses| format!("uses AS ({uses})")));
        with.extend(outbox.map(|outbox| format!("outbox AS ({outbox})")));
        let outbox_column = match (with_outbox, guarded) {
            (true, _) => ", (SELECT id FROM outbox) AS outbox",
            (false, true) => ", NULL::bigint AS outbox",
            (false, false) => "",
        };
        let answer = if guarded {
            format!(
                "SELECT entries.id AS entry{outbox_column}, NULL::date AS over FROM entries \
                 UNION ALL SELECT NULL, NULL, over FROM guard WHERE over IS NOT NULL"
            )
        } else {
            format!("SELECT entries.id AS entry{outbox_column} FROM entries ORDER BY entries.id")
        };
        format!("WITH {} {answer}", with.join(", "))
    } else {
        [Some(entries), uses, outbox].into_iter().flatten().collect::<Vec<_>>().join("; ")
    };
    Statement::from_sql_and_values(backend, sql, parameters.values)
}
