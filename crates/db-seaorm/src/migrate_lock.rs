//! The PostgreSQL advisory lock migrations run under, so two instances
//! starting together never apply the same migration twice (the second
//! would fail on a table that already exists). SQLite needs none: its
//! write lock already keeps a second migrating process out.

use sea_orm::DatabaseConnection;
use sea_orm::sqlx::postgres::PgConnection;
use sea_orm::sqlx::{self, Connection};

/// The advisory lock's key: one number every instance agrees on
/// (`0x6d74_6d69_6772_6174` is "mtmigrat" in ASCII). Public so tests can
/// hold it.
pub const MIGRATION_LOCK: i64 = 0x6d74_6d69_6772_6174;

/// Opens a session of its own on the pool's server and takes the lock there,
/// waiting while another instance holds it. The lock lives as long as that
/// session: a process that dies mid-migration lets the next one in.
pub(crate) async fn take(db: &DatabaseConnection) -> Result<PgConnection, sqlx::Error> {
    let options = db.get_postgres_connection_pool().connect_options();
    let mut session = PgConnection::connect_with(&options).await?;
    let taken: bool =
        sqlx::query_scalar("SELECT pg_try_advisory_lock($1)").bind(MIGRATION_LOCK).fetch_one(&mut session).await?;
    if !taken {
        tracing::info!("another instance is migrating the database; waiting for it");
        sqlx::query("SELECT pg_advisory_lock($1)").bind(MIGRATION_LOCK).execute(&mut session).await?;
    }
    Ok(session)
}

/// Ends the session, which releases the lock (an explicit unlock could
/// only fail in ways that closing covers too).
pub(crate) async fn release(session: PgConnection) {
    if let Err(error) = session.close().await {
        tracing::warn!(%error, "closing the migration lock's session failed; PostgreSQL releases it when the connection drops");
    }
}
