//! The Macrotrack schema as sea-orm-migration migrations, for SQLite and
//! PostgreSQL. Apply with `Migrator::up(&connection, None)`.

#![warn(missing_docs)]

use sea_orm_migration::prelude::*;

/// Re-exported so callers can run `Migrator::up` without depending on
/// sea-orm-migration themselves.
pub use sea_orm_migration::MigratorTrait;

mod m20261125_000001_core;
mod m20261125_000002_recipes_plans;
mod m20261201_000003_cache_outbox;
mod m20261206_000004_catalogue;
mod m20261206_000005_completion_runs;
mod m20261206_000006_idempotency;
mod m20261206_000007_search;
mod m20261206_000008_log_amounts;
mod m20261206_000009_time_zones;
mod m20261206_000010_catalogue_generation;
mod m20261207_000011_bounded_write;

/// How many steps `Migrator::down` takes to undo the migration `name`
/// and every later one, so tests of a rollback need no count that each
/// new migration would change; `None` for an unknown name.
pub fn steps_through(name: &str) -> Option<u32> {
    let migrations = Migrator::migrations();
    let at = migrations.iter().position(|migration| migration.name() == name)?;
    <u32 as TryFrom<usize>>::try_from(migrations.len() - at).ok()
}

/// Every migration of the schema, oldest first.
#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_core::Migration),
            Box::new(m20261125_000002_recipes_plans::Migration),
            Box::new(m20261201_000003_cache_outbox::Migration),
            Box::new(m20261206_000004_catalogue::Migration),
            Box::new(m20261206_000005_completion_runs::Migration),
            Box::new(m20261206_000006_idempotency::Migration),
            Box::new(m20261206_000007_search::Migration),
            Box::new(m20261206_000008_log_amounts::Migration),
            Box::new(m20261206_000009_time_zones::Migration),
            Box::new(m20261206_000010_catalogue_generation::Migration),
            Box::new(m20261207_000011_bounded_write::Migration),
        ]
    }
}
