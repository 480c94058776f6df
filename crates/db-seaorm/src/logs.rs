//! `LogRepository`: what users ate, with macros snapshotted at logging time.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use macrotrack_domain::{
    Amount, Day, DayLogs, FoodId, LogEntry, LogEntryId, LogEntryPatch, LogItem, NewLogEntry, RecipeId, SummaryDay,
    Timestamp, UserId,
};
use macrotrack_ports::{Committed, CreateLogsError, LogRepository, Unavailable};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder};

use crate::entities::{day_completion, food_use, log_entry};
use crate::foods::visible_food;
use crate::recipes::own_recipe;
use crate::{SeaOrmRepository, finish, log_changes, macros, outbox, to_day, to_meal, unavailable};

#[async_trait]
impl LogRepository for SeaOrmRepository {
    async fn create_log_entries(
        &self,
        user: UserId,
        entries: &[NewLogEntry],
        now: Timestamp,
    ) -> Result<Committed<Vec<LogEntry>>, CreateLogsError> {
        // All or nothing: any error rolls the whole batch back, its outbox row too.
        let txn = self.begin_write().await?;
        let created = async {
            let created = insert_batch(&txn, user, entries, now).await?;
            Ok(Committed::new(created, outbox::record(&txn, user).await?))
        }
        .await;
        finish(txn, created).await
    }

    async fn day_logs(&self, user: UserId, date: Day) -> Result<DayLogs, Unavailable> {
        let rows = log_entry::Entity::find()
            .filter(log_entry::Column::UserId.eq(user.0))
            .filter(log_entry::Column::Date.eq(date.date()))
            .order_by_asc(log_entry::Column::Id)
            .all(&self.db)
            .await
            .map_err(unavailable)?;
        let completed = day_completion::Entity::find_by_id((user.0, date.date()))
            .one(&self.db)
            .await
            .map_err(unavailable)?
            .is_some();
        let entries = rows.into_iter().map(to_entry).collect::<Result<Vec<_>, _>>()?;
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
    ) -> Result<Option<Committed<(LogEntry, LogEntry)>>, Unavailable> {
        let txn = self.begin_write().await?;
        let updated = async {
            let updated = log_changes::update(&txn, user, id, patch, now).await?;
            outbox::record_some(&txn, user, updated).await
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
        let txn = self.begin_write().await?;
        let created = insert_batch(&txn, user, entries, now).await;
        finish(txn, created).await
    }
}

async fn insert_batch(
    txn: &DatabaseTransaction,
    user: UserId,
    entries: &[NewLogEntry],
    now: Timestamp,
) -> Result<Vec<LogEntry>, CreateLogsError> {
    // Resolve every item before writing, so nothing is written for a batch
    // that names an unknown item, and the first such index is reported.
    let mut foods = HashMap::new();
    let mut recipes = HashMap::new();
    let mut snapshots = Vec::with_capacity(entries.len());
    for (index, entry) in entries.iter().enumerate() {
        let per_serving = match entry.item {
            LogItem::Food(id) => {
                let food = match foods.entry(id) {
                    Entry::Occupied(known) => known.into_mut(),
                    Entry::Vacant(slot) => {
                        let food = visible_food(txn, user, id).await.map_err(unavailable)?;
                        slot.insert(food.ok_or(CreateLogsError::UnknownFood { index })?)
                    }
                };
                (food.name.clone(), food.per_serving)
            }
            LogItem::Recipe(id) => {
                let recipe = match recipes.entry(id) {
                    Entry::Occupied(known) => known.into_mut(),
                    Entry::Vacant(slot) => {
                        let recipe = own_recipe(txn, user, id).await.map_err(unavailable)?;
                        slot.insert(recipe.ok_or(CreateLogsError::UnknownRecipe { index })?)
                    }
                };
                (recipe.name.clone(), macros(recipe.calories, recipe.protein_g, recipe.carbs_g, recipe.fat_g))
            }
        };
        snapshots.push(per_serving);
    }

    let mut created = Vec::with_capacity(entries.len());
    for (entry, (name, per_serving)) in entries.iter().zip(snapshots) {
        let macros = per_serving.times(entry.servings);
        let (food_id, recipe_id) = match entry.item {
            LogItem::Food(id) => (Some(id), None),
            LogItem::Recipe(id) => (None, Some(id)),
        };
        let row = log_entry::ActiveModel {
            id: NotSet,
            user_id: Set(user.0),
            date: Set(entry.date.date()),
            meal: Set(entry.meal.as_str().to_owned()),
            food_id: Set(food_id.map(|id| id.0)),
            recipe_id: Set(recipe_id.map(|id: RecipeId| id.0)),
            name: Set(name.clone()),
            servings: Set(entry.servings.hundredths()),
            calories: Set(macros.calories.hundredths()),
            protein_g: Set(macros.protein_g.hundredths()),
            carbs_g: Set(macros.carbs_g.hundredths()),
            fat_g: Set(macros.fat_g.hundredths()),
            created_at: Set(now.instant()),
            updated_at: Set(now.instant()),
        };
        let id = log_entry::Entity::insert(row).exec(txn).await.map_err(unavailable)?.last_insert_id;
        created.push(LogEntry {
            id: LogEntryId(id),
            date: entry.date,
            meal: entry.meal,
            food_id,
            recipe_id,
            name,
            servings: entry.servings,
            macros,
            created_at: now,
            updated_at: now,
        });
    }

    // One upsert per food, in id order so concurrent batches lock rows in
    // the same order and cannot deadlock each other.
    let mut uses: BTreeMap<FoodId, i32> = BTreeMap::new();
    for entry in entries {
        if let LogItem::Food(id) = entry.item {
            *uses.entry(id).or_default() += 1;
        }
    }
    for (food, count) in uses {
        add_uses(txn, user, food, count).await.map_err(unavailable)?;
    }
    Ok(created)
}

/// `uses += count`, creating the row at `count`.
async fn add_uses(txn: &DatabaseTransaction, user: UserId, food: FoodId, count: i32) -> Result<(), sea_orm::DbErr> {
    use food_use::Column;
    let increment = Expr::col((food_use::Entity, Column::Uses)).add(Expr::col((Alias::new("excluded"), Column::Uses)));
    let upsert = Query::insert()
        .into_table(food_use::Entity)
        .columns([Column::UserId, Column::FoodId, Column::Uses])
        .values_panic([user.0.into(), food.0.into(), count.into()])
        .on_conflict(OnConflict::columns([Column::UserId, Column::FoodId]).value(Column::Uses, increment).to_owned())
        .to_owned();
    txn.execute(&upsert).await.map(|_| ())
}

pub(crate) fn to_entry(model: log_entry::Model) -> Result<LogEntry, Unavailable> {
    let row = format!("log entry {}", model.id);
    Ok(LogEntry {
        id: LogEntryId(model.id),
        date: to_day(model.date, &row)?,
        meal: to_meal(&model.meal, &row)?,
        food_id: model.food_id.map(FoodId),
        recipe_id: model.recipe_id.map(RecipeId),
        name: model.name,
        servings: Amount::from_hundredths(model.servings),
        macros: macros(model.calories, model.protein_g, model.carbs_g, model.fat_g),
        created_at: Timestamp::new(model.created_at),
        updated_at: Timestamp::new(model.updated_at),
    })
}
