//! The cache outbox: one row per committed mutation whose cache
//! invalidation may not have been applied yet (see docs/reliability.md).
//!
//! No foreign key to users: deleting a user writes a row that must outlive
//! the user, so the user's cached entries are still forgotten.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CacheOutbox {
    Table,
    Id,
    UserId,
    CreatedAt,
}

const CREATED_AT_INDEX: &str = "cache_outbox_created_at";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CacheOutbox::Table)
                    .col(ColumnDef::new(CacheOutbox::Id).big_integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(CacheOutbox::UserId).big_integer().not_null())
                    .col(ColumnDef::new(CacheOutbox::CreatedAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        // The drainer asks for rows older than its grace period, oldest first.
        manager
            .create_index(
                Index::create().name(CREATED_AT_INDEX).table(CacheOutbox::Table).col(CacheOutbox::CreatedAt).to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(CacheOutbox::Table).to_owned()).await
    }
}
