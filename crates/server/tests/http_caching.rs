//! HTTP caching for clients (contract, "Additions"): a strong ETag and
//! `Cache-Control: private, no-cache` on every cached GET, 304 for a
//! current `If-None-Match` (RFC 9110: `*`, lists, weak comparison),
//! `Cache-Status` (RFC 9211), and HEAD on every GET route. Tags follow the
//! body: a write that changes it changes the tag, on another instance too;
//! an unchanged body keeps it across restarts, instances, and with the
//! cache off.

mod common;

use actix_web::http::Method;
use actix_web::http::header;
use actix_web::test::TestRequest;
use common::postgres::on_postgres_and_redis;
use common::{Answer, Client, TestApp, entry};
use macrotrack::CacheMode;
use serde_json::json;

/// Every cached GET of one user, after `seed` gave each something to show.
/// Streaks are cached only near the server's today: `today` is today.
fn cached() -> Vec<String> {
    let today = macrotrack_ports::Clock::now(&macrotrack_ports::SystemClock).date_naive();
    vec![
        "/v1/me".to_owned(),
        "/v1/logs?date=2026-11-24".to_owned(),
        "/v1/foods/frequent".to_owned(),
        "/v1/summary?from=2026-11-01&to=2026-11-30".to_owned(),
        format!("/v1/streaks?today={today}"),
        "/v1/schedule?date=2026-11-24".to_owned(),
        format!("/v1/days/2026-11-24?today={today}"),
        "/v1/weeks/2026-11-23".to_owned(),
    ]
}

async fn seed<S, B>(client: &Client<S>) -> String
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let (_, token) = client.user("etags").await;
    let t = Some(token.as_str());
    client
        .put("/v1/me/targets", t, json!({"calories": 2000, "protein_g": 100, "carbs_g": 200, "fat_g": 70}))
        .await
        .ok(200);
    client.post("/v1/logs", t, json!({"entries": [entry("2026-11-24", "lunch", 1, 1.0)]})).await.ok(201);
    client.bare(Method::PUT, "/v1/days/2026-11-24/completion", t).await.ok(200);
    token
}

async fn get_with<S, B>(
    client: &Client<S>,
    method: Method,
    path: &str,
    token: &str,
    if_none_match: Option<&str>,
) -> Answer
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let mut request = TestRequest::default()
        .method(method)
        .uri(path)
        .insert_header((header::AUTHORIZATION, format!("Bearer {token}")));
    if let Some(tags) = if_none_match {
        request = request.insert_header((header::IF_NONE_MATCH, tags));
    }
    client.send(request).await
}

fn etag(answer: &Answer) -> String {
    let tag = answer.header("etag").unwrap_or_else(|| panic!("no ETag: {:?}", answer.headers)).to_owned();
    assert!(tag.len() == 34 && tag.starts_with('"') && tag.ends_with('"'), "a strong tag: {tag}");
    tag
}

#[actix_web::test]
async fn every_cached_get_revalidates_with_304_and_says_how_the_cache_answered() {
    let app = TestApp::sqlite().await;
    let client = app.client().await;
    let token = seed(&client).await;
    for path in cached() {
        let path = path.as_str();
        let first = get_with(&client, Method::GET, path, &token, None).await;
        assert_eq!(first.status.as_u16(), 200, "{path}: {}", first.text);
        let tag = etag(&first);
        assert_eq!(first.header("cache-control"), Some("private, no-cache"), "{path}");
        let status = first.header("cache-status").unwrap_or_default();
        assert!(status.starts_with("macrotrack"), "{path}: {status}");
        // The tag is the body's: a second read (a hit) answers the same.
        let second = get_with(&client, Method::GET, path, &token, None).await;
        assert_eq!((etag(&second), &second.text), (tag.clone(), &first.text), "{path}");
        let hit = second.header("cache-status").unwrap_or_default();
        assert!(hit.contains("; hit; ttl="), "{path}: {hit}");

        for current in [tag.clone(), format!("W/{tag}"), "*".to_owned(), format!("\"0\", {tag}")] {
            let revalidated = get_with(&client, Method::GET, path, &token, Some(&current)).await;
            assert_eq!(revalidated.status.as_u16(), 304, "{path} with {current}");
            assert!(revalidated.text.is_empty(), "{path}: a 304 has no body");
            assert_eq!(etag(&revalidated), tag, "{path}");
            assert_eq!(revalidated.header("cache-control"), Some("private, no-cache"));
            assert!(revalidated.header("cache-status").is_some_and(|value| value.contains("hit")), "{path}");
        }
        let other = get_with(&client, Method::GET, path, &token, Some("\"0123\", W/\"4567\"")).await;
        assert_eq!((other.status.as_u16(), &other.text), (200, &first.text), "{path}: no current tag");

        // HEAD: the same status and headers (actix sends no body for it).
        let head = get_with(&client, Method::HEAD, path, &token, None).await;
        assert_eq!(head.status.as_u16(), 200, "HEAD {path}");
        assert_eq!(etag(&head), tag, "HEAD {path}");
        let head_304 = get_with(&client, Method::HEAD, path, &token, Some(&tag)).await;
        assert_eq!(head_304.status.as_u16(), 304, "HEAD {path}");
    }
    // Without a token the tag question is never reached.
    let client_401 = client.get("/v1/me", None).await;
    assert!(client_401.header("etag").is_none());
}

