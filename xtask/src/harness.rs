//! What the benchmark, the soak and the closed loop share: release servers
//! on loopback, the data set they are seeded with (users × 30 days × 6
//! entries), wrk scripts over it and wrk's measures, a throwaway
//! PostgreSQL database.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

pub(crate) const DAYS: usize = 30;
const ENTRIES_PER_DAY: usize = 6;
pub(crate) const ADMIN: &str = "bench-admin-token";
const CONNECTIONS: u32 = 64;

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
pub(crate) fn start_server_as(
    binary: &Path,
    backend: &Backend,
    cache_on: bool,
    port: u16,
    prefix: &str,
) -> anyhow::Result<Server> {
    let key_prefix = format!("{prefix}{}:", std::process::id());
    start_server_with(binary, backend, cache_on, port, &key_prefix, &[])
}

/// As `start_server_as`, with Redis keys under `key_prefix` exactly and
/// `env` set over the bench's settings (say, rate limits on).
pub(crate) fn start_server_with(
    binary: &Path,
    backend: &Backend,
    cache_on: bool,
    port: u16,
    key_prefix: &str,
    env: &[(&str, &str)],
) -> anyhow::Result<Server> {
    let mut command = Command::new(binary);
    command
        .env("MACROTRACK_BIND", format!("127.0.0.1:{port}"))
        .env("DATABASE_URL", &backend.database_url)
        .env("MACROTRACK_CACHE", if cache_on { "on" } else { "off" })
        .env("MACROTRACK_ADMIN_TOKEN", ADMIN)
        .env("MACROTRACK_LOG", "warn")
        // A few users at tens of thousands of requests a second: the
        // figures are the server's, not its rate limits'.
        .env("MACROTRACK_RATE_LIMIT", "0")
        .env_remove("REDIS_URL")
        .stdout(Stdio::null());
    // Warnings and errors of the server go to a log beside its data, if any.
    let log = std::env::temp_dir().join(format!("macrotrack-bench-{port}.log"));
    command.stderr(std::fs::File::create(&log).map(Stdio::from).unwrap_or_else(|_| Stdio::null()));
    if let Some(redis) = &backend.redis_url {
        command.env("REDIS_URL", redis).env("MACROTRACK_REDIS_KEY_PREFIX", key_prefix);
    }
    command.envs(env.iter().copied());
    let server = Server(command.spawn().context("starting macrotrack")?);
    wait_until_serving(port)?;
    Ok(server)
}

/// A fresh PostgreSQL database for the run, named after `purpose` and the
/// process, through psql, and how to drop it.
pub(crate) fn postgres_database(work: &Path, purpose: &str) -> anyhow::Result<(String, impl FnOnce())> {
    let server = std::env::var("DATABASE_URL")
        .ok()
        .filter(|url| url.starts_with("postgres"))
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/test".into());
    let name = format!("macrotrack_{purpose}_{}", std::process::id());
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

/// Today's date (UTC), as the docs' "run on" lines and the day screen's
/// `today` want it.
pub(crate) fn today() -> String {
    let output = Command::new("date").args(["-u", "+%Y-%m-%d"]).output();
    output.ok().map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned()).unwrap_or_default()
}

/// The machine the figures are from: its CPU, cores and memory.
pub fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model =
        cpuinfo.lines().find_map(|l| l.strip_prefix("model name")).map(|l| l.trim_start_matches([' ', '\t', ':']));
    let cores = cpuinfo.lines().filter(|l| l.starts_with("processor")).count();
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory_kb: u64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|l| l.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    format!("{}, {cores} cores, {} GiB", model.unwrap_or("unknown CPU"), memory_kb / 1024 / 1024)
}
