//! Server processes for the tests that run the `macrotrack` binary, and
//! plain HTTP/1.1 over `std::net::TcpStream`, one connection per request
//! (no HTTP client is among the dev-dependencies).

#![allow(dead_code)] // each test binary uses a different part

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use macrotrack_testkit::free_port;
use serde_json::Value;

pub const ADMIN: &str = "processes-admin-token-0123456789";

// ---------------------------------------------------------------- HTTP

pub struct Answer {
    pub status: u16,
    pub text: String,
    /// The status line and headers, lowercased.
    pub head: String,
}

impl Answer {
    /// The value of header `name` (lowercase), if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|line| line.strip_prefix(name)?.strip_prefix(':').map(str::trim))
    }

    /// Asserts `status` and returns the JSON body.
    pub fn ok(&self, status: u16) -> Value {
        assert_eq!(self.status, status, "{}", self.text);
        serde_json::from_str(&self.text).unwrap_or_else(|error| panic!("not JSON ({error}): {}", self.text))
    }
}

pub fn request_bytes(method: &str, path: &str, token: Option<&str>, body: Option<&Value>) -> Vec<u8> {
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    if let Some(token) = token {
        head.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    let body = body.map(Value::to_string).unwrap_or_default();
    if !body.is_empty() {
        head.push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body.as_bytes());
    bytes
}

/// Sends `request` and reads the answer until the server closes.
pub fn exchange(stream: &mut TcpStream, request: &[u8]) -> std::io::Result<Answer> {
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    stream.set_nodelay(true)?;
    stream.write_all(request)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").ok_or(std::io::ErrorKind::InvalidData)?;
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let status = head.split(' ').nth(1).and_then(|code| code.parse().ok()).ok_or(std::io::ErrorKind::InvalidData)?;
    let body = &raw[split + 4..];
    let chunked = head.lines().any(|line| line.starts_with("transfer-encoding:") && line.contains("chunked"));
    let body = if chunked { dechunk(body) } else { body.to_vec() };
    Ok(Answer { status, text: String::from_utf8_lossy(&body).into_owned(), head })
}

/// A chunked body's payload.
pub fn dechunk(mut rest: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    while let Some(end) = rest.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&rest[..end]).ok().and_then(|s| usize::from_str_radix(s.trim(), 16).ok());
        let Some(size) = size.filter(|&size| size > 0 && end + 2 + size <= rest.len()) else { break };
        body.extend_from_slice(&rest[end + 2..end + 2 + size]);
        rest = &rest[(end + 4 + size).min(rest.len())..];
    }
    body
}

pub fn try_send(
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> std::io::Result<Answer> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    exchange(&mut stream, &request_bytes(method, path, token, body))
}

/// One request on a connection of its own; never a 5xx.
pub fn send(port: u16, method: &str, path: &str, token: Option<&str>, body: Option<&Value>) -> Answer {
    let answer =
        try_send(port, method, path, token, body).unwrap_or_else(|error| panic!("{method} {path} on {port}: {error}"));
    assert!(answer.status < 500, "{method} {path} on {port}: {} {}", answer.status, answer.text);
    answer
}

/// `macrotrack_cache_requests_total` of one process, summed over tiers, by
/// (family, outcome).
pub fn cache_counts(port: u16) -> BTreeMap<(String, String), u64> {
    let answer = send(port, "GET", "/metrics", None, None);
    assert_eq!(answer.status, 200, "{}", answer.text);
    let mut counts = BTreeMap::new();
    for line in answer.text.lines() {
        let Some(rest) = line.strip_prefix("macrotrack_cache_requests_total{") else { continue };
        let Some((labels, value)) = rest.split_once("} ") else { continue };
        let label = |name: &str| {
            labels.split(',').find_map(|pair| pair.strip_prefix(name)?.strip_prefix("=\"")?.strip_suffix('"'))
        };
        let (Some(family), Some(outcome)) = (label("family"), label("outcome")) else { continue };
        let value = value.trim().parse::<f64>().unwrap_or_else(|_| panic!("a counter value: {line}")) as u64;
        *counts.entry((family.to_owned(), outcome.to_owned())).or_insert(0) += value;
    }
    counts
}

pub fn count(counts: &BTreeMap<(String, String), u64>, family: &str, outcome: &str) -> u64 {
    counts.get(&(family.to_owned(), outcome.to_owned())).copied().unwrap_or(0)
}

// ----------------------------------------------------------- processes

/// One `macrotrack` server process, its stderr in a file. On drop (a
/// panicking test included) it gets SIGTERM and is waited for; SIGKILL if it
/// has not stopped within 10 s.
pub struct Server {
    pub name: &'static str,
    pub child: Child,
    pub port: u16,
    pub log: PathBuf,
}

impl Server {
    pub fn start(name: &'static str, dir: &Path, database_url: &str, redis_url: &str) -> Server {
        Server::start_with(name, dir, database_url, redis_url, &[])
    }

    /// As `start`, with more environment variables set.
    pub fn start_with(
        name: &'static str,
        dir: &Path,
        database_url: &str,
        redis_url: &str,
        env: &[(&str, &str)],
    ) -> Server {
        // free_port() can race with another process taking the port: retry.
        for _ in 0..3 {
            let port = free_port();
            let log = dir.join(format!("{name}.log"));
            let mut command = Command::new(env!("CARGO_BIN_EXE_macrotrack"));
            for (variable, _) in std::env::vars_os() {
                if variable.to_string_lossy().starts_with("MACROTRACK_") {
                    command.env_remove(variable);
                }
            }
            command
                .current_dir(dir)
                .env("MACROTRACK_BIND", format!("127.0.0.1:{port}"))
                .env("DATABASE_URL", database_url)
                .env("REDIS_URL", redis_url)
                .env("MACROTRACK_ADMIN_TOKEN", ADMIN)
                .env("MACROTRACK_LOG", "warn")
                // These suites drive one user at full speed; limits.rs
                // turns the limits on where they are the subject.
                .env("MACROTRACK_RATE_LIMIT", "0")
                .envs(env.iter().copied())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(File::create(&log).expect("a log file"));
            let child = command.spawn().expect("the macrotrack binary starts");
            let mut server = Server { name, child, port, log };
            match server.wait_healthy() {
                Ok(()) => return server,
                Err(text) if text.contains("cannot listen") => continue,
                Err(text) => panic!("server {name} did not start: {text}"),
            }
        }
        panic!("server {name}: no free port in 3 attempts");
    }

    fn wait_healthy(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("exited with {status}: {}", self.log_text()));
            }
            let healthy = try_send(self.port, "GET", "/healthz", None, None).is_ok_and(|a| a.status == 200);
            // Still ours: a child that lost the port exits at once.
            if healthy && matches!(self.child.try_wait(), Ok(None)) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!("no /healthz within 60 s: {}", self.log_text()));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("--- server {} (port {}) stderr ---\n{}", self.name, self.port, self.log_text());
        }
    }
}
