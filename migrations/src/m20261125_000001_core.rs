//! Users, foods (with the seeded global catalogue), food use counts, log
//! entries and day completions.
//!
//! Every macro and serving number is a BIGINT of hundredths (the domain's
//! fixed-point `Amount`), so sums are exact on both backends. Ids are
//! auto-increment primary keys, which on SQLite means `INTEGER PRIMARY KEY
//! AUTOINCREMENT`: a deleted user's id is never handed out again.

use sea_orm_migration::prelude::*;

/// The global food catalogue, inserted once the foods table exists.
mod seed;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub(crate) enum Users {
    Table,
    Id,
    Name,
    TokenSelector,
    SecretHash,
    TargetCalories,
    TargetProteinG,
    TargetCarbsG,
    TargetFatG,
    CreatedAt,
}

#[derive(DeriveIden)]
pub(crate) enum Foods {
    Table,
    Id,
    OwnerUserId,
    Name,
    Brand,
    ServingSize,
    ServingUnit,
    Calories,
    ProteinG,
    CarbsG,
    FatG,
}

#[derive(DeriveIden)]
enum FoodUses {
    Table,
    UserId,
    FoodId,
    Uses,
}

#[derive(DeriveIden)]
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

#[derive(DeriveIden)]
enum DayCompletions {
    Table,
    UserId,
    Date,
}

fn id(column: impl IntoIden) -> ColumnDef {
    ColumnDef::new(column).big_integer().not_null().auto_increment().primary_key().to_owned()
}

fn amount(column: impl IntoIden) -> ColumnDef {
    ColumnDef::new(column).big_integer().not_null().to_owned()
}

fn amount_null(column: impl IntoIden) -> ColumnDef {
    ColumnDef::new(column).big_integer().null().to_owned()
}

fn text(column: impl IntoIden) -> ColumnDef {
    ColumnDef::new(column).string().not_null().to_owned()
}

/// Microseconds in UTC: TIMESTAMPTZ on PostgreSQL, RFC 3339 text on SQLite.
fn instant(column: impl IntoIden) -> ColumnDef {
    ColumnDef::new(column).timestamp_with_time_zone().not_null().to_owned()
}

pub(crate) fn cascade_to_user(from: (impl IntoIden, impl IntoIden)) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from.0, from.1)
        .to(Users::Table, Users::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(id(Users::Id))
                    .col(text(Users::Name))
                    .col(ColumnDef::new(Users::TokenSelector).string().not_null().unique_key())
                    .col(ColumnDef::new(Users::SecretHash).binary_len(32).not_null())
                    .col(amount_null(Users::TargetCalories))
                    .col(amount_null(Users::TargetProteinG))
                    .col(amount_null(Users::TargetCarbsG))
                    .col(amount_null(Users::TargetFatG))
                    .col(instant(Users::CreatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Foods::Table)
                    .col(id(Foods::Id))
                    // NULL: the global catalogue, visible to every user.
                    .col(ColumnDef::new(Foods::OwnerUserId).big_integer().null())
                    .col(text(Foods::Name))
                    .col(ColumnDef::new(Foods::Brand).string().null())
                    .col(amount(Foods::ServingSize))
                    .col(text(Foods::ServingUnit))
                    .col(amount(Foods::Calories))
                    .col(amount(Foods::ProteinG))
                    .col(amount(Foods::CarbsG))
                    .col(amount(Foods::FatG))
                    .foreign_key(&mut cascade_to_user((Foods::Table, Foods::OwnerUserId)))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("foods_owner_user_id").table(Foods::Table).col(Foods::OwnerUserId).to_owned(),
            )
            .await?;
        seed::insert_global_foods(manager).await?;

        manager
            .create_table(
                Table::create()
                    .table(FoodUses::Table)
                    .col(ColumnDef::new(FoodUses::UserId).big_integer().not_null())
                    .col(ColumnDef::new(FoodUses::FoodId).big_integer().not_null())
                    .col(ColumnDef::new(FoodUses::Uses).integer().not_null())
                    .primary_key(Index::create().col(FoodUses::UserId).col(FoodUses::FoodId))
                    .foreign_key(&mut cascade_to_user((FoodUses::Table, FoodUses::UserId)))
                    .foreign_key(
                        ForeignKey::create()
                            .from(FoodUses::Table, FoodUses::FoodId)
                            .to(Foods::Table, Foods::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // The primary key leads with user_id; deleting a food needs its own.
        manager
            .create_index(
                Index::create().name("food_uses_food_id").table(FoodUses::Table).col(FoodUses::FoodId).to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(LogEntries::Table)
                    .col(id(LogEntries::Id))
                    .col(ColumnDef::new(LogEntries::UserId).big_integer().not_null())
                    .col(ColumnDef::new(LogEntries::Date).date().not_null())
                    .col(text(LogEntries::Meal))
                    .col(ColumnDef::new(LogEntries::FoodId).big_integer().null())
                    // Recipes arrive in a later migration, which adds the foreign key.
                    .col(ColumnDef::new(LogEntries::RecipeId).big_integer().null())
                    .col(text(LogEntries::Name))
                    .col(amount(LogEntries::Servings))
                    .col(amount(LogEntries::Calories))
                    .col(amount(LogEntries::ProteinG))
                    .col(amount(LogEntries::CarbsG))
                    .col(amount(LogEntries::FatG))
                    .col(instant(LogEntries::CreatedAt))
                    .col(instant(LogEntries::UpdatedAt))
                    .foreign_key(&mut cascade_to_user((LogEntries::Table, LogEntries::UserId)))
                    // No cascade: an entry only names a food its user can see,
                    // so a food disappears only with that user, whose entries
                    // the same statement deletes.
                    .foreign_key(
                        ForeignKey::create().from(LogEntries::Table, LogEntries::FoodId).to(Foods::Table, Foods::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("log_entries_user_id_date")
                    .table(LogEntries::Table)
                    .col(LogEntries::UserId)
                    .col(LogEntries::Date)
                    .to_owned(),
            )
            .await?;
        // Lets the foreign key check find entries of a food being deleted.
        manager
            .create_index(
                Index::create().name("log_entries_food_id").table(LogEntries::Table).col(LogEntries::FoodId).to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(DayCompletions::Table)
                    .col(ColumnDef::new(DayCompletions::UserId).big_integer().not_null())
                    .col(ColumnDef::new(DayCompletions::Date).date().not_null())
                    // The primary key is the UNIQUE (user_id, date) rule.
                    .primary_key(Index::create().col(DayCompletions::UserId).col(DayCompletions::Date))
                    .foreign_key(&mut cascade_to_user((DayCompletions::Table, DayCompletions::UserId)))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            DayCompletions::Table.into_iden(),
            LogEntries::Table.into_iden(),
            FoodUses::Table.into_iden(),
            Foods::Table.into_iden(),
            Users::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }

    /// SQLite too runs this in one transaction, so a failed seed leaves no
    /// half-made schema behind.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
