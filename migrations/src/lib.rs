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
        ]
    }
}
