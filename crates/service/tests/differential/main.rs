//! Differential tests: the cached service answers exactly what the database
//! says after any sequence of mutations, on SQLite with the in-process
//! store and on PostgreSQL with Redis; and every rule of the invalidation
//! matrix is needed (removing any one of them makes a read stale).

mod world;

use macrotrack_cache::MemoryStore;
use macrotrack_cache_fred::{RedisConfig, RedisStore};
use macrotrack_db_seaorm::{DbConfig, SeaOrmRepository};
use macrotrack_service::{Matrix, Repositories};
use world::Walk;

async fn sqlite() -> Repositories {
    let repository = SeaOrmRepository::connect(&DbConfig::new("sqlite::memory:")).await.expect("sqlite");
    repository.migrate().await.expect("migrate");
    Repositories::from_one(repository)
}

const STEPS: usize = 3000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cached_equals_uncached_on_sqlite() {
    for seed in [1, 2] {
        let mut walk =
            Walk::new(sqlite().await, MemoryStore::new(64 << 20), MemoryStore::new(1 << 20), Matrix::default(), seed)
                .await;
        walk.run(STEPS).await.unwrap_or_else(|divergence| panic!("seed {seed}: {divergence}"));
        assert!(
            walk.reads > STEPS / 3 && walk.mutations > STEPS / 3,
            "the walk did both ({} reads, {} mutations)",
            walk.reads,
            walk.mutations
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cached_equals_uncached_on_postgres_and_redis() {
    let Some(database) = macrotrack_testkit::FreshDatabase::create("differential").await else { return };
    let repository = SeaOrmRepository::connect(&DbConfig::new(database.url.clone())).await.expect("postgres");
    repository.migrate().await.expect("migrate");
    let mut config = RedisConfig::new(macrotrack_testkit::redis_url());
    config.key_prefix = macrotrack_testkit::unique_name("differential");
    let store = match RedisStore::connect(config).await {
        Ok(store) => store,
        Err(error) => {
            database.drop().await;
            macrotrack_testkit::skip_or_fail("Redis", error);
            return;
        }
    };
    let mut walk =
        Walk::new(Repositories::from_one(repository), store, MemoryStore::new(1 << 20), Matrix::default(), 3).await;
    let outcome = walk.run(1500).await;
    database.drop().await;
    outcome.unwrap_or_else(|divergence| panic!("{divergence}"));
    assert_eq!(walk.store_behind(), 0, "one Redis is never behind the bumps it acknowledged");
}

/// Removing any one rule of the matrix must let the walk find a stale read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_matrix_rule_is_needed() {
    let mut survivors = Vec::new();
    for (label, mutant) in Matrix::mutants() {
        let mut caught = false;
        for seed in 10..14 {
            let mut walk =
                Walk::new(sqlite().await, MemoryStore::new(64 << 20), MemoryStore::new(1 << 20), mutant.clone(), seed)
                    .await;
            if walk.run(STEPS).await.is_err() {
                caught = true;
                break;
            }
        }
        if !caught {
            survivors.push(label);
        }
    }
    assert!(survivors.is_empty(), "rules whose removal no walk noticed:\n{}", survivors.join("\n"));
}

/// The same walk on PostgreSQL and a 3-master Redis Cluster started by the
/// test: each user's keys live in one slot, users spread over the masters;
/// meanwhile 3000 slots migrate from one master to another (MOVED and ASK
/// redirections, TRYAGAIN on scripts): no read may be stale.
#[test]
fn cached_equals_uncached_on_postgres_and_a_redis_cluster_while_slots_migrate() {
    let Some(cluster) = macrotrack_testkit::RedisCluster::start(3) else { return };
    let node_id = |port: u16| {
        let output =
            std::process::Command::new("redis-cli").args(["-p", &port.to_string(), "cluster", "myid"]).output();
        String::from_utf8_lossy(&output.expect("redis-cli").stdout).trim().to_owned()
    };
    let (from, to) = (node_id(cluster.nodes[0].port), node_id(cluster.nodes[1].port));
    let entry = format!("127.0.0.1:{}", cluster.nodes[0].port);
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(async {
        let Some(database) = macrotrack_testkit::FreshDatabase::create("differential_cluster").await else { return };
        let repository = SeaOrmRepository::connect(&DbConfig::new(database.url.clone())).await.expect("postgres");
        repository.migrate().await.expect("migrate");
        let store = RedisStore::connect(RedisConfig::new(cluster.url())).await.expect("the cluster answers");
        let mut walk =
            Walk::new(Repositories::from_one(repository), store, MemoryStore::new(1 << 20), Matrix::default(), 4).await;
        let reshard = std::thread::spawn(move || {
            std::process::Command::new("redis-cli")
                .args(["--cluster", "reshard", &entry, "--cluster-from", &from, "--cluster-to", &to])
                .args(["--cluster-slots", "3000", "--cluster-yes", "--cluster-pipeline", "10"])
                .output()
                .expect("redis-cli reshard runs")
        });
        let outcome = walk.run(1500).await;
        let resharded = reshard.join().expect("the reshard thread");
        database.drop().await;
        outcome.unwrap_or_else(|divergence| panic!("{divergence}"));
        assert_eq!(walk.store_behind(), 0, "a slot that moves takes its generations along");
        assert!(resharded.status.success(), "reshard failed: {}", String::from_utf8_lossy(&resharded.stderr));
    });
}
