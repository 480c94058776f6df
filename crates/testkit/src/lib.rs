//! Helpers shared by the test suites (a dev-dependency only; the tidy test
//! forbids it elsewhere).
//!
//! Tests that need PostgreSQL or Redis find them through `DATABASE_URL` and
//! `REDIS_URL` (default: the local ones). When a service is absent they skip
//! with a printed reason, unless `MACROTRACK_REQUIRE_SERVICES=1`, where they
//! fail instead (CI sets it).

mod report;

pub use report::{REPORT_ENV, report};

use std::fmt::Display;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
pub const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379";

/// Whether absent services fail the tests (`MACROTRACK_REQUIRE_SERVICES=1`).
pub fn services_required() -> bool {
    std::env::var("MACROTRACK_REQUIRE_SERVICES").is_ok_and(|value| value == "1")
}

/// The PostgreSQL server to test against: `DATABASE_URL` when it is a
/// postgres URL, else the local default.
pub fn postgres_url() -> String {
    match std::env::var("DATABASE_URL") {
        Ok(url) if url.starts_with("postgres") => url,
        _ => DEFAULT_DATABASE_URL.to_owned(),
    }
}

/// The Redis server to test against: `REDIS_URL` when it is a single-node
/// redis URL, else the local default.
pub fn redis_url() -> String {
    match std::env::var("REDIS_URL") {
        Ok(url) if url.starts_with("redis://") => url,
        _ => DEFAULT_REDIS_URL.to_owned(),
    }
}

/// Call when a needed service is absent: panics when services are
/// required, otherwise prints why the test is skipped. The caller returns.
pub fn skip_or_fail(service: &str, reason: impl Display) {
    if services_required() {
        panic!("{service} is required (MACROTRACK_REQUIRE_SERVICES=1) but unavailable: {reason}");
    }
    eprintln!("skipped: {service} unavailable ({reason}); set MACROTRACK_REQUIRE_SERVICES=1 to fail instead");
}

/// A name no other test of any process will use: for key prefixes, schemas
/// and databases. Lowercase ASCII, digits and underscores only.
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    format!("{prefix}_{}_{}_{nanos}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// A free TCP port on the loopback interface.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("no free loopback port")
}

/// A redis-server started by a test on a free loopback port; stopped (and
/// its directory removed) when dropped.
pub struct RedisServer {
    child: Child,
    pub port: u16,
    dir: PathBuf,
    args: Vec<String>,
}

