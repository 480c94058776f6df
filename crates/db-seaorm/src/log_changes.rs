//! Reading, editing and deleting single log entries, and daily summaries:
//! the parts of `LogRepository` beyond logging a batch.

use chrono::NaiveDate;
use macrotrack_domain::{
    Amount, AmountChange, AmountError, Day, LogAmount, LogEntry, LogEntryId, LogEntryPatch, LogItem, Measure, Portion,
    PortionId, SummaryDay, Timestamp, UserId,
};
use macrotrack_ports::{Unavailable, UpdateLogError};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, ExprTrait, Func, LockType};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
};

use crate::entities::{food_use, log_entry};
use crate::foods::visible_food;
use crate::log_rows::{QUICK_UNIT, logged_amount, to_entry, unit_of};
use crate::recipes::own_recipe;
use crate::{bounds, corrupt, macros, portions, to_day, unavailable};

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
    match (before.is_quick(), patch.amount_field()) {
        (true, Some(field)) => return Err(UpdateLogError::QuickAmount(field)),
        (false, _) if patch.quick.is_some() => return Err(UpdateLogError::NotQuick),
        _ => {}
    }
    if let Some(date) = patch.date.filter(|date| *date != before.date) {
        let check = bounds::overfull_day(db.get_database_backend(), user, &bounds::Adding::from([(date, 1)]));
        if db.query_one_raw(check).await.map_err(unavailable)?.is_some() {
            return Err(UpdateLogError::DayFull { date });
        }
    }
    // The snapshot (name, amount and macros) follows the item as it is
    // now: a food may have been edited since.
    let item = match before.item() {
        Some(LogItem::Food(food)) => match visible_food(db, user, food).await.map_err(unavailable)? {
            Some(mut food) => {
                portions::fill(db, [&mut food]).await.map_err(unavailable)?;
                Some((food.name, food.per_serving, food.grams_per_serving, food.portions))
            }
            None => None,
        },
        Some(LogItem::Recipe(recipe)) => own_recipe(db, user, recipe).await.map_err(unavailable)?.map(|recipe| {
            let per_serving = macros(recipe.calories, recipe.protein_g, recipe.carbs_g, recipe.fat_g);
            (recipe.name, per_serving, None, Vec::new())
        }),
        // Its own macros (one serving), or the patch's; a name only if given.
        Some(LogItem::Quick(quick)) => Some(match &patch.quick {
            Some(change) => (change.name.clone().unwrap_or(quick.name), change.macros, None, Vec::new()),
            None => (quick.name, quick.macros, None, Vec::new()),
        }),
        None => None,
    };
    let (name, per_serving, grams_per_serving, mut portions) =
        item.ok_or_else(|| corrupt(format!("log entry {id}: its food or recipe is gone")))?;
    let kept = logged_amount(&model);
    let amount = match patch.amount {
        Some(AmountChange::To(amount)) => amount,
        Some(AmountChange::Quantity(quantity)) => match kept {
            LogAmount::Portion { id, .. } => LogAmount::Portion { id, quantity },
            _ => return Err(UpdateLogError::Amount(AmountError::NotByPortion)),
        },
        None => kept,
    };
    // The entry's own portion, which an import may have replaced since,
    // still measures it as it was logged (a portion named anew must be
    // one of the food's now).
    if !matches!(patch.amount, Some(AmountChange::To(_)))
        && let (Some(portion), Some(name), Some(grams)) = (model.portion_id, &model.portion_name, model.portion_grams)
        && !portions.iter().any(|known| known.id.0 == portion)
    {
        portions.push(Portion { id: PortionId(portion), name: name.clone(), grams: Amount::from_hundredths(grams) });
    }
    let measure = Measure { per_serving, grams_per_serving, portions: &portions };
    let (amount, measured) = match amount.measure(measure) {
        Ok(measured) => (amount, measured),
        // Kept grams or a kept portion of a food whose serving is no
        // longer in grams (its owner edited it): the servings stay.
        Err(_) if patch.amount.is_none() => {
            let servings = LogAmount::Servings(before.servings);
            (servings, servings.measure(measure).map_err(UpdateLogError::Amount)?)
        }
        Err(error) => return Err(UpdateLogError::Amount(error)),
    };
    let (portion, portion_grams) = measured.portion.unzip();
    let after = LogEntry {
        name,
        date: patch.date.unwrap_or(before.date),
        meal: patch.meal.unwrap_or(before.meal),
        servings: measured.servings,
        grams: measured.grams,
        portion,
        macros: measured.macros,
        updated_at: now,
        ..before.clone()
    };

    let mut row = model.into_active_model();
    row.date = Set(after.date.date());
    row.meal = Set(after.meal.as_str().to_owned());
    row.name = Set(after.name.clone());
    row.servings = Set(after.servings.hundredths());
    row.amount_unit = Set(if before.is_quick() { QUICK_UNIT } else { unit_of(amount) }.to_owned());
    row.grams = Set(after.grams.map(Amount::hundredths));
    row.portion_id = Set(after.portion.as_ref().map(|portion| portion.id.0));
    row.portion_name = Set(after.portion.as_ref().map(|portion| portion.name.clone()));
    row.portion_grams = Set(portion_grams.map(Amount::hundredths));
    row.quantity = Set(after.portion.as_ref().map(|portion| portion.quantity.hundredths()));
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
