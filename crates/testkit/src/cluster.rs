//! A throwaway Redis Cluster: masters, replicas, and the failover helpers
//! the fault tests use.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::cluster_nodes::{ClusterNode, parse_cluster_nodes};
use crate::{RedisServer, skip_or_fail};

/// A Redis Cluster started by a test on free loopback ports: masters, and
/// optionally replicas of each; stopped when dropped.
pub struct RedisCluster {
    /// Its nodes, to kill, pause or fail over.
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
