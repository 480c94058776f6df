//! Log entries logged by grams or by a household portion: the amount as
//! given and the portion's snapshot (entries do not follow later edits of
//! the catalogue, which replaces a food's portions when they change, so
//! `portion_id` is no foreign key).
//!
//! Every new column is nullable or has a default, so existing entries read
//! as logged by servings (with no grams) and older writes keep working.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LogEntries {
    Table,
    // `servings`, `grams` or `portion`: what a PATCH without an amount keeps.
    AmountUnit,
    // Hundredths of a gram, as every amount of the schema.
    Grams,
    PortionId,
    PortionName,
    // Hundredths of a gram: the portion's weight when it was logged.
    PortionGrams,
    // Hundredths.
    Quantity,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one at a time.
        let columns = [
            ColumnDef::new(LogEntries::AmountUnit).string().not_null().default("servings").to_owned(),
            ColumnDef::new(LogEntries::Grams).big_integer().null().to_owned(),
            ColumnDef::new(LogEntries::PortionId).big_integer().null().to_owned(),
            ColumnDef::new(LogEntries::PortionName).string().null().to_owned(),
            ColumnDef::new(LogEntries::PortionGrams).big_integer().null().to_owned(),
            ColumnDef::new(LogEntries::Quantity).big_integer().null().to_owned(),
        ];
        for column in columns {
            manager.alter_table(Table::alter().table(LogEntries::Table).add_column(column).to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            LogEntries::AmountUnit,
            LogEntries::Grams,
            LogEntries::PortionId,
            LogEntries::PortionName,
            LogEntries::PortionGrams,
            LogEntries::Quantity,
        ] {
            manager.alter_table(Table::alter().table(LogEntries::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
