//! Users gain their time zone (a name of the IANA database), which says
//! what their today is; every user has UTC until they set another.

use sea_orm_migration::prelude::*;

use crate::m20261125_000001_core::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum TimeZones {
    Timezone,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let column = ColumnDef::new(TimeZones::Timezone).string().not_null().default("UTC").to_owned();
        manager.alter_table(Table::alter().table(Users::Table).add_column(column).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(Users::Table).drop_column(TimeZones::Timezone).to_owned()).await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
