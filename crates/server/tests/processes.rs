//! Two `macrotrack` server processes on one PostgreSQL database and one
//! Redis (a redis-server of the test's own): a write answered by one process
//! is seen by the very next read on the other, and a stampede of cold reads
//! split over both costs one database fetch. Skipped when PostgreSQL or
//! redis-server is absent, unless MACROTRACK_REQUIRE_SERVICES=1.
//!
//! Requests are plain HTTP/1.1 over `std::net::TcpStream` (`process`).

mod process;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Barrier};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use macrotrack_testkit::{FreshDatabase, RedisServer, report, unique_name};
use process::{ADMIN, Answer, Server, cache_counts, count, exchange, request_bytes, send};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};
use serde_json::{Value, json};

const D: &str = "2026-11-24";
const E: &str = "2026-11-25";

/// Servers A and B on one fresh database and one redis-server; all of it
/// stopped and removed on drop, servers first.
struct Deployment {
    servers: Vec<Server>,
    redis: RedisServer,
    database: Option<FreshDatabase>,
    db: Option<DatabaseConnection>,
    runtime: tokio::runtime::Runtime,
    dir: PathBuf,
}

impl Deployment {
    /// `None` (after `skip_or_fail`) when redis-server or PostgreSQL is absent.
    fn start(prefix: &str) -> Option<Deployment> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
        let redis = RedisServer::start(&[])?;
        let database = runtime.block_on(FreshDatabase::create(prefix))?;
        let dir = std::env::temp_dir().join(unique_name(prefix));
        std::fs::create_dir_all(&dir).expect("a temp dir");
        let url = database.url.clone();
        let mut deployment =
            Deployment { servers: Vec::new(), redis, database: Some(database), db: None, runtime, dir };
        // One after the other, to keep their start-ups apart in the logs (starting together is safe: migrations.rs).
        for name in ["A", "B"] {
            let server = Server::start(name, &deployment.dir, &url, &deployment.redis.url());
            deployment.servers.push(server);
        }
        deployment.db = Some(deployment.runtime.block_on(Database::connect(&url)).expect("connects to the database"));
        Some(deployment)
    }

    fn port(&self, index: usize) -> u16 {
        self.servers[index].port
    }

    /// `SELECT COUNT(*)` of `table` in the deployment's database.
    fn rows(&self, table: &str) -> i64 {
        let db = self.db.as_ref().expect("connected");
        let sql = format!("SELECT COUNT(*) FROM {table}");
        let row = self.runtime.block_on(db.query_one_raw(Statement::from_string(DbBackend::Postgres, sql)));
        row.expect("the count query").expect("a row").try_get_by_index(0).expect("a count")
    }
}

