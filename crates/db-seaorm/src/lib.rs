//! The repository ports implemented on SeaORM, for SQLite and PostgreSQL.
//!
//! Every database error becomes [`Unavailable`]: the domain has validated
//! each input before it gets here, so a failing statement means the
//! database (or the connection to it) is at fault, not the request.

#![warn(missing_docs)]

use std::fmt;
use std::time::Duration;

use anyhow::anyhow;
use chrono::NaiveDate;
use macrotrack_domain::{Amount, Day, Macros, Meal, UserId};
use macrotrack_migrations::{Migrator, MigratorTrait};
use macrotrack_ports::Unavailable;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
};
use write_thread::Written;

mod bounds;
mod catalogue;
mod completions;
mod connect;
pub mod entities;
mod export;
mod foods;
mod idempotency;
mod log_changes;
mod log_rows;
mod logs;
mod migrate_lock;
mod outbox;
mod parameters;
mod plan_rows;
mod plans;
mod portions;
mod recipes;
mod schedules;
mod search;
mod users;
mod write_thread;

pub use migrate_lock::MIGRATION_LOCK;

/// How long a pooled connection may sit unused before it is pinged when
/// taken again.
const IDLE_BEFORE_PING: Duration = Duration::from_secs(30);

/// How long a SQLite writer waits for another one to finish before failing.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Where and how to connect.
#[derive(Clone)]
pub struct DbConfig {
    /// `sqlite://path`, `sqlite::memory:` or `postgres://user:password@host/db`.
    pub url: String,
    /// The pool's size: the most queries running at once.
    pub max_connections: u32,
    /// How long the first connection may take before `connect` gives up.
    pub connect_timeout: Duration,
    /// How long a query waits for a free pooled connection.
    pub acquire_timeout: Duration,
    /// On a SQLite file: writes that may wait for the writes' thread at
    /// once; past them a write fails at once (503) rather than queueing.
    pub write_queue: usize,
}

impl DbConfig {
    /// 10 connections, 5 s to connect, 5 s to acquire a connection, 1024
    /// writes queued at most.
    pub fn new(url: impl Into<String>) -> Self {
        DbConfig {
            url: url.into(),
            max_connections: 10,
            connect_timeout: Duration::from_secs(5),
            acquire_timeout: Duration::from_secs(5),
            write_queue: 1024,
        }
    }
}

/// Hand-written so the password never reaches a log through `{:?}`.
impl fmt::Debug for DbConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DbConfig")
            .field("url", &macrotrack_redact::redact_url(&self.url))
            .field("max_connections", &self.max_connections)
            .field("connect_timeout", &self.connect_timeout)
            .field("acquire_timeout", &self.acquire_timeout)
            .field("write_queue", &self.write_queue)
            .finish()
    }
}

/// Every repository port on one connection pool for reads and one for
/// writes: on SQLite (a file) the writer pool holds one connection, so
/// writers queue in this process, in order, instead of sleeping in SQLite's
/// busy handler while they contend for its one write lock. On PostgreSQL
/// and on SQLite in memory both are the same pool.
#[derive(Debug, Clone)]
pub struct SeaOrmRepository {
    db: DatabaseConnection,
    writer: DatabaseConnection,
    /// On a SQLite file: where the hot writes run (see `write_thread`).
    write_thread: Option<write_thread::WriteThread>,
}

