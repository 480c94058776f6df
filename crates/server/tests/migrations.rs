//! Instances that start together on one fresh PostgreSQL database migrate
//! it once, one after the other, under an advisory lock: both come up, and
//! each migration is recorded once. Skipped without PostgreSQL, unless
//! MACROTRACK_REQUIRE_SERVICES=1.

mod process;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use macrotrack_db_seaorm::MIGRATION_LOCK;
use macrotrack_testkit::{FreshDatabase, unique_name};
use process::{Server, send};
use sea_orm::sqlx::postgres::PgConnection;
use sea_orm::sqlx::{self, Connection};

/// Every migration of the schema, as `seaql_migrations` names them.
const MIGRATIONS: usize = 11;

struct Setup {
    runtime: tokio::runtime::Runtime,
    database: Option<FreshDatabase>,
    dir: PathBuf,
}

impl Setup {
    /// `None` (after `skip_or_fail`) without PostgreSQL.
    fn new(prefix: &str) -> Option<Setup> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
        let database = runtime.block_on(FreshDatabase::create(prefix))?;
        let dir = std::env::temp_dir().join(unique_name(prefix));
        std::fs::create_dir_all(&dir).expect("a temp dir");
        Some(Setup { runtime, database: Some(database), dir })
    }

    fn url(&self) -> String {
        self.database.as_ref().expect("created").url.clone()
    }

    /// How many times each applied migration is recorded: (name, count).
    fn recorded(&self) -> Vec<(String, i64)> {
        self.runtime.block_on(async {
            let mut session = PgConnection::connect(&self.url()).await.expect("connects");
            let rows: Vec<(String, i64)> =
                sqlx::query_as("SELECT version, COUNT(*) FROM seaql_migrations GROUP BY version ORDER BY version")
                    .fetch_all(&mut session)
                    .await
                    .unwrap_or_default();
            let _ = session.close().await;
            rows
        })
    }
}

impl Setup {
    /// Waits until `wanted` sessions of this database queue for an advisory
    /// lock, or a child exits, or a minute passes (then the assertion that
    /// follows says what was seen). Returns how many were queued.
    fn wait_for_waiters(&self, wanted: i64, children: &mut [std::process::Child]) -> i64 {
        self.runtime.block_on(async {
            let mut session = PgConnection::connect(&self.url()).await.expect("connects");
            let deadline = Instant::now() + Duration::from_secs(60);
            let queued = loop {
                let queued: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted \
                     AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                )
                .fetch_one(&mut session)
                .await
                .expect("pg_locks reads");
                let exited = children.iter_mut().any(|child| !matches!(child.try_wait(), Ok(None)));
                if queued >= wanted || exited || Instant::now() > deadline {
                    break queued;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            };
            let _ = session.close().await;
            queued
        })
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        if let Some(database) = self.database.take() {
            self.runtime.block_on(database.drop());
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn two_instances_starting_together_migrate_once_and_both_serve() {
    let Some(setup) = Setup::new("migrate_together") else { return };
    let url = setup.url();
    let start = Arc::new(Barrier::new(2));
    let started = Instant::now();
    let instances: Vec<std::thread::JoinHandle<Server>> = ["A", "B"]
        .into_iter()
        .map(|name| {
            let (start, url, dir) = (start.clone(), url.clone(), setup.dir.clone());
            std::thread::spawn(move || {
                start.wait();
                Server::start_with(name, &dir, &url, "", &[("MACROTRACK_LOG", "info")])
            })
        })
        .collect();
    let servers: Vec<Server> = instances.into_iter().map(|thread| thread.join().expect("both start")).collect();
    println!("both instances served {:?} after starting together", started.elapsed());
    for server in &servers {
        send(server.port, "GET", "/readyz", None, None).ok(200);
    }
    let recorded = setup.recorded();
    assert_eq!(recorded.len(), MIGRATIONS, "{recorded:?}");
    assert!(recorded.iter().all(|(_, count)| *count == 1), "each migration once: {recorded:?}");
}

/// `macrotrack migrate`, started now.
fn migrate(setup: &Setup, name: &str) -> std::process::Child {
    let log = std::fs::File::create(setup.dir.join(format!("{name}.log"))).expect("a log file");
    Command::new(env!("CARGO_BIN_EXE_macrotrack"))
        .arg("migrate")
        .current_dir(&setup.dir)
        .env("DATABASE_URL", setup.url())
        .env("MACROTRACK_LOG", "info")
        .env_remove("REDIS_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .expect("the binary starts")
}

#[test]
fn migrating_waits_while_another_session_holds_the_lock() {
    let Some(setup) = Setup::new("migrate_lock") else { return };
    // The test plays the instance that is migrating.
    let mut holder = setup.runtime.block_on(async {
        let mut session = PgConnection::connect(&setup.url()).await.expect("connects");
        sqlx::query("SELECT pg_advisory_lock($1)").bind(MIGRATION_LOCK).execute(&mut session).await.expect("locked");
        session
    });
    let mut children: Vec<std::process::Child> = ["first", "second"].iter().map(|name| migrate(&setup, name)).collect();
    // The event: both processes queue on the lock (PostgreSQL shows each as
    // an advisory lock not granted); each logged its wait before queueing.
    let queued = setup.wait_for_waiters(2, &mut children);
    assert_eq!(queued, 2, "both migrations queue behind the lock");
    for child in &mut children {
        assert!(matches!(child.try_wait(), Ok(None)), "a migration ran while the lock was held");
    }
    assert!(setup.recorded().is_empty(), "nothing migrated under another's lock");
    let waiting = std::fs::read_to_string(setup.dir.join("first.log")).unwrap_or_default();
    assert!(waiting.contains("another instance is migrating the database; waiting for it"), "{waiting}");

    setup.runtime.block_on(async {
        sqlx::query("SELECT pg_advisory_unlock($1)").bind(MIGRATION_LOCK).execute(&mut holder).await.expect("unlocked");
        holder.close().await.expect("closed");
    });
    for (name, child) in ["first", "second"].iter().zip(children) {
        let output = child.wait_with_output().expect("it ends");
        let stderr = std::fs::read_to_string(setup.dir.join(format!("{name}.log"))).unwrap_or_default();
        assert!(output.status.success(), "{name}: {stderr}");
        assert_eq!(String::from_utf8_lossy(&output.stdout), "migrations applied (postgres)\n");
    }
    let recorded = setup.recorded();
    assert_eq!(recorded.len(), MIGRATIONS, "{recorded:?}");
    assert!(recorded.iter().all(|(_, count)| *count == 1), "{recorded:?}");
}
