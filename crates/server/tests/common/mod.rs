//! Shared by the test binaries: applications built by the real `build()`
//! on a fresh SQLite file (or PostgreSQL and Redis), driven in-process
//! through the same actix app the server runs.

#![allow(dead_code)] // each test binary uses a different part

pub mod additions;
pub mod postgres;

pub mod tour;

use std::path::PathBuf;

use actix_http::Request;
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::header::{self, HeaderMap};
use actix_web::http::{Method, StatusCode};
use actix_web::test::{self, TestRequest};
use macrotrack::{Application, Settings, build};
use macrotrack_testkit::unique_name;
use serde_json::Value;

pub const ADMIN: &str = "test-admin-token-0123456789";

/// A built application and the directory of its SQLite file (removed on drop).
pub struct TestApp {
    pub application: Application,
    dir: Option<PathBuf>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Settings on a fresh SQLite file in a directory of its own, port 0.
pub fn sqlite_settings() -> (Settings, PathBuf) {
    let dir = std::env::temp_dir().join(unique_name("macrotrack_server"));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let settings = Settings {
        bind: "127.0.0.1:0".to_owned(),
        database_url: format!("sqlite://{}?mode=rwc", dir.join("macrotrack.db").display()),
        admin_token: Some(ADMIN.to_owned()),
        // The suites drive one user at full speed; limits.rs turns the
        // limits on where they are the subject.
        rate_limit: 0,
        ..Settings::default()
    };
    (settings, dir)
}

impl TestApp {
    pub async fn sqlite() -> TestApp {
        let (settings, dir) = sqlite_settings();
        TestApp::with(settings, Some(dir)).await
    }

    /// Built from `settings` after `adjust`, on a fresh SQLite file.
    pub async fn sqlite_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
        let (mut settings, dir) = sqlite_settings();
        adjust(&mut settings);
        TestApp::with(settings, Some(dir)).await
    }

    pub async fn with(settings: Settings, dir: Option<PathBuf>) -> TestApp {
        let application = build(settings).await.expect("build() succeeds");
        TestApp { application, dir }
    }

    /// Built with `clock` telling the time.
    pub async fn with_clock(
        settings: Settings,
        dir: Option<PathBuf>,
        clock: std::sync::Arc<dyn macrotrack_ports::Clock>,
    ) -> TestApp {
        let application = macrotrack::build_with_clock(settings, clock).await.expect("build() succeeds");
        TestApp { application, dir }
    }

    /// The same actix app the server runs, called in-process.
    pub async fn client(
        &self,
    ) -> Client<impl Service<Request, Response = ServiceResponse<impl MessageBody>, Error = actix_web::Error>> {
        Client { app: test::init_service(macrotrack_http::app(self.application.state())).await }
    }
}

/// One answer, read whole.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|error| panic!("not JSON ({error}): {}", self.text))
    }

    /// A problem body less `instance`, which names the request it answers.
    pub fn problem_body(&self) -> Value {
        let mut body = self.json();
        body.as_object_mut().and_then(|body| body.remove("instance")).expect("a problem names its request");
        body
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// Asserts a problem+json body of `status` and returns its `errors[].field`.
    pub fn problem(&self, status: u16) -> Vec<String> {
        assert_eq!(self.status.as_u16(), status, "{}", self.text);
        assert_eq!(self.header("content-type"), Some("application/problem+json"), "{}", self.text);
        let body = self.json();
        for member in ["type", "title", "detail"] {
            assert!(body[member].is_string(), "problem without {member}: {body}");
        }
        assert_eq!(body["status"], status, "{body}");
        let errors = body.get("errors");
        if status == 400 || status == 422 {
            assert!(errors.is_some_and(Value::is_array), "problem {status} without errors: {body}");
        }
        errors
            .and_then(Value::as_array)
            .map(|list| list.iter().map(|e| e["field"].as_str().expect("field").to_owned()).collect())
            .unwrap_or_default()
    }

    /// Asserts `status` and returns the JSON body.
    pub fn ok(&self, status: u16) -> Value {
        assert_eq!(self.status.as_u16(), status, "{}", self.text);
        self.json()
    }
}

