//! What one write and one warm read cost on PostgreSQL + Redis, counted on
//! the wire (issue 24's "count before cutting"): PostgreSQL round trips and
//! pings through a counting proxy (`PgProxy`), Redis commands from a Redis
//! of the test's own (`INFO commandstats`). The counts are ceilings: a
//! change that adds a round trip to either path fails here, and one that
//! removes some lowers them (docs/benchmarks.md, "Round trips").
//!
//! Background work is turned off for the count (the outbox's flush and the
//! catalogue's poll tick every hour), so what is counted is the request's
//! own path; the flush (one `DELETE` for every row applied since the last
//! tick) is outside it by design.

mod common;

use macrotrack::Settings;
use macrotrack_testkit::{PgProxy, RedisServer, WireCounts};
use serde_json::json;

/// The ceilings: today's counts (docs/benchmarks.md, "Round trips").
/// A write: its item lookup, then one statement that takes the user's
/// lock, counts the day and writes (committed alone), and a ping per
/// pool checkout. It was 8 (BEGIN, lock, count, write and COMMIT apart).
const WRITE_ROUND_TRIPS: usize = 4;
const WRITE_PINGS: usize = 2;
/// The credential's `MGET`, then the bump's `EVALSHA`.
const WRITE_REDIS_SENT: usize = 2;
/// Inside the bump: a `SET` per generation the write's changes name (the
/// day, its week and month, frequent and recent foods, searches) and the
/// `DEL` of the day's tier-1 entry.
const WRITE_REDIS_IN_SCRIPTS: usize = 7;
/// One `MGET` of the credential and the day, with their guards.
const WARM_READ_REDIS_SENT: usize = 1;

/// What Macrotrack sends Redis; any other command ran inside a script
/// (`INFO commandstats` counts those too, and Redis 7.0 has no per-client count).
const SENT: &[&str] = &["mget", "get", "evalsha", "eval", "evalsha_ro", "eval_ro"];

/// Keys a warm day read looks up: the credential, the day's entry, its
/// generation and the user's epoch (docs/caching.md says what each buys).
const WARM_READ_KEYS: usize = 4;

/// Keys looked up since the stats were last set back (hits and misses).
fn key_lookups(redis: &RedisServer) -> usize {
    let info = redis.cli(&["INFO", "stats"]).expect("INFO answers");
    let stat = |name: &str| -> usize {
        info.lines().find_map(|line| line.strip_prefix(name)?.strip_prefix(':')?.trim().parse().ok()).unwrap_or(0)
    };
    stat("keyspace_hits") + stat("keyspace_misses")
}

/// Redis commands since the last call, by name (the test's own `INFO`
/// and `CONFIG` left out), and the stats set back to zero.
fn redis_commands(redis: &RedisServer) -> Vec<(String, usize)> {
    let info = redis.cli(&["INFO", "commandstats"]).expect("INFO answers");
    redis.cli(&["CONFIG", "RESETSTAT"]).expect("CONFIG RESETSTAT answers");
    let mut commands: Vec<(String, usize)> = info
        .lines()
        .filter_map(|line| {
            let (name, stats) = line.strip_prefix("cmdstat_")?.split_once(':')?;
            let calls = stats.split(',').find_map(|stat| stat.strip_prefix("calls="))?.parse().ok()?;
            let own = name == "info" || name.starts_with("config");
            (!own).then(|| (name.to_owned(), calls))
        })
        .collect();
    commands.sort();
    commands
}

/// (sent, run inside scripts).
fn split(commands: &[(String, usize)]) -> (usize, usize) {
    let sent = commands.iter().filter(|(name, _)| SENT.contains(&name.as_str())).map(|(_, calls)| calls).sum();
    let all: usize = commands.iter().map(|(_, calls)| calls).sum();
    (sent, all - sent)
}

#[actix_web::test]
async fn a_write_and_a_warm_read_cost_no_more_round_trips_than_counted() {
    common::postgres::on_postgres_and_redis(|settings| async move {
        let Some(redis) = RedisServer::start(&[]) else { return };
        let proxy = PgProxy::in_front_of(&settings.database_url).expect("a loopback port for the proxy");
        let quiet = 3_600_000;
        let settings = Settings {
            database_url: proxy.url(&settings.database_url),
            redis_url: Some(redis.url()),
            outbox_poll_ms: quiet,
            catalogue_poll_ms: quiet,
            ..settings
        };
        let app = common::TestApp::with(settings, None).await;
        let client = app.client().await;
        let (_, token) = client.user("counted").await;
        let t = Some(token.as_str());
        let food = client.post("/v1/foods", t, common::oats()).await.ok(201)["id"].as_i64().unwrap();
        let log = |servings: f64| json!({"entries": [common::entry("2026-11-24", "lunch", food, servings)]});
        // Warm: the pool's connections and their prepared statements, the
        // credential, the day.
        for servings in [1.0, 1.5, 2.5, 3.0] {
            client.post("/v1/logs", t, log(servings)).await.ok(201);
            client.get("/v1/logs?date=2026-11-24", t).await.ok(200);
            client.get("/v1/logs?date=2026-11-24", t).await.ok(200);
        }

        proxy.take();
        redis_commands(&redis);

        client.post("/v1/logs", t, log(2.0)).await.ok(201);
        let write = proxy.take();
        eprintln!(
            "stats: {:?}",
            redis.cli(&["INFO", "stats"]).unwrap().lines().find(|l| l.starts_with("total_commands"))
        );
        let write_redis = redis_commands(&redis);
        // The write left the day behind: read it once (a miss), then count a warm read.
        client.get("/v1/logs?date=2026-11-24", t).await.ok(200);
        proxy.take();
        redis_commands(&redis);
        let day = client.get("/v1/logs?date=2026-11-24", t).await;
        assert!(
            day.header("cache-status").is_some_and(|status| status.contains("hit")),
            "{:?}",
            day.header("cache-status")
        );
        let read = proxy.take();
        let read_keys = key_lookups(&redis);
        let read_redis = redis_commands(&redis);
        eprintln!("POST /v1/logs: PostgreSQL {write:?}; Redis {write_redis:?}");
        eprintln!("warm GET /v1/logs: PostgreSQL {read:?}; Redis {read_redis:?}");

        assert_eq!(write.connections, 0, "the pool's connections are reused");
        assert!(write.round_trips <= WRITE_ROUND_TRIPS, "a write's PostgreSQL round trips: {write:?}");
        assert!(write.pings <= WRITE_PINGS, "a write's pool pings: {write:?}");
        let (sent, in_scripts) = split(&write_redis);
        assert!(sent <= WRITE_REDIS_SENT, "a write's Redis commands: {write_redis:?}");
        assert!(in_scripts <= WRITE_REDIS_IN_SCRIPTS, "the keys a write's bump touches: {write_redis:?}");
        assert_eq!(read, WireCounts::default(), "a warm read asks nothing of PostgreSQL");
        assert_eq!(split(&read_redis), (WARM_READ_REDIS_SENT, 0), "a warm read's Redis commands: {read_redis:?}");
        assert_eq!(read_keys, WARM_READ_KEYS, "the keys a warm read looks up (each once)");
    })
    .await;
}
