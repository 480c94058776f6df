//! The window of cached dates through the API, on both backends: reads of
//! dates more than 400 days from today (a streak's `today` more than a day
//! from it) are answered from the database, say so (`fwd=bypass`, never
//! `stored`), and leave no key in Redis; reads of today are still cached and
//! still see a write at once.

mod common;

use common::postgres::on_postgres_and_redis;
use common::{Client, TestApp, entry};
use fred::prelude::{Builder, ClientLike, Config};
use fred::types::{ClusterHash, CustomCommand, Value};
use macrotrack_domain::Day;
use macrotrack_testkit::redis_url;

/// Dates from each end of the calendar, all far outside the window.
const FAR_DATES: i64 = 100;

fn today() -> Day {
    Day::new(macrotrack_ports::Clock::now(&macrotrack_ports::SystemClock).date_naive()).unwrap()
}

async fn far_reads_bypass_and_today_is_cached<S, B>(client: &Client<S>, keys: impl AsyncFn() -> usize)
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let (_, token) = client.user("far dates").await;
    let t = Some(token.as_str());
    let today = today();
    // What the day screen reads besides its date is cached first.
    client.get(&format!("/v1/days/{today}?today={today}"), t).await.ok(200);

    let before = keys().await;
    for n in 0..FAR_DATES {
        for date in [Day::new(Day::MIN).unwrap().plus_days(n), Day::new(Day::MAX).unwrap().plus_days(-n)] {
            let date = date.unwrap();
            let week = date.min("2200-12-25".parse().unwrap());
            for path in [
                format!("/v1/logs?date={date}"),
                format!("/v1/schedule?date={date}"),
                format!("/v1/weeks/{week}"),
                format!("/v1/summary?from={date}&to={date}"),
                format!("/v1/streaks?today={date}"),
            ] {
                let answer = client.get(&path, t).await;
                answer.ok(200);
                let status = answer.header("cache-status").unwrap_or_default().to_owned();
                assert!(status.contains("fwd=bypass") && !status.contains("stored"), "{path}: {status}");
            }
            let day = client.get(&format!("/v1/days/{date}?today={today}"), t).await;
            day.ok(200);
            let status = day.header("cache-status").unwrap_or_default();
            for part in ["macrotrack-logs; fwd=bypass", "macrotrack-schedule; fwd=bypass"] {
                assert!(status.contains(part), "/v1/days/{date}: {status}");
            }
        }
    }
    assert_eq!(keys().await, before, "keys added by {} dates outside the window", 2 * FAR_DATES);

    // Today: cached, and a write is read back at once.
    let logs = format!("/v1/logs?date={today}");
    client.get(&logs, t).await.ok(200);
    let again = client.get(&logs, t).await;
    assert!(again.header("cache-status").unwrap_or_default().contains("; hit;"), "{:?}", again.headers);
    client
        .post("/v1/logs", t, serde_json::json!({"entries": [entry(&today.to_string(), "lunch", 1, 1.0)]}))
        .await
        .ok(201);
    assert_eq!(client.get(&logs, t).await.ok(200)["entries"].as_array().map(Vec::len), Some(1));
    let streak = client.get(&format!("/v1/streaks?today={}", today.plus_days(1).unwrap()), t).await;
    streak.ok(200);
    assert!(streak.header("cache-status").unwrap_or_default().contains("stored"), "a streak as of tomorrow is cached");
}

#[actix_web::test]
async fn dates_outside_the_window_are_read_around_the_cache_on_sqlite() {
    let app = TestApp::sqlite().await;
    let client = app.client().await;
    // The in-process store is not counted here; its keys are (service tests).
    far_reads_bypass_and_today_is_cached(&client, async || 0).await;
}

#[actix_web::test]
async fn dates_outside_the_window_leave_no_key_in_redis() {
    on_postgres_and_redis(|settings| async move {
        let prefix = settings.redis_key_prefix.clone();
        let app = TestApp::with(settings, None).await;
        let client = app.client().await;
        let raw = Builder::from_config(Config::from_url(&redis_url()).expect("url")).build().expect("a client");
        raw.init().await.expect("a raw connection");
        let keys = async || {
            let command = CustomCommand::new_static("KEYS", ClusterHash::Random, false);
            let found: Value = raw.custom(command, vec![format!("{prefix}*")]).await.expect("KEYS");
            found.into_array().len()
        };
        far_reads_bypass_and_today_is_cached(&client, keys).await;
    })
    .await;
}
