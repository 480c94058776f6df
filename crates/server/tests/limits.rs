//! The bounds one client is held to, against the binary: a user's request
//! budget and an address's failed-authentication budget (429 problem+json
//! with Retry-After, before any lookup), `MACROTRACK_RATE_LIMIT=0`, the
//! body deadline (408, closed) and the header timeout.

mod process;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use macrotrack_testkit::unique_name;
use process::{ADMIN, Answer, Server, exchange, send, try_send};
use serde_json::json;

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(unique_name("macrotrack_limits"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A server on a fresh SQLite file with the in-process cache.
fn server(name: &'static str, dir: &std::path::Path, env: &[(&str, &str)]) -> Server {
    let database = format!("sqlite://{}?mode=rwc", dir.join(format!("{name}.db")).display());
    Server::start_with(name, dir, &database, "", env)
}

/// A new user's token.
fn user(port: u16, name: &str) -> String {
    let created = send(port, "POST", "/v1/admin/users", Some(ADMIN), Some(&json!({ "name": name }))).ok(201);
    created["token"].as_str().unwrap().to_owned()
}

/// `macrotrack_cache_fetches_total` of the credential: the credential reads
/// that reached the database.
fn credential_fetches(port: u16) -> u64 {
    let metrics = send(port, "GET", "/metrics", None, None);
    metrics
        .text
        .lines()
        .filter(|line| line.starts_with("macrotrack_cache_fetches_total{") && line.contains("family=\"credential\""))
        .map(|line| line.rsplit(' ').next().unwrap().parse::<f64>().unwrap() as u64)
        .sum()
}

/// Reads of the credential through the cache, whatever their outcome.
fn credential_reads(port: u16) -> u64 {
    let counts = process::cache_counts(port);
    counts.iter().filter(|((family, _), _)| family == "credential").map(|(_, count)| count).sum()
}

/// Asserts a 429 problem with a Retry-After of whole seconds, at least 1.
fn assert_too_many(answer: &Answer) {
    assert_eq!(answer.status, 429, "{}", answer.text);
    assert_eq!(answer.header("content-type"), Some("application/problem+json"));
    let retry_after: u64 = answer.header("retry-after").expect("Retry-After").parse().expect("whole seconds");
    assert!(retry_after >= 1, "{retry_after}");
    let body: serde_json::Value = serde_json::from_str(&answer.text).unwrap();
    assert_eq!(body["status"], 429);
}

/// A well-formed token naming a credential nobody holds.
fn made_up_token(n: u64) -> String {
    format!("mt_{}_{:016x}_{:064x}", 1_000_000 + n, n, n)
}

#[test]
fn a_user_over_budget_is_answered_429_before_any_lookup_and_another_user_is_served() {
    let dir = temp_dir();
    let server = server("user_budget", &dir, &[("MACROTRACK_RATE_LIMIT", "2")]);
    let (alice, bob) = (user(server.port, "Alice"), user(server.port, "Bob"));
    // 2 a second, burst 4: well within 40 requests the budget runs out.
    let started = Instant::now();
    let mut served = 0;
    let limited = loop {
        let answer = send(server.port, "GET", "/v1/me", Some(&alice), None);
        if answer.status != 200 {
            break answer;
        }
        served += 1;
        assert!(served < 40, "no 429 after {served} requests");
    };
    assert_too_many(&limited);
    let allowed = 4 + 2 * started.elapsed().as_secs() + 2;
    assert!(served <= allowed, "{served} served before the first 429, at most {allowed} expected");

    // Answered before the credential is read, from the cache or the database.
    let (fetches, reads) = (credential_fetches(server.port), credential_reads(server.port));
    let answers: Vec<Answer> = (0..5).map(|_| send(server.port, "GET", "/v1/me", Some(&alice), None)).collect();
    let limited = answers.iter().filter(|answer| answer.status == 429).count() as u64;
    assert!(limited >= 4, "a burst right after the first 429 stays limited");
    assert_eq!(credential_fetches(server.port), fetches, "a limited request fetched the credential");
    assert_eq!(credential_reads(server.port) - reads, 5 - limited, "a limited request read the cache");

    let other = send(server.port, "GET", "/v1/me", Some(&bob), None);
    assert_eq!(other.ok(200)["name"], "Bob", "another user has a budget of their own");
    drop(server);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn made_up_tokens_from_one_address_are_answered_429_after_the_failure_burst_without_lookups() {
    let dir = temp_dir();
    // The default limit (the harness turns limits off unless told).
    let server = server("failure_budget", &dir, &[("MACROTRACK_RATE_LIMIT", "100")]);
    let port = server.port;
    let alice = user(port, "Alice");
    send(port, "GET", "/v1/me", Some(&alice), None).ok(200);
    let fetches_before = credential_fetches(port);

    // 2,000 made-up tokens over 4 connections at a time, each naming a
    // user of its own (so no user's budget is what stops them).
    let statuses = Arc::new(Mutex::new(Vec::new()));
    let started = Instant::now();
    let workers: Vec<_> = (0..4u64)
        .map(|worker| {
            let statuses = statuses.clone();
            std::thread::spawn(move || {
                for n in (0..500u64).map(|i| i * 4 + worker) {
                    let answer = send(port, "GET", "/v1/me", Some(&made_up_token(n)), None);
                    if answer.status == 429 {
                        assert_too_many(&answer);
                    }
                    statuses.lock().unwrap().push(answer.status);
                }
            })
        })
        .collect();
    workers.into_iter().for_each(|worker| worker.join().unwrap());
    let elapsed = started.elapsed();
    let statuses = statuses.lock().unwrap().clone();
    let (unauthorized, limited) =
        (statuses.iter().filter(|s| **s == 401).count(), statuses.iter().filter(|s| **s == 429).count());
    assert_eq!(unauthorized + limited, 2_000, "only 401 and 429: {statuses:?}");
    assert!(limited >= 1_000, "{limited} answered 429 of 2,000");

    // The burst (100), the refill meanwhile (20 a second), and the requests
    // in flight when the budget ran out (4).
    let lookups = credential_fetches(port) - fetches_before;
    let bound = 100 + (20.0 * elapsed.as_secs_f64()).ceil() as u64 + 4;
    assert!(lookups <= bound, "{lookups} credential lookups for 2,000 made-up tokens in {elapsed:?}, bound {bound}");
    assert!(lookups >= 100, "the burst is looked up: {lookups}");
    assert_eq!(lookups as usize, unauthorized, "every 401 was a lookup, no 429 was");

    // A token that authenticated before is still served from that address.
    send(port, "GET", "/v1/me", Some(&alice), None).ok(200);
    drop(server);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_rate_limit_of_0_turns_both_budgets_off() {
    let dir = temp_dir();
    let server = server("limits_off", &dir, &[("MACROTRACK_RATE_LIMIT", "0")]);
    let port = server.port;
    let alice = user(port, "Alice");
    let fetches_before = credential_fetches(port);
    for n in 0..150 {
        assert_eq!(send(port, "GET", "/v1/me", Some(&made_up_token(n)), None).status, 401);
    }
    assert_eq!(credential_fetches(port) - fetches_before, 150, "every made-up token was looked up");
    // Past the default per-user burst (200).
    for _ in 0..250 {
        send(port, "GET", "/v1/me", Some(&alice), None).ok(200);
    }
    drop(server);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_body_that_has_not_arrived_within_the_deadline_is_408_and_the_connection_closes() {
    let dir = temp_dir();
    let server = server("body_deadline", &dir, &[("MACROTRACK_BODY_TIMEOUT", "1")]);
    let token = user(server.port, "Alice");
    let mut stream = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    stream.set_nodelay(true).unwrap();
    // A safety net only: the answer is awaited as it comes.
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let head = format!(
        "POST /v1/foods HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: 200\r\n\r\n{{"
    );
    stream.write_all(head.as_bytes()).unwrap();
    let started = Instant::now();
    // One byte every 100 ms, never all 200 of them, until the server closes.
    let trickling = Arc::new(AtomicBool::new(true));
    let mut writer = stream.try_clone().unwrap();
    let trickler = {
        let trickling = trickling.clone();
        std::thread::spawn(move || {
            for _ in 0..150 {
                if !trickling.load(Ordering::Relaxed) || writer.write_all(b" ").is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    };
    let mut raw = Vec::new();
    let read = stream.read_to_end(&mut raw);
    let waited = started.elapsed();
    trickling.store(false, Ordering::Relaxed);
    trickler.join().unwrap();
    assert!(read.is_ok(), "the server closed the connection: {read:?} after {waited:?}");
    let text = String::from_utf8_lossy(&raw).to_ascii_lowercase();
    assert!(text.starts_with("http/1.1 408"), "{text}");
    assert!(text.contains("content-type: application/problem+json"), "{text}");
    assert!(waited >= Duration::from_millis(900), "answered after {waited:?}, before the deadline");
    assert!(waited < Duration::from_secs(10), "answered after {waited:?}");
    // The server still serves.
    send(server.port, "GET", "/v1/me", Some(&token), None).ok(200);
    drop(server);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn headers_that_do_not_arrive_in_time_are_answered_408() {
    let dir = temp_dir();
    let server = server("header_timeout", &dir, &[]);
    let mut stream = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    let started = Instant::now();
    let answer =
        exchange(&mut stream, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n").expect("an answer, then closed");
    assert_eq!(answer.status, 408, "{}", answer.text);
    let waited = started.elapsed();
    let expected = macrotrack::HEADER_TIMEOUT;
    assert!(waited >= expected - Duration::from_millis(100) && waited < expected * 3, "{waited:?}");
    // A complete request on a connection of its own is served.
    assert_eq!(try_send(server.port, "GET", "/healthz", None, None).unwrap().status, 200);
    drop(server);
    let _ = std::fs::remove_dir_all(dir);
}
