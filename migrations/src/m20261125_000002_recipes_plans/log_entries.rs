//! The second migration's changes to log_entries: a foreign key to
//! recipes, indexes for the schedule's "logged" check and for that key,
//! and (on PostgreSQL) foreign keys checked at commit.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

use super::{Foods, Recipes, Users, big, date, fk, id, index, text};

#[derive(DeriveIden, Clone, Copy)]
enum LogEntries {
    Table,
    Id,
    UserId,
    Date,
    Meal,
    FoodId,
    RecipeId,
    Name,
    Servings,
    Calories,
    ProteinG,
    CarbsG,
    FatG,
    CreatedAt,
    UpdatedAt,
}

const LOG_ENTRY_COLUMNS: [LogEntries; 14] = [
    LogEntries::Id,
    LogEntries::UserId,
    LogEntries::Date,
    LogEntries::Meal,
    LogEntries::FoodId,
    LogEntries::RecipeId,
    LogEntries::Name,
    LogEntries::Servings,
    LogEntries::Calories,
    LogEntries::ProteinG,
    LogEntries::CarbsG,
    LogEntries::FatG,
    LogEntries::CreatedAt,
    LogEntries::UpdatedAt,
];

/// The table SQLite builds the new log_entries in before renaming it.
const REBUILT: &str = "log_entries_rebuilt";
const RECIPE_FK: &str = "log_entries_recipe_id_fkey";

/// (user_id, date) widens to (user_id, date, meal, recipe_id) for the
/// schedule's "logged" check, still serving day logs and summaries by its
/// prefix.
pub(super) async fn up(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    if manager.get_database_backend() == DbBackend::Sqlite {
        // SQLite cannot add a foreign key to a table: rebuild it.
        rebuild_log_entries_on_sqlite(manager, true).await?;
    } else {
        let key = fk((LogEntries::Table, LogEntries::RecipeId), (Recipes::Table, Recipes::Id), false)
            .name(RECIPE_FK)
            .to_owned();
        manager.create_foreign_key(key).await?;
        manager.drop_index(Index::drop().name("log_entries_user_id_date").table(LogEntries::Table).to_owned()).await?;
        set_deferred(manager, DEFERRED_KEYS, true).await?;
    }
    create_log_entry_indexes(manager, true).await
}

pub(super) async fn down(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    // Entries of recipes cannot outlive the recipes (they have no food).
    let recipe_entries = Query::delete()
        .from_table(LogEntries::Table)
        .and_where(Expr::col(LogEntries::RecipeId).is_not_null())
        .to_owned();
    manager.execute(recipe_entries).await?;
    if manager.get_database_backend() == DbBackend::Sqlite {
        rebuild_log_entries_on_sqlite(manager, false).await?;
    } else {
        set_deferred(manager, &DEFERRED_KEYS[..1], false).await?;
        let key = ForeignKey::drop().name(RECIPE_FK).table(LogEntries::Table).to_owned();
        manager.drop_foreign_key(key).await?;
        for name in ["log_entries_user_id_date_meal_recipe_id", "log_entries_recipe_id"] {
            manager.drop_index(Index::drop().name(name).table(LogEntries::Table).to_owned()).await?;
        }
    }
    create_log_entry_indexes(manager, false).await
}

/// The foreign keys without a cascade between a user's own rows, on
/// PostgreSQL: (table, constraint). The first is the first migration's, under
/// the name PostgreSQL gives an unnamed key (`<table>_<column>_fkey`).
const DEFERRED_KEYS: &[(&str, &str)] = &[
    ("log_entries", "log_entries_food_id_fkey"),
    ("log_entries", RECIPE_FK),
    ("recipe_ingredients", "recipe_ingredients_food_id_fkey"),
    ("meal_plan_items", "meal_plan_items_recipe_id_fkey"),
    ("scheduled_meals", "scheduled_meals_recipe_id_fkey"),
];

/// Deleting a user cascades level by level, and PostgreSQL may check a
/// key like recipe_ingredients -> foods after the user's foods are gone but
/// before the cascade from recipes reached the ingredients, failing the
/// deletion. Checked at commit, both sides are gone by then. (SQLite checks
/// at the end of the statement, whatever the order.)
async fn set_deferred(manager: &SchemaManager<'_>, keys: &[(&str, &str)], deferred: bool) -> Result<(), DbErr> {
    let mode = if deferred { "DEFERRABLE INITIALLY DEFERRED" } else { "NOT DEFERRABLE" };
    for (table, constraint) in keys {
        let sql = format!("ALTER TABLE {table} ALTER CONSTRAINT {constraint} {mode}");
        manager.get_connection().execute_unprepared(&sql).await?;
    }
    Ok(())
}