pub struct Client<S> {
    app: S,
}

impl<S, B> Client<S>
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    pub async fn send(&self, request: TestRequest) -> Answer {
        let response = test::call_service(&self.app, request.to_request()).await;
        let status = response.status();
        let headers = response.headers().clone();
        let body = test::read_body(response).await;
        let text = String::from_utf8(body.to_vec()).expect("UTF-8 body");
        assert!(!status.is_server_error() || status == StatusCode::SERVICE_UNAVAILABLE, "a 5xx: {status} {text}");
        Answer { status, headers, text }
    }

    pub async fn get(&self, uri: &str, token: Option<&str>) -> Answer {
        self.send(with_token(TestRequest::get().uri(uri), token)).await
    }

    /// A request with a JSON body (`application/json`).
    pub async fn post(&self, uri: &str, token: Option<&str>, body: Value) -> Answer {
        self.send(with_token(TestRequest::post().uri(uri), token).set_json(body)).await
    }

    /// Any method with a JSON body (`application/json`).
    pub async fn json(&self, method: Method, uri: &str, token: Option<&str>, body: Value) -> Answer {
        self.send(with_token(TestRequest::default().method(method).uri(uri), token).set_json(body)).await
    }

    pub async fn put(&self, uri: &str, token: Option<&str>, body: Value) -> Answer {
        self.json(Method::PUT, uri, token, body).await
    }

    pub async fn patch(&self, uri: &str, token: Option<&str>, body: Value) -> Answer {
        self.json(Method::PATCH, uri, token, body).await
    }

    /// Any method without a body.
    pub async fn bare(&self, method: Method, uri: &str, token: Option<&str>) -> Answer {
        self.send(with_token(TestRequest::default().method(method).uri(uri), token)).await
    }

    pub async fn delete(&self, uri: &str, token: Option<&str>) -> Answer {
        self.bare(Method::DELETE, uri, token).await
    }

    /// Asserts 204 with an empty body.
    pub async fn deleted(&self, uri: &str, token: Option<&str>) {
        let answer = self.delete(uri, token).await;
        assert_eq!(answer.status.as_u16(), 204, "DELETE {uri}: {}", answer.text);
        assert!(answer.text.is_empty(), "{}", answer.text);
    }

    /// A food of the user's own; its id.
    pub async fn food(&self, token: Option<&str>, name: &str, calories: f64) -> i64 {
        let body = serde_json::json!({"name": name, "serving_size": 100, "serving_unit": "g", "calories": calories, "protein_g": 10, "carbs_g": 20, "fat_g": 5});
        self.post("/v1/foods", token, body).await.ok(201)["id"].as_i64().expect("id")
    }

    /// A recipe of one serving from `food` × 1; its id.
    pub async fn recipe(&self, token: Option<&str>, name: &str, food: i64) -> i64 {
        let body = serde_json::json!({"name": name, "servings": 1, "ingredients": [{"food_id": food, "servings": 1}]});
        self.post("/v1/recipes", token, body).await.ok(201)["id"].as_i64().expect("id")
    }

    /// A plan of `days` days with `recipe` at lunch on day 0; its id.
    pub async fn plan(&self, token: Option<&str>, days: i64, recipe: i64) -> i64 {
        let body = serde_json::json!({"name": "Plan", "days": days, "items": [{"day": 0, "meal": "lunch", "recipe_id": recipe, "servings": 1}]});
        self.post("/v1/meal-plans", token, body).await.ok(201)["id"].as_i64().expect("id")
    }

    /// A request with a raw body and the given content type (if any).
    pub async fn raw(
        &self,
        method: Method,
        uri: &str,
        token: Option<&str>,
        content_type: Option<&str>,
        body: impl Into<actix_web::web::Bytes>,
    ) -> Answer {
        let mut request = with_token(TestRequest::default().method(method).uri(uri), token).set_payload(body);
        if let Some(content_type) = content_type {
            request = request.insert_header((header::CONTENT_TYPE, content_type));
        }
        self.send(request).await
    }

    /// A new user through the admin route: (id, token).
    pub async fn user(&self, name: &str) -> (i64, String) {
        let created = self.post("/v1/admin/users", Some(ADMIN), serde_json::json!({ "name": name })).await.ok(201);
        assert_eq!(created["name"], name);
        (created["id"].as_i64().expect("id"), created["token"].as_str().expect("token").to_owned())
    }
}

