//! Search served by indexes: PostgreSQL's `pg_trgm` (a GIN index of
//! trigrams over `search_folded`, which answers `LIKE '%word%'`) and
//! SQLite's FTS5 with its `trigram` tokenizer (an external-content table
//! over `search_folded`, kept by triggers). Words under three characters
//! have no trigram: they are matched by the same LIKE on the rows the
//! other words leave, or by a scan when the query has no longer word.
//!
//! Foods created since the catalogue's migration have their folded text
//! filled first, so every row is indexed.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::m20261206_000004_catalogue::fold_foods;

#[derive(DeriveMigrationName)]
pub struct Migration;

const POSTGRES_UP: &[&str] = &[
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX foods_search_trigrams ON foods USING gin (search_folded gin_trgm_ops)",
];

const POSTGRES_DOWN: &[&str] = &["DROP INDEX foods_search_trigrams"];

const SQLITE_UP: &[&str] = &[
    "CREATE VIRTUAL TABLE foods_search USING fts5(search_folded, content='foods', content_rowid='id', \
     tokenize='trigram')",
    "CREATE TRIGGER foods_search_insert AFTER INSERT ON foods BEGIN \
     INSERT INTO foods_search (rowid, search_folded) VALUES (new.id, new.search_folded); END",
    "CREATE TRIGGER foods_search_delete AFTER DELETE ON foods BEGIN \
     INSERT INTO foods_search (foods_search, rowid, search_folded) VALUES ('delete', old.id, old.search_folded); END",
    "CREATE TRIGGER foods_search_update AFTER UPDATE OF search_folded ON foods BEGIN \
     INSERT INTO foods_search (foods_search, rowid, search_folded) VALUES ('delete', old.id, old.search_folded); \
     INSERT INTO foods_search (rowid, search_folded) VALUES (new.id, new.search_folded); END",
    "INSERT INTO foods_search (foods_search) VALUES ('rebuild')",
];

const SQLITE_DOWN: &[&str] = &[
    "DROP TRIGGER foods_search_update",
    "DROP TRIGGER foods_search_delete",
    "DROP TRIGGER foods_search_insert",
    "DROP TABLE foods_search",
];

async fn run(manager: &SchemaManager<'_>, statements: &[&str]) -> Result<(), DbErr> {
    for statement in statements {
        manager.get_connection().execute_unprepared(statement).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Foods users created since the catalogue's migration: their writes
        // did not fill it then.
        fold_foods(manager, true).await?;
        match manager.get_database_backend() {
            DbBackend::Postgres => run(manager, POSTGRES_UP).await,
            _ => run(manager, SQLITE_UP).await,
        }
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DbBackend::Postgres => run(manager, POSTGRES_DOWN).await,
            _ => run(manager, SQLITE_DOWN).await,
        }
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
