//! Connecting: SQLite files are created, migrations are idempotent, and a
//! failed connection says so on one line without the password.

use std::time::Duration;

use macrotrack_db_seaorm::{DbConfig, SeaOrmRepository};
use macrotrack_ports::UserRepository;
use macrotrack_testkit::{free_port, unique_name};

#[tokio::test]
async fn sqlite_file_is_created_and_survives_reconnecting() {
    let dir = std::env::temp_dir().join(unique_name("macrotrack_sqlite"));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("macrotrack.db");
    let url = format!("sqlite://{}", path.display());

    let repo = SeaOrmRepository::connect(&DbConfig::new(url.clone())).await.unwrap();
    assert!(path.exists(), "connect did not create {}", path.display());
    repo.migrate().await.unwrap();
    let alice = repo.create_user("alice", "sel_alice", [1; 32]).await.unwrap();
    repo.connection().close_by_ref().await.unwrap();

    let again = SeaOrmRepository::connect(&DbConfig::new(url)).await.unwrap();
    again.migrate().await.unwrap();
    assert_eq!(again.user(alice.id).await.unwrap(), Some(alice));
    again.connection().close_by_ref().await.unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn refused_connection_is_one_line_without_the_password() {
    let config = DbConfig {
        connect_timeout: Duration::from_secs(3),
        ..DbConfig::new(format!("postgres://app:hunter2@127.0.0.1:{}/macrotrack", free_port()))
    };
    let message = SeaOrmRepository::connect(&config).await.unwrap_err().to_string();
    assert!(message.starts_with("cannot connect to the database at postgres://app:***@127.0.0.1:"), "{message}");
    assert!(message.ends_with(": connection refused"), "{message}");
    assert!(!message.contains("hunter2") && !message.contains('\n'), "{message}");
}

#[tokio::test]
async fn unsupported_scheme_is_refused() {
    let message =
        SeaOrmRepository::connect(&DbConfig::new("mysql://root:pw@localhost/db")).await.unwrap_err().to_string();
    assert!(message.contains("unsupported database URL mysql://root:***@localhost/db"), "{message}");
    assert!(!message.contains(":pw@"), "{message}");
}
