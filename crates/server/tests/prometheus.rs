//! The dashboard (ops/grafana/macrotrack.json) and the alert rules
//! (ops/prometheus/alerts.yml) proven against the real thing: promtool
//! checks and unit-tests the rules; a real Prometheus scrapes a real server
//! process (PostgreSQL, a redis-server of the test's own, /metrics on its
//! own listener) under a short load that passes through a frozen Redis and
//! a refused database; then every expression of the dashboard and of the
//! rules runs through Prometheus's HTTP API. Each must parse, each panel's
//! query must return data, and every metric they name must be exported.
//!
//! Needs Debian's `prometheus` package (CI installs it), PostgreSQL and
//! redis-server; skipped without them unless MACROTRACK_REQUIRE_SERVICES=1.

mod observed;
mod process;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use macrotrack_testkit::{FreshDatabase, Prometheus, RedisServer, free_port, postgres_url, promtool, unique_name};
use observed::{Load, dashboard, metric_names, ops_dir, rules, substitute};
use process::Server;
use sea_orm::sqlx::postgres::PgConnection;
use sea_orm::sqlx::{self, Connection};
use serde_json::Value;

/// How often Prometheus scrapes and evaluates the rules.
const SCRAPE: Duration = Duration::from_secs(1);
/// What `$__rate_interval` becomes: Grafana's rule, four scrapes at least.
const RATE_INTERVAL: &str = "10s";

/// Everything the test started, stopped in order on drop (a failing
/// assertion included): the load's server first, the database last.
struct Deployment {
    runtime: tokio::runtime::Runtime,
    database: Option<FreshDatabase>,
    redis: RedisServer,
    server: Option<Server>,
    dir: std::path::PathBuf,
}

impl Deployment {
    /// Refuses (or accepts again) every connection to the server's database
    /// and ends those it has: its queries fail, /readyz and writes answer 503.
    fn refuse_database(&self, refuse: bool) {
        let name = self.database.as_ref().expect("created").name().to_owned();
        self.runtime.block_on(async {
            let mut admin = PgConnection::connect(&postgres_url()).await.expect("PostgreSQL answers");
            let allow = if refuse { "false" } else { "true" };
            // The name is the test's own unique_name: nothing to inject.
            let statement = format!("ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS {allow}");
            sqlx::query(sqlx::AssertSqlSafe(statement)).execute(&mut admin).await.expect("ALTER DATABASE");
            if refuse {
                sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1")
                    .bind(&name)
                    .execute(&mut admin)
                    .await
                    .expect("terminated");
            }
            let _ = admin.close().await;
        });
    }
}

