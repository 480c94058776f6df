//! `cargo xtask soak --minutes N [--debug]`: mixed reads and writes from
//! many users against a server on the embedded default for N minutes,
//! reporting requests, errors, p50/p99 and the server's resident memory
//! every minute. Fails on any error or when memory keeps growing.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, bail};

use crate::harness::{Backend, Writes, free_port, script_with, seed, start_server, today, wrk};

const SOAK_USERS: usize = 30;

pub fn run(root: &Path, target: &Path, minutes: u32, debug: bool) -> anyhow::Result<()> {
    let profile = if debug { "debug" } else { "release" };
    println!("soak: building the {profile} server");
    let mut build = Command::new(env!("CARGO"));
    build.args(["build", "-p", "macrotrack", "--bin", "macrotrack"]).current_dir(root);
    if !debug {
        build.arg("--release");
    }
    if !build.status()?.success() {
        bail!("build failed");
    }
    let work = std::env::temp_dir().join(format!("macrotrack-soak-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let backend = Backend {
        name: "embedded",
        database_url: format!("sqlite://{}?mode=rwc", work.join("soak.db").display()),
        redis_url: None,
    };
    let port = free_port()?;
    let server = start_server(&target.join(profile).join("macrotrack"), &backend, true, port)?;
    let base = format!("http://127.0.0.1:{port}");
    let tokens = seed(&base, SOAK_USERS)?;
    // 90% day reads, 10% writes that invalidate (completing and undoing
    // days) without growing the data, so memory can be judged flat.
    let mixed = script_with(&work, "soak", &tokens, "/v1/logs?date=DATE", 0.1, Writes::Completion)?;
    let mut rss_per_minute = Vec::new();
    let mut rows = Vec::new();
    let mut total_requests = 0.0;
    let mut total_errors = 0;
    println!("soak: {minutes} minute(s), 90% GET /v1/logs, 10% completing or undoing a day, over {SOAK_USERS} users");
    println!("soak: minute | req/s | requests | errors | p50 ms | p99 ms | RSS MiB");
    for minute in 1..=minutes {
        let measure = wrk(&format!("minute {minute}"), &base, Some(&mixed), 60)?;
        let rss = resident_mib(server.0.id()).context("reading the server's memory")?;
        total_requests += measure.requests_per_second * 60.0;
        total_errors += measure.errors;
        rss_per_minute.push(rss);
        rows.push(format!(
            "| {minute} | {:.0} | {:.0} | {} | {:.2} | {:.2} | {rss:.1} |",
            measure.requests_per_second,
            measure.requests_per_second * 60.0,
            measure.errors,
            measure.p50_ms,
            measure.p99_ms
        ));
        if measure.errors > 0 {
            println!("soak: wrk says: {}", measure.error_detail);
            let log = std::env::temp_dir().join(format!("macrotrack-bench-{port}.log"));
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(5).collect();
            println!("soak: the server's last log lines:\n{}", tail.into_iter().rev().collect::<Vec<_>>().join("\n"));
        }
        println!(
            "soak: {minute:>6} | {:>5.0} | {:>8.0} | {:>6} | {:>6.2} | {:>6.2} | {rss:.1}",
            measure.requests_per_second,
            measure.requests_per_second * 60.0,
            measure.errors,
            measure.p50_ms,
            measure.p99_ms
        );
    }
    drop(server);
    let _ = std::fs::remove_dir_all(&work);
    println!("soak: {total_requests:.0} requests, {total_errors} errors");
    if !debug && minutes >= 10 {
        record(root, minutes, &rows, total_requests, total_errors)?;
    }
    if total_errors > 0 {
        bail!("{total_errors} requests failed");
    }
    // Flat memory: after the first minute (caches filled), growth stays small.
    if let (Some(first), Some(last)) = (rss_per_minute.first(), rss_per_minute.last())
        && rss_per_minute.len() >= 3
        && *last > first * 1.25 + 16.0
    {
        bail!("resident memory grew from {first:.1} MiB to {last:.1} MiB");
    }
    Ok(())
}

const BEGIN: &str = "<!-- soak:begin (written by `cargo xtask soak --minutes 10`) -->";
const END: &str = "<!-- soak:end -->";

/// Writes a release soak of 10 minutes or more into docs/reliability.md,
/// between its markers, so the figures there are the last real run's.
fn record(root: &Path, minutes: u32, rows: &[String], requests: f64, errors: u64) -> anyhow::Result<()> {
    let when = today();
    let section = format!(
        "Release server on the embedded default, {minutes} minutes of wrk (2 threads, 64 connections) \
         over {SOAK_USERS} users, 90% `GET /v1/logs` and 10% `PUT`/`DELETE /v1/days/{{date}}/completion` (writes that invalidate without growing the data), run on {when}: \
         {requests:.0} requests, {errors} failed.\n\n\
         | minute | req/s | requests | errors | p50 ms | p99 ms | RSS MiB |\n|---|---|---|---|---|---|---|\n{}\n",
        rows.join("\n")
    );
    crate::replace_between(&root.join("docs/reliability.md"), BEGIN, END, &section)?;
    println!("soak: wrote the figures into docs/reliability.md");
    Ok(())
}

/// VmRSS of a process in MiB.
fn resident_mib(pid: u32) -> anyhow::Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kib: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .context("no VmRSS")?;
    Ok(kib / 1024.0)
}
