//! One suite of repository behaviours, run against SQLite (a fresh database
//! in memory per test) and PostgreSQL (a fresh database per test on the
//! server of `DATABASE_URL`, dropped afterwards). Each behaviour is an async
//! fn taking the repository; `suite!` runs every one on both backends.

mod bounds;
mod catalogue;
mod foods;
mod idempotency;
mod log_changes;
mod logs;
mod outbox;
mod plans;
mod quick_copy;
mod recipes;
mod search;
mod streaks;
mod support;
mod users;

use std::future::Future;
use std::time::Duration;

use macrotrack_db_seaorm::{DbConfig, SeaOrmRepository};
use macrotrack_testkit::{postgres_url, skip_or_fail, unique_name};
use sea_orm::ConnectionTrait;

use bounds::*;
use catalogue::*;
use foods::*;
use idempotency::*;
use log_changes::*;
use logs::*;
use outbox::*;
use plans::*;
use quick_copy::*;
use recipes::*;
use search::*;
use streaks::*;
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
    a_quick_add_logs_its_macros_as_one_serving_and_counts_no_use,
    a_copy_keeps_each_entry_as_logged_in_the_days_order,
    a_copy_with_nothing_to_copy_or_past_the_days_bound_writes_nothing,
    seed_catalogue_is_visible_to_every_user,
    own_food_is_invisible_to_other_users,
    batch_snapshots_macros_in_input_order_and_counts_uses,
    batch_with_an_unknown_item_writes_nothing,
    another_users_food_in_a_batch_is_unknown,
    day_logs_order_by_meal_then_id_and_filter_by_user_and_date,
    entries_between_are_in_day_order,
    credential_lookup_finds_the_stored_hash_only,
    user_ids_are_never_reused,
    new_user_has_no_targets_until_all_four_are_set,
    a_users_time_zone_is_utc_until_set,
    deleting_a_user_cascades_to_their_data,
    targets_are_set_and_read_back,
    delete_user_removes_everything_of_theirs_only,
    search_is_case_and_diacritic_insensitive_over_visible_foods,
    search_matches_wildcards_literally,
    frequent_foods_order_by_uses_then_id_and_forget_unused,
    editing_a_food_moves_its_recipes_not_its_entries,
    recipe_per_serving_is_computed_from_its_foods_and_read_back,
    recipe_with_an_unknown_food_writes_nothing,
    recipe_entries_snapshot_the_recipe_per_serving,
    update_recomputes_the_snapshot_and_returns_before_and_after,
    delete_removes_the_entry_and_takes_one_use_back,
    summary_totals_each_day_with_entries_in_range,
    completions_are_idempotent_and_read_up_to_a_day,
    meal_plans_keep_their_items_and_own_recipes_only,
    scheduling_places_each_item_on_its_date,
    schedules_refuse_overlaps_the_last_date_and_others_plans,
    concurrent_schedules_of_one_user_never_overlap,
    logged_needs_an_entry_with_the_same_meal_and_recipe_that_day,
    deleting_scheduled_meals_and_plans,
    second_migration_rolls_back_and_reapplies,
    every_covered_mutation_writes_one_row_in_its_transaction,
    pending_rows_come_by_age_and_go_when_done,
    an_import_adds_global_foods_and_the_same_batch_again_writes_nothing,
    a_later_release_updates_what_changed_in_place_and_deletes_nothing,
    a_source_given_twice_in_a_batch_is_applied_in_order,
    a_batch_that_fails_writes_nothing_and_a_rerun_finishes_it,
    batches_larger_than_a_statement_are_written_whole,
    the_seed_is_generic_and_folded_as_the_domain_folds,
    a_day_holds_at_most_its_bound_of_entries,
    a_move_into_a_full_day_is_refused_and_changes_nothing,
    a_user_owns_at_most_their_bound_of_foods_recipes_and_plans,
    concurrent_writes_never_pass_a_days_bound,
    concurrent_moves_and_creates_never_pass_a_bound,
    concurrent_edits_of_different_fields_both_stay,
    edits_expecting_one_state_apply_once,
    a_key_is_claimed_once_then_replayed_and_refused_for_another_request,
    an_abandoned_claim_is_taken_over_and_its_write_cannot_commit,
    a_released_claim_frees_the_key_but_never_an_answer,
    the_sweep_deletes_keys_claimed_before_its_time,
    search_ranks_own_and_logged_then_first_word_then_generic_then_fewer_words,
    streaks_follow_completions_and_undos,
    streaks_agree_with_the_days_after_any_sequence,
    the_migration_groups_existing_completions_into_runs,
    the_generation_moves_once_after_batches_that_changed_the_catalogue,
    a_search_splits_into_the_users_part_and_the_catalogues,
);

