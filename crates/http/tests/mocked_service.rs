//! Handlers against a service over mocked ports: what a route asks of the
//! repositories, and what it never asks them (a body breaking a rule stops
//! in the delivery).

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::test::{self, TestRequest};
use macrotrack_cache::{Engine, EngineConfig, MemoryStore};
use macrotrack_domain::{FoodId, LogEntry, LogItem, UserId};
use macrotrack_http::HttpState;
use macrotrack_ports::{
    CacheStore, Committed, CreateLogsError, MockCompletionRepository, MockFoodRepository, MockLogRepository,
    MockOutboxRepository, MockPlanRepository, MockRecipeRepository, MockUserRepository, OutboxId, StoredCredential,
    SystemClock,
};
use macrotrack_service::{Policies, Repositories, Service};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const USER: UserId = UserId(42);

fn secret() -> String {
    "ab".repeat(32)
}

/// User 42's token, which the mocked credential below checks.
fn token() -> String {
    format!("mt_{}_0123456789abcdef_{}", USER.0, secret())
}

/// The ports a test sets expectations on; every other one expects nothing.
struct Ports {
    logs: MockLogRepository,
}

fn app_state(ports: Ports) -> HttpState {
    let secret_hash: [u8; 32] = Sha256::digest(secret().as_bytes()).into();
    let mut users = MockUserRepository::new();
    users.expect_credential().returning(move |_| Ok(Some(StoredCredential { user: USER, secret_hash })));
    let mut outbox = MockOutboxRepository::new();
    outbox.expect_done().returning(|_| Ok(()));
    let repos = Repositories {
        users: Arc::new(users),
        foods: Arc::new(MockFoodRepository::new()),
        recipes: Arc::new(MockRecipeRepository::new()),
        logs: Arc::new(ports.logs),
        completions: Arc::new(MockCompletionRepository::new()),
        plans: Arc::new(MockPlanRepository::new()),
        outbox: Arc::new(outbox),
    };
    let store: Arc<dyn CacheStore> = Arc::new(MemoryStore::new(1 << 20));
    let engine = Engine::new(store, Arc::new(SystemClock), EngineConfig::default());
    HttpState::new(Service::new(repos, engine, Arc::new(SystemClock), Policies::default()))
}

/// Posts `batch` to `/v1/logs` as user 42: the status and the body.
async fn post_logs(ports: Ports, batch: Value) -> (StatusCode, Value) {
    let app = test::init_service(macrotrack_http::app(app_state(ports))).await;
    let request = TestRequest::post()
        .uri("/v1/logs")
        .insert_header(("authorization", format!("Bearer {}", token())))
        .set_json(batch)
        .to_request();
    let response = test::call_service(&app, request).await;
    let status = response.status();
    (status, test::read_body_json(response).await)
}

fn fields(problem: &Value) -> Vec<&str> {
    problem["errors"].as_array().unwrap().iter().map(|error| error["field"].as_str().unwrap()).collect()
}

fn logged(id: i64) -> LogEntry {
    serde_json::from_value(json!({
        "id": id, "date": "2026-11-24", "meal": "lunch", "food_id": 3, "recipe_id": null, "name": "Oats",
        "servings": 1.5, "calories": 150, "protein_g": 6, "carbs_g": 24, "fat_g": 3,
        "created_at": "2026-11-24T12:00:00Z", "updated_at": "2026-11-24T12:00:00Z",
    }))
    .unwrap()
}

#[actix_web::test]
async fn a_valid_batch_is_written_once_for_the_tokens_user() {
    let mut logs = MockLogRepository::new();
    logs.expect_create_log_entries()
        .withf(|user, entries, _| *user == USER && entries.len() == 1 && entries[0].item == LogItem::Food(FoodId(3)))
        .times(1)
        .returning(|_, _, _| Ok(Committed { value: vec![logged(7)], outbox: OutboxId(1) }));
    let batch = json!({"entries": [{"date": "2026-11-24", "meal": "lunch", "food_id": 3, "servings": 1.5}]});
    let (status, body) = post_logs(Ports { logs }, batch).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["entries"][0]["id"], 7);
}

#[actix_web::test]
async fn a_batch_breaking_a_rule_never_reaches_the_repository() {
    let batch = json!({"entries": [{"date": "2026-11-24", "meal": "brunch", "food_id": 3, "servings": 0}]});
    let (status, body) = post_logs(Ports { logs: never_written() }, batch).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(fields(&body), ["entries.0.meal", "entries.0.servings"]);
    let oversized = json!({"entries": vec![json!({}); 101]});
    let (status, body) = post_logs(Ports { logs: never_written() }, oversized).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(fields(&body), ["entries"]);
}

fn never_written() -> MockLogRepository {
    let mut logs = MockLogRepository::new();
    logs.expect_create_log_entries().never();
    logs
}

#[actix_web::test]
async fn an_unknown_reference_is_named_by_its_entrys_field() {
    let mut logs = MockLogRepository::new();
    logs.expect_create_log_entries().times(1).returning(|_, _, _| Err(CreateLogsError::UnknownRecipe { index: 1 }));
    let entry = json!({"date": "2026-11-24", "meal": "lunch", "food_id": 3, "servings": 1});
    let recipe = json!({"date": "2026-11-24", "meal": "lunch", "recipe_id": 9, "servings": 1});
    let (status, body) = post_logs(Ports { logs }, json!({"entries": [entry, recipe]})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(fields(&body), ["entries.1.recipe_id"]);
    assert_eq!(body["errors"][0]["message"], "unknown recipe");
}

#[actix_web::test]
async fn an_unknown_token_is_401_and_nothing_is_read_or_written() {
    let app = test::init_service(macrotrack_http::app(app_state(Ports { logs: never_written() }))).await;
    let unknown = format!("mt_{}_0123456789abcdef_{}", USER.0, "cd".repeat(32));
    let request = TestRequest::post()
        .uri("/v1/logs")
        .insert_header(("authorization", format!("Bearer {unknown}")))
        .insert_header(("content-type", "text/plain"))
        .set_payload("{")
        .to_request();
    let response = test::call_service(&app, request).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}