#[actix_web::test]
async fn the_day_screen_names_each_part_and_a_miss_after_a_write() {
    let app = TestApp::sqlite().await;
    let client = app.client().await;
    let token = seed(&client).await;
    let path = &cached()[6];
    get_with(&client, Method::GET, path, &token, None).await.ok(200);
    let warm = get_with(&client, Method::GET, path, &token, None).await;
    let status = warm.header("cache-status").unwrap().to_owned();
    let members: Vec<&str> = status.split(", ").map(|member| member.split(';').next().unwrap()).collect();
    assert_eq!(members, ["macrotrack-logs", "macrotrack-targets", "macrotrack-schedule", "macrotrack-streak"]);
    assert!(status.split(", ").all(|member| member.contains("; hit; ttl=")), "{status}");
    let before = etag(&warm);
    let t = Some(token.as_str());
    client.post("/v1/logs", t, json!({"entries": [entry("2026-11-24", "dinner", 2, 1.0)]})).await.ok(201);
    let after = get_with(&client, Method::GET, path, &token, Some(&before)).await;
    assert_eq!(after.status.as_u16(), 200, "the old tag is no longer current");
    assert_ne!(etag(&after), before);
    // A write deletes the day's tier-1 entry (it frees the memory at once):
    // nothing is held for it any more.
    let status = after.header("cache-status").unwrap();
    assert!(status.starts_with("macrotrack-logs; fwd=uri-miss; stored, macrotrack-targets; hit"), "{status}");
    // New targets outdate the cached `me` entry, which is still held.
    client
        .put("/v1/me/targets", t, json!({"calories": 1900, "protein_g": 90, "carbs_g": 200, "fat_g": 70}))
        .await
        .ok(200);
    let targets = get_with(&client, Method::GET, path, &token, None).await;
    let status = targets.header("cache-status").unwrap();
    assert!(status.starts_with("macrotrack-logs; hit; ttl="), "{status}");
    assert!(status.contains("macrotrack-targets; fwd=miss; stored, macrotrack-schedule; hit"), "{status}");
    // A logs key never stored is a URI miss.
    let fresh = get_with(&client, Method::GET, "/v1/logs?date=2026-11-30", &token, None).await;
    assert_eq!(fresh.header("cache-status"), Some("macrotrack; fwd=uri-miss; stored"));
}

#[actix_web::test]
async fn tags_survive_a_restart_and_the_cache_switched_off() {
    let (settings, dir) = common::sqlite_settings();
    let (token, tags) = {
        let app = TestApp::with(settings.clone(), None).await;
        let client = app.client().await;
        let token = seed(&client).await;
        let mut tags = Vec::new();
        for path in cached() {
            let path = path.as_str();
            tags.push(etag(&get_with(&client, Method::GET, path, &token, None).await));
        }
        (token, tags)
    };
    {
        // A new process on the same database: a cold in-process cache.
        let restarted = TestApp::with(settings.clone(), None).await;
        let client = restarted.client().await;
        for (path, tag) in cached().iter().zip(&tags) {
            let answer = get_with(&client, Method::GET, path, &token, Some(tag)).await;
            assert_eq!(answer.status.as_u16(), 304, "{path}: the same body, the same tag after a restart");
        }
    }
    let off = TestApp::with(macrotrack::Settings { cache: CacheMode::Off, ..settings }, Some(dir)).await;
    let client = off.client().await;
    for (path, tag) in cached().iter().zip(&tags) {
        let answer = get_with(&client, Method::GET, path, &token, None).await;
        assert_eq!(etag(&answer), *tag, "{path}: the same tag with the cache off");
        let status = answer.header("cache-status").unwrap();
        assert!(status.split(", ").all(|member| member.ends_with("; fwd=bypass")), "{path}: {status}");
        let revalidated = get_with(&client, Method::GET, path, &token, Some(tag)).await;
        assert_eq!(revalidated.status.as_u16(), 304, "{path}");
    }
    let t = Some(token.as_str());
    client.post("/v1/logs", t, json!({"entries": [entry("2026-11-24", "snack", 1, 2.0)]})).await.ok(201);
    let changed = get_with(&client, Method::GET, &cached()[1], &token, Some(&tags[1])).await;
    assert_eq!(changed.status.as_u16(), 200, "a write changes the tag with the cache off too");
}

#[actix_web::test]
async fn a_write_on_one_instance_changes_the_tag_on_the_other() {
    on_postgres_and_redis(|settings| async move {
        let first = TestApp::with(settings.clone(), None).await;
        let second = TestApp::with(settings, None).await;
        let (one, two) = (first.client().await, second.client().await);
        let token = seed(&one).await;
        let mut tags = Vec::new();
        for path in cached() {
            let path = path.as_str();
            let on_one = etag(&get_with(&one, Method::GET, path, &token, None).await);
            let on_two = etag(&get_with(&two, Method::GET, path, &token, None).await);
            assert_eq!(on_one, on_two, "{path}: one body, one tag on both instances");
            tags.push(on_one);
        }
        let t = Some(token.as_str());
        one.post("/v1/logs", t, json!({"entries": [entry("2026-11-24", "dinner", 1, 3.0)]})).await.ok(201);
        one.put("/v1/me/targets", t, json!({"calories": 1800, "protein_g": 90, "carbs_g": 180, "fat_g": 60}))
            .await
            .ok(200);
        for (path, tag) in cached().iter().zip(&tags) {
            let answer = get_with(&two, Method::GET, path, &token, Some(tag)).await;
            // Frequent foods count one more use; the streak is unchanged.
            let unchanged = path.starts_with("/v1/streaks") || path.starts_with("/v1/schedule");
            let expected = if unchanged { 304 } else { 200 };
            assert_eq!(answer.status.as_u16(), expected, "{path} on the other instance");
        }
    })
    .await;
}
