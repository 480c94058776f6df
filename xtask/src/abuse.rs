//! `cargo xtask abuse [--debug] [--flood]`: the hostile clients of issue 21
//! against the binary on both backends (SQLite with the in-process cache,
//! PostgreSQL with Redis), each asserting the contract's answer; a table of
//! what each row expected and observed; non-zero exit on any failure. A
//! release run writes the table into docs/reliability.md. `--flood` runs
//! the flood benchmark instead (flood.rs).

use std::path::Path;
use std::process::Command;

use anyhow::bail;

use crate::harness::{ADMIN, Backend, free_port, postgres_database, start_server_with, today};
use crate::hostile::{self, Row, Target};
use crate::probe::Client;

/// The body deadline the servers run with: short, so the trickle is quick.
const BODY_TIMEOUT_SECONDS: &str = "2";
/// The per-user limit of the rows that need limits (the contract's default).
const RATE_LIMIT: u32 = 100;

/// A row of the table and what the contract expects of it.
type Scenario = (&'static str, &'static str, fn(&Target) -> anyhow::Result<(String, bool)>);

/// Rows run with the rate limits off: their clients are not floods of
/// requests but of data, and a 429 would hide the answer looked at.
const UNLIMITED: &[Scenario] = &[
    (
        "300 batches of 100 entries on one date (4 connections)",
        "201 ×2, then 422 (200 entries a day)",
        hostile::batches_on_one_day,
    ),
    (
        "two PATCH /v1/foods/{id} at once (name, calories), 200 rounds",
        "0 rounds lose an edit",
        hostile::concurrent_field_edits,
    ),
    (
        "the same POST /v1/logs twice with one Idempotency-Key",
        "201, then the same 201 replayed (Idempotent-Replayed: true); 1 entry",
        hostile::retried_post,
    ),
    ("GET /v1/foods?query=%00", "422 on `query`", hostile::search_for_nul),
    (
        "GET /v1/days/{d} over 2,000 dates beyond 400 days (8 connections)",
        "200 each; no new Redis key",
        hostile::far_day_screens,
    ),
    (
        "6,000 completed days, then GET /v1/streaks?today=2200-12-31 ×10",
        "streak 6000/6000; its entry not kept, no new Redis key",
        hostile::streak_of_6000_days,
    ),
    (
        "a body trickled one byte a second (MACROTRACK_BODY_TIMEOUT=2)",
        "408, connection closed within 5 s",
        hostile::trickled_body,
    ),
];

/// Rows run with the contract's default limit: they are floods.
const LIMITED: &[Scenario] = &[
    (
        "3,000 requests of one token from 32 connections",
        "429 with Retry-After past 2×limit + limit/s; no credential read for a 429",
        hostile::one_token_as_fast_as_possible,
    ),
    (
        "2,000 well-formed made-up tokens from 32 connections",
        "401 for the burst, then 429 with Retry-After; lookups = 401s ≤ 100 + 20/s + 32; a known token still served",
        hostile::made_up_tokens,
    ),
];

/// What each row's client got from the code before issue 21, as the issue
/// reported it (PostgreSQL + Redis unless it says otherwise).
const BEFORE: &[(&str, &str)] = &[
    ("300 batches of 100 entries on one date (4 connections)", "all 30,000 accepted; the day's read was 7.7 MB"),
    ("two PATCH /v1/foods/{id} at once (name, calories), 200 rounds", "174 of 200 rounds lost an edit"),
    ("the same POST /v1/logs twice with one Idempotency-Key", "two entries"),
    ("GET /v1/foods?query=%00", "503"),
    ("GET /v1/days/{d} over 2,000 dates beyond 400 days (8 connections)", "8,007 new Redis keys, guards living 5 h"),
    ("6,000 completed days, then GET /v1/streaks?today=2200-12-31 ×10", "a full scan each call, uncached"),
    ("a body trickled one byte a second (MACROTRACK_BODY_TIMEOUT=2)", "the connection held after 30 s"),
    ("3,000 requests of one token from 32 connections", "no limit"),
    ("2,000 well-formed made-up tokens from 32 connections", "2,000 database lookups, no 429"),
];

