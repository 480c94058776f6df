//! One suite of repository behaviours, run against SQLite (a fresh database
//! in memory per test) and PostgreSQL (a fresh database per test on the
//! server of `DATABASE_URL`, dropped afterwards). Each behaviour is an async
//! fn taking the repository; `suite!` runs every one on both backends.

mod foods;
mod logs;
mod support;
mod users;

use std::future::Future;
use std::time::Duration;

use macrotrack_db_seaorm::{DbConfig, SeaOrmRepository};
use macrotrack_testkit::{postgres_url, skip_or_fail, unique_name};
use sea_orm::ConnectionTrait;

use foods::*;
use logs::*;
use users::*;

macro_rules! suite {
    ($($behaviour:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $behaviour() {
                    super::$behaviour(&super::sqlite().await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $behaviour() {
                    super::on_postgres(|repo| async move { super::$behaviour(&repo).await }).await;
                }
            )*
        }
    };
}

suite!(
    seed_catalogue_is_visible_to_every_user,
    own_food_is_invisible_to_other_users,
    batch_snapshots_macros_in_input_order_and_counts_uses,
    batch_with_an_unknown_item_writes_nothing,
    another_users_food_in_a_batch_is_unknown,
    day_logs_order_by_meal_then_id_and_filter_by_user_and_date,
    credential_lookup_finds_the_stored_hash_only,
    user_ids_are_never_reused,
    new_user_has_no_targets_until_all_four_are_set,
    deleting_a_user_cascades_to_their_data,
);

async fn sqlite() -> SeaOrmRepository {
    let repo = SeaOrmRepository::connect(&DbConfig::new("sqlite::memory:")).await.unwrap();
    repo.migrate().await.unwrap();
    assert_eq!(repo.backend(), "sqlite");
    repo.ping().await.unwrap();
    repo
}

/// Runs `behaviour` on a database of its own, created on the PostgreSQL
/// server and dropped afterwards even when the behaviour panics.
async fn on_postgres<F, Fut>(behaviour: F)
where
    F: FnOnce(SeaOrmRepository) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let server = postgres_url();
    let admin_config = DbConfig {
        max_connections: 1,
        connect_timeout: Duration::from_secs(3),
        acquire_timeout: Duration::from_secs(3),
        ..DbConfig::new(server.clone())
    };
    let admin = match SeaOrmRepository::connect(&admin_config).await {
        Ok(admin) => admin,
        Err(error) => return skip_or_fail("PostgreSQL", error),
    };
    let name = unique_name("macrotrack_db_test");
    admin.connection().execute_unprepared(&format!("CREATE DATABASE {name}")).await.unwrap();

    let prepared = async {
        let repo = SeaOrmRepository::connect(&DbConfig::new(with_database(&server, &name))).await?;
        repo.migrate().await?;
        anyhow::ensure!(repo.backend() == "postgres", "backend is {}", repo.backend());
        repo.ping().await?;
        anyhow::Ok(repo)
    };
    let outcome = match prepared.await {
        Ok(repo) => {
            let outcome = tokio::spawn(behaviour(repo.clone())).await;
            let _ = repo.connection().close_by_ref().await;
            Ok(outcome)
        }
        Err(error) => Err(error),
    };
    admin.connection().execute_unprepared(&format!("DROP DATABASE {name} WITH (FORCE)")).await.unwrap();
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(error)) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
        Ok(Err(error)) => panic!("{error}"),
        Err(error) => panic!("cannot prepare database {name}: {error:#}"),
    }
}

/// The server URL with its database path replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (authority, tail) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
    let query = tail.split_once('?').map(|(_, query)| format!("?{query}")).unwrap_or_default();
    format!("{scheme}://{authority}/{name}{query}")
}
