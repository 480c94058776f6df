//! `cargo xtask abuse --flood`: what a flood of made-up tokens costs a
//! legitimate user. Users of real tokens read their warm day
//! (`GET /v1/logs?date=`) at a steady pace, first alone, then while wrk
//! sends 2,000 well-formed made-up tokens over and over from 32
//! connections, from the same address; their p99 under the flood is
//! compared with their quiet p99, measured in the same run. Release
//! server, the contract's default limits. Writes docs/benchmarks.md's
//! flood section.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::harness::{ADMIN, Backend, free_port, postgres_database, start_server_with, today};
use crate::probe::{Client, made_up_token, percentile_ms};

/// Legitimate users, each on a connection of its own, and the pace of each
/// (well inside the default 100 a second).
const USERS: usize = 4;
const PACE: Duration = Duration::from_millis(25);
const MEASURE: Duration = Duration::from_secs(15);
const TOKENS: usize = 2_000;
const CONNECTIONS: usize = 32;
/// The goal: p99 under the flood within this factor of the quiet p99.
const GOAL: f64 = 2.0;

/// One backend's figures.
struct Figures {
    backend: &'static str,
    quiet: Phase,
    flooded: Phase,
    flood_rate: f64,
    flood_answers: String,
    lookups: u64,
    /// What a valid token never used before got, sent during the flood.
    unseen_token: u16,
    /// The users under as many requests of `/healthz` as fast.
    control: Phase,
    control_rate: f64,
}

/// The legitimate users' view of one phase.
struct Phase {
    p50_ms: f64,
    p99_ms: f64,
    requests: usize,
    not_ok: usize,
}

pub fn run(root: &Path, target_dir: &Path) -> anyhow::Result<()> {
    let status = Command::new(env!("CARGO"))
        .args(["build", "--release", "-p", "macrotrack", "--bin", "macrotrack"])
        .current_dir(root)
        .status()?;
    if !status.success() {
        bail!("release build failed");
    }
    let binary = target_dir.join("release/macrotrack");
    let work = std::env::temp_dir().join(format!("macrotrack-flood-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let script = flood_script(&work)?;
    // What else the machine ran: the figures are only as quiet as it was.
    let load_before = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load_before = load_before.split_whitespace().take(3).collect::<Vec<_>>().join(" ");
    let (database, drop_database) = postgres_database(&work, "flood")?;
    let redis = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let backends = [
        Backend { name: "PostgreSQL + Redis", database_url: database, redis_url: Some(redis.clone()) },
        Backend {
            name: "SQLite + in-process",
            database_url: format!("sqlite://{}?mode=rwc", work.join("flood.db").display()),
            redis_url: None,
        },
    ];
    let key_prefix = format!("flood{}:", std::process::id());
    let mut figures = Vec::new();
    for backend in &backends {
        match measure(&binary, backend, &key_prefix, &script) {
            Ok(measured) => figures.push(measured),
            Err(error) => {
                drop_database();
                return Err(error.context(format!("on {}", backend.name)));
            }
        }
    }
    drop_database();
    let _ = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "redis-cli -u '{redis}' --scan --pattern '{key_prefix}*' | xargs -r -n 500 redis-cli -u '{redis}' del"
        ))
        .output();
    let _ = std::fs::remove_dir_all(&work);
    let section = render(&figures, &load_before);
    println!("{section}");
    crate::replace_between(&root.join("docs/benchmarks.md"), BEGIN, END, &section)?;
    println!("flood: wrote the figures into docs/benchmarks.md");
    let over: Vec<&str> =
        figures.iter().filter(|f| f.flooded.p99_ms > GOAL * f.quiet.p99_ms).map(|f| f.backend).collect();
    if !over.is_empty() {
        bail!(
            "p99 under the flood is over {GOAL}× the quiet p99 on {} (see the control column: \
             as fast a GET /healthz slows the users as much)",
            over.join(", ")
        );
    }
    Ok(())
}

/// A wrk script sending the made-up tokens in turn.
fn flood_script(dir: &Path) -> anyhow::Result<std::path::PathBuf> {
    let tokens: Vec<String> = (0..TOKENS as u64).map(|n| format!("\"{}\"", made_up_token(n))).collect();
    let lua = format!(
        r#"local tokens = {{ {} }}
local n = 0
request = function()
  n = n % #tokens + 1
  return wrk.format("GET", "/v1/logs?date=2026-10-01", {{ ["Authorization"] = "Bearer " .. tokens[n] }})
end
"#,
        tokens.join(", ")
    );
    let file = dir.join("flood.lua");
    std::fs::write(&file, lua)?;
    Ok(file)
}