pub fn run(root: &Path, target_dir: &Path, debug: bool) -> anyhow::Result<()> {
    let profile = if debug { "debug" } else { "release" };
    build(root, debug)?;
    let binary = target_dir.join(profile).join("macrotrack");
    let work = std::env::temp_dir().join(format!("macrotrack-abuse-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let redis = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let postgres = postgres_database(&work, "abuse");
    let mut backends = vec![Backend {
        name: "SQLite + in-process",
        database_url: format!("sqlite://{}?mode=rwc", work.join("abuse.db").display()),
        redis_url: None,
    }];
    match &postgres {
        Ok((url, _)) => backends.push(Backend {
            name: "PostgreSQL + Redis",
            database_url: url.clone(),
            redis_url: Some(redis.clone()),
        }),
        Err(error) => println!("abuse: PostgreSQL is not there ({error:#}); a row says so"),
    }
    let started = std::time::Instant::now();
    let mut table: Vec<(&'static str, Row)> = Vec::new();
    let mut outcome = Ok(());
    for backend in &backends {
        if let Err(error) = on_backend(&binary, backend, &mut table) {
            outcome = Err(error.context(format!("on {}", backend.name)));
            break;
        }
    }
    if let Err(error) = &postgres {
        let row = Row {
            row: "PostgreSQL + Redis",
            expected: "the suite runs".to_owned(),
            observed: format!("not run: {error:#}"),
            seconds: 0.0,
            passed: false,
        };
        table.push(("PostgreSQL + Redis", row));
    }
    if let Ok((_, drop)) = postgres {
        drop();
    }
    let _ = std::fs::remove_dir_all(&work);
    outcome?;
    print_table(&table);
    let failed = table.iter().filter(|(_, row)| !row.passed).count();
    println!("abuse: {} rows, {failed} failed, {:.0} s", table.len(), started.elapsed().as_secs_f64());
    if !debug {
        record(root, &table)?;
    }
    if failed > 0 {
        bail!("{failed} hostile-client rows did not get the contract's answer");
    }
    Ok(())
}

fn build(root: &Path, debug: bool) -> anyhow::Result<()> {
    let mut build = Command::new(env!("CARGO"));
    build.args(["build", "-p", "macrotrack", "--bin", "macrotrack"]).current_dir(root);
    if !debug {
        build.arg("--release");
    }
    if !build.status()?.success() {
        bail!("build failed");
    }
    Ok(())
}

/// Both servers of one backend, one after the other on the same data: the
/// rows without limits, then the floods with them.
fn on_backend(binary: &Path, backend: &Backend, table: &mut Vec<(&'static str, Row)>) -> anyhow::Result<()> {
    let key_prefix = format!("abuse{}:", std::process::id());
    for (limit, scenarios) in [(0, UNLIMITED), (RATE_LIMIT, LIMITED)] {
        let port = free_port()?;
        let rate = limit.to_string();
        let env = [("MACROTRACK_RATE_LIMIT", rate.as_str()), ("MACROTRACK_BODY_TIMEOUT", BODY_TIMEOUT_SECONDS)];
        let server = start_server_with(binary, backend, true, port, &key_prefix, &env)?;
        let target = Target {
            client: Client::new(&format!("http://127.0.0.1:{port}")),
            port,
            admin: ADMIN.to_owned(),
            redis: backend.redis_url.clone().map(|url| (url, key_prefix.clone())),
            rate_limit: limit,
        };
        println!("abuse: {}, MACROTRACK_RATE_LIMIT={limit}", backend.name);
        for (row, expected, scenario) in scenarios {
            table.push((backend.name, hostile::run(row, expected, &target, scenario)));
        }
        // Whatever each row saw, the server's own count of 5xx.
        let errors = target.client.metrics().map(|metrics| metrics.server_errors());
        let row = Row {
            row: if limit == 0 { "no 5xx (server's count, rows above)" } else { "no 5xx (server's count, floods)" },
            expected: "0".to_owned(),
            observed: errors.as_ref().map_or_else(|error| format!("error: {error:#}"), u64::to_string),
            seconds: 0.0,
            passed: errors.is_ok_and(|errors| errors == 0),
        };
        table.push((backend.name, row));
        drop(server);
    }
    if let Some(url) = &backend.redis_url {
        // The run's keys go with it.
        let _ = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "redis-cli -u '{url}' --scan --pattern '{key_prefix}*' | xargs -r -n 500 redis-cli -u '{url}' del"
            ))
            .output();
    }
    Ok(())
}

fn print_table(table: &[(&'static str, Row)]) {
    println!("\nabuse: backend | row | expected | observed | s | ok");
    for (backend, row) in table {
        println!(
            "abuse: {backend} | {} | {} | {} | {:.1} | {}",
            row.row,
            row.expected,
            row.observed,
            row.seconds,
            if row.passed { "ok" } else { "FAIL" }
        );
    }
}

const BEGIN: &str = "<!-- abuse:begin (written by `cargo xtask abuse`) -->";
const END: &str = "<!-- abuse:end -->";

/// Writes a release run's table into docs/reliability.md, between its
/// markers.
fn record(root: &Path, table: &[(&'static str, Row)]) -> anyhow::Result<()> {
    let mut section = format!(
        "Release server, `cargo xtask abuse`, run on {} (load generator and servers on the same machine; \
         rate limits off for the first rows, `MACROTRACK_RATE_LIMIT={RATE_LIMIT}` for the floods, \
         `MACROTRACK_BODY_TIMEOUT={BODY_TIMEOUT_SECONDS}`). \
         \"Before issue 21\" is what the issue measured, on PostgreSQL + Redis.\n\n\
         | backend | what one client did | before issue 21 | expected | observed | time | |\n|---|---|---|---|---|---|---|\n",
        today()
    );
    for (backend, row) in table {
        let before = BEFORE.iter().find(|(name, _)| *name == row.row).map_or("", |(_, before)| before);
        section.push_str(&format!(
            "| {backend} | {} | {before} | {} | {} | {:.1} s | {} |\n",
            row.row.replace('|', "\\|"),
            row.expected.replace('|', "\\|"),
            row.observed.replace('|', "\\|"),
            row.seconds,
            if row.passed { "ok" } else { "**FAIL**" }
        ));
    }
    crate::replace_between(&root.join("docs/reliability.md"), BEGIN, END, &section)?;
    println!("abuse: wrote the table into docs/reliability.md");
    Ok(())
}
