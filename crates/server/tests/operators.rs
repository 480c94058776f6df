//! What operators get from a running `macrotrack` process: JSON log lines
//! (MACROTRACK_LOG_FORMAT=json), `/metrics` on a listener of its own
//! (MACROTRACK_METRICS_BIND), and the gauges measured at each scrape: the
//! cache outbox's depth and age, the breaker, the invalidations held back
//! and whether the database answers.

mod process;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::Utc;
use macrotrack_db_seaorm::entities::cache_outbox;
use macrotrack_testkit::{RedisServer, free_port, unique_name};
use process::{ADMIN, Server, send, try_send};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::{Database, EntityTrait};
use serde_json::{Value, json};

/// A directory of the test's own, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(prefix: &str) -> TempDir {
        let dir = std::env::temp_dir().join(unique_name(prefix));
        std::fs::create_dir_all(&dir).expect("a temp dir");
        TempDir(dir)
    }

    fn sqlite_url(&self) -> String {
        format!("sqlite://{}?mode=rwc", self.0.join("macrotrack.db").display())
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The value of the unlabelled sample `name` in a metrics text.
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines().find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

fn scrape(port: u16) -> String {
    let answer = send(port, "GET", "/metrics", None, None);
    assert_eq!(answer.status, 200, "{}", answer.text);
    answer.text
}

/// A user through the admin route; their token.
fn user(port: u16, name: &str) -> String {
    let created = send(port, "POST", "/v1/admin/users", Some(ADMIN), Some(&json!({ "name": name }))).ok(201);
    created["token"].as_str().expect("a token").to_owned()
}

#[test]
fn json_logs_carry_the_request_id_route_status_and_latency() {
    let dir = TempDir::new("macrotrack_json_logs");
    let env = [("MACROTRACK_LOG_FORMAT", "json"), ("MACROTRACK_LOG", "info")];
    let server = Server::start_with("json", &dir.0, &dir.sqlite_url(), "", &env);
    let unauthorized = send(server.port, "GET", "/v1/foods/7", Some("mt_not_a_token"), None);
    assert_eq!(unauthorized.status, 401, "{}", unauthorized.text);
    let id = unauthorized.header("x-request-id").expect("a request id header").to_owned();
    send(server.port, "GET", "/healthz", None, None).ok(200);
    let log = server.log.clone();
    drop(server);

    let text = std::fs::read_to_string(log).expect("the log file");
    let lines: Vec<Value> = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).unwrap_or_else(|error| panic!("not a JSON line ({error}): {line}")))
        .collect();
    assert!(lines.iter().all(Value::is_object), "one object per line");
    assert!(lines.iter().all(|line| line["level"].is_string() && line["timestamp"].is_string()), "{text}");
    let finished: Vec<&Value> = lines.iter().filter(|line| line["message"] == "request finished").collect();
    // Start-up's health checks are requests too.
    assert!(finished.len() >= 2, "one line per request: {text}");
    for line in &finished {
        let span = &line["span"];
        assert!(span["request_id"].is_string() && span["route"].is_string(), "{line}");
        assert!(line["status"].is_u64() && line["elapsed_ms"].is_f64(), "{line}");
    }
    let line = finished.iter().find(|line| line["span"]["request_id"] == id.as_str()).expect("the 401's line");
    assert_eq!(line["span"]["route"], "/v1/foods/{id}", "the route pattern, not the path");
    assert_eq!(line["span"]["method"], "GET");
    assert_eq!(line["status"], 401);
    let latency = line["elapsed_ms"].as_f64().expect("the latency in ms");
    assert!((0.0..10_000.0).contains(&latency), "{latency}");
    let health = finished.iter().find(|line| line["span"]["route"] == "/healthz").expect("the health check's line");
    assert_ne!(health["span"]["request_id"], id.as_str(), "each request its own id");
}

#[test]
fn metrics_are_served_on_their_own_listener_when_asked() {
    let dir = TempDir::new("macrotrack_metrics_bind");
    let metrics_port = free_port();
    let bind = format!("127.0.0.1:{metrics_port}");
    let server = Server::start_with("metrics", &dir.0, &dir.sqlite_url(), "", &[("MACROTRACK_METRICS_BIND", &bind)]);
    let public = send(server.port, "GET", "/metrics", None, None);
    assert_eq!(public.status, 404, "the public address no longer exposes /metrics: {}", public.text);
    send(server.port, "GET", "/healthz", None, None).ok(200);

    let text = scrape(metrics_port);
    assert!(text.contains("macrotrack_http_requests_total{route=\"/healthz\""), "the same registry: {text}");
    assert_eq!(sample(&text, "macrotrack_ready"), Some(1.0), "{text}");
    let other = try_send(metrics_port, "GET", "/healthz", None, None).expect("the metrics listener answers");
    assert_eq!(other.status, 404, "only /metrics there: {}", other.text);
    let counted = "macrotrack_http_requests_total{route=\"/metrics\",method=\"GET\",status=\"200\"}";
    assert!(!scrape(metrics_port).contains(counted), "scrapes are not counted as requests");
}

