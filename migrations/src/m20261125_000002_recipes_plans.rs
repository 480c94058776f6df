//! Recipes, meal plans and their schedules; a case-folded food name for
//! search; the foreign key from log entries to recipes (promised by the
//! first migration) and the log entry indexes the new reads need.
//!
//! Identifiers are spelled out here rather than shared with the first
//! migration: a migration describes the schema as it was when it ran.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

mod log_entries;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Foods {
    Table,
    Id,
    Name,
    NameFolded,
}

#[derive(DeriveIden, Clone, Copy)]
enum Recipes {
    Table,
    Id,
    OwnerUserId,
    Name,
    Servings,
    Calories,
    ProteinG,
    CarbsG,
    FatG,
}

#[derive(DeriveIden, Clone, Copy)]
enum RecipeIngredients {
    Table,
    RecipeId,
    Position,
    FoodId,
    Servings,
}

#[derive(DeriveIden, Clone, Copy)]
enum MealPlans {
    Table,
    Id,
    OwnerUserId,
    Name,
    Days,
}

#[derive(DeriveIden, Clone, Copy)]
enum MealPlanItems {
    Table,
    MealPlanId,
    Position,
    Day,
    Meal,
    RecipeId,
    Servings,
}

#[derive(DeriveIden, Clone, Copy)]
enum ScheduledPlans {
    Table,
    Id,
    UserId,
    MealPlanId,
    Name,
    StartDate,
    EndDate,
}

#[derive(DeriveIden, Clone, Copy)]
enum ScheduledMeals {
    Table,
    Id,
    ScheduledPlanId,
    UserId,
    Date,
    Meal,
    RecipeId,
    Servings,
}

fn id(column: impl IntoIden) -> ColumnDef {
    ColumnDef::new(column).big_integer().not_null().auto_increment().primary_key().to_owned()
}

fn big(column: impl IntoIden) -> ColumnDef {
    ColumnDef::new(column).big_integer().not_null().to_owned()
}

fn int(column: impl IntoIden) -> ColumnDef {
    ColumnDef::new(column).integer().not_null().to_owned()
}

fn text(column: impl IntoIden) -> ColumnDef {
    ColumnDef::new(column).string().not_null().to_owned()
}

fn date(column: impl IntoIden) -> ColumnDef {
    ColumnDef::new(column).date().not_null().to_owned()
}

/// A foreign key; `cascade` deletes the child with its parent. Without it
/// the key is checked after the statement (SQLite) or at commit
/// (PostgreSQL, see `set_deferred`), so a user's deletion may remove both
/// sides at once.
fn fk(
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
    cascade: bool,
) -> ForeignKeyCreateStatement {
    let mut key = ForeignKey::create().from(from.0, from.1).to(to.0, to.1).to_owned();
    if cascade {
        key.on_delete(ForeignKeyAction::Cascade);
    }
    key
}

