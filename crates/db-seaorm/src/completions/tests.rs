//! A streak reads a bounded number of rows whatever the user's history:
//! 3,000 one-day runs in the past and a current streak of three, and each
//! statement `streak` runs is shown to stop after a row (PostgreSQL: the
//! rows and pages its plan touched, measured; SQLite: a search of an index
//! in the statement's order, cut by its LIMIT). The old full read of the
//! history is measured beside them, to show the measure sees it.

use macrotrack_domain::{Day, Streak, UserId};
use macrotrack_ports::{CompletionRepository, UserRepository};
use macrotrack_testkit::FreshDatabase;
use sea_orm::{ConnectionTrait, DbBackend, QueryTrait, Statement};

use super::{latest_run, longest_run};
use crate::{DbConfig, SeaOrmRepository};

const PAST_RUNS: i64 = 3000;

fn day(text: &str) -> Day {
    text.parse().unwrap()
}

/// A user with `PAST_RUNS` one-day runs from 1950 on (every other day) and
/// three days completed up to `today`; answers them and today.
async fn long_history(repo: &SeaOrmRepository) -> (UserId, Day) {
    let user = repo.create_user("long history", "0123456789abcdef", [7; 32]).await.unwrap().id;
    let start = day("1950-01-01");
    let dates: Vec<String> = (0..PAST_RUNS).map(|n| start.plus_days(2 * n).unwrap().to_string()).collect();
    for chunk in dates.chunks(500) {
        let runs: Vec<String> = chunk.iter().map(|date| format!("({}, '{date}', '{date}', 1)", user.0)).collect();
        let completions: Vec<String> = chunk.iter().map(|date| format!("({}, '{date}')", user.0)).collect();
        let db = repo.connection();
        let runs =
            format!("INSERT INTO completion_runs (user_id, first_day, last_day, days) VALUES {}", runs.join(","));
        db.execute_unprepared(&runs).await.unwrap();
        let completions = format!("INSERT INTO day_completions (user_id, date) VALUES {}", completions.join(","));
        db.execute_unprepared(&completions).await.unwrap();
    }
    for date in ["2026-11-22", "2026-11-23", "2026-11-24"] {
        repo.complete_day(user, day(date)).await.unwrap();
    }
    (user, day("2026-11-24"))
}

/// The plan's lines for `sql`, as the backend explains it (PostgreSQL runs it).
async fn explain(repo: &SeaOrmRepository, sql: &str) -> Vec<String> {
    let backend = repo.connection().get_database_backend();
    let (explain, column) = match backend {
        DbBackend::Postgres => (format!("EXPLAIN (ANALYZE, BUFFERS, FORMAT TEXT) {sql}"), "QUERY PLAN"),
        _ => (format!("EXPLAIN QUERY PLAN {sql}"), "detail"),
    };
    let rows = repo.connection().query_all_raw(Statement::from_string(backend, explain)).await.unwrap();
    rows.iter().map(|row| row.try_get::<String>("", column).unwrap()).collect()
}

/// The number written after `label` in `text`, or 0.
fn number_after(text: &str, label: &str) -> u64 {
    let Some(at) = text.find(label) else { return 0 };
    text[at + label.len()..].chars().take_while(char::is_ascii_digit).collect::<String>().parse().unwrap_or(0)
}

/// Rows a PostgreSQL plan's nodes produced or threw away, and the pages it
/// touched (the first `Buffers:` line is the top node's, which counts its
/// children's).
fn work(plan: &[String]) -> (u64, u64) {
    let produced: u64 =
        plan.iter().map(|line| line.split("(actual ").nth(1).map_or(0, |a| number_after(a, "rows="))).sum();
    let removed: u64 = plan.iter().map(|line| number_after(line, "Rows Removed by Filter: ")).sum();
    let top = plan.iter().find(|line| line.contains("Buffers:")).map_or("", String::as_str);
    (produced + removed, number_after(top, "hit=") + number_after(top, "read="))
}

async fn a_streak_reads_a_row_or_two(repo: &SeaOrmRepository) {
    let (user, today) = long_history(repo).await;
    let streak = repo.streak(user, today).await.unwrap();
    assert_eq!(streak, Streak { current: 3, longest: 3, last_completed: Some(today) });
    let backend = repo.connection().get_database_backend();
    if backend == DbBackend::Postgres {
        repo.connection().execute_unprepared("ANALYZE completion_runs; ANALYZE day_completions").await.unwrap();
    }
    let old = format!("SELECT date FROM day_completions WHERE user_id = {} AND date <= '{today}'", user.0);
    let statements =
        [latest_run(user, today).build(backend).to_string(), longest_run(user, today).build(backend).to_string()];
    for sql in &statements {
        let plan = explain(repo, sql).await;
        match backend {
            DbBackend::Postgres => {
                let (rows, pages) = work(&plan);
                assert!(rows <= 4 && pages <= 12, "{rows} rows, {pages} pages: {sql}\n{}", plan.join("\n"));
            }
            _ => {
                assert!(sql.contains("LIMIT"), "{sql}");
                for step in &plan {
                    assert!(step.starts_with("SEARCH") && step.contains("USING"), "{step}: {sql}");
                    assert!(!step.contains("TEMP B-TREE"), "sorts every row first: {step}: {sql}");
                }
            }
        }
    }
    if backend == DbBackend::Postgres {
        let (rows, _) = work(&explain(repo, &old).await);
        assert!(rows >= PAST_RUNS as u64, "the full read measured {rows} rows");
    }
}

#[tokio::test]
async fn a_streak_reads_a_row_or_two_on_sqlite() {
    let repo = SeaOrmRepository::connect(&DbConfig::new("sqlite::memory:")).await.unwrap();
    repo.migrate().await.unwrap();
    a_streak_reads_a_row_or_two(&repo).await;
}

#[tokio::test]
async fn a_streak_reads_a_row_or_two_on_postgres() {
    let Some(database) = FreshDatabase::create("macrotrack_streak_work").await else { return };
    let repo = SeaOrmRepository::connect(&DbConfig::new(database.url.clone())).await.unwrap();
    repo.migrate().await.unwrap();
    a_streak_reads_a_row_or_two(&repo).await;
    repo.connection().close_by_ref().await.unwrap();
    database.drop().await;
}
