//! Time zones through the API, on both backends: `PUT /v1/me/settings`
//! takes a name of the IANA database as it spells it (else 422), `GET
//! /v1/me` shows it (UTC by default), and every default `today` is the
//! user's local date: the clock is moved across midnight in Auckland and in
//! Los Angeles and the streak and the day screen follow each user's own
//! midnight, cached or not; setting the zone moves it at once.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, TimeZone as _, Utc};
use common::postgres::on_postgres_and_redis;
use common::{Client, TestApp, sqlite_settings};
use macrotrack_ports::Clock;
use serde_json::{Value, json};

/// A clock the test sets.
struct Movable(AtomicI64);

impl Movable {
    fn at(&self, text: &str) {
        let at: DateTime<Utc> = text.parse().expect("an RFC 3339 instant");
        self.0.store(at.timestamp_millis(), Ordering::SeqCst);
    }
}

impl Clock for Movable {
    fn now(&self) -> DateTime<Utc> {
        Utc.timestamp_millis_opt(self.0.load(Ordering::SeqCst)).single().unwrap_or_default()
    }
}

/// The only completed day of every user here.
const COMPLETED: &str = "2026-12-07";

fn streak(current: u32, last: Option<&str>) -> Value {
    json!({"current": current, "longest": current, "last_completed": last})
}

fn not_yet() -> Value {
    streak(0, None)
}

fn counted() -> Value {
    streak(1, Some(COMPLETED))
}

async fn scenario<S, B>(client: &Client<S>, clock: &Movable)
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    clock.at("2026-12-06T10:30:00Z");
    let (kiwi_id, kiwi) = client.user("kiwi").await;
    let (_, angeleno) = client.user("angeleno").await;
    let (_, londoner) = client.user("londoner").await;
    let (k, a, l) = (Some(kiwi.as_str()), Some(angeleno.as_str()), Some(londoner.as_str()));

    // The rules: UTC by default, the database's spelling or 422.
    assert_eq!(
        client.get("/v1/me", k).await.ok(200),
        json!({"id": kiwi_id, "name": "kiwi", "targets": null, "timezone": "UTC"})
    );
    for bad in [json!("pacific/auckland"), json!("Mars/Olympus_Mons"), json!(""), json!(" UTC"), json!(13), json!(null)]
    {
        let answer = client.put("/v1/me/settings", k, json!({ "timezone": bad })).await;
        assert_eq!(answer.problem(422), ["timezone"], "{bad}");
    }
    assert_eq!(client.put("/v1/me/settings", k, json!({})).await.problem(422), ["timezone"]);
    assert_eq!(client.get("/v1/me", k).await.ok(200)["timezone"], "UTC", "nothing refused was stored");
    for (token, zone) in [(k, "Pacific/Auckland"), (a, "America/Los_Angeles")] {
        let stored = client.put("/v1/me/settings", token, json!({ "timezone": zone })).await.ok(200);
        assert_eq!(stored, json!({ "timezone": zone }));
        assert_eq!(client.get("/v1/me", token).await.ok(200)["timezone"], zone);
    }
    for name in ["Etc/GMT+12", "UTC", "US/Pacific", "America/Argentina/Buenos_Aires"] {
        let answer = client.put("/v1/me/settings", l, json!({ "timezone": name })).await;
        assert_eq!(answer.ok(200)["timezone"], name);
    }

    for token in [k, a, l] {
        client.bare(actix_web::http::Method::PUT, &format!("/v1/days/{COMPLETED}/completion"), token).await.ok(200);
    }
    let streak_of = async |token| client.get("/v1/streaks", token).await.ok(200);
    let screen_of = async |token| client.get(&format!("/v1/days/{COMPLETED}"), token).await.ok(200)["streak"].clone();
    // Each user's midnight, in UTC: Auckland (UTC+13 in December), UTC,
    // Los Angeles (UTC-8). The clock only moves forward. Each instant is
    // read twice: the second read answers from the cache where it keeps it.
    let moments = [
        ("2026-12-06T10:30:00Z", [not_yet(), not_yet(), not_yet()]),
        ("2026-12-06T11:30:00Z", [counted(), not_yet(), not_yet()]),
        ("2026-12-06T23:30:00Z", [counted(), not_yet(), not_yet()]),
        ("2026-12-07T00:30:00Z", [counted(), counted(), not_yet()]),
        ("2026-12-07T07:30:00Z", [counted(), counted(), not_yet()]),
        ("2026-12-07T08:30:00Z", [counted(), counted(), counted()]),
    ];
    client.put("/v1/me/settings", l, json!({"timezone": "UTC"})).await.ok(200);
    for (instant, expected) in moments {
        clock.at(instant);
        for (token, want) in [k, l, a].into_iter().zip(&expected) {
            for _ in 0..2 {
                assert_eq!(&streak_of(token).await, want, "streaks at {instant}");
                assert_eq!(&screen_of(token).await, want, "the day screen's streak at {instant}");
            }
        }
        if instant != "2026-12-07T07:30:00Z" {
            continue;
        }
        // A streak as of a date the user names is still that date's.
        assert_eq!(client.get(&format!("/v1/streaks?today={COMPLETED}"), a).await.ok(200), counted());
        // The window of cached dates is centred on the user's today: the
        // 8th is within a day of London's 7th, two days from Los Angeles' 6th.
        for (token, kept) in [(l, true), (a, false)] {
            let answer = client.get("/v1/streaks?today=2026-12-08", token).await;
            answer.ok(200);
            let status = answer.header("cache-status").unwrap_or_default().to_owned();
            assert_eq!(status.contains("fwd=bypass"), !kept, "{status}");
        }
    }

    // Setting the zone moves the default today at once, although the old
    // zone's answers were cached just now.
    client.put("/v1/me/settings", a, json!({"timezone": "Etc/GMT+12"})).await.ok(200);
    assert_eq!(streak_of(a).await, not_yet(), "UTC-12's today is the 6th");
    assert_eq!(screen_of(a).await, not_yet());
    client.put("/v1/me/settings", a, json!({"timezone": "Asia/Tokyo"})).await.ok(200);
    assert_eq!(streak_of(a).await, counted(), "Tokyo's today is the 7th");
    assert_eq!(screen_of(a).await, counted());
}

#[actix_web::test]
async fn default_today_is_the_users_on_sqlite() {
    let clock = Arc::new(Movable(AtomicI64::new(0)));
    clock.at("2026-12-06T10:30:00Z");
    let (settings, dir) = sqlite_settings();
    let app = TestApp::with_clock(settings, Some(dir), clock.clone()).await;
    scenario(&app.client().await, &clock).await;
}

#[actix_web::test]
async fn default_today_is_the_users_on_postgres_and_redis() {
    on_postgres_and_redis(|settings| async move {
        let clock = Arc::new(Movable(AtomicI64::new(0)));
        clock.at("2026-12-06T10:30:00Z");
        let app = TestApp::with_clock(settings, None, clock.clone()).await;
        scenario(&app.client().await, &clock).await;
    })
    .await;
}
