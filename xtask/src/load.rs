//! The HTTP load benchmark of `cargo xtask bench`: release servers on
//! loopback, a fixed data set (100 users × 30 days × 6 entries), wrk as the
//! load generator, and every figure reported as a ratio of a baseline
//! measured in the same run.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::closed_loop;

pub(crate) const USERS: usize = 100;
const DAYS: usize = 30;
const ENTRIES_PER_DAY: usize = 6;
const ADMIN: &str = "bench-admin-token";
const SECONDS: u32 = 10;
const CONNECTIONS: u32 = 64;
/// Users of the read-after-own-write loop, each on a connection of its own,
/// and the cycles (a write, then a read of the same day) each runs.
const CLOSED_LOOP_USERS: usize = 40;
const CLOSED_LOOP_CYCLES: usize = 40;

/// One wrk measurement.
#[derive(Debug, Clone)]
pub struct Measure {
    pub label: String,
    pub requests_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub errors: u64,
    /// wrk's own lines about failures, when there were any.
    pub error_detail: String,
}

/// A server process, stopped when dropped.
pub(crate) struct Server(pub(crate) Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg("-TERM").arg(self.0.id().to_string()).status();
        let _ = self.0.wait();
    }
}

pub(crate) fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

pub(crate) fn wait_until_serving(port: u16) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) {
            let _ = write!(stream, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            let mut answer = String::new();
            let _ = stream.read_to_string(&mut answer);
            if answer.starts_with("HTTP/1.1 200") || answer.starts_with("HTTP/1.1 404") {
                return Ok(());
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    bail!("nothing serves on port {port} after 30 s")
}

pub(crate) fn curl(args: &[&str]) -> anyhow::Result<String> {
    let output = Command::new("curl").arg("-sf").args(args).output().context("running curl")?;
    if !output.status.success() {
        bail!("curl {} failed: {}", args.join(" "), String::from_utf8_lossy(&output.stderr));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The value of `"key":` in a flat JSON answer (ids and tokens).
fn json_field(json: &str, key: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(json).ok()?;
    match &value[key] {
        serde_json::Value::String(text) => Some(text.clone()),
        serde_json::Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

pub(crate) fn dates() -> Vec<String> {
    (1..=DAYS).map(|day| format!("2026-10-{day:02}")).collect()
}

/// Creates the users and logs their days; returns their tokens.
pub(crate) fn seed(base: &str, users: usize) -> anyhow::Result<Vec<String>> {
    println!("bench: seeding {users} users × {DAYS} days × {ENTRIES_PER_DAY} entries");
    let mut tokens = Vec::with_capacity(users);
    let admin = format!("Authorization: Bearer {ADMIN}");
    for user in 0..users {
        let created = curl(&[
            "-X",
            "POST",
            &format!("{base}/v1/admin/users"),
            "-H",
            &admin,
            "-H",
            "Content-Type: application/json",
            "-d",
            &format!("{{\"name\":\"bench user {user}\"}}"),
        ])?;
        let token = json_field(&created, "token").context("no token in the answer")?;
        let auth = format!("Authorization: Bearer {token}");
        for half in dates().chunks(DAYS / 2) {
            let entries: Vec<String> = half
                .iter()
                .flat_map(|date| {
                    (0..ENTRIES_PER_DAY).map(move |i| {
                        let meal = ["breakfast", "lunch", "dinner", "snack"][i % 4];
                        format!("{{\"date\":\"{date}\",\"meal\":\"{meal}\",\"food_id\":{},\"servings\":1.5}}", i + 1)
                    })
                })
                .collect();
            let body = format!("{{\"entries\":[{}]}}", entries.join(","));
            curl(&[
                "-X",
                "POST",
                &format!("{base}/v1/logs"),
                "-H",
                &auth,
                "-H",
                "Content-Type: application/json",
                "-d",
                &body,
            ])?;
        }
        tokens.push(token);
    }
    Ok(tokens)
}

/// A wrk script spreading requests over every user and date; `writes` is
/// the share of `POST /v1/logs` in the mix.
pub(crate) fn script(dir: &Path, name: &str, tokens: &[String], path: &str, writes: f64) -> anyhow::Result<PathBuf> {
    script_with(dir, name, tokens, path, writes, Writes::LogEntry)
}

/// A wrk script asking for every user's day screens with the ETag each
/// answered just before (read here, one request per user and date): what a
/// client that keeps what it read sends.
fn revalidation_script(dir: &Path, base: &str, tokens: &[String], path: &str) -> anyhow::Result<PathBuf> {
    let agent: ureq::Agent = ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(10))).build().into();
    let mut rows = Vec::with_capacity(tokens.len() * DAYS);
    for token in tokens {
        for date in dates() {
            let uri = format!("{base}{}", path.replace("DATE", &date));
            let answer = agent.get(&uri).header("Authorization", &format!("Bearer {token}")).call()?;
            let etag = answer.headers().get("etag").and_then(|value| value.to_str().ok()).context("no ETag")?;
            // Lua long brackets: the tag's quotes stay as they are.
            rows.push(format!("{{\"{token}\", \"{date}\", [[{etag}]]}}"));
        }
    }
    let lua = format!(
        r#"local rows = {{ {rows} }}
request = function()
  local row = rows[math.random(#rows)]
  local headers = {{ ["Authorization"] = "Bearer " .. row[1], ["If-None-Match"] = row[3] }}
  local path = string.gsub("{path}", "DATE", row[2])
  return wrk.format("GET", path, headers)
end
"#,
        rows = rows.join(",\n"),
    );
    let file = dir.join("revalidating.lua");
    std::fs::write(&file, lua)?;
    Ok(file)
}

/// What the writes of a script do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Writes {
    /// `POST /v1/logs` of one entry: the data grows.
    LogEntry,
    /// `PUT` or `DELETE /v1/days/{date}/completion`: invalidates a day and
    /// the streaks, and the data stays the same size (for the soak).
    Completion,
}

pub(crate) fn script_with(
    dir: &Path,
    name: &str,
    tokens: &[String],
    path: &str,
    writes: f64,
    write: Writes,
) -> anyhow::Result<PathBuf> {
    let write_request = match write {
        Writes::LogEntry => {
            r#"headers["Content-Type"] = "application/json"
    local body = '{"entries":[{"date":"' .. date .. '","meal":"snack","food_id":1,"servings":1}]}'
    return wrk.format("POST", "/v1/logs", headers, body)"#
        }
        Writes::Completion => {
            r#"local method = "PUT"
    if math.random() < 0.5 then method = "DELETE" end
    return wrk.format(method, "/v1/days/" .. date .. "/completion", headers)"#
        }
    };
    let tokens: Vec<String> = tokens.iter().map(|t| format!("\"{t}\"")).collect();
    let dates: Vec<String> = dates().iter().map(|d| format!("\"{d}\"")).collect();
    let lua = format!(
        r#"local tokens = {{ {tokens} }}
local dates = {{ {dates} }}
request = function()
  local token = tokens[math.random(#tokens)]
  local date = dates[math.random(#dates)]
  local headers = {{ ["Authorization"] = "Bearer " .. token }}
  if math.random() < {writes} then
    {write_request}
  end
  local path = string.gsub("{path}", "DATE", date)
  return wrk.format("GET", path, headers)
end
"#,
        tokens = tokens.join(", "),
        dates = dates.join(", "),
    );
    let file = dir.join(format!("{name}.lua"));
    std::fs::write(&file, lua)?;
    Ok(file)
}

pub(crate) fn wrk(label: &str, url: &str, script: Option<&Path>, seconds: u32) -> anyhow::Result<Measure> {
    let mut command = Command::new("wrk");
    command.args(["-t2", &format!("-c{CONNECTIONS}"), &format!("-d{seconds}s"), "--latency", "--timeout", "10s"]);
    if let Some(script) = script {
        command.arg("-s").arg(script);
    }
    let output = command.arg(url).output().context("running wrk (apt-get install wrk)")?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let number = |prefix: &str| -> Option<f64> {
        text.lines()
            .find_map(|line| line.trim().strip_prefix(prefix))
            .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
    };
    let latency_ms = |prefix: &str| -> Option<f64> {
        let raw = text.lines().find_map(|line| line.trim().strip_prefix(prefix))?.trim().to_owned();
        let (value, unit) = raw.split_at(raw.find(|c: char| c.is_ascii_alphabetic())?);
        let value: f64 = value.parse().ok()?;
        Some(match unit {
            "us" => value / 1000.0,
            "ms" => value,
            "s" => value * 1000.0,
            _ => return None,
        })
    };
    let non_2xx = number("Non-2xx or 3xx responses:").unwrap_or(0.0) as u64;
    let socket_errors: u64 = text
        .lines()
        .find(|line| line.trim().starts_with("Socket errors:"))
        .map(|line| line.split(|c: char| !c.is_ascii_digit()).filter_map(|n| n.parse::<u64>().ok()).sum())
        .unwrap_or(0);
    let measure = Measure {
        label: label.to_owned(),
        requests_per_second: number("Requests/sec:")
            .with_context(|| format!("no Requests/sec in wrk's output:\n{text}"))?,
        p50_ms: latency_ms("50%").unwrap_or(f64::NAN),
        p99_ms: latency_ms("99%").unwrap_or(f64::NAN),
        errors: non_2xx + socket_errors,
        error_detail: text
            .lines()
            .filter(|line| line.contains("Non-2xx") || line.contains("Socket errors"))
            .map(str::trim)
            .collect::<Vec<_>>()
            .join("; "),
    };
    println!(
        "bench: {label}: {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, {} errors",
        measure.requests_per_second, measure.p50_ms, measure.p99_ms, measure.errors
    );
    Ok(measure)
}

/// Where a server keeps its data, and how it caches.
pub(crate) struct Backend {
    pub(crate) name: &'static str,
    pub(crate) database_url: String,
    pub(crate) redis_url: Option<String>,
}

pub(crate) fn start_server(binary: &Path, backend: &Backend, cache_on: bool, port: u16) -> anyhow::Result<Server> {
    start_server_as(binary, backend, cache_on, port, "bench")
}

/// As `start_server`, with Redis keys under a prefix of its own (another
/// build on the same data must not read this one's entries).
fn start_server_as(
    binary: &Path,
    backend: &Backend,
    cache_on: bool,
    port: u16,
    prefix: &str,
) -> anyhow::Result<Server> {
    let mut command = Command::new(binary);
    command
        .env("MACROTRACK_BIND", format!("127.0.0.1:{port}"))
        .env("DATABASE_URL", &backend.database_url)
        .env("MACROTRACK_CACHE", if cache_on { "on" } else { "off" })
        .env("MACROTRACK_ADMIN_TOKEN", ADMIN)
        .env("MACROTRACK_LOG", "warn")
        .env_remove("REDIS_URL")
        .stdout(Stdio::null());
    // Warnings and errors of the server go to a log beside its data, if any.
    let log = std::env::temp_dir().join(format!("macrotrack-bench-{port}.log"));
    command.stderr(std::fs::File::create(&log).map(Stdio::from).unwrap_or_else(|_| Stdio::null()));
    if let Some(redis) = &backend.redis_url {
        command.env("REDIS_URL", redis).env("MACROTRACK_REDIS_KEY_PREFIX", format!("{prefix}{}:", std::process::id()));
    }
    let server = Server(command.spawn().context("starting macrotrack")?);
    wait_until_serving(port)?;
    Ok(server)
}

/// The profiles taken in a run: the warm read, and the writes per backend.
pub struct Profiles {
    pub hot_read: String,
    pub writes: Vec<(&'static str, String)>,
}

/// Runs every load of the benchmark; returns the measures in order and the
/// profiles. `binary`: measure that server build instead of this tree's;
/// `before`: also measure the mix and the read after a write on that build
/// (the one before a change), in the same run.
pub fn run(
    root: &Path,
    target: &Path,
    binary: Option<&Path>,
    before: Option<&Path>,
) -> anyhow::Result<(Vec<Measure>, Profiles)> {
    println!("bench: building the release server and the baseline");
    let status = Command::new(env!("CARGO"))
        .args([
            "build",
            "--release",
            "-p",
            "macrotrack",
            "-p",
            "macrotrack-http",
            "--example",
            "baseline",
            "--bin",
            "macrotrack",
        ])
        .current_dir(root)
        .status()?;
    if !status.success() {
        bail!("release build failed");
    }
    let binary = binary.map_or_else(|| target.join("release/macrotrack"), Path::to_path_buf);
    let work = std::env::temp_dir().join(format!("macrotrack-bench-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let mut measures = Vec::new();
    let mut profile = String::new();
    let mut write_profiles = Vec::new();

    let mut backends = vec![Backend {
        name: "embedded (SQLite + in-process)",
        database_url: format!("sqlite://{}?mode=rwc", work.join("bench.db").display()),
        redis_url: None,
    }];
    // MACROTRACK_BENCH_EMBEDDED_ONLY=1: leave PostgreSQL + Redis out (to
    // study the embedded rows alone).
    let embedded_only = std::env::var("MACROTRACK_BENCH_EMBEDDED_ONLY").is_ok_and(|value| value == "1");
    let postgres = if embedded_only { Err(anyhow::anyhow!("embedded only")) } else { postgres_database(&work) };
    match &postgres {
        Ok((url, _)) => backends.push(Backend {
            name: "PostgreSQL + Redis",
            database_url: url.clone(),
            redis_url: Some(std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())),
        }),
        Err(error) => println!("bench: skipping PostgreSQL + Redis: {error:#}"),
    }

    // MACROTRACK_BENCH_QUICK=1: only the mix, the writes and the read after
    // a write (to compare builds while working; the doc is not written).
    let quick = std::env::var("MACROTRACK_BENCH_QUICK").is_ok_and(|value| value == "1");
    for (index, backend) in backends.iter().enumerate() {
        let port = free_port()?;
        let server = start_server(&binary, backend, true, port)?;
        let base = format!("http://127.0.0.1:{port}");
        let tokens = seed(&base, USERS)?;
        let logs = script(&work, "logs", &tokens, "/v1/logs?date=DATE", 0.0)?;
        if index == 0 && !quick {
            let sample = curl(&[
                &format!("{base}/v1/logs?date=2026-10-01"),
                "-H",
                &format!("Authorization: Bearer {}", tokens[0]),
            ])?;
            measures.extend(baseline(target, sample.len(), &logs)?);
        }
        // The day screen as a client asks for it: `today` is its today.
        let dashboard_path = format!("/v1/days/DATE?today={}", crate::bench::today());
        let dashboard = script(&work, "dashboard", &tokens, &dashboard_path, 0.0)?;
        let mixed = script(&work, "mixed", &tokens, "/v1/logs?date=DATE", 0.1)?;
        // Warm every key once, then measure.
        wrk("warm-up", &base, Some(&logs), 3)?;
        wrk("warm-up", &base, Some(&dashboard), 3)?;
        if !quick {
            measures.push(wrk(&format!("{}: GET /v1/logs, warm", backend.name), &base, Some(&logs), SECONDS)?);
        }
        if index == 0 && !quick {
            profile = crate::profile::hot_read(server.0.id(), &work, target, 5, || {
                let _ = wrk("profiling the warm read", &base, Some(&logs), 7);
            });
            // Where the time goes: no work at all, and authentication alone
            // (an unknown selector is never cached: one database query).
            measures.push(wrk(
                "embedded: GET /healthz (no auth, no database)",
                &format!("{base}/healthz"),
                None,
                SECONDS,
            )?);
            let unknown = script(
                &work,
                "unknown",
                &[format!("mt_1_{}_{}", "f".repeat(16), "0".repeat(64))],
                "/v1/logs?date=DATE",
                0.0,
            )?;
            measures.push(wrk(
                "embedded: GET /v1/logs, unknown token (401 after one credential query)",
                &base,
                Some(&unknown),
                SECONDS,
            )?);
        }
        if !quick {
            measures.push(wrk(
                &format!("{}: GET /v1/days/{{date}}, warm", backend.name),
                &base,
                Some(&dashboard),
                SECONDS,
            )?);
            // A client that keeps the day screen and asks again with its
            // ETag: 304, no body.
            let revalidating = revalidation_script(&work, &base, &tokens, &dashboard_path)?;
            measures.push(wrk(
                &format!("{}: GET /v1/days/{{date}} with a current If-None-Match (304)", backend.name),
                &base,
                Some(&revalidating),
                SECONDS,
            )?);
        }
        measures.push(wrk(&format!("{}: 90% reads, 10% writes", backend.name), &base, Some(&mixed), SECONDS)?);
        let writes = script(&work, "writes", &tokens, "/v1/logs?date=DATE", 1.0)?;
        measures.push(wrk(&format!("{}: POST /v1/logs only", backend.name), &base, Some(&writes), SECONDS)?);
        if !quick {
            let write_profile = crate::profile::write_path(server.0.id(), &work, target, 5, backend.name, || {
                let _ = wrk("profiling the writes", &base, Some(&writes), 7);
            });
            write_profiles.push((backend.name, write_profile));
        }
        measures.extend(closed_loops(backend.name, &base, &tokens, true)?);
        drop(server);
        if let Some(before) = before {
            // The same loads on the build before this change, same data.
            let port = free_port()?;
            let _old = start_server_as(before, backend, true, port, "before")?;
            let base = format!("http://127.0.0.1:{port}");
            wrk("warm-up", &base, Some(&logs), 3)?;
            let label = format!("{}: before this change", backend.name);
            measures.push(wrk(&format!("{label}: GET /v1/logs, warm"), &base, Some(&logs), SECONDS)?);
            measures.push(wrk(&format!("{label}: 90% reads, 10% writes"), &base, Some(&mixed), SECONDS)?);
            measures.extend(closed_loops(&label, &base, &tokens, false)?);
        }
        if quick {
            continue;
        }
        let port = free_port()?;
        let _off = start_server(&binary, backend, false, port)?;
        let base = format!("http://127.0.0.1:{port}");
        measures.push(wrk(&format!("{}: GET /v1/logs, cache off", backend.name), &base, Some(&logs), SECONDS)?);
        // Cache off, every read after a write goes to the database, as a
        // miss does: what the cache must not make slower.
        let (reads, _) = crate::closed_loop::read_after_own_write(
            &format!("{}: cache off: {}", backend.name, pace_label(closed_loop::BUSY)),
            &base,
            &tokens[..CLOSED_LOOP_USERS],
            &dates(),
            CLOSED_LOOP_CYCLES,
            closed_loop::BUSY,
        )?;
        measures.push(reads);
        measures.push(wrk(
            &format!("{}: GET /v1/days/{{date}}, cache off", backend.name),
            &base,
            Some(&dashboard),
            SECONDS,
        )?);
    }
    if let Ok((_, drop)) = postgres {
        drop();
    }
    let _ = std::fs::remove_dir_all(&work);
    Ok((measures, Profiles { hot_read: profile, writes: write_profiles }))
}

/// The read-after-own-write loop at both paces (`closed_loop`); the
/// writes' measures too when `with_writes`.
fn closed_loops(label: &str, base: &str, tokens: &[String], with_writes: bool) -> anyhow::Result<Vec<Measure>> {
    let mut measures = Vec::new();
    for pace in [closed_loop::BUSY, closed_loop::SATURATED] {
        let (reads, writes) = closed_loop::read_after_own_write(
            &format!("{label}: {}", pace_label(pace)),
            base,
            &tokens[..CLOSED_LOOP_USERS],
            &dates(),
            CLOSED_LOOP_CYCLES,
            pace,
        )?;
        measures.push(reads);
        if with_writes {
            measures.push(writes);
        }
    }
    Ok(measures)
}

/// How a closed loop's rows are labelled; the ratio table finds them by it.
pub(crate) fn pace_label(pace: Duration) -> String {
    let regime = if pace == closed_loop::SATURATED { ", more than the 2 cores serve" } else { "" };
    format!("{CLOSED_LOOP_USERS} users writing then reading their day, pauses of {} ms{regime}", pace.as_millis())
}

/// The baseline twice: plain wrk on one path, and wrk running the same
/// script as the warm reads (its Lua per request takes a share of the same
/// two cores, so only that row compares like with like).
fn baseline(target: &Path, body_size: usize, reads: &Path) -> anyhow::Result<Vec<Measure>> {
    let port = free_port()?;
    let child = Command::new(target.join("release/examples/baseline"))
        .args([format!("127.0.0.1:{port}"), body_size.to_string()])
        .stdout(Stdio::null())
        .spawn()
        .context("starting the baseline")?;
    let _server = Server(child);
    wait_until_serving(port)?;
    let base = format!("http://127.0.0.1:{port}");
    wrk("baseline: actix-web, fixed JSON body", &base, None, 3)?;
    Ok(vec![
        wrk(&format!("baseline: actix-web, fixed {body_size}-byte JSON body, one path"), &base, None, SECONDS)?,
        wrk(
            &format!("baseline: actix-web, fixed {body_size}-byte JSON body, the reads' wrk script"),
            &base,
            Some(reads),
            SECONDS,
        )?,
    ])
}

/// A fresh PostgreSQL database for the run, through psql, and how to drop it.
pub(crate) fn postgres_database(work: &Path) -> anyhow::Result<(String, impl FnOnce())> {
    let server = std::env::var("DATABASE_URL")
        .ok()
        .filter(|url| url.starts_with("postgres"))
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/test".into());
    let name = format!("macrotrack_bench_{}", std::process::id());
    let output = Command::new("psql")
        .arg(&server)
        .args(["-q", "-c", &format!("CREATE DATABASE {name}")])
        .current_dir(work)
        .output()
        .context("running psql")?;
    if !output.status.success() {
        bail!("psql: {}", String::from_utf8_lossy(&output.stderr).trim());
    }
    let base = server.rsplit_once('/').map(|(base, _)| base).unwrap_or(&server);
    let url = format!("{base}/{name}");
    let drop = move || {
        let _ = Command::new("psql")
            .arg(&server)
            .args(["-q", "-c", &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")])
            .output();
    };
    Ok((url, drop))
}
