//! The slice on PostgreSQL and Redis (skipped when they are absent, unless
//! MACROTRACK_REQUIRE_SERVICES=1), including two instances sharing both:
//! a write through one is never read stale through the other.

mod common;

use std::time::Duration;

use common::{ADMIN, TestApp, entry};
use macrotrack::Settings;
use macrotrack_db_seaorm::{DbConfig, SeaOrmRepository};
use macrotrack_testkit::{postgres_url, redis_url, skip_or_fail, unique_name};
use sea_orm::ConnectionTrait;
use serde_json::json;

/// The server URL with its database path replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (authority, tail) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
    let query = tail.split_once('?').map(|(_, query)| format!("?{query}")).unwrap_or_default();
    format!("{scheme}://{authority}/{name}{query}")
}

/// Runs `scenario` with settings on a fresh PostgreSQL database and a fresh
/// Redis key prefix; drops the database afterwards, even on panic.
async fn on_postgres_and_redis<F, Fut>(scenario: F)
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

#[actix_web::test]
async fn the_slice_on_postgres_and_redis() {
    on_postgres_and_redis(|settings| async move {
        let app = TestApp::with(settings, None).await;
        let client = app.client().await;
        assert_eq!(client.get("/readyz", None).await.ok(200), json!({"database": "ok", "cache": "ok"}));
        common::slice(&client).await;
    })
    .await;
}

#[actix_web::test]
async fn two_instances_sharing_redis_never_read_stale() {
    on_postgres_and_redis(|settings| async move {
        let first = TestApp::with(settings.clone(), None).await;
        let second = TestApp::with(settings, None).await;
        let (one, two) = (first.client().await, second.client().await);
        let (_, token) = one.user("grace").await;
        let token = Some(token.as_str());
        for client in [&one, &two] {
            assert_eq!(client.get("/v1/logs?date=2026-11-24", token).await.ok(200)["entries"], json!([]));
        }
        one.post("/v1/logs", token, json!({"entries": [entry("2026-11-24", "lunch", 1, 1.0)]})).await.ok(201);
        let seen = two.get("/v1/logs?date=2026-11-24", token).await.ok(200);
        assert_eq!(seen["entries"].as_array().unwrap().len(), 1, "the second instance read a stale day: {seen}");
        assert_eq!(seen, one.get("/v1/logs?date=2026-11-24", token).await.ok(200));
    })
    .await;
}

/// Every kind of mutation through one instance, each read at once through
/// the other (both read and cached it before): targets, foods, logs and
/// their edits, recipes, plans and schedules, completions, user deletion.
#[actix_web::test]
async fn every_mutation_on_one_instance_is_read_at_once_on_the_other() {
    on_postgres_and_redis(|settings| async move {
        let first = TestApp::with(settings.clone(), None).await;
        let second = TestApp::with(settings, None).await;
        let (one, two) = (first.client().await, second.client().await);
        common::tour::tour(&one, &two).await;
        // And the other way round, with a new user.
        common::tour::tour(&two, &one).await;
    })
    .await;
}

/// The database going away mid-flight: 503 problems without internals,
/// readiness says so, and nothing panics.
#[actix_web::test]
async fn a_lost_database_is_503_without_internals() {
    on_postgres_and_redis(|settings| async move {
        let name = settings.database_url.rsplit('/').next().unwrap().to_owned();
        let app = TestApp::with(settings, None).await;
        let client = app.client().await;
        let (_, token) = client.user("heidi").await;
        let admin = SeaOrmRepository::connect(&DbConfig::new(postgres_url())).await.unwrap();
        admin.connection().execute_unprepared(&format!("DROP DATABASE {name} WITH (FORCE)")).await.unwrap();

        for answer in [
            client.get("/v1/logs?date=2026-11-24", Some(&token)).await,
            client.post("/v1/admin/users", Some(ADMIN), json!({"name": "ivan"})).await,
        ] {
            answer.problem(503);
            for internal in [name.as_str(), "sqlx", "postgres", "database \"", "SQL"] {
                assert!(!answer.text.contains(internal), "{internal} leaked: {}", answer.text);
            }
        }
        let ready = client.get("/readyz", None).await;
        assert_eq!(ready.status, 503);
        assert_eq!(ready.json(), json!({"database": "down", "cache": "ok"}));
        assert_eq!(client.get("/healthz", None).await.status, 200);
    })
    .await;
}