impl Drop for Deployment {
    fn drop(&mut self) {
        self.servers.clear();
        if let Some(db) = self.db.take() {
            let _ = self.runtime.block_on(db.close());
        }
        if let Some(database) = self.database.take() {
            self.runtime.block_on(database.drop());
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

// ------------------------------------------------------ read-your-writes

/// Writes alternate between the processes; before each, the reader reads
/// (and so caches) what the write must change; right after, it reads again.
struct Tour<'a> {
    deployment: &'a Deployment,
    token: Option<String>,
    turn: usize,
    /// Writes answered by A and by B.
    writes: [u32; 2],
    /// Reads on the process that did not write, each checked for the new data.
    checked: u32,
    /// Hits of data (non-credential) entries in the second warming pass.
    warm_hits: u64,
}

const NAMES: [&str; 2] = ["A", "B"];

impl Tour<'_> {
    /// The next (writer, reader).
    fn next(&mut self) -> (usize, usize) {
        let writer = self.turn % 2;
        self.turn += 1;
        (writer, 1 - writer)
    }

    fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    fn data_hits(&self, process: usize) -> u64 {
        let counts = cache_counts(self.deployment.port(process));
        counts.iter().filter(|((family, outcome), _)| family != "credential" && outcome == "hit").map(|(_, n)| n).sum()
    }

    /// Reads `paths` on `reader` twice; the second pass must hit the cache
    /// at least once per path, so the next write has entries to leave stale.
    fn warm(&mut self, reader: usize, paths: &[&str]) {
        let port = self.deployment.port(reader);
        for path in paths {
            send(port, "GET", path, self.token(), None).ok(200);
        }
        let before = self.data_hits(reader);
        for path in paths {
            send(port, "GET", path, self.token(), None).ok(200);
        }
        let hits = self.data_hits(reader) - before;
        assert!(hits >= paths.len() as u64, "{paths:?} on {}: {hits} hits, not cached", NAMES[reader]);
        self.warm_hits += hits;
    }

    fn write(&mut self, writer: usize, method: &str, path: &str, body: Option<Value>) -> Answer {
        self.writes[writer] += 1;
        send(self.deployment.port(writer), method, path, self.token(), body.as_ref())
    }

    /// The reader's answer (checked by the caller).
    fn read(&mut self, reader: usize, path: &str) -> Answer {
        self.checked += 1;
        send(self.deployment.port(reader), "GET", path, self.token(), None)
    }
}

fn logs(date: &str) -> String {
    format!("/v1/logs?date={date}")
}

fn schedule(date: &str) -> String {
    format!("/v1/schedule?date={date}")
}

/// `(id, meal, calories)` of a day's entries.
fn entries(day: &Value) -> Vec<(i64, String, f64)> {
    let list = day["entries"].as_array().unwrap_or_else(|| panic!("entries: {day}"));
    list.iter()
        .map(|e| (e["id"].as_i64().unwrap(), e["meal"].as_str().unwrap().to_owned(), e["calories"].as_f64().unwrap()))
        .collect()
}

fn calories(row: &Value) -> f64 {
    row["totals"]["calories"].as_f64().unwrap_or_else(|| panic!("totals: {row}"))
}

#[test]
fn read_your_writes_across_two_server_processes() {
    let Some(deployment) = Deployment::start("processes_ryw") else { return };
    let mut tour = Tour { deployment: &deployment, token: None, turn: 0, writes: [0; 2], checked: 0, warm_hits: 0 };
    let summary = format!("/v1/summary?from={D}&to={E}");
    let dashboard = format!("/v1/days/{D}?today={D}");
    let streak = format!("/v1/streaks?today={D}");

    // A user: the other process authenticates the new token at once.
    let (w, r) = tour.next();
    tour.token = Some(ADMIN.to_owned());
    let created = tour.write(w, "POST", "/v1/admin/users", Some(json!({"name": "tour"}))).ok(201);
    tour.token = Some(created["token"].as_str().unwrap_or_else(|| panic!("a token: {created}")).to_owned());
    let user = created["id"].as_i64().unwrap();
    assert_eq!(tour.read(r, "/v1/me").ok(200), json!({"id": user, "name": "tour", "targets": null, "timezone": "UTC"}));

    // Targets.
    let (w, r) = tour.next();
    tour.warm(r, &["/v1/me", &dashboard]);
    let body = json!({"calories": 2000.005, "protein_g": 150, "carbs_g": 200.4, "fat_g": 70});
    let targets = tour.write(w, "PUT", "/v1/me/targets", Some(body)).ok(200);
    assert_eq!(targets["calories"], 2000.01);
    assert_eq!(tour.read(r, "/v1/me").ok(200)["targets"], targets);
    assert_eq!(tour.read(r, &dashboard).ok(200)["targets"], targets);

    // A food of the user's (not a cached read, but read on the other process).
    let (w, r) = tour.next();
    let body = json!({"name": "Process oats", "serving_size": 100, "serving_unit": "g", "calories": 150, "protein_g": 10, "carbs_g": 20, "fat_g": 5});
    let food_json = tour.write(w, "POST", "/v1/foods", Some(body)).ok(201);
    let food = food_json["id"].as_i64().unwrap();
    assert_eq!(tour.read(r, &format!("/v1/foods/{food}")).ok(200), food_json);

    // Logging on two days: both days, frequent foods, summary and dashboard.
    let (w, r) = tour.next();
    tour.warm(r, &[&logs(D), &logs(E), "/v1/foods/frequent", &summary, &dashboard]);
    let batch = json!({"entries": [
        {"date": D, "meal": "lunch", "food_id": food, "servings": 1.5},
        {"date": E, "meal": "breakfast", "food_id": food, "servings": 1},
    ]});
    let created = tour.write(w, "POST", "/v1/logs", Some(batch)).ok(201);
    let (oats_d, oats_e) =
        (created["entries"][0]["id"].as_i64().unwrap(), created["entries"][1]["id"].as_i64().unwrap());
    assert_eq!(entries(&tour.read(r, &logs(D)).ok(200)), [(oats_d, "lunch".into(), 225.0)]);
    assert_eq!(entries(&tour.read(r, &logs(E)).ok(200)), [(oats_e, "breakfast".into(), 150.0)]);
    assert_eq!(tour.read(r, "/v1/foods/frequent").ok(200), json!([{"food": food_json, "uses": 2}]));
    let days = tour.read(r, &summary).ok(200)["days"].clone();
    assert_eq!((calories(&days[0]), calories(&days[1])), (225.0, 150.0), "{days}");
    assert_eq!(calories(&tour.read(r, &dashboard).ok(200)["logs"]), 225.0);

    // Editing servings.
    let (w, r) = tour.next();
    tour.warm(r, &[&logs(D), &summary]);
    let edited = tour.write(w, "PATCH", &format!("/v1/logs/{oats_d}"), Some(json!({"servings": 2}))).ok(200);
    assert_eq!(edited["calories"], 300.0);
    assert_eq!(entries(&tour.read(r, &logs(D)).ok(200)), [(oats_d, "lunch".into(), 300.0)]);
    assert_eq!(calories(&tour.read(r, &summary).ok(200)["days"][0]), 300.0);

    // Moving the entry to the other day and meal.
    let (w, r) = tour.next();
    tour.warm(r, &[&logs(D), &logs(E), &summary]);
    let moved = json!({"date": E, "meal": "snack"});
    tour.write(w, "PATCH", &format!("/v1/logs/{oats_d}"), Some(moved)).ok(200);
    assert_eq!(entries(&tour.read(r, &logs(D)).ok(200)), []);
    let day_e = entries(&tour.read(r, &logs(E)).ok(200));
    assert_eq!(day_e, [(oats_e, "breakfast".into(), 150.0), (oats_d, "snack".into(), 300.0)]);
    let days = tour.read(r, &summary).ok(200)["days"].clone();
    assert_eq!((days.as_array().unwrap().len(), calories(&days[0])), (1, 450.0), "{days}");

    // Completing the day, then undoing it.
    let completion = format!("/v1/days/{D}/completion");
    let (w, r) = tour.next();
    tour.warm(r, &[&logs(D), &streak, &dashboard]);
    assert_eq!(tour.write(w, "PUT", &completion, None).ok(200), json!({"date": D, "completed": true}));
    assert_eq!(tour.read(r, &logs(D)).ok(200)["completed"], true);
    assert_eq!(tour.read(r, &streak).ok(200), json!({"current": 1, "longest": 1, "last_completed": D}));
    assert_eq!(tour.read(r, &dashboard).ok(200)["streak"]["current"], 1);
    let (w, r) = tour.next();
    tour.warm(r, &[&logs(D), &streak, &dashboard]);
    assert_eq!(tour.write(w, "DELETE", &completion, None).ok(200), json!({"date": D, "completed": false}));
    assert_eq!(tour.read(r, &logs(D)).ok(200)["completed"], false);
    assert_eq!(tour.read(r, &streak).ok(200), json!({"current": 0, "longest": 0, "last_completed": null}));
    assert_eq!(tour.read(r, &dashboard).ok(200)["streak"]["current"], 0);

    // A recipe and a meal plan of it (plain reads on the other process).
    let (w, r) = tour.next();
    let body = json!({"name": "Process bowl", "servings": 1, "ingredients": [{"food_id": food, "servings": 1}]});
    let recipe_json = tour.write(w, "POST", "/v1/recipes", Some(body)).ok(201);
    let recipe = recipe_json["id"].as_i64().unwrap();
    assert_eq!(tour.read(r, &format!("/v1/recipes/{recipe}")).ok(200), recipe_json);
    let (w, r) = tour.next();
    let body = json!({"name": "Process week", "days": 2, "items": [
        {"day": 0, "meal": "lunch", "recipe_id": recipe, "servings": 1},
        {"day": 1, "meal": "dinner", "recipe_id": recipe, "servings": 2},
    ]});
    let plan_json = tour.write(w, "POST", "/v1/meal-plans", Some(body)).ok(201);
    let plan = plan_json["id"].as_i64().unwrap();
    assert_eq!(tour.read(r, &format!("/v1/meal-plans/{plan}")).ok(200), plan_json);

    // Scheduling the plan over both days.
    let (w, r) = tour.next();
    tour.warm(r, &[&schedule(D), &schedule(E), &dashboard]);
    let start = json!({"start_date": D});
    let scheduled = tour.write(w, "POST", &format!("/v1/meal-plans/{plan}/schedule"), Some(start)).ok(201);
    let scheduled_id = scheduled["id"].as_i64().unwrap();
    let day_d = tour.read(r, &schedule(D)).ok(200);
    assert_eq!(day_d["plan"], scheduled);
    let meal = day_d["meals"][0]["id"].as_i64().unwrap();
    let lunch = |logged: bool| json!({"id": meal, "meal": "lunch", "recipe_id": recipe, "name": "Process bowl", "servings": 1.0, "logged": logged});
    assert_eq!(day_d["meals"], json!([lunch(false)]));
    let day_e = tour.read(r, &schedule(E)).ok(200);
    assert_eq!((&day_e["plan"], &day_e["meals"][0]["meal"]), (&scheduled, &json!("dinner")));
    assert_eq!(tour.read(r, &dashboard).ok(200)["schedule"]["plan"], scheduled);

    // Logging the recipe in the scheduled slot marks the meal logged.
    let (w, r) = tour.next();
    tour.warm(r, &[&schedule(D), &logs(D)]);
    let batch = json!({"entries": [{"date": D, "meal": "lunch", "recipe_id": recipe, "servings": 1}]});
    let bowl = tour.write(w, "POST", "/v1/logs", Some(batch)).ok(201)["entries"][0]["id"].as_i64().unwrap();
    assert_eq!(tour.read(r, &schedule(D)).ok(200)["meals"], json!([lunch(true)]));
    assert_eq!(entries(&tour.read(r, &logs(D)).ok(200)), [(bowl, "lunch".into(), 150.0)]);

    // New targets: the dashboard's remaining follows.
    let (w, r) = tour.next();
    tour.warm(r, &["/v1/me", &dashboard]);
    let body = json!({"calories": 1800, "protein_g": 120, "carbs_g": 180, "fat_g": 60});
    let targets = tour.write(w, "PUT", "/v1/me/targets", Some(body)).ok(200);
    assert_eq!(tour.read(r, "/v1/me").ok(200)["targets"], targets);
    assert_eq!(tour.read(r, &dashboard).ok(200)["remaining"]["calories"], 1650.0);

    // Deleting the entry.
    let (w, r) = tour.next();
    tour.warm(r, &[&logs(D), &schedule(D), &summary]);
    assert_eq!(tour.write(w, "DELETE", &format!("/v1/logs/{bowl}"), None).status, 204);
    assert_eq!(entries(&tour.read(r, &logs(D)).ok(200)), []);
    assert_eq!(tour.read(r, &schedule(D)).ok(200)["meals"], json!([lunch(false)]));
    let days = tour.read(r, &summary).ok(200)["days"].clone();
    assert_eq!((days.as_array().unwrap().len(), days[0]["date"].as_str()), (1, Some(E)), "{days}");

    // Deleting the scheduled meal, then the scheduled plan.
    let (w, r) = tour.next();
    tour.warm(r, &[&schedule(D)]);
    assert_eq!(tour.write(w, "DELETE", &format!("/v1/scheduled-meals/{meal}"), None).status, 204);
    assert_eq!(tour.read(r, &schedule(D)).ok(200), json!({"date": D, "plan": scheduled, "meals": []}));
    let (w, r) = tour.next();
    tour.warm(r, &[&schedule(D), &schedule(E)]);
    assert_eq!(tour.write(w, "DELETE", &format!("/v1/scheduled-plans/{scheduled_id}"), None).status, 204);
    for date in [D, E] {
        assert_eq!(tour.read(r, &schedule(date)).ok(200), json!({"date": date, "plan": null, "meals": []}));
    }

    // Deleting the user: the other process no longer accepts the token.
    let (w, r) = tour.next();
    tour.warm(r, &["/v1/me", &logs(E)]);
    assert_eq!(tour.write(w, "DELETE", "/v1/me", None).status, 204);
    for path in ["/v1/me", &logs(E)] {
        assert_eq!(tour.read(r, path).status, 401, "{path} after the user was deleted");
    }

    let (writes, checked, warm_hits) = (tour.writes, tour.checked, tour.warm_hits);
    report(
        "processes::read_your_writes_across_two_server_processes",
        "two macrotrack server processes on one fresh PostgreSQL database and one redis-server; every kind of \
         mutation (user, targets, food, log create, edit, move and delete, complete and undo a day, recipe, meal \
         plan, schedule, scheduled meal and plan deletion, user deletion) made on one process, directions \
         alternating, each preceded by reading twice on the other process what it changes (the second pass must \
         hit the cache) and followed by the very next read there",
        &format!(
            "writes {} (A {}, B {}); cross-process reads checked {checked}, stale 0; cache hits in the warming \
             passes {warm_hits}",
            writes[0] + writes[1],
            writes[0],
            writes[1]
        ),
    );
}

// ---------------------------------------------------------------- stampede

/// Records, through MONITOR, the commands Redis runs whose text contains
/// `pattern`, until `finish`.
struct Monitor {
    port: u16,
    sentinel: String,
    thread: JoinHandle<Vec<String>>,
}

impl Monitor {
    fn start(port: u16, pattern: String) -> Monitor {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connects to redis");
        stream.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        (&stream).write_all(b"MONITOR\r\n").unwrap();
        let mut lines = BufReader::new(stream);
        let mut line = String::new();
        lines.read_line(&mut line).unwrap();
        assert_eq!(line, "+OK\r\n", "MONITOR");
        let sentinel = unique_name("monitor_sentinel");
        let until = sentinel.clone();
        let thread = std::thread::spawn(move || {
            let mut seen = Vec::new();
            loop {
                let mut line = String::new();
                assert!(lines.read_line(&mut line).expect("MONITOR output") > 0, "MONITOR closed");
                if line.contains(&until) {
                    return seen;
                }
                if line.contains(&pattern) {
                    seen.push(line.trim_end().to_owned());
                }
            }
        });
        Monitor { port, sentinel, thread }
    }

