//! The HTTP load benchmark of `cargo xtask bench`: release servers on
//! loopback over the harness's data set (100 users), wrk as the load
//! generator, and every figure reported as a ratio of a baseline measured
//! in the same run.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};

use crate::closed_loop;
use crate::harness::{
    Backend, DAYS, Measure, Server, curl, dates, free_port, postgres_database, script, seed, start_server,
    start_server_as, today, wait_until_serving, wrk,
};

const USERS: usize = 100;
const SECONDS: u32 = 10;
/// Users of the read-after-own-write loop, each on a connection of its own,
/// and the cycles (a write, then a read of the same day) each runs.
const CLOSED_LOOP_USERS: usize = 40;
const CLOSED_LOOP_CYCLES: usize = 40;

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
    let postgres =
        if embedded_only { Err(anyhow::anyhow!("embedded only")) } else { postgres_database(&work, "bench") };
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
        let dashboard_path = format!("/v1/days/DATE?today={}", today());
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
