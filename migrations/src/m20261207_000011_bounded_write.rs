//! PostgreSQL's day bound in the write's own statement (issue 24): a
//! function that takes the user's lock, then counts the days a batch adds
//! to, answering the earliest that would pass the bound (or NULL).
//!
//! Why a function: in READ COMMITTED a statement reads from the snapshot
//! taken when it started, before any lock it waits for, so a count in the
//! batch's own statement could miss a batch committed while it waited. A
//! VOLATILE function takes a fresh snapshot for each query it runs, so its
//! count, run after its lock, sees every batch that held the lock before.
//! The batch's statement calls it first and inserts nothing when it names
//! a day: lock, count and write in one round trip, with no BEGIN or COMMIT.
//!
//! SQLite needs none: its writes are serialised by its write lock.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// `p_days` and `p_adding`: comma-separated dates and how many entries the
/// batch adds to each (text, so no driver needs array parameters).
const CREATE: &str = r"
CREATE OR REPLACE FUNCTION macrotrack_overfull_day(p_user bigint, p_days text, p_adding text, p_most bigint)
RETURNS date LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM 1 FROM users WHERE id = p_user FOR NO KEY UPDATE;
    RETURN (
        SELECT adding.day
        FROM unnest(string_to_array(p_days, ',')::date[], string_to_array(p_adding, ',')::bigint[])
            AS adding (day, entries)
        WHERE (SELECT COUNT(*) FROM log_entries WHERE log_entries.user_id = p_user AND log_entries.date = adding.day)
            + adding.entries > p_most
        ORDER BY adding.day
        LIMIT 1
    );
END
$$";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            manager.get_connection().execute_unprepared(CREATE).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            let drop = "DROP FUNCTION IF EXISTS macrotrack_overfull_day(bigint, text, text, bigint)";
            manager.get_connection().execute_unprepared(drop).await?;
        }
        Ok(())
    }
}