    /// The recorded commands. MONITOR shows commands in the order Redis ran
    /// them, so once the sentinel shows, every earlier one has.
    fn finish(self) -> Vec<String> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connects to redis");
        stream.write_all(format!("ECHO {}\r\n", self.sentinel).as_bytes()).unwrap();
        let mut reply = [0u8; 1];
        stream.read_exact(&mut reply).unwrap();
        self.thread.join().expect("the MONITOR reader")
    }
}

/// The time (seconds) of a MONITOR line: `+1718000000.123456 [0 ...] ...`.
fn monitor_time(line: &str) -> f64 {
    line.trim_start_matches('+').split(' ').next().and_then(|t| t.parse().ok()).unwrap_or(0.0)
}

/// `total` GETs of `path` with `token`, alternately on each port, each on a
/// connection opened beforehand and all released at once by a barrier:
/// (process index, answer) of each.
fn burst(ports: [u16; 2], total: usize, path: &str, token: &str) -> Vec<(usize, Answer)> {
    let request = Arc::new(request_bytes("GET", path, Some(token), None));
    let barrier = Arc::new(Barrier::new(total));
    let threads: Vec<_> = (0..total)
        .map(|i| {
            let (request, barrier) = (Arc::clone(&request), Arc::clone(&barrier));
            let process = i % 2;
            let port = ports[process];
            std::thread::Builder::new()
                .stack_size(256 * 1024)
                .spawn(move || {
                    let connected = TcpStream::connect(("127.0.0.1", port));
                    // Wait even when the connect failed, or the others would wait forever.
                    barrier.wait();
                    let answer = connected.and_then(|mut stream| exchange(&mut stream, &request));
                    (process, answer.unwrap_or_else(|error| panic!("request {i} on {port}: {error}")))
                })
                .expect("a client thread")
        })
        .collect();
    threads.into_iter().map(|thread| thread.join().expect("a client thread panicked")).collect()
}

