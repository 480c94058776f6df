//! Idempotency keys: each user's `POST` claimed under a key, with its
//! answer once it has one (see `ports::idempotency`).
//!
//! The primary key (user, key) is what makes two claims of one key
//! exclusive; the token fences a claim that was taken over. The answer's
//! columns are NULL while the request runs.

use sea_orm_migration::prelude::*;

use crate::m20261125_000001_core::cascade_to_user;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    UserId,
    Key,
    Fingerprint,
    Token,
    ClaimedAt,
    Status,
    ContentType,
    Location,
    Body,
}

const CLAIMED_AT_INDEX: &str = "idempotency_keys_claimed_at";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(IdempotencyKeys::Table)
                    .col(ColumnDef::new(IdempotencyKeys::UserId).big_integer().not_null())
                    .col(ColumnDef::new(IdempotencyKeys::Key).string_len(255).not_null())
                    // SHA-256 of method, path and body, as 64 hex digits.
                    .col(ColumnDef::new(IdempotencyKeys::Fingerprint).string_len(64).not_null())
                    .col(ColumnDef::new(IdempotencyKeys::Token).big_integer().not_null())
                    .col(ColumnDef::new(IdempotencyKeys::ClaimedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(IdempotencyKeys::Status).integer().null())
                    .col(ColumnDef::new(IdempotencyKeys::ContentType).string().null())
                    .col(ColumnDef::new(IdempotencyKeys::Location).string().null())
                    .col(ColumnDef::new(IdempotencyKeys::Body).blob().null())
                    .primary_key(Index::create().col(IdempotencyKeys::UserId).col(IdempotencyKeys::Key))
                    .foreign_key(&mut cascade_to_user((IdempotencyKeys::Table, IdempotencyKeys::UserId)))
                    .to_owned(),
            )
            .await?;
        // The sweep deletes by age.
        manager
            .create_index(
                Index::create()
                    .name(CLAIMED_AT_INDEX)
                    .table(IdempotencyKeys::Table)
                    .col(IdempotencyKeys::ClaimedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(IdempotencyKeys::Table).to_owned()).await
    }
}
