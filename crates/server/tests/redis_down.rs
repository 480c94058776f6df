//! The binary started while Redis does not answer: it serves reads and
//! writes on its database alone, connects in the background, and once Redis
//! answers (still holding entries from before those writes) it uses it
//! again without serving any of them stale. Skipped when redis-server is
//! absent, unless MACROTRACK_REQUIRE_SERVICES=1.

mod process;

use std::time::{Duration, Instant};

use macrotrack_testkit::{RedisServer, report, unique_name};
use process::{ADMIN, Server, cache_counts, count, send};
use serde_json::{Value, json};

const DAY: &str = "2026-11-24";

fn entry_ids(day: &Value) -> Vec<i64> {
    day["entries"]
        .as_array()
        .map(|entries| entries.iter().filter_map(|e| e["id"].as_i64()).collect())
        .unwrap_or_default()
}

fn log_one(port: u16, token: &str) -> i64 {
    let body = json!({"entries": [{"date": DAY, "meal": "lunch", "food_id": 1, "servings": 1}]});
    send(port, "POST", "/v1/logs", Some(token), Some(&body)).ok(201)["entries"][0]["id"].as_i64().unwrap()
}

#[test]
fn started_while_redis_is_down_it_serves_and_then_uses_redis_with_no_stale_read() {
    let Some(redis) = RedisServer::start(&[]) else { return };
    let dir = std::env::temp_dir().join(unique_name("redis_down"));
    std::fs::create_dir_all(&dir).unwrap();
    let database = format!("sqlite://{}?mode=rwc", dir.join("macrotrack.db").display());
    let logs = format!("/v1/logs?date={DAY}");

    // A first process caches the day in Redis, then goes away.
    let first = Server::start("first", &dir, &database, &redis.url());
    let created = send(first.port, "POST", "/v1/admin/users", Some(ADMIN), Some(&json!({"name": "r"}))).ok(201);
    let token = created["token"].as_str().unwrap().to_owned();
    let before = log_one(first.port, &token);
    for _ in 0..2 {
        assert_eq!(entry_ids(&send(first.port, "GET", &logs, Some(&token), None).ok(200)), [before]);
    }
    assert!(count(&cache_counts(first.port), "logs", "hit") >= 1, "the day is cached in Redis");
    drop(first);

    // Redis stops answering (frozen: connections open but never answered),
    // with that day still in it. The second process starts anyway.
    redis.signal("STOP");
    let env = [
        ("MACROTRACK_REDIS_CONNECT_TIMEOUT_MS", "200"),
        ("MACROTRACK_REDIS_TIMEOUT_MS", "100"),
        ("MACROTRACK_OUTBOX_POLL_MS", "100"),
        ("MACROTRACK_OUTBOX_GRACE_MS", "200"),
    ];
    let second = Server::start_with("second", &dir, &database, &redis.url(), &env);
    let ready = send(second.port, "GET", "/readyz", None, None).ok(200);
    assert_eq!(ready["cache"], "down", "{ready}");
    // Reads and writes work on the database alone.
    let during = log_one(second.port, &token);
    assert_eq!(entry_ids(&send(second.port, "GET", &logs, Some(&token), None).ok(200)), [before, during]);

    // Redis answers again, still holding the day as it was before `during`.
    redis.signal("CONT");
    let resumed = Instant::now();
    let deadline = resumed + Duration::from_secs(30);
    let mut reads = 0;
    loop {
        let hits_before = count(&cache_counts(second.port), "logs", "hit");
        let day = send(second.port, "GET", &logs, Some(&token), None).ok(200);
        reads += 1;
        assert_eq!(entry_ids(&day), [before, during], "read {reads} after Redis came back is stale");
        if count(&cache_counts(second.port), "logs", "hit") > hits_before {
            break; // served from Redis again, and current
        }
        assert!(Instant::now() < deadline, "no cache hit within 30 s of Redis answering again");
        std::thread::sleep(Duration::from_millis(100));
    }
    let first_hit = resumed.elapsed();
    let ready = send(second.port, "GET", "/readyz", None, None).ok(200);
    assert_eq!(ready["cache"], "ok", "{ready}");
    // And it keeps invalidating: a write now is seen by the next read.
    let after = log_one(second.port, &token);
    assert_eq!(entry_ids(&send(second.port, "GET", &logs, Some(&token), None).ok(200)), [before, during, after]);
    drop(second);
    let _ = std::fs::remove_dir_all(&dir);
    report(
        "redis_down::started_while_redis_is_down_it_serves_and_then_uses_redis_with_no_stale_read",
        "SQLite file + a redis-server of the test's own. A first process caches a day in Redis and stops; Redis is \
         frozen (SIGSTOP) still holding it; the binary starts (connect timeout 200 ms), a write and reads are \
         served; Redis resumes (SIGCONT); reads every 100 ms until one is a hit",
        &format!(
            "the binary started with Redis frozen (`/readyz` cache down); the write and its read served from the \
             database; after the resume {reads} reads, **0 stale**, the first hit {:.1} s after it; then a write \
             and its read, current",
            first_hit.as_secs_f64()
        ),
    );
}
