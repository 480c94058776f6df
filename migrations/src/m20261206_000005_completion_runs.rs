//! Runs of consecutive completed days, kept beside `day_completions` by
//! completing and undoing a day, so a streak is read from two rows (the
//! latest run and the longest) rather than from the user's whole history.
//! Existing completions are grouped into runs here, once.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

use crate::m20261125_000001_core::cascade_to_user;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CompletionRuns {
    Table,
    UserId,
    FirstDay,
    LastDay,
    Days,
}

/// The longest run ending by a day is the first row of this index's user
/// whose last day is not after it, read from the longest down.
const LONGEST_INDEX: &str = "completion_runs_longest";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CompletionRuns::Table)
                    .col(ColumnDef::new(CompletionRuns::UserId).big_integer().not_null())
                    .col(ColumnDef::new(CompletionRuns::FirstDay).date().not_null())
                    .col(ColumnDef::new(CompletionRuns::LastDay).date().not_null())
                    .col(ColumnDef::new(CompletionRuns::Days).integer().not_null())
                    // The latest run starting by a day: one step of this key.
                    .primary_key(Index::create().col(CompletionRuns::UserId).col(CompletionRuns::FirstDay))
                    .foreign_key(&mut cascade_to_user((CompletionRuns::Table, CompletionRuns::UserId)))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(LONGEST_INDEX)
                    .table(CompletionRuns::Table)
                    .col(CompletionRuns::UserId)
                    .col(CompletionRuns::Days)
                    .col(CompletionRuns::LastDay)
                    .to_owned(),
            )
            .await?;
        // Gaps and islands: within a run, a day minus its rank is constant.
        let backend = manager.get_database_backend();
        let island = match backend {
            DbBackend::Postgres => "date - CAST(ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY date) AS INTEGER)",
            _ => "julianday(date) - ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY date)",
        };
        let backfill = format!(
            "INSERT INTO completion_runs (user_id, first_day, last_day, days) \
             SELECT user_id, MIN(date), MAX(date), COUNT(*) \
             FROM (SELECT user_id, date, {island} AS island FROM day_completions) AS ranked \
             GROUP BY user_id, island"
        );
        manager.get_connection().execute_unprepared(&backfill).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(CompletionRuns::Table).to_owned()).await
    }
}