fn spawn_redis(port: u16, dir: &std::path::Path, extra_args: &[String]) -> std::io::Result<Child> {
    Command::new("redis-server")
        .args(["--bind", "127.0.0.1", "--port", &port.to_string(), "--save", "", "--appendonly", "no"])
        .arg("--dir")
        .arg(dir)
        .args(extra_args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
}

fn listening_within(port: u16, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

impl RedisServer {
    /// Starts `redis-server` with no persistence; `None` (after
    /// `skip_or_fail`) when the binary is missing or it does not answer.
    pub fn start(extra_args: &[&str]) -> Option<RedisServer> {
        let port = free_port();
        let dir = std::env::temp_dir().join(unique_name("macrotrack_redis"));
        std::fs::create_dir_all(&dir).ok()?;
        let args: Vec<String> = extra_args.iter().map(|arg| (*arg).to_owned()).collect();
        let child = match spawn_redis(port, &dir, &args) {
            Ok(child) => child,
            Err(error) => {
                skip_or_fail("redis-server binary", error);
                return None;
            }
        };
        let server = RedisServer { child, port, dir, args };
        if listening_within(port, Duration::from_secs(10)) {
            return Some(server);
        }
        skip_or_fail("redis-server", "did not start listening within 10 s");
        None
    }

    /// Kills the server (if it still runs) and starts a new, empty one on
    /// the same port. Panics when it does not listen within 10 s (another
    /// process may have taken the port meanwhile).
    pub fn restart_empty(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.child = spawn_redis(self.port, &self.dir, &self.args).expect("redis-server ran before");
        assert!(listening_within(self.port, Duration::from_secs(10)), "redis-server did not listen again");
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends a signal (`STOP`, `CONT`, `KILL`) to the server process.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill").arg(format!("-{signal}")).arg(self.pid().to_string()).status();
        assert!(status.is_ok_and(|s| s.success()), "kill -{signal} failed");
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        // A paused server ignores SIGKILL until continued on some kernels' views; continue first.
        let _ = Command::new("kill").arg("-CONT").arg(self.child.id().to_string()).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A Redis Cluster of `masters` nodes (no replicas) started by a test on
/// free loopback ports; stopped when dropped.
pub struct RedisCluster {
    pub nodes: Vec<RedisServer>,
}

impl RedisCluster {
    /// `None` (after `skip_or_fail`) when redis-server or redis-cli is
    /// missing or the cluster does not form within 20 s.
    pub fn start(masters: usize) -> Option<RedisCluster> {
        let mut nodes = Vec::with_capacity(masters);
        for _ in 0..masters {
            nodes.push(RedisServer::start(&["--cluster-enabled", "yes", "--cluster-node-timeout", "2000"])?);
        }
        let addresses: Vec<String> = nodes.iter().map(|node| format!("127.0.0.1:{}", node.port)).collect();
        let created = Command::new("redis-cli")
            .arg("--cluster")
            .arg("create")
            .args(&addresses)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output();
        match created {
            Ok(output) if output.status.success() => {}
            Ok(output) => {
                skip_or_fail("redis-cli --cluster create", String::from_utf8_lossy(&output.stderr));
                return None;
            }
            Err(error) => {
                skip_or_fail("redis-cli", error);
                return None;
            }
        }
        let cluster = RedisCluster { nodes };
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if cluster.nodes.iter().all(|node| node.cluster_ok()) {
                return Some(cluster);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        skip_or_fail("Redis Cluster", "the cluster did not reach state ok within 20 s");
        None
    }

    /// `redis-cluster://127.0.0.1:p1,127.0.0.1:p2,...`
    pub fn url(&self) -> String {
        let nodes: Vec<String> = self.nodes.iter().map(|node| format!("127.0.0.1:{}", node.port)).collect();
        format!("redis-cluster://{}", nodes.join(","))
    }
}

impl RedisServer {
    fn cluster_ok(&self) -> bool {
        let output = Command::new("redis-cli")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "cluster", "info"])
            .output();
        output.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("cluster_state:ok"))
    }
}

#[cfg(feature = "postgres")]
pub use postgres::FreshDatabase;

#[cfg(feature = "postgres")]
mod postgres {
    use std::time::Duration;

    use sea_orm::{ConnectionTrait, Database};

    use super::{postgres_url, skip_or_fail, unique_name};

    /// A database created for one test on the PostgreSQL server of
    /// `DATABASE_URL`; call `drop` at the end (a leaked one has a unique
    /// name and harms no other test).
    pub struct FreshDatabase {
        pub url: String,
        name: String,
        server: String,
    }

    impl FreshDatabase {
        /// `None` (after `skip_or_fail`) when PostgreSQL does not answer.
        pub async fn create(prefix: &str) -> Option<FreshDatabase> {
            let server = postgres_url();
            let connected = tokio::time::timeout(Duration::from_secs(5), Database::connect(&server)).await;
            let admin = match connected {
                Ok(Ok(admin)) => admin,
                Ok(Err(error)) => {
                    skip_or_fail("PostgreSQL", error);
                    return None;
                }
                Err(_) => {
                    skip_or_fail("PostgreSQL", "no answer within 5 s");
                    return None;
                }
            };
            let name = unique_name(prefix);
            admin.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await.expect("CREATE DATABASE");
            let _ = admin.close().await;
            // Same server and credentials, other database.
            let base = server.split('?').next().unwrap_or(&server);
            let url = match base.rfind('/') {
                Some(slash) if slash > "postgres://".len() => format!("{}/{name}", &base[..slash]),
                _ => format!("{base}/{name}"),
            };
            Some(FreshDatabase { url, name, server })
        }

        pub async fn drop(self) {
            if let Ok(admin) = Database::connect(&self.server).await {
                let _ =
                    admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name)).await;
                let _ = admin.close().await;
            }
        }
    }
}