fn measure(binary: &Path, backend: &Backend, key_prefix: &str, script: &Path) -> anyhow::Result<Figures> {
    let port = free_port()?;
    // The contract's defaults: limits on, the default body deadline.
    let _server = start_server_with(binary, backend, true, port, key_prefix, &[("MACROTRACK_RATE_LIMIT", "100")])?;
    let base = format!("http://127.0.0.1:{port}");
    let client = Client::new(&base);
    let mut tokens = Vec::new();
    for user in 0..USERS {
        let token = client.user(ADMIN, &format!("reader {user}"))?;
        let body = r#"{"entries":[{"date":"2026-10-01","meal":"lunch","food_id":1,"servings":1.5},{"date":"2026-10-01","meal":"dinner","food_id":2,"servings":1}]}"#;
        client.expect(201, "POST", "/v1/logs", Some(&token), Some(body))?;
        tokens.push(token);
    }
    // A user whose token has not authenticated yet when the flood starts.
    let newcomer = client.user(ADMIN, "newcomer")?;
    println!("flood: {}: warming up", backend.name);
    read_at_pace(&base, &tokens, Duration::from_secs(3))?;
    let quiet = read_at_pace(&base, &tokens, MEASURE)?;
    println!("flood: {}: quiet p50 {:.2} ms, p99 {:.2} ms", backend.name, quiet.p50_ms, quiet.p99_ms);
    let lookups_before = client.metrics()?.credential_fetches();
    let (flooded, flood, unseen_token) = under_wrk(&base, &tokens, Some(script), "", || {
        client.get("/v1/logs?date=2026-10-01", Some(&newcomer)).map(|answer| answer.status)
    })?;
    let lookups = client.metrics()?.credential_fetches() - lookups_before;
    println!(
        "flood: {}: under the flood p50 {:.2} ms, p99 {:.2} ms; the flood: {:.0} req/s ({}), {lookups} lookups",
        backend.name, flooded.p50_ms, flooded.p99_ms, flood.rate, flood.summary
    );
    // The control: as many connections asking for /healthz as fast, which
    // no limiter looks at and which is answered about as cheaply as a 429.
    let (control, control_load, _) = under_wrk(&base, &tokens, None, "/healthz", || Ok(0))?;
    println!(
        "flood: {}: under GET /healthz as fast p50 {:.2} ms, p99 {:.2} ms ({:.0} req/s)",
        backend.name, control.p50_ms, control.p99_ms, control_load.rate
    );
    Ok(Figures {
        backend: backend.name,
        quiet,
        flooded,
        flood_rate: flood.rate,
        flood_answers: flood.summary,
        lookups,
        unseen_token,
        control,
        control_rate: control_load.rate,
    })
}

/// What wrk reported of its load.
struct Load {
    rate: f64,
    summary: String,
}

/// Runs wrk from `CONNECTIONS` connections on `base` + `path` (with
/// `script`, if any) while the users read at their pace; `probe` runs once
/// the load has gone on for a second. The users' phase, wrk's load and
/// what `probe` returned.
fn under_wrk<T>(
    base: &str,
    tokens: &[String],
    script: Option<&Path>,
    path: &str,
    probe: impl FnOnce() -> anyhow::Result<T>,
) -> anyhow::Result<(Phase, Load, T)> {
    let seconds = (MEASURE + Duration::from_secs(3)).as_secs();
    let mut command = Command::new("wrk");
    command.args(["-t1", &format!("-c{CONNECTIONS}"), &format!("-d{seconds}s"), "--timeout", "10s"]);
    if let Some(script) = script {
        command.arg("-s").arg(script);
    }
    let wrk = command
        .arg(format!("{base}{path}"))
        .stdout(Stdio::piped())
        .spawn()
        .context("running wrk (apt-get install wrk)")?;
    // A flood reaches its penalty (the failure burst spent) within a
    // second; the users are measured under it from then on.
    std::thread::sleep(Duration::from_secs(1));
    let probed = probe();
    let phase = read_at_pace(base, tokens, MEASURE);
    let output = wrk.wait_with_output()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let rate = text
        .lines()
        .find_map(|line| line.trim().strip_prefix("Requests/sec:"))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .with_context(|| format!("no Requests/sec from wrk:\n{text}"))?;
    let summary = text
        .lines()
        .filter(|line| line.contains("requests in") || line.contains("Non-2xx") || line.contains("Socket errors"))
        .map(str::trim)
        .collect::<Vec<_>>()
        .join("; ");
    Ok((phase?, Load { rate, summary }, probed?))
}