/// The bounds and concurrent edits on a SQLite file: creates go through
/// the writes' thread, in groups sharing a transaction, and moves, plans
/// and edits through the one writer connection beside it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_on_a_sqlite_file_never_pass_a_bound() {
    let dir = std::env::temp_dir().join(unique_name("macrotrack_sqlite"));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("macrotrack.db").display());
    let repo = SeaOrmRepository::connect(&DbConfig::new(url)).await.unwrap();
    repo.migrate().await.unwrap();
    concurrent_writes_never_pass_a_days_bound(&repo).await;
    concurrent_moves_and_creates_never_pass_a_bound(&repo).await;
    concurrent_edits_of_different_fields_both_stay(&repo).await;
    edits_expecting_one_state_apply_once(&repo).await;
    repo.connection().close_by_ref().await.unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

/// SQLite in memory has one connection, so the suite's concurrent
/// schedules take turns trivially; a file has a pool of writers that only
/// BEGIN IMMEDIATE keeps apart.
#[tokio::test]
async fn concurrent_schedules_on_a_sqlite_file_never_overlap() {
    let dir = std::env::temp_dir().join(unique_name("macrotrack_sqlite"));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("macrotrack.db").display());
    let repo = SeaOrmRepository::connect(&DbConfig::new(url)).await.unwrap();
    repo.migrate().await.unwrap();
    concurrent_schedules_of_one_user_never_overlap(&repo).await;
    repo.connection().close_by_ref().await.unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

/// On a SQLite file, batches are written in groups sharing a transaction:
/// 60 written at once, every fifth failing inside the database (a trigger
/// refuses its servings), must leave exactly the others, each with its
/// outbox row and its use, and answer each its own outcome.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_batches_on_a_sqlite_file_commit_in_groups_each_all_or_nothing() {
    use macrotrack_domain::{Amount, LogAmount, LogItem, Meal, NewLogEntry, Timestamp};
    use macrotrack_ports::{FoodRepository, LogRepository, UserRepository};

    let dir = std::env::temp_dir().join(unique_name("macrotrack_sqlite"));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("macrotrack.db").display());
    let repo = std::sync::Arc::new(SeaOrmRepository::connect(&DbConfig::new(url)).await.unwrap());
    repo.migrate().await.unwrap();
    let refuse = "CREATE TRIGGER refuse_777 BEFORE INSERT ON log_entries WHEN NEW.servings = 777 \
                  BEGIN SELECT RAISE(ABORT, 'planned failure'); END";
    repo.connection().execute_unprepared(refuse).await.unwrap();
    let user = repo.create_user("groups", "sel_groups", [3; 32]).await.unwrap().id;
    let food = repo.search_foods(user, "", 1).await.unwrap()[0].id;
    let writes: Vec<_> = (0..60)
        .map(|n| {
            let repo = repo.clone();
            tokio::spawn(async move {
                let servings = Amount::from_hundredths(if n % 5 == 0 { 777 } else { 100 + n });
                let entry = NewLogEntry {
                    date: "2026-11-24".parse().unwrap(),
                    meal: Meal::Lunch,
                    item: LogItem::Food(food),
                    amount: LogAmount::Servings(servings),
                };
                repo.create_log_entries(user, &[entry], Timestamp::new(chrono::Utc::now()))
                    .await
                    .map(|c| c.value[0].servings)
            })
        })
        .collect();
    let mut written = Vec::new();
    for (n, write) in writes.into_iter().enumerate() {
        match write.await.unwrap() {
            Ok(servings) => {
                assert_ne!(n % 5, 0, "write {n} should have failed");
                assert_eq!(servings, Amount::from_hundredths(100 + n as i64), "write {n} answered another's entry");
                written.push(n);
            }
            Err(error) => assert_eq!(n % 5, 0, "write {n} failed: {error:?}"),
        }
    }
    let count = |sql: &str| {
        let repo = repo.clone();
        let sql = sql.to_owned();
        async move {
            let statement = sea_orm::Statement::from_string(sea_orm::DbBackend::Sqlite, sql);
            let row = repo.connection().query_one_raw(statement).await.unwrap().unwrap();
            row.try_get_by_index::<i64>(0).unwrap()
        }
    };
    assert_eq!(written.len(), 48);
    assert_eq!(count("SELECT COUNT(*) FROM log_entries").await, 48, "only the writes answered Ok are stored");
    assert_eq!(count("SELECT COUNT(*) FROM cache_outbox").await, 48, "each with its outbox row");
    assert_eq!(count("SELECT uses FROM food_uses").await, 48, "and its use");
    repo.connection().close_by_ref().await.unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

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