impl SeaOrmRepository {
    /// Connects; SQLite files are created when missing (mode=rwc), SQLite
    /// in memory uses one connection; sets busy_timeout / foreign keys on
    /// SQLite. Errors are one line naming the URL without its password.
    pub async fn connect(config: &DbConfig) -> anyhow::Result<Self> {
        let shown = macrotrack_redact::redact_url(&config.url);
        let url = config.url.as_str();
        let mut options = ConnectOptions::new(url);
        options
            .max_connections(config.max_connections.max(1))
            .connect_timeout(config.connect_timeout)
            .acquire_timeout(config.acquire_timeout)
            // A ping on every checkout doubled the round trips of every
            // query (its share of a write's time was the largest in a
            // profile); only a connection idle long enough to have been
            // dropped by the server or the network is checked first.
            .test_before_acquire_if_idle_for(IDLE_BEFORE_PING)
            .sqlx_logging(false);
        let sqlite = url.starts_with("sqlite:");
        let in_memory = sqlite && (url.contains(":memory:") || url.contains("mode=memory"));
        if sqlite {
            options.map_sqlx_sqlite_opts(move |sqlite| {
                let sqlite = sqlite.busy_timeout(SQLITE_BUSY_TIMEOUT).foreign_keys(true);
                // WAL lets readers go on while one connection writes; under
                // WAL, NORMAL syncs at checkpoints, not at every commit (a
                // power cut may lose the last commits, a crash loses none).
                if in_memory {
                    sqlite
                } else {
                    sqlite
                        .create_if_missing(true)
                        .journal_mode(SqliteJournalMode::Wal)
                        .synchronous(SqliteSynchronous::Normal)
                }
            });
            if in_memory {
                // The database lives as long as its one connection: never
                // close it for idleness or age, and never open a second one
                // (which would see another, empty database).
                options.max_connections(1).min_connections(1).idle_timeout(None).max_lifetime(None);
            }
        } else if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(anyhow!("unsupported database URL {shown}: expected sqlite:... or postgres://..."));
        }
        let failed = |reason: String| anyhow!("cannot connect to the database at {shown}: {reason}");
        if !sqlite {
            connect::probe_postgres(url, config.connect_timeout).await.map_err(failed)?;
        }
        let open = |options: ConnectOptions| async move {
            match tokio::time::timeout(config.connect_timeout, Database::connect(options)).await {
                Ok(Ok(db)) => Ok(db),
                Ok(Err(error)) => Err(failed(connect::db_reason(&error, url))),
                Err(_) => Err(failed(format!("timed out after {:?}", config.connect_timeout))),
            }
        };
        if !sqlite || in_memory {
            let db = open(options).await?;
            return Ok(SeaOrmRepository { writer: db.clone(), db, write_thread: None });
        }
        // The one writer connection is opened first: it creates the file
        // and switches it to WAL before any reader opens it.
        let mut writer_options = options.clone();
        writer_options.max_connections(1).min_connections(1);
        let writer = open(writer_options).await?;
        let db = open(options).await?;
        let write_thread = write_thread::WriteThread::start(writer.clone(), config.write_queue)
            .map_err(|error| failed(error.to_string()))?;
        Ok(SeaOrmRepository { db, writer, write_thread: Some(write_thread) })
    }

    /// Applies every pending migration. On PostgreSQL, under an advisory
    /// lock (`MIGRATION_LOCK`): instances starting together migrate one
    /// after the other, and the later ones find nothing left to do.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        let failed = |error: &dyn fmt::Display| {
            anyhow!("cannot migrate the database: {}", connect::one_line(&error.to_string()))
        };
        // Held by a connection of its own, outside the pool, so a pool of
        // one connection is still free for the migrations themselves.
        let lock = match self.writer.get_database_backend() {
            DbBackend::Postgres => Some(migrate_lock::take(&self.writer).await.map_err(|error| failed(&error))?),
            _ => None,
        };
        let migrated = Migrator::up(&self.writer, None).await.map_err(|error| failed(&error));
        if let Some(lock) = lock {
            migrate_lock::release(lock).await;
        }
        migrated
    }

    /// Whether the database answers now (readiness).
    pub async fn ping(&self) -> Result<(), Unavailable> {
        self.db.ping().await.map_err(unavailable)
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn backend(&self) -> &'static str {
        match self.db.get_database_backend() {
            DbBackend::Sqlite => "sqlite",
            DbBackend::Postgres => "postgres",
            // `connect` accepts no other URL.
            _ => "unknown",
        }
    }

    /// The writer connection (for tests that change the schema or rows
    /// behind the repository's back).
    pub fn connection(&self) -> &sea_orm::DatabaseConnection {
        &self.writer
    }

    /// A write transaction, on the writer pool. On SQLite it takes the write
    /// lock up front (IMMEDIATE), so it never has to upgrade a read lock (and
    /// fail) halfway; with one writer connection it never waits for another
    /// writer of this process, only for another process (busy_timeout).
    async fn begin_write(&self) -> Result<DatabaseTransaction, Unavailable> {
        begin_write(&self.writer).await
    }

    /// Runs `statement` as one write of `user`'s, all or nothing, unless
    /// `refuse_if`, asked first in the same transaction under the user's
    /// lock (`bounds`), answers a row: in the next group of the writes'
    /// thread on a SQLite file, else in a transaction of its own.
    async fn write_rows(
        &self,
        user: UserId,
        refuse_if: Option<Statement>,
        statement: Statement,
    ) -> Result<Written, Unavailable> {
        if let Some(thread) = &self.write_thread {
            return thread.write(refuse_if, statement).await.map_err(unavailable);
        }
        let txn = self.begin_write().await?;
        let written = async {
            if let Some(check) = refuse_if {
                bounds::lock_user(&txn, user).await.map_err(unavailable)?;
                if let Some(row) = txn.query_one_raw(check).await.map_err(unavailable)? {
                    return Ok(Written::Refused(row));
                }
            }
            Ok(Written::Rows(txn.query_all_raw(statement).await.map_err(unavailable)?))
        }
        .await;
        finish(txn, written).await
    }
}

