//! The food search's bounds (contract, "Bounds that protect everyone" and
//! "Finding foods"): `query` at most 100 characters after trimming and no
//! control characters, `offset` 0..=10000; each 422 on its own field, never
//! a 5xx, on both backends.

mod common;

use common::TestApp;

#[actix_web::test]
async fn search_bounds_on_sqlite() {
    search_bounds(TestApp::sqlite().await).await;
}

#[actix_web::test]
async fn search_bounds_on_postgres_and_redis() {
    common::postgres::on_postgres_and_redis(|settings| async move {
        search_bounds(TestApp::with(settings, None).await).await;
    })
    .await;
}

async fn search_bounds(app: TestApp) {
    let client = app.client().await;
    let (_, token) = client.user("Searcher").await;
    let t = Some(token.as_str());
    let longest = "o".repeat(100);
    // Trimmed first: 100 characters between spaces are within the bound.
    client.get(&format!("/v1/foods?query=%20{longest}%20"), t).await.ok(200);
    let too_long = format!("/v1/foods?query={longest}o");
    assert_eq!(client.get(&too_long, t).await.problem(422), ["query"]);
    // NUL made PostgreSQL fail (503); every control character is refused.
    for control in ["%00", "oats%00", "%07", "a%09b", "%7F", "%C2%85"] {
        let answer = client.get(&format!("/v1/foods?query={control}"), t).await;
        assert_eq!(answer.problem(422), ["query"], "{control}");
    }
    for offset in ["10001", "-1"] {
        assert_eq!(client.get(&format!("/v1/foods?offset={offset}"), t).await.problem(422), ["offset"], "{offset}");
    }
    assert_eq!(client.get("/v1/foods?offset=ten", t).await.problem(400), ["offset"]);
    assert_eq!(client.get("/v1/foods?query=%00&offset=10001", t).await.problem(422), ["query", "offset"]);

    // Offset pages the same order: the second of two is the first after one.
    let first_two = client.get("/v1/foods?limit=2", t).await.ok(200);
    let second = client.get("/v1/foods?limit=1&offset=1", t).await.ok(200);
    assert_eq!(second[0]["id"], first_two[1]["id"]);
    assert_eq!(client.get("/v1/foods?offset=10000", t).await.ok(200), serde_json::json!([]));
}
