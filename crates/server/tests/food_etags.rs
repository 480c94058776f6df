//! A food's `ETag` and `If-Match` through the API, on both backends: the
//! tag is present and stable, changes with an edit, answers 304 to
//! `If-None-Match`; a stale `If-Match` is 412 and changes nothing, `*`
//! proceeds, and of two edits naming one tag at once exactly one applies.

mod common;

use actix_web::http::header;
use actix_web::test::TestRequest;
use common::{Answer, TestApp};
use serde_json::{Value, json};

#[actix_web::test]
async fn food_etags_on_sqlite() {
    let app = TestApp::sqlite().await;
    food_etags_follow_the_contract(&app).await;
}

#[actix_web::test]
async fn food_etags_on_postgres_and_redis() {
    common::postgres::on_postgres_and_redis(|settings| async move {
        let app = TestApp::with(settings, None).await;
        food_etags_follow_the_contract(&app).await;
    })
    .await;
}

fn authorized(request: TestRequest, token: &str) -> TestRequest {
    request.insert_header((header::AUTHORIZATION, format!("Bearer {token}")))
}

fn patch(uri: &str, token: &str, if_match: Option<&str>, body: Value) -> TestRequest {
    let request = authorized(TestRequest::patch().uri(uri), token).set_json(body);
    match if_match {
        Some(tags) => request.insert_header((header::IF_MATCH, tags)),
        None => request,
    }
}

fn etag(answer: &Answer) -> String {
    answer.header("etag").expect("an ETag").to_owned()
}

async fn food_etags_follow_the_contract(app: &TestApp) {
    let client = app.client().await;
    let (_, token) = client.user("etta").await;
    let t = Some(token.as_str());
    let food = client.food(t, "Oats", 150.0).await;
    let uri = format!("/v1/foods/{food}");

    // Present, strong, stable; HEAD answers the same tag; 304 when held.
    let first = client.get(&uri, t).await;
    let body = first.ok(200);
    let tag = etag(&first);
    assert!(tag.starts_with('"') && tag.len() == 34, "a strong tag: {tag}");
    assert_eq!(etag(&client.get(&uri, t).await), tag, "stable");
    assert_eq!(etag(&client.bare(actix_web::http::Method::HEAD, &uri, t).await), tag);
    let held = client
        .send(authorized(TestRequest::get().uri(&uri), &token).insert_header((header::IF_NONE_MATCH, tag.as_str())))
        .await;
    assert_eq!(held.status, 304);
    assert_eq!((etag(&held), held.text.as_str()), (tag.clone(), ""));

    // A stale If-Match (another tag, or a weak one) is 412 and changes nothing.
    for stale in ["\"0123456789abcdef0123456789abcdef\"", &format!("W/{tag}"), "\"x\", \"y\""] {
        let refused = client.send(patch(&uri, &token, Some(stale), json!({"name": "Stale"}))).await;
        refused.problem(412);
        assert_eq!(refused.header("content-type"), Some("application/problem+json"), "{stale}");
    }
    assert_eq!(client.get(&uri, t).await.ok(200), body, "a refused edit changes nothing");

    // The current tag, in a list, proceeds; the answer carries the new tag,
    // which GET answers too; the old one no longer matches.
    let list = format!("\"other\", {tag}");
    let edited = client.send(patch(&uri, &token, Some(&list), json!({"name": "Porridge"}))).await;
    assert_eq!(edited.ok(200)["name"], "Porridge");
    let new_tag = etag(&edited);
    assert_ne!(new_tag, tag, "the tag changes with the food");
    assert_eq!(etag(&client.get(&uri, t).await), new_tag);
    client.send(patch(&uri, &token, Some(&tag), json!({"name": "Lost"}))).await.problem(412);
    let again = client
        .send(authorized(TestRequest::get().uri(&uri), &token).insert_header((header::IF_NONE_MATCH, tag.as_str())))
        .await;
    assert_eq!(again.status, 200, "the old tag is not current");

    // `*` and no If-Match proceed whatever the tag.
    let any = client.send(patch(&uri, &token, Some("*"), json!({"calories": 160}))).await;
    assert_eq!(any.ok(200)["calories"], 160.0);
    let plain = client.send(patch(&uri, &token, None, json!({"calories": 170}))).await;
    assert_eq!(plain.ok(200)["calories"], 170.0);
    assert_eq!(etag(&client.get(&uri, t).await), etag(&plain));

    // Two edits naming the same current tag at once: exactly one applies.
    for round in 0..20 {
        let seen = etag(&client.get(&uri, t).await);
        let (named, counted) = tokio::join!(
            client.send(patch(&uri, &token, Some(&seen), json!({"name": format!("Oats {round}")}))),
            client.send(patch(&uri, &token, Some(&seen), json!({"calories": round}))),
        );
        let stored = client.get(&uri, t).await.ok(200);
        let winner = match (named.status.as_u16(), counted.status.as_u16()) {
            (200, 412) => named,
            (412, 200) => counted,
            other => panic!("round {round}: not exactly one edit applied: {other:?}"),
        };
        assert_eq!(winner.json(), stored, "round {round}: the stored food is the winner's");
    }
}