const READS: usize = 1000;

/// What one burst measured.
struct Stampede {
    /// Reads of the key that found no entry, per process (`miss` outcomes).
    misses: [u64; 2],
    hits: [u64; 2],
    /// Conditional stores of the key: one per database fetch.
    fetches: usize,
    leases: usize,
    store_reads: usize,
    lease_to_store_ms: f64,
}

/// Logs an entry on `date` through B (never reading it), then sends `READS`
/// concurrent cold reads of that day, half to each process; checks every
/// answer and counts what it cost.
fn stampede(deployment: &Deployment, user: i64, token: &str, date: &str) -> Stampede {
    let ports = [deployment.port(0), deployment.port(1)];
    let batch = json!({"entries": [{"date": date, "meal": "lunch", "food_id": 1, "servings": 1}]});
    let logged = send(ports[1], "POST", "/v1/logs", Some(token), Some(&batch)).ok(201);
    let entry = logged["entries"][0]["id"].as_i64().unwrap();
    // Once every applied outbox row is deleted, no drain can bump the user's
    // epoch in the middle of the burst (which would rightly cost fetches).
    let deadline = Instant::now() + Duration::from_secs(30);
    while deployment.rows("cache_outbox") > 0 {
        assert!(Instant::now() < deadline, "outbox rows left after 30 s");
        std::thread::sleep(Duration::from_millis(50));
    }
    // Warm both processes: the credential cached, database and Redis
    // connections open, each process fetching a date of its own once.
    for (process, warm) in [(0, "2026-11-01"), (1, "2026-11-02")] {
        for port in [ports[process], ports[1 - process]] {
            send(port, "GET", &logs(warm), Some(token), None).ok(200);
        }
    }

    let key = format!("macro:{{user:{user}}}:logs:{date}");
    let before = ports.map(cache_counts);
    let monitor = Monitor::start(deployment.redis.port, key.clone());
    let answers = burst(ports, READS, &logs(date), token);
    let commands = monitor.finish();
    let after = ports.map(cache_counts);

    // Every read answered the same day, with the entry.
    let first = &answers[0].1;
    for (process, answer) in &answers {
        assert_eq!(answer.status, 200, "{}: {}", NAMES[*process], answer.text);
        assert_eq!(answer.text, first.text, "{} answered another body", NAMES[*process]);
    }
    let day = first.ok(200);
    assert_eq!(day["entries"][0]["id"], entry, "{day}");

    // Every database fetch of a cached read is followed by one conditional
    // store of its key (the store_if_current script, whose first key is the
    // entry). Only error and bypass reads, and reads after a store failure,
    // fetch without storing: they must all be absent.
    let quoted = format!("\"{key}\"");
    // `"EVALSHA" "sha" "numkeys" "first key" ...`: the lease script names
    // the entry too, but second (its first key is the lease).
    let first_key_is_the_entry = |line: &&String| {
        let script = line.find("\"EVALSHA\" ").or_else(|| line.find("\"EVAL\" "));
        script.is_some_and(|at| line[at..].split("\" \"").nth(3) == Some(key.as_str()))
    };
    let stores: Vec<&String> = commands.iter().filter(first_key_is_the_entry).collect();
    let stored = commands.iter().filter(|l| l.contains("lua]") && l.contains(&format!("\"SET\" {quoted}"))).count();
    // A lease's key is the entry's and its generations': `KEY:lease:HASH`.
    let leases: Vec<&String> = commands.iter().filter(|l| l.contains(&format!("\"SET\" \"{key}:lease:"))).collect();
    // The entry is read in an MGET with the credential (one round trip).
    let store_reads = commands.iter().filter(|line| line.contains("\"MGET\"") && line.contains(&quoted)).count();
    assert!(
        store_reads >= READS,
        "{store_reads} reads of {key} seen by MONITOR: is the key rendered as the engine does?"
    );
    let (mut misses, mut hits) = ([0; 2], [0; 2]);
    for process in 0..2 {
        let delta = |outcome: &str| count(&after[process], "logs", outcome) - count(&before[process], "logs", outcome);
        for outcome in ["error", "bypass", "invalid", "refresh", "stale", "rejected_store"] {
            assert_eq!(delta(outcome), 0, "{outcome} reads of logs on {}", NAMES[process]);
        }
        (misses[process], hits[process]) = (delta("miss"), delta("hit"));
        assert_eq!(misses[process] + hits[process], (READS / 2) as u64, "one outcome per read on {}", NAMES[process]);
        let log = deployment.servers[process].log_text();
        assert!(!log.contains("cache store failed"), "server {} lost the store: {log}", NAMES[process]);
    }
    assert_eq!(stores.len(), 1, "database fetches (conditional stores of the key): {stores:#?}");
    assert_eq!(stored, 1, "the fetched day is stored once");
    assert!(!leases.is_empty(), "no lease was taken");
    let lease_to_store_ms = (monitor_time(stores[0]) - monitor_time(leases[0])) * 1000.0;
    Stampede { misses, hits, fetches: stores.len(), leases: leases.len(), store_reads, lease_to_store_ms }
}

