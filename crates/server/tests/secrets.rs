//! Tokens stay secret: stored hashed, and absent from logs and metrics. The
//! binary runs with debug logs; every line it writes is searched for the
//! tokens (user and admin) and for their secret halves.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use macrotrack_testkit::{free_port, unique_name};

fn http(port: u16, method: &str, path: &str, token: &str, body: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connects");
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

#[test]
fn tokens_never_reach_logs_or_metrics() {
    let dir = std::env::temp_dir().join(unique_name("macrotrack_secrets"));
    std::fs::create_dir_all(&dir).unwrap();
    let port = free_port();
    let admin = "admin-secret-0f9e8d7c6b5a";
    let mut server = Command::new(env!("CARGO_BIN_EXE_macrotrack"))
        .current_dir(&dir)
        .env("MACROTRACK_BIND", format!("127.0.0.1:{port}"))
        .env("DATABASE_URL", format!("sqlite://{}?mode=rwc", dir.join("db.sqlite").display()))
        .env("MACROTRACK_ADMIN_TOKEN", admin)
        .env("MACROTRACK_LOG", "debug")
        .env_remove("REDIS_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let created = http(port, "POST", "/v1/admin/users", admin, r#"{"name":"Alice"}"#);
    let token =
        created.split("\"token\":\"").nth(1).and_then(|rest| rest.split('"').next()).expect("a token").to_owned();
    let secret = token.rsplit('_').next().unwrap().to_owned();
    assert!(http(port, "GET", "/v1/me", &token, "").starts_with("HTTP/1.1 200"));
    http(port, "GET", "/v1/logs?date=2026-11-24", &token, "");
    http(
        port,
        "GET",
        "/v1/me",
        "mt_0123456789abcdef_wrongwrongwrongwrongwrongwrongwrongwrongwrongwrongwrongwrong1234",
        "",
    );
    http(port, "POST", "/v1/foods", &token, "{not json");
    let metrics = http(port, "GET", "/metrics", &token, "");
    let _ = Command::new("kill").arg("-TERM").arg(server.id().to_string()).status();
    let _ = server.wait();
    let mut logs = String::new();
    server.stdout.take().unwrap().read_to_string(&mut logs).unwrap();
    server.stderr.take().unwrap().read_to_string(&mut logs).unwrap();
    // The test saw real traffic in the logs: it can fail.
    assert!(logs.contains("/v1/me"), "debug logs record requests:\n{logs}");
    for needle in [token.as_str(), secret.as_str(), admin] {
        assert!(!logs.contains(needle), "a secret is in the logs");
        assert!(!metrics.contains(needle), "a secret is in the metrics");
    }
    // Stored hashed: the database file holds neither the token nor its secret.
    let database = std::fs::read(dir.join("db.sqlite")).unwrap_or_default();
    let wal = std::fs::read(dir.join("db.sqlite-wal")).unwrap_or_default();
    for bytes in [database, wal] {
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(&secret), "the secret is stored in clear");
    }
    let _ = std::fs::remove_dir_all(dir);
}
