//! Request ids end to end: a valid incoming `X-Request-Id` is kept, any
//! other is replaced by a new UUID; either way the answer carries it, and
//! every problem body names it as `instance` (`urn:request:<id>`).

mod common;

use actix_web::http::Method;
use actix_web::http::header::{self, HeaderValue};
use actix_web::test::TestRequest;
use common::TestApp;

fn is_uuid(id: &str) -> bool {
    let groups: Vec<usize> = id.split('-').map(str::len).collect();
    groups == [8, 4, 4, 4, 12] && id.bytes().all(|b| b == b'-' || b.is_ascii_hexdigit())
}

#[actix_web::test]
async fn incoming_ids_are_kept_when_valid_and_named_in_problems() {
    let app = TestApp::sqlite().await;
    let client = app.client().await;
    let (_, token) = client.user("ids").await;
    let with_id = |method: Method, path: &str, id: Option<&[u8]>| {
        let mut request = TestRequest::default()
            .method(method)
            .uri(path)
            .insert_header((header::AUTHORIZATION, format!("Bearer {token}")));
        if let Some(id) = id {
            request = request.insert_header(("x-request-id", HeaderValue::from_bytes(id).unwrap()));
        }
        request
    };
    let long = "a".repeat(128);
    for kept in ["support-ticket-42", "~!#$%&'*+.^_`|", long.as_str()] {
        let answer = client.send(with_id(Method::GET, "/v1/me", Some(kept.as_bytes()))).await;
        assert_eq!(answer.header("x-request-id"), Some(kept));
        let missing = client.send(with_id(Method::GET, "/v1/foods/999999", Some(kept.as_bytes()))).await;
        missing.problem(404);
        assert_eq!(missing.json()["instance"], format!("urn:request:{kept}"));
    }
    let too_long = "a".repeat(129);
    for replaced in [too_long.as_bytes(), b"has space", b"", b"caf\xc3\xa9"] {
        let answer = client.send(with_id(Method::GET, "/v1/me", Some(replaced))).await;
        let id = answer.header("x-request-id").unwrap().to_owned();
        assert!(is_uuid(&id), "{:?} replaced by {id}", String::from_utf8_lossy(replaced));
    }
    // Without one, each request gets a new id, and every kind of problem names it.
    let request = |method: Method, path: &str| with_id(method, path, None);
    let problems = [
        (request(Method::GET, "/v1/nothing"), 404),
        (request(Method::PUT, "/v1/me"), 405),
        (request(Method::GET, "/v1/logs?date=2026-02-30"), 400),
        (request(Method::POST, "/v1/logs").set_payload("{}").insert_header((header::CONTENT_TYPE, "text/plain")), 415),
        (request(Method::POST, "/v1/logs").set_json(serde_json::json!({"entries": []})), 422),
        (TestRequest::get().uri("/v1/me"), 401),
    ];
    let mut seen = Vec::new();
    for (request, status) in problems {
        let answer = client.send(request).await;
        answer.problem(status);
        let id = answer.header("x-request-id").unwrap().to_owned();
        assert!(is_uuid(&id), "{status}: {id}");
        assert_eq!(answer.json()["instance"], format!("urn:request:{id}"), "{status}");
        seen.push(id);
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 6, "a new id per request");
}