#[test]
fn a_cold_stampede_over_two_server_processes_costs_one_fetch() {
    let Some(deployment) = Deployment::start("processes_stampede") else { return };
    // Each connection of the burst is a descriptor here and one in a server.
    let limit = Command::new("sh").args(["-c", "ulimit -n"]).output().ok();
    let limit = limit.and_then(|out| String::from_utf8(out.stdout).ok()?.trim().parse::<usize>().ok());
    assert!(limit.is_none_or(|limit| limit > READS + 200), "ulimit -n {limit:?} is too low for {READS} connections");
    let admin = Some(ADMIN);
    let created = send(deployment.port(0), "POST", "/v1/admin/users", admin, Some(&json!({"name": "herd"}))).ok(201);
    let (user, token) = (created["id"].as_i64().unwrap(), created["token"].as_str().unwrap().to_owned());

    // The lease is only exercised when cold reads reach both processes
    // before the one fetch is stored; a burst where one process came late
    // (a descheduled process) still costs one fetch but proves less, so it
    // is repeated on a fresh date, up to 3 times.
    let mut bursts = Vec::new();
    for date in ["2026-12-01", "2026-12-02", "2026-12-03"] {
        let burst = stampede(&deployment, user, &token, date);
        let overlapped = burst.misses.iter().all(|&misses| misses > 0);
        bursts.push(burst);
        if overlapped {
            break;
        }
    }
    let last = bursts.last().unwrap();
    assert!(last.misses.iter().all(|&misses| misses > 0), "no burst reached both processes cold: {:?}", last.misses);

    let figures: Vec<String> = bursts
        .iter()
        .map(|b| {
            format!(
                "database fetches {} of {READS}; A {} reads miss {} hit {}, B {} reads miss {} hit {}; lease \
                 attempts {}; store reads of the key {}; lease to store {:.1} ms (a lease is held for 8 typical fetch times, 250 ms to 2 s)",
                b.fetches,
                READS / 2,
                b.misses[0],
                b.hits[0],
                READS / 2,
                b.misses[1],
                b.hits[1],
                b.leases,
                b.store_reads,
                b.lease_to_store_ms
            )
        })
        .collect();
    report(
        "processes::a_cold_stampede_over_two_server_processes_costs_one_fetch",
        "two macrotrack server processes on one fresh PostgreSQL database and one redis-server, both warmed up \
         (credential cached, connections open); a day written through B and never read, then 1000 concurrent GETs \
         of it, each on its own connection opened beforehand, half to each process, released at once; database \
         fetches counted as the conditional stores of the key that Redis ran (MONITOR), since no metric counts \
         fetches (the miss outcome counts reads that found no entry); repeated on a fresh date when one process \
         saw no cold read",
        &format!("bursts {}, all reads 200 and identical; {}", bursts.len(), figures.join("; then ")),
    );
}