/// A write transaction on `writer`: see `SeaOrmRepository::begin_write`.
pub(crate) async fn begin_write(writer: &DatabaseConnection) -> Result<DatabaseTransaction, Unavailable> {
    let options =
        TransactionOptions { sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate), ..Default::default() };
    writer.begin_with_options(options).await.map_err(unavailable)
}

pub(crate) fn unavailable(error: DbErr) -> Unavailable {
    Unavailable::new(error)
}

/// A row no write of this crate could have produced (an unknown meal, a
/// date out of range): the database is not answering what it was told.
pub(crate) fn corrupt(what: impl fmt::Display) -> Unavailable {
    Unavailable::new(anyhow!("corrupt row: {what}"))
}

/// Commits on success and rolls back on failure. A failed rollback loses
/// nothing: the transaction never committed, and the connection drops it.
pub(crate) async fn finish<T, E: From<Unavailable>>(txn: DatabaseTransaction, result: Result<T, E>) -> Result<T, E> {
    match result {
        Ok(value) => {
            txn.commit().await.map_err(unavailable)?;
            Ok(value)
        }
        Err(error) => {
            let _ = txn.rollback().await;
            Err(error)
        }
    }
}

pub(crate) fn macros(calories: i64, protein_g: i64, carbs_g: i64, fat_g: i64) -> Macros {
    Macros {
        calories: Amount::from_hundredths(calories),
        protein_g: Amount::from_hundredths(protein_g),
        carbs_g: Amount::from_hundredths(carbs_g),
        fat_g: Amount::from_hundredths(fat_g),
    }
}

pub(crate) fn to_day(date: NaiveDate, row: impl fmt::Display) -> Result<Day, Unavailable> {
    Day::new(date).map_err(|_| corrupt(format!("{row}: date {date} out of range")))
}

pub(crate) fn to_meal(meal: &str, row: impl fmt::Display) -> Result<Meal, Unavailable> {
    meal.parse().map_err(|_| corrupt(format!("{row}: unknown meal {meal:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_password() {
        let shown = format!("{:?}", DbConfig::new("postgres://app:hunter2@db/macro"));
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("postgres://app:***@db/macro"), "{shown}");
    }
}
