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
    CacheStore, Claim, Claimed, Committed, CreateLogsError, KeptAnswer, MockCompletionRepository, MockFoodRepository,
    MockIdempotencyRepository, MockLogRepository, MockOutboxRepository, MockPlanRepository, MockRecipeRepository,
    MockUserRepository, OutboxId, StoredCredential, SystemClock, Unavailable,
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
    idempotency: MockIdempotencyRepository,
}

impl Ports {
    /// `logs`, and idempotency keys that must not be asked for.
    fn new(logs: MockLogRepository) -> Self {
        Ports { logs, idempotency: MockIdempotencyRepository::new() }
    }
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
        idempotency: Arc::new(ports.idempotency),
    };
    let store: Arc<dyn CacheStore> = Arc::new(MemoryStore::new(1 << 20));
    let engine = Engine::new(store, Arc::new(SystemClock), EngineConfig::default());
    HttpState::new(Service::new(repos, engine, Arc::new(SystemClock), Policies::default()))
}

/// Posts `batch` to `/v1/logs` as user 42: the status and the body.
async fn post_logs(ports: Ports, batch: Value) -> (StatusCode, Value) {
    post_logs_keyed(ports, batch, None).await
}

/// `post_logs`, with an `Idempotency-Key` when `key` is one.
async fn post_logs_keyed(ports: Ports, batch: Value, key: Option<&str>) -> (StatusCode, Value) {
    let app = test::init_service(macrotrack_http::app(app_state(ports))).await;
    let mut request = TestRequest::post()
        .uri("/v1/logs")
        .insert_header(("authorization", format!("Bearer {}", token())))
        .set_json(batch);
    if let Some(key) = key {
        request = request.insert_header(("idempotency-key", key));
    }
    let request = request.to_request();
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
    let (status, body) = post_logs(Ports::new(logs), batch).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["entries"][0]["id"], 7);
}

#[actix_web::test]
async fn a_batch_breaking_a_rule_never_reaches_the_repository() {
    let batch = json!({"entries": [{"date": "2026-11-24", "meal": "brunch", "food_id": 3, "servings": 0}]});
    let (status, body) = post_logs(Ports::new(never_written()), batch).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(fields(&body), ["entries.0.meal", "entries.0.servings"]);
    let oversized = json!({"entries": vec![json!({}); 101]});
    let (status, body) = post_logs(Ports::new(never_written()), oversized).await;
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
    let (status, body) = post_logs(Ports::new(logs), json!({"entries": [entry, recipe]})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(fields(&body), ["entries.1.recipe_id"]);
    assert_eq!(body["errors"][0]["message"], "unknown recipe");
}

#[actix_web::test]
async fn an_unknown_token_is_401_and_nothing_is_read_or_written() {
    let app = test::init_service(macrotrack_http::app(app_state(Ports::new(never_written())))).await;
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

fn claim() -> Claim {
    Claim { user: USER, key: macrotrack_domain::IdempotencyKey::parse("k-1").unwrap(), token: 5 }
}

/// Idempotency keys whose claims of "k-1" run.
fn claiming() -> MockIdempotencyRepository {
    let mut idempotency = MockIdempotencyRepository::new();
    idempotency
        .expect_claim()
        .withf(|user, key, _, _, _| *user == USER && key.as_str() == "k-1")
        .times(1)
        .returning(|_, _, _, _, _| Ok(Claimed::Run(claim())));
    idempotency
}

fn one_entry() -> Value {
    json!({"entries": [{"date": "2026-11-24", "meal": "lunch", "food_id": 3, "servings": 1.5}]})
}

#[actix_web::test]
async fn the_answer_kept_in_the_write_is_the_answer_sent() {
    let kept = Arc::new(std::sync::Mutex::new(None::<KeptAnswer>));
    let mut logs = MockLogRepository::new();
    let into = kept.clone();
    logs.expect_create_log_entries_keeping().times(1).returning(move |_, _, _, keep| {
        assert_eq!(keep.claim(), &claim());
        let value = vec![logged(7)];
        *into.lock().unwrap() = Some(keep.answer(&value).1);
        Ok(Committed { value, outbox: OutboxId(1) })
    });
    let mut idempotency = claiming();
    idempotency.expect_keep().never();
    idempotency.expect_release().never();
    let (status, body) = post_logs_keyed(Ports { logs, idempotency }, one_entry(), Some("k-1")).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let kept = kept.lock().unwrap().take().expect("the write was given its answer");
    assert_eq!(kept.status, 201);
    assert_eq!(serde_json::from_slice::<Value>(&kept.body).unwrap(), body);
}

#[actix_web::test]
async fn a_refusal_is_kept_on_its_own_and_a_5xx_gives_the_key_back() {
    let mut logs = MockLogRepository::new();
    logs.expect_create_log_entries_keeping()
        .times(1)
        .returning(|_, _, _, _| Err(CreateLogsError::UnknownFood { index: 0 }));
    let mut idempotency = claiming();
    idempotency
        .expect_keep()
        .withf(|held, answer| *held == claim() && answer.status == 422)
        .times(1)
        .returning(|_, _| Ok(()));
    idempotency.expect_release().never();
    let (status, body) = post_logs_keyed(Ports { logs, idempotency }, one_entry(), Some("k-1")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    let mut logs = MockLogRepository::new();
    logs.expect_create_log_entries_keeping()
        .times(1)
        .returning(|_, _, _, _| Err(CreateLogsError::Unavailable(Unavailable::new(std::io::Error::other("down")))));
    let mut idempotency = claiming();
    idempotency.expect_keep().never();
    let (released, given_back) = tokio::sync::oneshot::channel();
    let released = std::sync::Mutex::new(Some(released));
    idempotency.expect_release().withf(|held| *held == claim()).times(1).returning(move |_| {
        if let Some(released) = released.lock().unwrap().take() {
            let _ = released.send(());
        }
        Ok(())
    });
    let (status, body) = post_logs_keyed(Ports { logs, idempotency }, one_entry(), Some("k-1")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    given_back.await.expect("the key was given back");
}
