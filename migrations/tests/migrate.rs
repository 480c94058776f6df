//! The migrations apply, roll back and re-apply on SQLite (PostgreSQL is
//! exercised by the db-seaorm suite, which migrates a fresh database per test).

use macrotrack_migrations::{Migrator, MigratorTrait};
use sea_orm_migration::sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};

async fn count(db: &DatabaseConnection, sql: &str) -> i64 {
    let row = db.query_one_raw(Statement::from_string(DbBackend::Sqlite, sql)).await.unwrap().unwrap();
    row.try_get_by_index(0).unwrap()
}

#[tokio::test]
async fn up_down_up_on_sqlite() {
    let db = Database::connect("sqlite::memory:").await.unwrap();
    Migrator::up(&db, None).await.unwrap();
    assert!(count(&db, "SELECT COUNT(*) FROM foods WHERE owner_user_id IS NULL").await >= 30);
    // The users id is an AUTOINCREMENT rowid, so ids are never reused.
    let users_sql =
        count(&db, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'users' AND sql LIKE '%AUTOINCREMENT%'").await;
    assert_eq!(users_sql, 1);
    // Applying again is a no-op.
    Migrator::up(&db, None).await.unwrap();
    Migrator::down(&db, None).await.unwrap();
    assert_eq!(count(&db, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'foods'").await, 0);
    Migrator::up(&db, None).await.unwrap();
    assert!(count(&db, "SELECT COUNT(*) FROM foods").await >= 30);
}