fn with_token(request: TestRequest, token: Option<&str>) -> TestRequest {
    match token {
        Some(token) => request.insert_header((header::AUTHORIZATION, format!("Bearer {token}"))),
        None => request,
    }
}

pub fn oats() -> Value {
    serde_json::json!({"name": "  Oats ", "serving_size": 40, "serving_unit": "g", "calories": 150.456, "protein_g": 5, "carbs_g": 27, "fat_g": 2.5})
}

pub fn entry(date: &str, meal: &str, food: i64, servings: f64) -> Value {
    serde_json::json!({"date": date, "meal": meal, "food_id": food, "servings": servings})
}

/// The first slice, whatever the database and store: admin creates a user,
/// who creates and reads a food, logs over two dates (read and cached
/// before), reads both, logs again and sees it at once.
pub async fn slice<S, B>(client: &Client<S>)
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    use serde_json::json;
    let (_, token) = client.user("alice").await;
    let token = Some(token.as_str());

    let food = client.post("/v1/foods", token, oats()).await.ok(201);
    assert_eq!(food["name"], "Oats");
    assert_eq!(food["calories"], 150.46);
    assert_eq!(food["brand"], Value::Null);
    assert_eq!(food["owner"], "user");
    let food_id = food["id"].as_i64().unwrap();
    assert_eq!(client.get(&format!("/v1/foods/{food_id}"), token).await.ok(200), food);

    // Both dates read (and cached) before the write.
    for date in ["2026-11-24", "2026-11-25"] {
        let empty = client.get(&format!("/v1/logs?date={date}"), token).await.ok(200);
        assert_eq!(empty["entries"], json!([]), "{date}");
    }

    let batch = json!({"entries": [entry("2026-11-24", "lunch", food_id, 1.5), entry("2026-11-25", "breakfast", food_id, 2.0)]});
    let created = client.post("/v1/logs", token, batch).await.ok(201);
    let entries = created["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["date"], "2026-11-24", "answered in request order");
    assert_eq!(entries[0]["calories"], 225.69); // round2(150.46 × 1.5)
    assert_eq!(entries[1]["calories"], 300.92);

    let day = client.get("/v1/logs?date=2026-11-24", token).await.ok(200);
    assert_eq!(day["date"], "2026-11-24");
    assert_eq!(day["completed"], false);
    assert_eq!(day["entries"].as_array().unwrap().len(), 1);
    assert_eq!(day["entries"][0]["id"], entries[0]["id"]);
    assert_eq!(day["totals"], json!({"calories": 225.69, "protein_g": 7.5, "carbs_g": 40.5, "fat_g": 3.75}));
    let other = client.get("/v1/logs?date=2026-11-25", token).await.ok(200);
    assert_eq!(other["entries"][0]["id"], entries[1]["id"]);
    assert_eq!(other["totals"]["calories"], 300.92);

    // A second write to a cached day is visible to the next read.
    let more = json!({"entries": [entry("2026-11-24", "breakfast", 1, 1.0)]});
    let added = client.post("/v1/logs", token, more).await.ok(201);
    let day = client.get("/v1/logs?date=2026-11-24", token).await.ok(200);
    let ids: Vec<&Value> = day["entries"].as_array().unwrap().iter().map(|e| &e["id"]).collect();
    assert_eq!(ids, [&added["entries"][0]["id"], &entries[0]["id"]], "ordered by meal: breakfast first");
    let expected = 225.69 + added["entries"][0]["calories"].as_f64().unwrap();
    assert!((day["totals"]["calories"].as_f64().unwrap() - expected).abs() < 1e-9, "{day}");
}
