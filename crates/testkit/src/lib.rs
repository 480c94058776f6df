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
        RedisServer::start_on(free_port(), extra_args)
    }

    /// As `start`, on `port` (a test that first needs Redis absent there).
    pub fn start_on(port: u16, extra_args: &[&str]) -> Option<RedisServer> {
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

/// A Redis Cluster started by a test on free loopback ports: masters, and
/// optionally replicas of each; stopped when dropped.
pub struct RedisCluster {
    pub nodes: Vec<RedisServer>,
    /// `CLUSTER MYID` of each node, read once it formed (a killed node can
    /// no longer tell it).
    ids: Vec<String>,
}

/// The `cluster-node-timeout` of `start` and `start_with_replicas`.
pub const CLUSTER_NODE_TIMEOUT: Duration = Duration::from_millis(2000);

impl RedisCluster {
    /// `masters` masters and no replicas. `None` (after `skip_or_fail`)
    /// when redis-server or redis-cli is missing or the cluster does not
    /// form within 20 s.
    pub fn start(masters: usize) -> Option<RedisCluster> {
        RedisCluster::start_with_replicas(masters, 0)
    }

    /// `masters` masters with `replicas_per_master` replicas each; returns
    /// once every node reports `cluster_state:ok` and every replica's link
    /// to its master is up (its initial sync is done).
    pub fn start_with_replicas(masters: usize, replicas_per_master: usize) -> Option<RedisCluster> {
        RedisCluster::start_with_node_timeout(masters, replicas_per_master, CLUSTER_NODE_TIMEOUT)
    }

    /// As `start_with_replicas`, with the time after which an unreachable
    /// master is failed and its replica promoted.
    pub fn start_with_node_timeout(
        masters: usize,
        replicas_per_master: usize,
        node_timeout: Duration,
    ) -> Option<RedisCluster> {
        let node_timeout = node_timeout.as_millis().to_string();
        // Diskless sync waits 5 s for more replicas by default; start at once.
        let args =
            ["--cluster-enabled", "yes", "--cluster-node-timeout", &node_timeout, "--repl-diskless-sync-delay", "0"];
        let count = masters * (1 + replicas_per_master);
        let mut nodes = Vec::with_capacity(count);
        for _ in 0..count {
            nodes.push(RedisServer::start(&args)?);
        }
        let addresses: Vec<String> = nodes.iter().map(|node| format!("127.0.0.1:{}", node.port)).collect();
        let created = Command::new("redis-cli")
            .arg("--cluster")
            .arg("create")
            .args(&addresses)
            .args(["--cluster-replicas", &replicas_per_master.to_string(), "--cluster-yes"])
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
        let ids =
            nodes.iter().map(|node| node.cli(&["cluster", "myid"]).unwrap_or_default().trim().to_owned()).collect();
        let cluster = RedisCluster { nodes, ids };
        let replicas = masters * replicas_per_master;
        let formed = || {
            cluster.nodes.iter().all(|node| node.cluster_ok())
                && cluster.nodes.iter().filter(|node| node.replica_in_sync()).count() == replicas
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if formed() {
                return Some(cluster);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        skip_or_fail("Redis Cluster", "the cluster did not reach state ok with its replicas in sync within 20 s");
        None
    }

    /// `redis-cluster://127.0.0.1:p1,127.0.0.1:p2,...`
    pub fn url(&self) -> String {
        let nodes: Vec<String> = self.nodes.iter().map(|node| format!("127.0.0.1:{}", node.port)).collect();
        format!("redis-cluster://{}", nodes.join(","))
    }

    /// The slot of `key` (`CLUSTER KEYSLOT`, asked of any node that answers;
    /// only a hash tag such as `{user:7}` matters).
    pub fn key_slot(&self, key: &str) -> Option<u16> {
        self.nodes.iter().find_map(|node| node.cli(&["cluster", "keyslot", key])?.trim().parse().ok())
    }

    /// The index in `nodes` of the node that sees itself as the master of
    /// `slot`.
    pub fn master_of_slot(&self, slot: u16) -> Option<usize> {
        (0..self.nodes.len()).find(|&index| self.own_view(index).is_some_and(|me| me.is_master() && me.owns(slot)))
    }

    /// The indices in `nodes` of the nodes that see themselves as replicas
    /// of `nodes[master]`.
    pub fn replicas_of(&self, master: usize) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&index| self.own_view(index).is_some_and(|me| me.master_id.as_deref() == Some(&self.ids[master])))
            .collect()
    }

    /// Whether `nodes[node]` sees itself as a master (it answers).
    pub fn is_master(&self, node: usize) -> bool {
        self.own_view(node).is_some_and(|me| me.is_master())
    }

    /// Sends `CLUSTER FAILOVER [option]` (`FORCE`, `TAKEOVER`) to the
    /// replica `nodes[replica]`. The failover then runs in the background:
    /// see `roles_swapped` and `promoted`.
    pub fn failover(&self, replica: usize, option: Option<&str>) -> Result<(), String> {
        let mut args = vec!["cluster", "failover"];
        args.extend(option);
        match self.nodes[replica].cli(&args) {
            Some(answer) if answer.trim() == "OK" => Ok(()),
            Some(answer) => Err(answer.trim().to_owned()),
            None => Err("redis-cli did not run".to_owned()),
        }
    }

    /// Whether `nodes[node]` is master of `slot` for itself and for every
    /// node that answers, all of which report `cluster_state:ok`: a failover
    /// to it is complete and known cluster-wide. Nodes that do not answer
    /// (killed ones) are not asked.
    pub fn promoted(&self, node: usize, slot: u16) -> bool {
        let mut answered = 0;
        for (index, server) in self.nodes.iter().enumerate() {
            let Some(text) = server.cli(&["cluster", "nodes"]) else { continue };
            if text.trim().is_empty() {
                continue;
            }
            answered += 1;
            let sees_it_master =
                parse_cluster_nodes(&text).iter().any(|n| n.id == self.ids[node] && n.is_master() && n.owns(slot));
            if !sees_it_master || !server.cluster_ok() {
                return false;
            }
            if index == node && !text.lines().any(|line| line.contains("myself,master")) {
                return false;
            }
        }
        answered > 0
    }

    /// Whether `nodes[new_master]` was promoted (`promoted`) and
    /// `nodes[old_master]` now replicates it with its link up.
    pub fn roles_swapped(&self, old_master: usize, new_master: usize, slot: u16) -> bool {
        self.promoted(new_master, slot)
            && self.own_view(old_master).is_some_and(|me| me.master_id.as_deref() == Some(&self.ids[new_master]))
            && self.nodes[old_master].replica_in_sync()
    }

    /// Polls `condition` every 20 ms until it holds (true) or `limit` passes.
    pub fn wait_until(&self, limit: Duration, mut condition: impl FnMut(&RedisCluster) -> bool) -> bool {
        let deadline = Instant::now() + limit;
        loop {
            if condition(self) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn own_view(&self, index: usize) -> Option<ClusterNode> {
        let text = self.nodes[index].cli(&["cluster", "nodes"])?;
        parse_cluster_nodes(&text).into_iter().find(|node| node.myself)
    }
}

/// One line of `CLUSTER NODES`.
#[derive(Debug, Clone)]
struct ClusterNode {
    id: String,
    myself: bool,
    flags: Vec<String>,
    master_id: Option<String>,
    slots: Vec<(u16, u16)>,
}

impl ClusterNode {
    fn is_master(&self) -> bool {
        self.flags.iter().any(|flag| flag == "master")
    }

    fn owns(&self, slot: u16) -> bool {
        self.slots.iter().any(|&(first, last)| (first..=last).contains(&slot))
    }
}

/// `<id> <ip:port@cport> <flags> <master|-> <ping> <pong> <epoch> <link> <slots>...`;
/// importing/migrating markers (`[...]`) are skipped.
fn parse_cluster_nodes(text: &str) -> Vec<ClusterNode> {
    text.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() < 8 {
                return None;
            }
            let flags: Vec<String> = fields[2].split(',').map(str::to_owned).collect();
            let slots = fields[8..]
                .iter()
                .filter(|range| !range.starts_with('['))
                .filter_map(|range| match range.split_once('-') {
                    Some((first, last)) => Some((first.parse().ok()?, last.parse().ok()?)),
                    None => range.parse().ok().map(|slot| (slot, slot)),
                })
                .collect();
            Some(ClusterNode {
                id: fields[0].to_owned(),
                myself: flags.iter().any(|flag| flag == "myself"),
                flags,
                master_id: (fields[3] != "-").then(|| fields[3].to_owned()),
                slots,
            })
        })
        .collect()
}

impl RedisServer {
    /// Runs `redis-cli` against this server; its output, `None` when
    /// redis-cli could not run or the server did not answer.
    pub fn cli(&self, args: &[&str]) -> Option<String> {
        let output = Command::new("redis-cli")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(args)
            .output()
            .ok()?;
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        // redis-cli exits 0 even when the connection was refused, printing to stderr.
        (output.status.success() && output.stderr.is_empty()).then_some(text)
    }

    fn cluster_ok(&self) -> bool {
        self.cli(&["cluster", "info"]).is_some_and(|info| info.contains("cluster_state:ok"))
    }

    /// A replica whose link to its master is up (`INFO replication`);
    /// false for a master.
    pub fn replica_in_sync(&self) -> bool {
        self.cli(&["info", "replication"])
            .is_some_and(|info| info.contains("role:slave") && info.contains("master_link_status:up"))
    }
}

#[cfg(test)]
mod tests {
    use super::parse_cluster_nodes;

    #[test]
    fn cluster_nodes_lines_parse() {
        let text = "07c3 127.0.0.1:30004@40004 slave e7d1 0 1426238317239 4 connected\n\
                    e7d1 127.0.0.1:30001@40001 myself,master - 0 0 1 connected 0-5460 5462 [5461->-67ed]\n\
                    67ed 127.0.0.1:30002@40002 master,fail - 0 0 2 disconnected\n";
        let nodes = parse_cluster_nodes(text);
        assert_eq!(nodes.len(), 3);
        assert_eq!(nodes[0].master_id.as_deref(), Some("e7d1"));
        assert!(!nodes[0].is_master() && !nodes[0].myself);
        assert!(nodes[1].myself && nodes[1].is_master() && nodes[1].master_id.is_none());
        assert!(nodes[1].owns(0) && nodes[1].owns(5460) && nodes[1].owns(5462));
        assert!(!nodes[1].owns(5461) && !nodes[1].owns(5463));
        assert!(nodes[2].is_master() && nodes[2].slots.is_empty());
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
