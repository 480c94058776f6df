//! Instructions per warm `GET /v1/logs`, counted by callgrind: the
//! embedded release server under `valgrind --tool=callgrind`, one user with
//! one logged day, reads on one keep-alive connection. The counters are
//! zeroed before and dumped after a run of 1000 reads and one of 3000; the
//! difference over 2000 leaves out what does not grow with the reads (the
//! idle runtime, the dump). Unlike wrk's figures, the count does not
//! depend on what else the machine runs.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

const DATE: &str = "2026-11-24";
const ROUNDS: usize = 2;

/// The server under callgrind, stopped when dropped.
struct Profiled(Child);

impl Drop for Profiled {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg("-TERM").arg(self.0.id().to_string()).status();
        let _ = self.0.wait();
    }
}

/// Measures `binary` in `work` (emptied first) and prints instructions per read.
pub fn run(binary: &Path, work: &Path) -> anyhow::Result<()> {
    let _ = std::fs::remove_dir_all(work);
    std::fs::create_dir_all(work).with_context(|| format!("creating {}", work.display()))?;
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let database = format!("sqlite://{}?mode=rwc", work.join("callgrind.db").display());
    let envs = [("DATABASE_URL", database), ("MACROTRACK_BIND", format!("127.0.0.1:{port}"))];
    let created = Command::new(binary).args(["user", "create", "callgrind"]).envs(envs.clone()).output()?;
    let output = String::from_utf8_lossy(&created.stdout);
    let token = output.split_whitespace().last().context("`user create` printed no token")?.to_owned();
    let out = work.join("callgrind.out");
    let server = Profiled(
        Command::new("valgrind")
            .args(["--tool=callgrind", &format!("--callgrind-out-file={}", out.display())])
            .arg(binary)
            .arg("serve")
            .envs(envs)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("running valgrind (is it installed?)")?,
    );
    let mut connection = connect(port)?;
    let food = exchange(&mut connection, "POST", "/v1/foods", &token, Some(FOOD))?;
    let food: serde_json::Value = serde_json::from_str(&food)?;
    let entry = format!(
        "{{\"entries\":[{{\"date\":\"{DATE}\",\"meal\":\"breakfast\",\"food_id\":{},\"servings\":1.5}}]}}",
        food["id"]
    );
    exchange(&mut connection, "POST", "/v1/logs", &token, Some(&entry))?;
    let path = format!("/v1/logs?date={DATE}");
    let mut reads = |count: usize| -> anyhow::Result<()> {
        for _ in 0..count {
            exchange(&mut connection, "GET", &path, &token, None)?;
        }
        Ok(())
    };
    reads(200)?;
    let pid = server.0.id().to_string();
    for _ in 0..ROUNDS {
        let mut counted = Vec::new();
        for count in [1000, 3000] {
            control(&["-z", &pid])?;
            reads(count)?;
            counted.push(dumped(work, &pid)?);
        }
        let per_read = (counted[1] - counted[0]) as f64 / 2000.0;
        println!(
            "callgrind: 1000 reads {} Ir, 3000 reads {} Ir: {per_read:.0} instructions per read",
            counted[0], counted[1]
        );
    }
    Ok(())
}

const FOOD: &str = r#"{"name":"Oats","serving_size":250,"serving_unit":"g","calories":310.5,"protein_g":12,"carbs_g":48.25,"fat_g":7.5}"#;

fn control(args: &[&str]) -> anyhow::Result<()> {
    let status = Command::new("callgrind_control").args(args).stdout(Stdio::null()).stderr(Stdio::null()).status()?;
    if !status.success() {
        bail!("callgrind_control {} failed", args.join(" "));
    }
    Ok(())
}

/// Dumps the counters and answers their total (`summary:` of the new dump files).
fn dumped(work: &Path, pid: &str) -> anyhow::Result<u64> {
    let is_dump = |name: &str| name.starts_with("callgrind.out.");
    for entry in std::fs::read_dir(work)?.flatten() {
        if is_dump(&entry.file_name().to_string_lossy()) {
            std::fs::remove_file(entry.path())?;
        }
    }
    control(&["-d", pid])?;
    let mut total = 0;
    for entry in std::fs::read_dir(work)?.flatten() {
        if !is_dump(&entry.file_name().to_string_lossy()) {
            continue;
        }
        for line in BufReader::new(std::fs::File::open(entry.path())?).lines() {
            if let Some(count) = line?.strip_prefix("summary: ") {
                total += count.trim().parse::<u64>()?;
            }
        }
    }
    Ok(total)
}

/// A connection to the server once it answers (slowly, under valgrind).
fn connect(port: u16) -> anyhow::Result<TcpStream> {
    let deadline = Instant::now() + Duration::from_secs(300);
    while Instant::now() < deadline {
        if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port))
            && exchange(&mut stream, "GET", "/healthz", "", None).is_ok()
        {
            return Ok(stream);
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    bail!("nothing serves on port {port} after 300 s")
}

/// One request on a keep-alive connection; answers the body of a 2xx.
fn exchange(
    stream: &mut TcpStream,
    method: &str,
    path: &str,
    token: &str,
    body: Option<&str>,
) -> anyhow::Result<String> {
    match body {
        Some(body) => write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )?,
        // A read as clients send it: no body, no body headers.
        None => write!(stream, "{method} {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n")?,
    }
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut status = String::new();
    reader.read_line(&mut status)?;
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        if line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse()?;
        }
    }
    let mut answer = vec![0; length];
    reader.read_exact(&mut answer)?;
    if !status.split_whitespace().nth(1).is_some_and(|code| code.starts_with('2')) {
        bail!("{method} {path}: {}", status.trim());
    }
    Ok(String::from_utf8_lossy(&answer).into_owned())
}
