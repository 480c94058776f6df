//! Reading, editing and deleting single log entries, and daily summaries:
//! the parts of `LogRepository` beyond logging a batch.

use chrono::NaiveDate;
use macrotrack_domain::{Day, LogEntry, LogEntryId, LogEntryPatch, LogItem, SummaryDay, Timestamp, UserId};
use macrotrack_ports::{Unavailable, UpdateLogError};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, ExprTrait, Func, LockType};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
};

use crate::entities::{food_use, log_entry};
use crate::foods::visible_food;
use crate::log_rows::to_entry;
use crate::recipes::own_recipe;
use crate::{bounds, corrupt, macros, to_day, unavailable};

pub(crate) async fn log_entry(
    db: &impl ConnectionTrait,
    user: UserId,
    id: LogEntryId,
) -> Result<Option<LogEntry>, Unavailable> {
    let found = own_entry(db, user, id, false).await?;
    found.map(to_entry).transpose()
}

/// The user's entry; `lock` takes its row for the rest of the transaction
/// on PostgreSQL, so concurrent edits of one entry apply one after the
/// other (SQLite's write transaction already holds the whole database).
async fn own_entry(
    db: &impl ConnectionTrait,
    user: UserId,
    id: LogEntryId,
    lock: bool,
) -> Result<Option<log_entry::Model>, Unavailable> {
    let mut select = log_entry::Entity::find_by_id(id.0).filter(log_entry::Column::UserId.eq(user.0));
    if lock {
        select = select.lock(LockType::NoKeyUpdate);
    }
    select.one(db).await.map_err(unavailable)
}

pub(crate) async fn update(
    db: &impl ConnectionTrait,
    user: UserId,
    id: LogEntryId,
    patch: LogEntryPatch,
    now: Timestamp,
) -> Result<Option<(LogEntry, LogEntry)>, UpdateLogError> {
    // The user's lock before the entry's: every bounded write takes them in
    // this order, so two cannot wait for each other.
    if patch.date.is_some() {
        bounds::lock_user(db, user).await.map_err(unavailable)?;
    }
    let Some(model) = own_entry(db, user, id, true).await? else { return Ok(None) };
    let before = to_entry(model.clone())?;
    if let Some(date) = patch.date.filter(|date| *date != before.date) {
        let check = bounds::overfull_day(db.get_database_backend(), user, &bounds::Adding::from([(date, 1)]));
        if db.query_one_raw(check).await.map_err(unavailable)?.is_some() {
            return Err(UpdateLogError::DayFull { date });
        }
    }
    // The snapshot (name and macros) follows the item as it is now: a food
    // may have been edited since.
    let item = match before.item() {
        Some(LogItem::Food(food)) => {
            visible_food(db, user, food).await.map_err(unavailable)?.map(|food| (food.name, food.per_serving))
        }
        Some(LogItem::Recipe(recipe)) => own_recipe(db, user, recipe)
            .await
            .map_err(unavailable)?
            .map(|recipe| (recipe.name, macros(recipe.calories, recipe.protein_g, recipe.carbs_g, recipe.fat_g))),
        None => None,
    };
    let (name, per_serving) = item.ok_or_else(|| corrupt(format!("log entry {id}: its food or recipe is gone")))?;
    let servings = patch.servings.unwrap_or(before.servings);
    let after = LogEntry {
        name,
        date: patch.date.unwrap_or(before.date),
        meal: patch.meal.unwrap_or(before.meal),
        servings,
        macros: per_serving.times(servings),
        updated_at: now,
        ..before.clone()
    };

    let mut row = model.into_active_model();
    row.date = Set(after.date.date());
    row.meal = Set(after.meal.as_str().to_owned());
    row.name = Set(after.name.clone());
    row.servings = Set(servings.hundredths());
    row.calories = Set(after.macros.calories.hundredths());
    row.protein_g = Set(after.macros.protein_g.hundredths());
    row.carbs_g = Set(after.macros.carbs_g.hundredths());
    row.fat_g = Set(after.macros.fat_g.hundredths());
    row.updated_at = Set(now.instant());
    row.update(db).await.map_err(unavailable)?;
    Ok(Some((before, after)))
}

pub(crate) async fn delete(
    db: &impl ConnectionTrait,
    user: UserId,
    id: LogEntryId,
) -> Result<Option<LogEntry>, Unavailable> {
    let Some(model) = own_entry(db, user, id, true).await? else { return Ok(None) };
    let entry = to_entry(model)?;
    log_entry::Entity::delete_by_id(id.0).exec(db).await.map_err(unavailable)?;
    if let Some(food) = entry.food_id {
        // One use back; a count reaching zero goes, as if never logged.
        food_use::Entity::update_many()
            .filter(food_use::Column::UserId.eq(user.0))
            .filter(food_use::Column::FoodId.eq(food.0))
            .filter(food_use::Column::Uses.gt(0))
            .col_expr(food_use::Column::Uses, Expr::col(food_use::Column::Uses).sub(1))
            .exec(db)
            .await
            .map_err(unavailable)?;
        food_use::Entity::delete_many()
            .filter(food_use::Column::UserId.eq(user.0))
            .filter(food_use::Column::FoodId.eq(food.0))
            .filter(food_use::Column::Uses.lte(0))
            .exec(db)
            .await
            .map_err(unavailable)?;
    }
    Ok(Some(entry))
}

/// Sums in the database, grouped by date: hundredths add exactly, so the
/// sums are the round2 totals. PostgreSQL's SUM of a BIGINT is NUMERIC,
/// hence the cast back (a no-op on SQLite).
pub(crate) async fn summary(
    db: &impl ConnectionTrait,
    user: UserId,
    from: Day,
    to: Day,
) -> Result<Vec<SummaryDay>, Unavailable> {
    use log_entry::Column;
    let sum = |column: Column| Func::cast_as(Func::sum(Expr::col(column)), "BIGINT");
    let rows: Vec<(NaiveDate, i64, i64, i64, i64, i64)> = log_entry::Entity::find()
        .select_only()
        .column(Column::Date)
        .expr(sum(Column::Calories))
        .expr(sum(Column::ProteinG))
        .expr(sum(Column::CarbsG))
        .expr(sum(Column::FatG))
        .expr(Func::count(Expr::col(Column::Id)))
        .filter(Column::UserId.eq(user.0))
        .filter(Column::Date.between(from.date(), to.date()))
        .group_by(Column::Date)
        .order_by_asc(Column::Date)
        .into_tuple()
        .all(db)
        .await
        .map_err(unavailable)?;
    rows.into_iter()
        .map(|(date, calories, protein_g, carbs_g, fat_g, entries)| {
            Ok(SummaryDay {
                date: to_day(date, format!("log entries of user {user}"))?,
                totals: macros(calories, protein_g, carbs_g, fat_g),
                entries: u32::try_from(entries).map_err(|_| corrupt(format!("{entries} entries on {date}")))?,
            })
        })
        .collect()
}
