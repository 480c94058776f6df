//! What the cache outbox adds to the write path: `create_log_entries` (one
//! entry) with its outbox row inserted in the transaction, against the same
//! batch without the row, on SQLite (a WAL file and in memory). The row is
//! deleted after the commit either by its own statement (`delete_each`, the
//! first design) or in batches of 256 as the service does (`delete_batched`);
//! `insert_only` leaves the row, to split the costs. Run by `cargo xtask
//! reliability`, which writes the figures into docs/reliability.md.

use std::time::Duration;

use chrono::Utc;
use criterion::{Criterion, criterion_group, criterion_main};
use macrotrack_db_seaorm::{DbConfig, SeaOrmRepository};
use macrotrack_domain::{Amount, LogAmount, LogItem, Meal, NewLogEntry, Timestamp};
use macrotrack_ports::{FoodRepository, LogRepository, OutboxRepository, UserRepository};

fn bench_outbox(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let dir = std::env::temp_dir().join(format!("macrotrack_bench_outbox_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = format!("sqlite://{}", dir.join("bench.db").display());
    let mut group = c.benchmark_group("outbox");
    for (label, url) in [("sqlite_file", file.as_str()), ("sqlite_memory", "sqlite::memory:")] {
        let (repo, user, food) = runtime.block_on(async {
            let repo = SeaOrmRepository::connect(&DbConfig::new(url)).await.unwrap();
            repo.migrate().await.unwrap();
            let user = repo.create_user("bench", &format!("bench_{label}"), [7; 32]).await.unwrap().id;
            let food = repo.search_foods(user, "", 1).await.unwrap()[0].id;
            (repo, user, food)
        });
        let batch = [NewLogEntry {
            date: "2026-11-24".parse().unwrap(),
            meal: Meal::Lunch,
            item: LogItem::Food(food),
            amount: LogAmount::Servings(Amount::from_hundredths(100)),
        }];
        let now = || Timestamp::new(Utc::now());
        group.bench_function(format!("{label}/without_outbox"), |b| {
            b.to_async(&runtime).iter(|| async {
                repo.create_log_entries_without_outbox(user, &batch, now()).await.unwrap();
            })
        });
        group.bench_function(format!("{label}/delete_each"), |b| {
            b.to_async(&runtime).iter(|| async {
                let committed = repo.create_log_entries(user, &batch, now()).await.unwrap();
                repo.done(&[committed.outbox]).await.unwrap();
            })
        });
        let queue = std::sync::Mutex::new(Vec::new());
        group.bench_function(format!("{label}/delete_batched"), |b| {
            b.to_async(&runtime).iter(|| async {
                let committed = repo.create_log_entries(user, &batch, now()).await.unwrap();
                let full = {
                    let mut queue = queue.lock().unwrap();
                    queue.push(committed.outbox);
                    (queue.len() >= 256).then(|| std::mem::take(&mut *queue))
                };
                if let Some(ids) = full {
                    repo.done(&ids).await.unwrap();
                }
            })
        });
        group.bench_function(format!("{label}/insert_only"), |b| {
            b.to_async(&runtime).iter(|| async {
                repo.create_log_entries(user, &batch, now()).await.unwrap();
            })
        });
    }
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(5)).warm_up_time(Duration::from_secs(1));
    targets = bench_outbox
}
criterion_main!(benches);