fn index<I: IntoIden + Copy>(name: &str, table: impl IntoIden, columns: &[I]) -> IndexCreateStatement {
    let mut statement = Index::create().name(name).table(table).to_owned();
    for column in columns {
        statement.col(*column);
    }
    statement
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_folded_food_names(manager).await?;

        let recipes = Table::create()
            .table(Recipes::Table)
            .col(id(Recipes::Id))
            .col(big(Recipes::OwnerUserId))
            .col(text(Recipes::Name))
            .col(big(Recipes::Servings))
            // Per serving, fixed when the recipe is created.
            .col(big(Recipes::Calories))
            .col(big(Recipes::ProteinG))
            .col(big(Recipes::CarbsG))
            .col(big(Recipes::FatG))
            .foreign_key(&mut fk((Recipes::Table, Recipes::OwnerUserId), (Users::Table, Users::Id), true))
            .to_owned();
        manager.create_table(recipes).await?;
        manager.create_index(index("recipes_owner_user_id", Recipes::Table, &[Recipes::OwnerUserId])).await?;

        let ingredients = Table::create()
            .table(RecipeIngredients::Table)
            .col(big(RecipeIngredients::RecipeId))
            .col(int(RecipeIngredients::Position))
            .col(big(RecipeIngredients::FoodId))
            .col(big(RecipeIngredients::Servings))
            .primary_key(Index::create().col(RecipeIngredients::RecipeId).col(RecipeIngredients::Position))
            .foreign_key(&mut fk(
                (RecipeIngredients::Table, RecipeIngredients::RecipeId),
                (Recipes::Table, Recipes::Id),
                true,
            ))
            .foreign_key(
                fk((RecipeIngredients::Table, RecipeIngredients::FoodId), (Foods::Table, Foods::Id), false)
                    .name("recipe_ingredients_food_id_fkey"),
            )
            .to_owned();
        manager.create_table(ingredients).await?;
        // Deleting a food checks this key.
        let by_food = index("recipe_ingredients_food_id", RecipeIngredients::Table, &[RecipeIngredients::FoodId]);
        manager.create_index(by_food).await?;

        let plans = Table::create()
            .table(MealPlans::Table)
            .col(id(MealPlans::Id))
            .col(big(MealPlans::OwnerUserId))
            .col(text(MealPlans::Name))
            .col(int(MealPlans::Days))
            .foreign_key(&mut fk((MealPlans::Table, MealPlans::OwnerUserId), (Users::Table, Users::Id), true))
            .to_owned();
        manager.create_table(plans).await?;
        manager.create_index(index("meal_plans_owner_user_id", MealPlans::Table, &[MealPlans::OwnerUserId])).await?;

        let items = Table::create()
            .table(MealPlanItems::Table)
            .col(big(MealPlanItems::MealPlanId))
            .col(int(MealPlanItems::Position))
            .col(int(MealPlanItems::Day))
            .col(text(MealPlanItems::Meal))
            .col(big(MealPlanItems::RecipeId))
            .col(big(MealPlanItems::Servings))
            .primary_key(Index::create().col(MealPlanItems::MealPlanId).col(MealPlanItems::Position))
            .foreign_key(&mut fk(
                (MealPlanItems::Table, MealPlanItems::MealPlanId),
                (MealPlans::Table, MealPlans::Id),
                true,
            ))
            .foreign_key(
                fk((MealPlanItems::Table, MealPlanItems::RecipeId), (Recipes::Table, Recipes::Id), false)
                    .name("meal_plan_items_recipe_id_fkey"),
            )
            .to_owned();
        manager.create_table(items).await?;
        manager
            .create_index(index("meal_plan_items_recipe_id", MealPlanItems::Table, &[MealPlanItems::RecipeId]))
            .await?;

        let scheduled = Table::create()
            .table(ScheduledPlans::Table)
            .col(id(ScheduledPlans::Id))
            .col(big(ScheduledPlans::UserId))
            .col(big(ScheduledPlans::MealPlanId))
            .col(text(ScheduledPlans::Name))
            .col(date(ScheduledPlans::StartDate))
            .col(date(ScheduledPlans::EndDate))
            .foreign_key(&mut fk((ScheduledPlans::Table, ScheduledPlans::UserId), (Users::Table, Users::Id), true))
            .foreign_key(&mut fk(
                (ScheduledPlans::Table, ScheduledPlans::MealPlanId),
                (MealPlans::Table, MealPlans::Id),
                true,
            ))
            .to_owned();
        manager.create_table(scheduled).await?;
        // The overlap check and the plan covering a date.
        let by_range = index(
            "scheduled_plans_user_id_start_date_end_date",
            ScheduledPlans::Table,
            &[ScheduledPlans::UserId, ScheduledPlans::StartDate, ScheduledPlans::EndDate],
        );
        manager.create_index(by_range).await?;
        let by_plan = index("scheduled_plans_meal_plan_id", ScheduledPlans::Table, &[ScheduledPlans::MealPlanId]);
        manager.create_index(by_plan).await?;

        let meals = Table::create()
            .table(ScheduledMeals::Table)
            .col(id(ScheduledMeals::Id))
            .col(big(ScheduledMeals::ScheduledPlanId))
            .col(big(ScheduledMeals::UserId))
            .col(date(ScheduledMeals::Date))
            .col(text(ScheduledMeals::Meal))
            .col(big(ScheduledMeals::RecipeId))
            .col(big(ScheduledMeals::Servings))
            .foreign_key(&mut fk(
                (ScheduledMeals::Table, ScheduledMeals::ScheduledPlanId),
                (ScheduledPlans::Table, ScheduledPlans::Id),
                true,
            ))
            .foreign_key(&mut fk((ScheduledMeals::Table, ScheduledMeals::UserId), (Users::Table, Users::Id), true))
            .foreign_key(
                fk((ScheduledMeals::Table, ScheduledMeals::RecipeId), (Recipes::Table, Recipes::Id), false)
                    .name("scheduled_meals_recipe_id_fkey"),
            )
            .to_owned();
        manager.create_table(meals).await?;
        let by_day = index(
            "scheduled_meals_user_id_date",
            ScheduledMeals::Table,
            &[ScheduledMeals::UserId, ScheduledMeals::Date],
        );
        manager.create_index(by_day).await?;
        let by_plan_day = index(
            "scheduled_meals_scheduled_plan_id_date",
            ScheduledMeals::Table,
            &[ScheduledMeals::ScheduledPlanId, ScheduledMeals::Date],
        );
        manager.create_index(by_plan_day).await?;
        let by_recipe = index("scheduled_meals_recipe_id", ScheduledMeals::Table, &[ScheduledMeals::RecipeId]);
        manager.create_index(by_recipe).await?;

        log_entries::up(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        log_entries::down(manager).await?;
        for table in [
            ScheduledMeals::Table.into_iden(),
            ScheduledPlans::Table.into_iden(),
            MealPlanItems::Table.into_iden(),
            MealPlans::Table.into_iden(),
            RecipeIngredients::Table.into_iden(),
            Recipes::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        manager.alter_table(Table::alter().table(Foods::Table).drop_column(Foods::NameFolded).to_owned()).await
    }

    /// SQLite too runs this in one transaction, so a failed rebuild leaves
    /// the old log_entries in place.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}

/// `foods.name_folded`: the name lowercased by Rust (Unicode-aware), so
/// search is case-insensitive beyond ASCII on both backends alike (SQLite's
/// LOWER folds ASCII only; PostgreSQL's depends on the server's locale).
/// Nullable: search falls back to LOWER(name) for a row written without it.
async fn add_folded_food_names(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let column = ColumnDef::new(Foods::NameFolded).string().null().to_owned();
    manager.alter_table(Table::alter().table(Foods::Table).add_column(column).to_owned()).await?;
    let db = manager.get_connection();
    let rows = db.query_all(&Query::select().columns([Foods::Id, Foods::Name]).from(Foods::Table).to_owned()).await?;
    for row in rows {
        let id: i64 = row.try_get("", "id")?;
        let name: String = row.try_get("", "name")?;
        let update = Query::update()
            .table(Foods::Table)
            .value(Foods::NameFolded, name.to_lowercase())
            .and_where(Expr::col(Foods::Id).eq(id))
            .to_owned();
        manager.execute(update).await?;
    }
    Ok(())
}
