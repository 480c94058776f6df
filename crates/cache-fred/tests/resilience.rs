//! A Redis that freezes, dies or restarts: calls fail fast with a
//! `StoreError`, and the store recovers by itself.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::{TTL, keys};
use fred::prelude::ClientLike;
use fred::types::InfoKind;
use macrotrack_cache_fred::RedisStore;
use macrotrack_ports::{CacheStore, StoreError, StoreOutcome};
use macrotrack_testkit::{RedisServer, unique_name};

/// Held by every test here: the restart test frees a port for a moment,
/// and a server started meanwhile by a sibling test could take it.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Generous bounds: they catch "waits forever", not slowness.
const FAIL_WITHIN: Duration = Duration::from_secs(3);
const RECOVER_WITHIN: Duration = Duration::from_secs(15);

fn assert_store_error<T: std::fmt::Debug>(result: Result<T, StoreError>) {
    match result {
        Err(StoreError::Timeout | StoreError::Unavailable(_)) => {}
        other => panic!("expected a store error, got {other:?}"),
    }
}

async fn until_reads_work(store: &RedisStore, key: &str) {
    let started = Instant::now();
    loop {
        if store.read(key, &[]).await.is_ok() {
            return;
        }
        assert!(started.elapsed() < RECOVER_WITHIN, "no recovery within {RECOVER_WITHIN:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_paused_server_times_out_quickly_and_serves_again_when_continued() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let Some(server) = RedisServer::start(&[]) else {
        return;
    };
    let mut config = common::config(&server.url());
    config.command_timeout = Duration::from_millis(100);
    let Some(store) = common::connect(config).await else {
        return;
    };
    let (key, guards) = keys(1);
    let taken = store.init_guards(&guards, &[1, 2], TTL).await.unwrap();

    server.signal("STOP");
    for _ in 0..3 {
        let started = Instant::now();
        assert_store_error(store.read(&key, &guards).await);
        assert!(started.elapsed() < FAIL_WITHIN, "read took {:?}", started.elapsed());
    }
    // Past the unresponsive limit the connections are dropped and reopened
    // against the frozen server; calls must still fail, and fast.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    for _ in 0..3 {
        let started = Instant::now();
        assert_store_error(store.store_if_current(&key, Bytes::from_static(b"v"), TTL, &guards, &taken, None).await);
        assert_store_error(store.ping().await);
        assert!(started.elapsed() < FAIL_WITHIN * 2, "took {:?}", started.elapsed());
    }

    server.signal("CONT");
    until_reads_work(&store, &key).await;
    // A timed-out store may still have run once the server woke; it was
    // conditional, so storing again is what matters here.
    let outcome = store.store_if_current(&key, Bytes::from_static(b"v"), TTL, &guards, &taken, None).await.unwrap();
    assert_eq!(outcome, StoreOutcome::Stored);
    assert_eq!(store.read(&key, &guards).await.unwrap().value, Some(Bytes::from_static(b"v")));
}

#[tokio::test]
async fn connecting_to_a_paused_server_fails_within_the_connect_timeout() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let Some(server) = RedisServer::start(&[]) else {
        return;
    };
    server.signal("STOP");
    let mut config = common::config(&server.url());
    config.connect_timeout = Duration::from_millis(300);
    let started = Instant::now();
    let error = RedisStore::connect(config).await.unwrap_err().to_string();
    assert!(started.elapsed() < FAIL_WITHIN, "took {:?}", started.elapsed());
    assert!(error.contains("Redis") && !error.contains('\n'), "{error}");
    server.signal("CONT");
}

/// A redis-server on a given port, killed on drop.
struct Restarted {
    child: Child,
    dir: std::path::PathBuf,
}

impl Restarted {
    fn start(port: u16) -> Restarted {
        let dir = std::env::temp_dir().join(unique_name("macrotrack_redis_restart"));
        std::fs::create_dir_all(&dir).unwrap();
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &port.to_string(), "--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server ran before, so it starts again");
        Restarted { child, dir }
    }
}

impl Drop for Restarted {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test]
async fn a_killed_and_restarted_server_is_reconnected_and_its_scripts_reloaded() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let Some(server) = RedisServer::start(&[]) else {
        return;
    };
    let port = server.port;
    let Some(store) = common::connect(common::config(&server.url())).await else {
        return;
    };
    let (key, guards) = keys(2);
    store.init_guards(&guards, &[1, 2], TTL).await.unwrap();

    server.signal("KILL");
    drop(server);
    let started = Instant::now();
    assert_store_error(store.read(&key, &guards).await);
    assert_store_error(store.init_guards(&guards, &[1, 2], TTL).await);
    assert!(started.elapsed() < FAIL_WITHIN, "took {:?}", started.elapsed());

    let restarted = Restarted::start(port);
    until_reads_work(&store, &key).await;
    // Guard against another process having taken the port meanwhile.
    let raw = common::raw_client(&format!("redis://127.0.0.1:{port}")).await;
    let info: String = raw.info(Some(InfoKind::Server)).await.unwrap();
    let pid = format!("process_id:{}", restarted.child.id());
    assert!(info.lines().any(|line| line.trim() == pid), "port {port} was taken by another server");
    // The new server is empty and knows none of the scripts.
    assert_eq!(store.read(&key, &guards).await.unwrap().guards, vec![None, None]);
    let taken = store.init_guards(&guards, &[3, 4], TTL).await.unwrap();
    assert_eq!(taken, vec![3, 4]);
    let outcome = store.store_if_current(&key, Bytes::from_static(b"v"), TTL, &guards, &taken, None).await.unwrap();
    assert_eq!(outcome, StoreOutcome::Stored);
}

#[tokio::test]
async fn a_store_opened_while_redis_is_down_serves_errors_then_connects_when_redis_answers() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let port = macrotrack_testkit::free_port();
    let mut config = common::config(&format!("redis://127.0.0.1:{port}"));
    config.connect_timeout = Duration::from_millis(200);
    let store = RedisStore::open(config).await.expect("a Redis that does not answer is no reason to fail");
    assert!(!store.is_connected());
    let (key, guards) = keys(3);
    let started = Instant::now();
    assert_store_error(store.read(&key, &guards).await);
    assert_store_error(store.bump(&[(guards[0].clone(), 1)], &[], &[TTL]).await);
    assert!(started.elapsed() < FAIL_WITHIN, "calls fail fast while unconnected: {:?}", started.elapsed());

    let Some(_server) = RedisServer::start_on(port, &[]) else { return };
    until_reads_work(&store, &key).await;
    assert!(store.is_connected());
    let taken = store.init_guards(&guards, &[5, 6], TTL).await.unwrap();
    let stored = store.store_if_current(&key, Bytes::from_static(b"v"), TTL, &guards, &taken, None).await.unwrap();
    assert_eq!(stored, StoreOutcome::Stored, "the scripts were loaded when it connected");
}

#[tokio::test]
async fn a_bad_configuration_still_fails_open_at_once() {
    let mut config = common::config("http://127.0.0.1:1");
    assert!(RedisStore::open(config.clone()).await.is_err(), "an unparsable URL");
    config.url = "redis://127.0.0.1:1".into();
    config.key_prefix = "{oops}".into();
    assert!(RedisStore::open(config).await.is_err(), "a prefix with a hash tag");
}
