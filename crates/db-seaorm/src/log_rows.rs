//! How a log entry is read back from its row: by position from the day's
//! raw query (`logs.rs`), or from SeaORM's model (`log_changes.rs`). Both
//! name the row in an error the same way.

use macrotrack_domain::{
    Amount, FoodId, LogAmount, LogEntry, LogEntryId, LoggedPortion, PortionId, RecipeId, Timestamp,
};
use macrotrack_ports::Unavailable;
use sea_orm::QueryResult;

use crate::entities::log_entry;
use crate::{macros, to_day, to_meal, unavailable};

/// The columns `entry_by_position` reads, in its order.
pub(crate) const ENTRY_COLUMNS: &str = "log_entries.id, log_entries.date, log_entries.meal, log_entries.food_id, \
    log_entries.recipe_id, log_entries.name, log_entries.servings, log_entries.calories, log_entries.protein_g, \
    log_entries.carbs_g, log_entries.fat_g, log_entries.created_at, log_entries.updated_at, log_entries.grams, \
    log_entries.portion_id, log_entries.portion_name, log_entries.quantity";
pub(crate) const ENTRY_COLUMN_COUNT: usize = 17;

/// The log entry of a row that starts with `ENTRY_COLUMNS`, or `None` when
/// they are NULL (the day's query answers one such row for an empty day).
pub(crate) fn entry_by_position(row: &QueryResult) -> Result<Option<LogEntry>, Unavailable> {
    let Some(id) = row.try_get_by_index::<Option<i64>>(0).map_err(unavailable)? else {
        return Ok(None);
    };
    let at = EntryRow(id);
    let int = |index: usize| row.try_get_by_index::<i64>(index).map_err(unavailable);
    let nullable = |index: usize| row.try_get_by_index::<Option<i64>>(index).map_err(unavailable);
    let portion_name = row.try_get_by_index::<Option<String>>(15).map_err(unavailable)?;
    Ok(Some(LogEntry {
        id: LogEntryId(id),
        date: to_day(row.try_get_by_index(1).map_err(unavailable)?, at)?,
        meal: to_meal(&row.try_get_by_index::<String>(2).map_err(unavailable)?, at)?,
        food_id: row.try_get_by_index::<Option<i64>>(3).map_err(unavailable)?.map(FoodId),
        recipe_id: row.try_get_by_index::<Option<i64>>(4).map_err(unavailable)?.map(RecipeId),
        name: row.try_get_by_index(5).map_err(unavailable)?,
        servings: Amount::from_hundredths(int(6)?),
        grams: nullable(13)?.map(Amount::from_hundredths),
        portion: portion(nullable(14)?, portion_name, nullable(16)?),
        macros: macros(int(7)?, int(8)?, int(9)?, int(10)?),
        created_at: Timestamp::new(row.try_get_by_index(11).map_err(unavailable)?),
        updated_at: Timestamp::new(row.try_get_by_index(12).map_err(unavailable)?),
    }))
}

/// Names a log entry's row in an error, formatted only if one happens.
#[derive(Clone, Copy)]
struct EntryRow(i64);

impl std::fmt::Display for EntryRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "log entry {}", self.0)
    }
}

/// The portion an entry was logged by, from its snapshot columns.
fn portion(id: Option<i64>, name: Option<String>, quantity: Option<i64>) -> Option<LoggedPortion> {
    Some(LoggedPortion {
        id: PortionId(id?),
        name: name.unwrap_or_default(),
        quantity: Amount::from_hundredths(quantity.unwrap_or_default()),
    })
}

/// `amount_unit` of a quick add (one serving of the macros given).
pub(crate) const QUICK_UNIT: &str = "quick";

/// `amount_unit` as stored, for a copy to store it again (an unknown one
/// reads as servings, as `logged_amount` reads it).
pub(crate) fn stored_unit(unit: &str) -> &'static str {
    match unit {
        "grams" => "grams",
        "portion" => "portion",
        QUICK_UNIT => QUICK_UNIT,
        _ => "servings",
    }
}

/// How an amount is recorded in `amount_unit`.
pub(crate) fn unit_of(amount: LogAmount) -> &'static str {
    match amount {
        LogAmount::Servings(_) => "servings",
        LogAmount::Grams(_) => "grams",
        LogAmount::Portion { .. } => "portion",
    }
}

/// The amount a row was logged by, as it was given (what a PATCH that
/// names no amount keeps).
pub(crate) fn logged_amount(model: &log_entry::Model) -> LogAmount {
    let hundredths = Amount::from_hundredths;
    match (model.amount_unit.as_str(), model.grams, model.portion_id, model.quantity) {
        ("grams", Some(grams), _, _) => LogAmount::Grams(hundredths(grams)),
        ("portion", _, Some(id), Some(quantity)) => {
            LogAmount::Portion { id: PortionId(id), quantity: hundredths(quantity) }
        }
        _ => LogAmount::Servings(hundredths(model.servings)),
    }
}

pub(crate) fn to_entry(model: log_entry::Model) -> Result<LogEntry, Unavailable> {
    let row = EntryRow(model.id);
    Ok(LogEntry {
        id: LogEntryId(model.id),
        date: to_day(model.date, row)?,
        meal: to_meal(&model.meal, row)?,
        food_id: model.food_id.map(FoodId),
        recipe_id: model.recipe_id.map(RecipeId),
        name: model.name,
        servings: Amount::from_hundredths(model.servings),
        grams: model.grams.map(Amount::from_hundredths),
        portion: portion(model.portion_id, model.portion_name, model.quantity),
        macros: macros(model.calories, model.protein_g, model.carbs_g, model.fat_g),
        created_at: Timestamp::new(model.created_at),
        updated_at: Timestamp::new(model.updated_at),
    })
}
