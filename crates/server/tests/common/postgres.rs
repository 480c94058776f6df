//! Settings on a fresh PostgreSQL database and a fresh Redis key prefix.

use std::time::Duration;

use macrotrack::Settings;
use macrotrack_db_seaorm::{DbConfig, SeaOrmRepository};
use macrotrack_testkit::{postgres_url, redis_url, skip_or_fail, unique_name};
use sea_orm::ConnectionTrait;

use super::ADMIN;

/// The server URL with its database path replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (authority, tail) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
    let query = tail.split_once('?').map(|(_, query)| format!("?{query}")).unwrap_or_default();
    format!("{scheme}://{authority}/{name}{query}")
}

/// Runs `scenario` with settings on a fresh PostgreSQL database and a fresh
/// Redis key prefix; drops the database afterwards, even on panic.
pub async fn on_postgres_and_redis<F, Fut>(scenario: F)
where
    F: FnOnce(Settings) -> Fut + 'static,
    Fut: Future<Output = ()> + 'static,
{
    let server = postgres_url();
    let admin_config =
        DbConfig { max_connections: 1, connect_timeout: Duration::from_secs(3), ..DbConfig::new(server.clone()) };
    let admin = match SeaOrmRepository::connect(&admin_config).await {
        Ok(admin) => admin,
        Err(error) => return skip_or_fail("PostgreSQL", error),
    };
    let settings = Settings {
        bind: "127.0.0.1:0".to_owned(),
        redis_url: Some(redis_url()),
        redis_key_prefix: format!("{}:", unique_name("mtserver")),
        admin_token: Some(ADMIN.to_owned()),
        // As on SQLite (`sqlite_settings`): limits.rs tests the limits.
        rate_limit: 0,
        ..Settings::default()
    };
    if let Err(error) = macrotrack::cache_store(&settings).await {
        return skip_or_fail("Redis", error);
    }
    let name = unique_name("macrotrack_server_test");
    admin.connection().execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create database");
    let settings = Settings { database_url: with_database(&server, &name), ..settings };
    let outcome = actix_web::rt::spawn(scenario(settings)).await;
    admin
        .connection()
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await
        .expect("drop database");
    if let Err(error) = outcome {
        std::panic::resume_unwind(error.into_panic());
    }
}
