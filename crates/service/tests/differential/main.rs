//! Differential tests: the cached service answers exactly what the database
//! says after any sequence of mutations, on SQLite with the in-process
//! store and on PostgreSQL with Redis; and every derived edge of the
//! invalidation matrix is needed: with the seeds of a clean control run,
//! removing any one edge makes the walk see a stale read of that read.

mod world;

use macrotrack_cache::MemoryStore;
use macrotrack_cache_fred::{RedisConfig, RedisStore};
use macrotrack_cache_keys::ReadFamily;
use macrotrack_db_seaorm::{DbConfig, SeaOrmRepository};
use macrotrack_service::{Matrix, Operation};
use world::Walk;

async fn sqlite() -> SeaOrmRepository {
    let repository = SeaOrmRepository::connect(&DbConfig::new("sqlite::memory:")).await.expect("sqlite");
    repository.migrate().await.expect("migrate");
    repository
}

const STEPS: usize = 3000;

/// The seeds of the mutant walks; the control run uses them too.
const MUTANT_SEEDS: [u64; 4] = [10, 11, 12, 13];
const MUTANT_STEPS: usize = 1500;

async fn sqlite_walk(matrix: Matrix, seed: u64) -> Walk<MemoryStore, MemoryStore> {
    Walk::new(sqlite().await, MemoryStore::new(64 << 20), MemoryStore::new(1 << 20), matrix, seed).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cached_equals_uncached_on_sqlite() {
    for seed in [1, 2] {
        let mut walk = sqlite_walk(Matrix::default(), seed).await;
        walk.run(STEPS).await.unwrap_or_else(|divergence| panic!("seed {seed}: {divergence}"));
        assert!(
            walk.reads > STEPS / 3 && walk.mutations > STEPS / 3,
            "the walk did both ({} reads, {} mutations)",
            walk.reads,
            walk.mutations
        );
        // Exhaustive over kinds: every mutation changed something, many times.
        for spec in macrotrack_service::facts::MUTATIONS {
            let applied = walk.applied.get(&spec.operation).copied().unwrap_or(0);
            assert!(applied >= 10, "seed {seed}: {:?} applied {applied} times", spec.operation);
        }
        assert!(walk.imports >= 20, "seed {seed}: {} imports changed the catalogue", walk.imports);
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
    let mut walk = Walk::new(repository, store, MemoryStore::new(1 << 20), Matrix::default(), 3).await;
    let outcome = walk.run(1500).await;
    database.drop().await;
    outcome.unwrap_or_else(|divergence| panic!("{divergence}"));
    assert_eq!(walk.store_behind(), 0, "one Redis is never behind the bumps it acknowledged");
}

/// The control run: the mutants' seeds on the unmutated matrix see no
/// stale read, so what the mutant walks see is the mutant's doing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mutants_seeds_see_no_stale_read_on_the_derived_matrix() {
    for seed in MUTANT_SEEDS {
        let mut walk = sqlite_walk(Matrix::default(), seed).await;
        walk.run(MUTANT_STEPS).await.unwrap_or_else(|divergence| panic!("control, seed {seed}: {divergence}"));
    }
}

/// An instance that does not follow the catalogue's generation serves
/// catalogue reads from before an import: the walk sees it, in a catalogue
/// read, on each of the mutants' seeds (the control run above is clean).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_blind_to_imports_is_seen_serving_the_old_catalogue() {
    for seed in MUTANT_SEEDS {
        let mut walk = sqlite_walk(Matrix::default(), seed).await.blind_to_imports();
        let divergence = walk.run(MUTANT_STEPS).await.expect_err("a stale catalogue read");
        let catalogue = [ReadFamily::FoodSearch, ReadFamily::CatalogueSearch, ReadFamily::Food, ReadFamily::Barcode];
        assert!(
            divergence.families().iter().any(|family| catalogue.contains(family)),
            "seed {seed}: another read went stale: {divergence}"
        );
    }
}

/// Removing any one derived (mutation, read) edge makes the walk see a
/// stale read of that read (or of the day screen made of it); deleting
/// the user is one edge to every read (its epoch).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_derived_edge_is_needed() {
    let mut survivors = Vec::new();
    let mutants = Matrix::mutants();
    assert!(mutants.len() >= 25, "{} mutants", mutants.len());
    for (label, mutant) in mutants {
        let edge = mutant.removed().expect("a mutant lacks an edge");
        let mut caught = None;
        for seed in MUTANT_SEEDS {
            let mut walk = sqlite_walk(mutant.clone(), seed).await;
            if let Err(divergence) = walk.run(MUTANT_STEPS).await {
                let everything = edge.operation == Operation::DeleteUser;
                assert!(
                    everything || divergence.families().contains(&edge.read),
                    "{label}: the walk saw another read go stale: {divergence}"
                );
                caught = Some(seed);
                break;
            }
        }
        if caught.is_none() {
            survivors.push(label);
        }
    }
    assert!(survivors.is_empty(), "edges whose removal no walk noticed:\n{}", survivors.join("\n"));
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
        let mut walk = Walk::new(repository, store, MemoryStore::new(1 << 20), Matrix::default(), 4).await;
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