/// The log entry indexes after this migration (`up`) or before it.
async fn create_log_entry_indexes(manager: &SchemaManager<'_>, up: bool) -> Result<(), DbErr> {
    let sqlite = manager.get_database_backend() == DbBackend::Sqlite;
    if sqlite {
        // The rebuilt table has none of the old ones.
        manager.create_index(index("log_entries_food_id", LogEntries::Table, &[LogEntries::FoodId])).await?;
    }
    if up {
        let logged = [LogEntries::UserId, LogEntries::Date, LogEntries::Meal, LogEntries::RecipeId];
        manager.create_index(index("log_entries_user_id_date_meal_recipe_id", LogEntries::Table, &logged)).await?;
        // Deleting a recipe (with its user) checks this key.
        manager.create_index(index("log_entries_recipe_id", LogEntries::Table, &[LogEntries::RecipeId])).await?;
    } else {
        let by_day = [LogEntries::UserId, LogEntries::Date];
        manager.create_index(index("log_entries_user_id_date", LogEntries::Table, &by_day)).await?;
    }
    Ok(())
}

/// Rebuilds log_entries as SQLite documents for schema changes ALTER TABLE
/// cannot make: a new table, the rows copied, the old one dropped, the new
/// one renamed. The AUTOINCREMENT counter is carried over, so ids of
/// deleted entries are still never handed out again.
async fn rebuild_log_entries_on_sqlite(manager: &SchemaManager<'_>, with_recipe_key: bool) -> Result<(), DbErr> {
    let rebuilt = Alias::new(REBUILT);
    let mut table = Table::create()
        .table(rebuilt.clone())
        .col(id(LogEntries::Id))
        .col(big(LogEntries::UserId))
        .col(date(LogEntries::Date))
        .col(text(LogEntries::Meal))
        .col(ColumnDef::new(LogEntries::FoodId).big_integer().null())
        .col(ColumnDef::new(LogEntries::RecipeId).big_integer().null())
        .col(text(LogEntries::Name))
        .col(big(LogEntries::Servings))
        .col(big(LogEntries::Calories))
        .col(big(LogEntries::ProteinG))
        .col(big(LogEntries::CarbsG))
        .col(big(LogEntries::FatG))
        .col(ColumnDef::new(LogEntries::CreatedAt).timestamp_with_time_zone().not_null())
        .col(ColumnDef::new(LogEntries::UpdatedAt).timestamp_with_time_zone().not_null())
        .foreign_key(&mut fk((rebuilt.clone(), LogEntries::UserId), (Users::Table, Users::Id), true))
        .foreign_key(&mut fk((rebuilt.clone(), LogEntries::FoodId), (Foods::Table, Foods::Id), false))
        .to_owned();
    if with_recipe_key {
        table.foreign_key(&mut fk((rebuilt.clone(), LogEntries::RecipeId), (Recipes::Table, Recipes::Id), false));
    }
    manager.create_table(table).await?;

    let copy = Query::insert()
        .into_table(rebuilt.clone())
        .columns(LOG_ENTRY_COLUMNS)
        .select_from(Query::select().columns(LOG_ENTRY_COLUMNS).from(LogEntries::Table).to_owned())
        .map_err(|error| DbErr::Migration(error.to_string()))?
        .to_owned();
    manager.execute(copy).await?;
    let db = manager.get_connection();
    db.execute_unprepared(&format!("DELETE FROM sqlite_sequence WHERE name = '{REBUILT}'")).await?;
    db.execute_unprepared(&format!(
        "INSERT INTO sqlite_sequence (name, seq) SELECT '{REBUILT}', seq FROM sqlite_sequence WHERE name = 'log_entries'"
    ))
    .await?;
    manager.drop_table(Table::drop().table(LogEntries::Table).to_owned()).await?;
    // Renaming carries the sqlite_sequence row along.
    manager.rename_table(Table::rename().table(rebuilt, LogEntries::Table).to_owned()).await
}
