//! The binary and the real server: it serves over TCP and stops on SIGTERM;
//! wrong settings fail with one line and exit code 1; `user create` prints
//! a token; `openapi` prints the document.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use macrotrack_testkit::unique_name;

/// The binary with a clean environment of settings.
fn macrotrack(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_macrotrack"));
    command.current_dir(dir).env("MACROTRACK_LOG", "warn");
    for variable in [
        "MACROTRACK_BIND",
        "DATABASE_URL",
        "REDIS_URL",
        "MACROTRACK_CACHE",
        "MACROTRACK_ADMIN_TOKEN",
        "MACROTRACK_REDIS_KEY_PREFIX",
    ] {
        command.env_remove(variable);
    }
    command
}

fn temp_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(unique_name("macrotrack_bin"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A plain HTTP/1.1 GET: (status line, body).
fn http_get(port: u16, path: &str, token: Option<&str>) -> (String, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connects");
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let auth = token.map(|token| format!("Authorization: Bearer {token}\r\n")).unwrap_or_default();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: localhost\r\n{auth}Connection: close\r\n\r\n").unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").expect("a head and a body");
    (head.lines().next().unwrap().to_owned(), body.to_owned())
}

#[actix_web::test]
async fn build_serves_over_tcp_and_stops_gracefully() {
    let (settings, dir) = common::sqlite_settings();
    let application = macrotrack::build(settings).await.unwrap();
    let port = application.port();
    assert_ne!(port, 0, "port 0 is resolved to the bound port");
    let handle = application.handle();
    let server = actix_web::rt::spawn(application.run_until_stopped());
    let get = move |path: &'static str| actix_web::rt::task::spawn_blocking(move || http_get(port, path, None));
    let (status, body) = get("/healthz").await.unwrap();
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert_eq!(body, r#"{"status":"ok"}"#);
    let (status, body) = get("/v1/nothing").await.unwrap();
    assert_eq!(status, "HTTP/1.1 404 Not Found");
    assert!(body.contains("\"status\":404"), "{body}");
    handle.stop(true).await;
    server.await.unwrap().unwrap();
    let _ = std::fs::remove_dir_all(dir);
}

/// HEAD over TCP: the GET's status and headers, and not one byte of body.
#[actix_web::test]
async fn head_answers_headers_only() {
    let (settings, dir) = common::sqlite_settings();
    let application = macrotrack::build(settings).await.unwrap();
    let port = application.port();
    let handle = application.handle();
    let server = actix_web::rt::spawn(application.run_until_stopped());
    let exchange = move |request: String| {
        actix_web::rt::task::spawn_blocking(move || {
            let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connects");
            stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            stream.write_all(request.as_bytes()).unwrap();
            let mut answer = Vec::new();
            stream.read_to_end(&mut answer).unwrap();
            String::from_utf8(answer).unwrap()
        })
    };
    let user = r#"{"name":"hd"}"#;
    let created = exchange(format!(
        "POST /v1/admin/users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{user}",
        common::ADMIN,
        user.len()
    ))
    .await
    .unwrap();
    let body = created.split_once("\r\n\r\n").unwrap().1;
    let token = serde_json::from_str::<serde_json::Value>(body).unwrap()["token"].as_str().unwrap().to_owned();
    let request = |method: &str| {
        format!(
            "{method} /v1/logs?date=2026-11-24 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
        )
    };
    let get = exchange(request("GET")).await.unwrap();
    let head = exchange(request("HEAD")).await.unwrap();
    let (get_head, get_body) = get.split_once("\r\n\r\n").unwrap();
    let (head_head, head_body) = head.split_once("\r\n\r\n").unwrap();
    assert!(get_body.contains("\"entries\""), "{get}");
    assert_eq!(head_body, "", "HEAD sent a body: {head}");
    let field = |head: &str, name: &str| {
        head.lines().find_map(|line| line.strip_prefix(name)).map(|value| value.trim().to_owned())
    };
    assert_eq!(head_head.lines().next(), Some("HTTP/1.1 200 OK"));
    assert_eq!(field(head_head, "etag:"), field(get_head, "etag:"));
    assert!(field(head_head, "etag:").is_some() && field(head_head, "cache-status:").is_some(), "{head}");
    handle.stop(true).await;
    server.await.unwrap().unwrap();
    let _ = std::fs::remove_dir_all(dir);
}

/// Runs the binary to completion: (exit code, stdout, stderr).
fn run(command: &mut Command) -> (i32, String, String) {
    let output = command.output().expect("the binary runs");
    let text = |bytes: Vec<u8>| String::from_utf8(bytes).unwrap();
    (output.status.code().unwrap_or(-1), text(output.stdout), text(output.stderr))
}

#[test]
fn wrong_settings_fail_with_one_line_and_exit_code_1() {
    let dir = temp_dir();
    let cases: [(&[(&str, &str)], &str); 6] = [
        // Nothing listens on port 1; the password is never echoed.
        (&[("DATABASE_URL", "postgres://user:hunter2@127.0.0.1:1/x")], "cannot connect to the database"),
        (&[("DATABASE_URL", "mysql://localhost/x")], "unsupported database URL"),
        (&[("MACROTRACK_CACHE", "maybe")], "invalid value 'maybe'"),
        (&[("REDIS_URL", "memcached://localhost")], "Redis"),
        (&[("MACROTRACK_BIND", "not an address")], "cannot listen on not an address"),
        (&[("MACROTRACK_LOG", "[[")], "MACROTRACK_LOG"),
    ];
    for (variables, expected) in cases {
        let (code, stdout, stderr) = run(macrotrack(&dir).envs(variables.iter().copied()));
        assert_eq!(code, 1, "{variables:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{variables:?}: one line, got {stderr:?}");
        assert!(stderr.starts_with("error: ") && stderr.contains(expected), "{variables:?}: {stderr}");
        assert!(!stderr.contains("panicked") && !stderr.contains("hunter2"), "{stderr}");
        assert!(stdout.is_empty(), "{stdout}");
    }
    let (code, _, stderr) = run(macrotrack(&dir).args(["cache", "invalidate", "--user", "1", "--tag", "user_1"]));
    assert_eq!((code, stderr.lines().count()), (1, 1), "{stderr}");
    assert!(stderr.contains("REDIS_URL"), "{stderr}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn user_create_then_serve_on_the_embedded_default() {
    let dir = temp_dir();
    let (code, stdout, stderr) = run(macrotrack(&dir).arg("migrate"));
    assert_eq!((code, stdout.as_str()), (0, "migrations applied (sqlite)\n"), "{stderr}");
    let (code, stdout, stderr) = run(macrotrack(&dir).args(["user", "create", "alice"]));
    assert_eq!(code, 0, "{stderr}");
    let token = stdout.trim().to_owned();
    assert!(token.starts_with("mt_") && stdout.lines().count() == 1, "{stdout}");
    assert!(stderr.contains("alice"), "{stderr}");
    assert!(dir.join("macrotrack.db").exists(), "the default database is a file in the working directory");

    let mut child = macrotrack(&dir).args(["--bind", "127.0.0.1:0"]).stdout(Stdio::piped()).spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let port: u16 = first.strip_prefix("macrotrack listening on http://127.0.0.1:").expect(&first).parse().unwrap();
    let hint: Vec<String> = lines.by_ref().take(2).map(Result::unwrap).collect();
    assert!(
        hint.iter().any(|line| line.contains("macrotrack user create NAME")
            && line.contains("cargo run --release -- user create NAME")),
        "{hint:?}"
    );
    let (status, body) = http_get(port, "/v1/logs?date=2026-11-24", Some(&token));
    assert_eq!(status, "HTTP/1.1 200 OK", "{body}");
    assert!(body.contains("\"entries\":[]"), "{body}");
    let (status, _) = http_get(port, "/v1/logs?date=2026-11-24", Some("mt_bad"));
    assert_eq!(status, "HTTP/1.1 401 Unauthorized");

    let terminated = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(terminated.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "graceful shutdown on SIGTERM exits 0, got {status}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn openapi_prints_the_served_document_without_a_database() {
    let dir = temp_dir();
    // A database that does not answer: the command must not need one.
    let (code, stdout, stderr) =
        run(macrotrack(&dir).env("DATABASE_URL", "postgres://postgres@127.0.0.1:1/x").arg("openapi"));
    assert_eq!(code, 0, "{stderr}");
    let printed: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(printed, macrotrack_http::openapi_document());
    // Indented, for the committed copy's diffs (clients/typescript).
    assert!(stdout.starts_with("{\n  \"") && stdout.ends_with("}\n"), "{}", &stdout[..40.min(stdout.len())]);
    assert!(!dir.join("macrotrack.db").exists());
    let _ = std::fs::remove_dir_all(dir);
}