/// Two rows written 90 s ago, as an instance that died before applying
/// its invalidations would leave them.
async fn leave_outbox_rows(url: &str) {
    let db = Database::connect(url).await.expect("the server's SQLite file");
    let written = Utc::now() - chrono::Duration::seconds(90);
    for user in [1, 2] {
        let row = cache_outbox::ActiveModel { id: NotSet, user_id: Set(user), created_at: Set(written) };
        cache_outbox::Entity::insert(row).exec(&db).await.expect("an outbox row");
    }
    db.close().await.expect("closed");
}

#[test]
fn the_outbox_gauges_show_rows_left_behind_and_their_age() {
    let dir = TempDir::new("macrotrack_outbox_gauges");
    // A drainer that does not come round during the test: the rows stay.
    let env = [("MACROTRACK_OUTBOX_POLL_MS", "600000")];
    let server = Server::start_with("outbox", &dir.0, &dir.sqlite_url(), "", &env);
    let before = scrape(server.port);
    assert_eq!(sample(&before, "macrotrack_cache_outbox_rows"), Some(0.0), "{before}");
    assert_eq!(sample(&before, "macrotrack_cache_outbox_oldest_age_seconds"), Some(0.0), "{before}");

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    runtime.block_on(leave_outbox_rows(&dir.sqlite_url()));
    let after = scrape(server.port);
    assert_eq!(sample(&after, "macrotrack_cache_outbox_rows"), Some(2.0), "{after}");
    let age = sample(&after, "macrotrack_cache_outbox_oldest_age_seconds").expect("an age");
    assert!((89.0..150.0).contains(&age), "the oldest row is about 90 s old: {age}");
    assert_eq!(sample(&after, "macrotrack_cache_breaker_open"), Some(0.0), "no store to fail: {after}");
}

#[test]
fn the_breaker_and_held_back_invalidations_show_while_redis_is_frozen() {
    let Some(redis) = RedisServer::start(&[]) else { return };
    let dir = TempDir::new("macrotrack_breaker_gauges");
    let server = Server::start_with("breaker", &dir.0, &dir.sqlite_url(), &redis.url(), &[]);
    let token = user(server.port, "ada");
    let token = Some(token.as_str());
    send(server.port, "GET", "/v1/logs?date=2026-11-24", token, None).ok(200);
    let healthy = scrape(server.port);
    assert_eq!(sample(&healthy, "macrotrack_cache_breaker_open"), Some(0.0), "{healthy}");
    assert_eq!(sample(&healthy, "macrotrack_cache_pending_invalidations"), Some(0.0), "{healthy}");

    redis.signal("STOP");
    // Reads past the command timeout open the breaker; a write's
    // invalidation is then held back.
    for _ in 0..4 {
        send(server.port, "GET", "/v1/logs?date=2026-11-24", token, None).ok(200);
    }
    send(server.port, "PUT", "/v1/days/2026-11-24/completion", token, None).ok(200);
    let frozen = scrape(server.port);
    assert_eq!(sample(&frozen, "macrotrack_cache_breaker_open"), Some(1.0), "{frozen}");
    let pending = sample(&frozen, "macrotrack_cache_pending_invalidations").expect("the pending gauge");
    assert!(pending >= 1.0, "the completion's targets wait: {frozen}");
    assert!(sample(&frozen, "macrotrack_cache_outbox_rows").is_some_and(|rows| rows >= 1.0), "{frozen}");

    redis.signal("CONT");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        send(server.port, "GET", "/v1/logs?date=2026-11-24", token, None).ok(200);
        let text = scrape(server.port);
        let recovered = sample(&text, "macrotrack_cache_breaker_open") == Some(0.0)
            && sample(&text, "macrotrack_cache_pending_invalidations") == Some(0.0)
            && sample(&text, "macrotrack_cache_outbox_rows") == Some(0.0);
        if recovered {
            break;
        }
        assert!(Instant::now() < deadline, "not recovered 20 s after Redis resumed: {text}");
        std::thread::sleep(Duration::from_millis(200));
    }
}