/// Each user reads its day every `PACE` for `length`, on a connection of
/// its own; their latencies together.
fn read_at_pace(base: &str, tokens: &[String], length: Duration) -> anyhow::Result<Phase> {
    let results: Vec<anyhow::Result<(Vec<Duration>, usize)>> = std::thread::scope(|scope| {
        let readers: Vec<_> = tokens
            .iter()
            .map(|token| {
                scope.spawn(move || -> anyhow::Result<(Vec<Duration>, usize)> {
                    let client = Client::new(base);
                    let started = Instant::now();
                    let mut latencies = Vec::new();
                    let mut not_ok = 0;
                    let mut next = started;
                    while started.elapsed() < length {
                        if let Some(wait) = next.checked_duration_since(Instant::now()) {
                            std::thread::sleep(wait);
                        }
                        // Measured from when the request was due: a late
                        // start is latency the user sees too.
                        let due = next;
                        let answer = client.get("/v1/logs?date=2026-10-01", Some(token))?;
                        latencies.push(due.elapsed().max(Duration::ZERO));
                        not_ok += usize::from(answer.status != 200);
                        next += PACE;
                    }
                    Ok((latencies, not_ok))
                })
            })
            .collect();
        readers.into_iter().map(|reader| reader.join().unwrap_or_else(|_| bail!("a reader panicked"))).collect()
    });
    let mut latencies = Vec::new();
    let mut not_ok = 0;
    for result in results {
        let (mine, failed) = result?;
        latencies.extend(mine);
        not_ok += failed;
    }
    let requests = latencies.len();
    Ok(Phase {
        p50_ms: percentile_ms(&mut latencies, 50.0),
        p99_ms: percentile_ms(&mut latencies, 99.0),
        requests,
        not_ok,
    })
}

const READING: &str = "
How to read it: the users' tokens authenticated before the flood, so their
address's failure budget, which the flood spends within its first second,
does not apply to them (`limits.rs` remembers tokens that authenticated);
the non-200 column counts any of their requests refused. wrk sends as fast
as the server answers, so the flood also costs the users its rate: the
control column is the same connections asking for `GET /healthz` as fast,
with no token and no limiter involved, and the flooded p99 is to be read
against it as much as against the quiet one. The flood's credential
lookups stay the failure budget's (the burst, then 20 a second). A valid
token not used before the flood is answered 429 while its address is
penalised: without a lookup it cannot be told from a made-up one.
Findings across runs: docs/reliability.md, \"Hostile clients\".
";

const BEGIN: &str = "<!-- flood:begin (written by `cargo xtask abuse --flood`) -->";
/// Where the flood section ends; `cargo xtask bench` keeps what stands
/// between the markers when it writes the rest of the file.
pub(crate) const END: &str = "<!-- flood:end -->";

/// The flood section with its markers, as the file holds it now (empty
/// when it has none), for `cargo xtask bench` to keep.
pub(crate) fn current_section(doc: &str) -> Option<&str> {
    let start = doc.find(BEGIN)?;
    let stop = doc[start..].find(END)? + start + END.len();
    Some(&doc[start..stop])
}

fn render(figures: &[Figures], load: &str) -> String {
    let mut out = format!(
        "## A user's reads under a flood of made-up tokens\n\n\
         Run on {} with `cargo xtask abuse --flood` (release server, `MACROTRACK_RATE_LIMIT=100`, \
         load generators on the same 2 cores; load average {load} as it began): {USERS} users read their warm day (`GET /v1/logs?date=`) \
         every {} ms each for {} s, alone, then while wrk (1 thread) sends {TOKENS} made-up well-formed \
         tokens in turn from {CONNECTIONS} connections, from the same address (127.0.0.1).\n\n\
         | backend | quiet p50 | quiet p99 | flooded p50 | flooded p99 | p99 ratio (goal ≤ {GOAL}×) | users' non-200 | a token unused before, in the flood | flood req/s | flood's credential lookups | wrk | control: p99 under `GET /healthz` from 32 connections (req/s), ratio |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|\n",
        today(),
        PACE.as_millis(),
        MEASURE.as_secs()
    );
    for f in figures {
        out.push_str(&format!(
            "| {} | {:.2} ms | {:.2} ms | {:.2} ms | {:.2} ms | {:.2}× | {} of {} | {} | {:.0} | {} | {} | {:.2} ms ({:.0}), {:.2}× |\n",
            f.backend,
            f.quiet.p50_ms,
            f.quiet.p99_ms,
            f.flooded.p50_ms,
            f.flooded.p99_ms,
            f.flooded.p99_ms / f.quiet.p99_ms,
            f.quiet.not_ok + f.flooded.not_ok + f.control.not_ok,
            f.quiet.requests + f.flooded.requests + f.control.requests,
            f.unseen_token,
            f.flood_rate,
            f.lookups,
            f.flood_answers,
            f.control.p99_ms,
            f.control_rate,
            f.control.p99_ms / f.quiet.p99_ms
        ));
    }
    out.push_str(READING);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_section_kept_by_the_bench_is_the_one_between_the_markers() {
        let doc = format!("# Benchmarks\n\n{BEGIN}\n## Flood\n| a |\n{END}\n");
        assert_eq!(current_section(&doc), Some(format!("{BEGIN}\n## Flood\n| a |\n{END}").as_str()));
        assert_eq!(current_section("# Benchmarks\n"), None);
        assert_eq!(current_section(&format!("{END}\n{BEGIN}\n")), None, "an end before the beginning is none");
    }
}
