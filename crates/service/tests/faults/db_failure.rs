//! The database fails in the middle of a mutation's transaction: nothing is
//! written, nothing is invalidated (no outbox row, no bump), the call
//! answers Unavailable, and the next request succeeds.

use macrotrack_db_seaorm::SeaOrmRepository;
use macrotrack_ports::{CacheStore, OutboxRepository};
use macrotrack_service::{CreateError, Repositories, Service};
use macrotrack_testkit::{FreshDatabase, RedisServer, report, unique_name};
use sea_orm::{ConnectionTrait, Statement};

use crate::support::*;

async fn count(repository: &SeaOrmRepository, sql: &str) -> i64 {
    let db = repository.connection();
    let row = db.query_one_raw(Statement::from_string(db.get_database_backend(), sql)).await.unwrap().unwrap();
    row.try_get_by_index(0).unwrap()
}

/// Runs a batch while `inject` makes one of its statements fail, checks
/// that nothing changed, removes the fault with `heal`, and checks that the
/// same batch then succeeds and is seen. Returns the figures for the report.
async fn fails_cleanly<S: CacheStore>(
    what: &str,
    cached: &Service<S>,
    repository: &SeaOrmRepository,
    inject: &str,
    heal: &str,
) -> String {
    let user = cached.create_user("failing").await.unwrap().user.id;
    let food = some_food(cached, user).await;
    cached.create_log_entries(user, vec![food_entry(day(0), food)]).await.unwrap();
    // The drainer's tick, so the outbox holds nothing before the fault.
    cached.flush_applied_outbox_rows().await;
    let before = cached.day_logs(user, day(0)).await.unwrap();
    let entries = count(repository, "SELECT COUNT(*) FROM log_entries").await;
    let stats = cached.cache().stats();

    repository.connection().execute_unprepared(inject).await.unwrap();
    let batch = vec![food_entry(day(0), food), food_entry(day(1), food)];
    let error = cached.create_log_entries(user, batch.clone()).await.unwrap_err();
    assert!(matches!(error, CreateError::Unavailable(_)), "{what}: {error:?}");
    println!("{what}: the batch answered {:?}", error);
    let healed = async {
        // The fault may have taken its connection with it: try again.
        for _ in 0..5 {
            if repository.connection().execute_unprepared(heal).await.is_ok() {
                return;
            }
        }
        panic!("{what}: cannot remove the fault");
    };
    healed.await;

    assert_eq!(count(repository, "SELECT COUNT(*) FROM log_entries").await, entries, "{what}: nothing written");
    assert!(repository.pending_users().await.unwrap().is_empty(), "{what}: no outbox row");
    let after = cached.cache().stats();
    assert_eq!(after.invalidations, stats.invalidations, "{what}: nothing invalidated");
    assert_eq!(cached.day_logs(user, day(0)).await.unwrap(), before, "{what}: the cached entry stands");
    assert_eq!(cached.cache().stats().hit, after.hit + 1, "{what}: and is still a hit");

    let created = cached.create_log_entries(user, batch).await.expect("the next request succeeds");
    assert_eq!(created.len(), 2);
    assert_eq!(cached.day_logs(user, day(0)).await.unwrap().entries.len(), 2, "{what}: the write is seen");
    assert_eq!(cached.flush_applied_outbox_rows().await, 1, "{what}: the applied row is queued for deletion");
    assert!(repository.pending_users().await.unwrap().is_empty(), "{what}: and deleted");
    format!(
        "{what}: `Unavailable` (a 503 problem over HTTP), {} log entries written, 0 outbox rows, {} invalidations, \
         the cached entry still a hit; the same batch then succeeds and is seen",
        count(repository, "SELECT COUNT(*) FROM log_entries").await - entries - 2,
        after.invalidations - stats.invalidations
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_failing_inside_the_batch_on_sqlite() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let Some(redis) = RedisServer::start(&[]) else { return };
    let file = SqliteFile::new();
    let repository = file.connect().await;
    let cached = cached(Repositories::from_one(repository.clone()), redis_store(&redis.url(), "sqlite:").await);
    // After the log entries are inserted: the food use count...
    let food_uses = fails_cleanly(
        "food uses",
        &cached,
        &repository,
        "CREATE TRIGGER fail BEFORE INSERT ON food_uses BEGIN SELECT RAISE(ABORT, 'injected'); END",
        "DROP TRIGGER fail",
    )
    .await;
    // ...and the very last statement, the outbox row itself.
    let outbox_row = fails_cleanly(
        "outbox row",
        &cached,
        &repository,
        "CREATE TRIGGER fail BEFORE INSERT ON cache_outbox BEGIN SELECT RAISE(ABORT, 'injected'); END",
        "DROP TRIGGER fail",
    )
    .await;
    report(
        "db_failure::a_statement_failing_inside_the_batch_on_sqlite",
        "A trigger created by the test aborts the batch's food-use upsert (after its log entries were inserted), \
         then, in a second round, the outbox insert itself.",
        &format!("{food_uses}. {outbox_row}"),
    );
}

/// PostgreSQL: the transaction's own connection is terminated by the
/// server in the middle of the batch (as when the server restarts or an
/// operator kills the session).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connection_terminated_mid_transaction_on_postgres() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let Some(redis) = RedisServer::start(&[]) else { return };
    let Some(database) = FreshDatabase::create("db_failure").await else { return };
    let repository = connect(&database.url).await;
    let cached =
        cached(Repositories::from_one(repository.clone()), redis_store(&redis.url(), &unique_name("pg")).await);
    repository
        .connection()
        .execute_unprepared(
            "CREATE FUNCTION die() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); RETURN NEW; END $$",
        )
        .await
        .unwrap();
    let terminated = fails_cleanly(
        "terminated",
        &cached,
        &repository,
        "CREATE TRIGGER die BEFORE INSERT ON food_uses FOR EACH ROW EXECUTE FUNCTION die()",
        "DROP TRIGGER die ON food_uses",
    )
    .await;
    report(
        "db_failure::the_connection_terminated_mid_transaction_on_postgres",
        "A fresh PostgreSQL database. A trigger calls `pg_terminate_backend(pg_backend_pid())` inside the batch: \
         the server kills the transaction's own connection, as when it restarts or an operator ends the session.",
        &format!("{terminated}; the pool replaced the dead connection"),
    );
    drop((cached, repository));
    database.drop().await;
}
