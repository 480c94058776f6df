//! The slice on PostgreSQL and Redis (skipped when they are absent, unless
//! MACROTRACK_REQUIRE_SERVICES=1), including two instances sharing both:
//! a write through one is never read stale through the other.

mod common;

use common::postgres::on_postgres_and_redis;
use common::{ADMIN, TestApp, entry};
use macrotrack_db_seaorm::{DbConfig, SeaOrmRepository};
use macrotrack_testkit::postgres_url;
use sea_orm::ConnectionTrait;
use serde_json::json;

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

/// The additions (weeks, food edits) written through one instance and read
/// through the other, on PostgreSQL and Redis.
#[actix_web::test]
async fn the_additions_across_two_instances() {
    on_postgres_and_redis(|settings| async move {
        let first = TestApp::with(settings.clone(), None).await;
        let second = TestApp::with(settings, None).await;
        let (one, two) = (first.client().await, second.client().await);
        common::additions::weeks(&one, &two).await;
        common::additions::food_edits(&two, &one).await;
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