impl Drop for Deployment {
    fn drop(&mut self) {
        self.server = None;
        self.redis.signal("CONT");
        if let Some(database) = self.database.take() {
            self.runtime.block_on(database.drop());
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn run_promtool(args: &[&str], expected: &str) -> Option<String> {
    let output = promtool(&ops_dir().join("prometheus"), args)?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success() && text.contains(expected), "promtool {args:?}:\n{text}");
    Some(text)
}

/// The number of series an answer holds (a vector's or a matrix's).
fn series(data: &Value) -> usize {
    data["result"].as_array().map_or(0, Vec::len)
}

/// The largest (or, with `min`, smallest) value of an instant answer.
fn extreme(prometheus: &Prometheus, expr: &str) -> f64 {
    let data = prometheus.query(expr).unwrap_or_else(|error| panic!("{expr}: {error}"));
    let value = data["result"][0]["value"][1].as_str().unwrap_or_else(|| panic!("{expr}: no data: {data}"));
    value.parse().expect("a number")
}

#[test]
fn the_dashboard_and_the_alerts_hold_against_a_real_prometheus() {
    let began = Instant::now();
    let Some(_) = run_promtool(&["check", "rules", "alerts.yml"], "SUCCESS: 5 rules found") else { return };
    let Some(_) = run_promtool(&["test", "rules", "alerts.test.yml"], "SUCCESS") else { return };
    let promtool_took = began.elapsed();

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    let Some(redis) = RedisServer::start(&[]) else { return };
    let Some(database) = runtime.block_on(FreshDatabase::create("prometheus")) else { return };
    let dir = std::env::temp_dir().join(unique_name("macrotrack_observed"));
    std::fs::create_dir_all(&dir).expect("a temp dir");
    let url = database.url.clone();
    let mut deployment = Deployment { runtime, database: Some(database), redis, server: None, dir };
    let metrics_port = free_port();
    let metrics_bind = format!("127.0.0.1:{metrics_port}");
    let env = [
        ("MACROTRACK_METRICS_BIND", metrics_bind.as_str()),
        ("MACROTRACK_OUTBOX_POLL_MS", "200"),
        ("MACROTRACK_OUTBOX_GRACE_MS", "400"),
    ];
    let server = Server::start_with("observed", &deployment.dir, &url, &deployment.redis.url(), &env);
    let port = server.port;
    deployment.server = Some(server);
    let rule_file = ops_dir().join("prometheus/alerts.yml").canonicalize().expect("alerts.yml");
    let Some(prometheus) = Prometheus::start(&metrics_bind, SCRAPE, &[rule_file]) else { return };
    let watched_from = Instant::now();

    // The load, through a healthy phase and two faults, each long enough
    // for several scrapes.
    let load = Load::start(port, 3);
    let phase = |name: &str, seconds: u64| {
        println!("phase: {name} ({seconds} s)");
        std::thread::sleep(Duration::from_secs(seconds));
    };
    phase("healthy", 6);
    deployment.redis.signal("STOP");
    phase("Redis frozen", 6);
    deployment.redis.signal("CONT");
    phase("Redis back", 5);
    deployment.refuse_database(true);
    phase("database refusing connections", 5);
    deployment.refuse_database(false);
    phase("database back", 6);
    let counts = load.stop();
    let (ok, unavailable, broken) = (
        counts.ok.load(Ordering::Relaxed),
        counts.unavailable.load(Ordering::Relaxed),
        counts.broken.load(Ordering::Relaxed),
    );
    println!("load: {ok} answered, {unavailable} answered 503 (database refused), {broken} broken");
    assert_eq!(broken, 0, "no 5xx but 503, no failed exchange");
    assert!(unavailable > 0 && ok > 500, "the load ran through both faults");
    // One more scrape and evaluation after the load.
    std::thread::sleep(SCRAPE * 2);
    let range = watched_from.elapsed() + Duration::from_secs(5);

    // Every metric an expression names is exported.
    let exported = prometheus.metric_names();
    assert!(exported.iter().any(|name| name == "macrotrack_ready"), "the server was scraped: {exported:?}");
    let (queries, variables) = dashboard();
    let rules = rules();
    assert_eq!(rules.len(), 5, "{rules:?}");
    let every_expr = queries.iter().map(|q| q.expr.as_str()).chain(rules.iter().map(|(_, e)| e.as_str()));
    for name in every_expr.chain(variables.iter().map(String::as_str)).flat_map(metric_names) {
        assert!(exported.contains(&name), "{name} is named by the dashboard or the rules but not exported");
    }

    // Each panel's query parses and returns data over the load.
    let queried = Instant::now();
    for query in &queries {
        let expr = substitute(&query.expr, RATE_INTERVAL);
        let data = prometheus.query_range(&expr, range, Duration::from_secs(1));
        let data = data.unwrap_or_else(|error| panic!("panel {:?} {}: {error}\n{expr}", query.panel, query.reference));
        let found = series(&data);
        println!("panel {:?} {}: {found} series", query.panel, query.reference);
        assert!(found > 0, "panel {:?} {} returned no data:\n{expr}", query.panel, query.reference);
    }
    for variable in &variables {
        let metric = variable.trim_start_matches("label_values(").split(',').next().unwrap_or_default().trim();
        let values = prometheus.api("/api/v1/label/instance/values", &[("match[]", metric)]).expect("label values");
        assert!(values.as_array().is_some_and(|v| !v.is_empty()), "variable {variable}: no value");
    }
    // Each rule parses, and Prometheus evaluates it without error.
    for (name, expr) in &rules {
        prometheus.query(expr).unwrap_or_else(|error| panic!("rule {name}: {error}\n{expr}"));
    }
    let loaded = prometheus.api("/api/v1/rules", &[]).expect("the rules API");
    let loaded: Vec<&Value> =
        loaded["groups"].as_array().into_iter().flatten().flat_map(|g| g["rules"].as_array()).flatten().collect();
    assert_eq!(loaded.len(), rules.len(), "every rule loaded");
    for rule in &loaded {
        assert_eq!(rule["health"], "ok", "rule {} evaluates: {}", rule["name"], rule["lastError"]);
    }
    let queries_took = queried.elapsed();

    // What the faults did is what the gauges show, and they recovered.
    let window = format!("{}s", range.as_secs());
    assert_eq!(extreme(&prometheus, &format!("max_over_time(macrotrack_cache_breaker_open[{window}])")), 1.0);
    assert!(extreme(&prometheus, &format!("max_over_time(macrotrack_cache_outbox_rows[{window}])")) > 0.0);
    assert!(extreme(&prometheus, &format!("max_over_time(macrotrack_cache_pending_invalidations[{window}])")) > 0.0);
    assert_eq!(extreme(&prometheus, &format!("min_over_time(macrotrack_ready[{window}])")), 0.0);
    assert_eq!(extreme(&prometheus, "macrotrack_cache_breaker_open"), 0.0, "closed again");
    assert_eq!(extreme(&prometheus, "macrotrack_ready"), 1.0, "ready again");
    assert_eq!(extreme(&prometheus, "macrotrack_cache_outbox_rows"), 0.0, "drained");
    println!(
        "figures: promtool {promtool_took:?}; {} panel queries and {} rules run, all parsed, every panel query returned data; queries {queries_took:?}; whole test {:?}",
        queries.len(),
        rules.len(),
        began.elapsed()
    );
}
