//! The hostile clients of issue 21, each doing what one client did to the
//! old code, and the contract's answer each must now get. A scenario
//! returns a `Row`: what it expected, what it observed, how long it took.

use std::collections::BTreeMap;
use std::sync::{Barrier, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;

use macrotrack_cache_keys::QueryKey;
use macrotrack_domain::Day;

use crate::probe::{Answer, Client, made_up_token, redis_holds, redis_keys, trickle};

/// Connections a flood comes from.
pub(crate) const FLOOD_CONNECTIONS: usize = 32;
/// The contract's failure budget of an address: burst and refill a second.
const FAILURE_BURST: u64 = 100;
const FAILURES_PER_SECOND: f64 = 20.0;

/// The server a scenario talks to.
pub(crate) struct Target {
    pub(crate) client: Client,
    pub(crate) port: u16,
    pub(crate) admin: String,
    /// The Redis URL and the server's key prefix, on the shared backend.
    pub(crate) redis: Option<(String, String)>,
    /// The per-user limit the server runs with (0: off).
    pub(crate) rate_limit: u32,
}

impl Target {
    fn keys(&self) -> anyhow::Result<Option<u64>> {
        self.redis.as_ref().map(|(url, prefix)| redis_keys(url, prefix)).transpose()
    }
}

/// One line of the table.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub(crate) row: &'static str,
    pub(crate) expected: String,
    pub(crate) observed: String,
    pub(crate) seconds: f64,
    pub(crate) passed: bool,
}

/// Runs `scenario`, timing it; an error is a failed row saying why.
pub(crate) fn run(
    row: &'static str,
    expected: &str,
    target: &Target,
    scenario: impl FnOnce(&Target) -> anyhow::Result<(String, bool)>,
) -> Row {
    let started = Instant::now();
    let (observed, passed) = scenario(target).unwrap_or_else(|error| (format!("error: {error:#}"), false));
    let row = Row { row, expected: expected.to_owned(), observed, seconds: started.elapsed().as_secs_f64(), passed };
    println!(
        "abuse: {} {}: {} ({:.1} s)",
        if row.passed { "ok  " } else { "FAIL" },
        row.row,
        row.observed,
        row.seconds
    );
    row
}

/// Statuses by count, e.g. `201×2 422×298`.
fn tally(statuses: &[u16]) -> String {
    let mut counts = BTreeMap::new();
    statuses.iter().for_each(|status| *counts.entry(*status).or_insert(0) += 1);
    counts.iter().map(|(status, count)| format!("{status}×{count}")).collect::<Vec<_>>().join(" ")
}

fn count(statuses: &[u16], status: u16) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

/// Runs `each(client, i)` for `i` in `0..total` over `connections`
/// threads, each on a connection of its own; the answers in `i` order.
fn spread(
    target: &Target,
    connections: usize,
    total: usize,
    each: impl Fn(&Client, usize) -> anyhow::Result<Answer> + Sync,
) -> anyhow::Result<Vec<Answer>> {
    let answers = Mutex::new(Vec::with_capacity(total));
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let workers: Vec<_> = (0..connections)
            .map(|worker| {
                let (answers, each) = (&answers, &each);
                let client = Client::new(&target.client.base);
                scope.spawn(move || -> anyhow::Result<()> {
                    for i in (worker..total).step_by(connections) {
                        let answer = each(&client, i)?;
                        answers.lock().unwrap_or_else(|e| e.into_inner()).push((i, answer));
                    }
                    Ok(())
                })
            })
            .collect();
        workers.into_iter().try_for_each(|worker| worker.join().unwrap_or_else(|_| anyhow::bail!("a worker panicked")))
    })?;
    let mut answers = answers.into_inner().unwrap_or_else(|e| e.into_inner());
    answers.sort_by_key(|(i, _)| *i);
    Ok(answers.into_iter().map(|(_, answer)| answer).collect())
}

fn statuses(answers: &[Answer]) -> Vec<u16> {
    answers.iter().map(|answer| answer.status).collect()
}

/// 300 batches of 100 entries on one date, from 4 connections: the day
/// takes 200, every batch past them is 422, and the day's read stays small.
pub(crate) fn batches_on_one_day(target: &Target) -> anyhow::Result<(String, bool)> {
    let token = target.client.user(&target.admin, "batches")?;
    let date = "2026-11-02";
    let entry = format!("{{\"date\":\"{date}\",\"meal\":\"lunch\",\"food_id\":1,\"servings\":1}}");
    let body = format!("{{\"entries\":[{}]}}", vec![entry; 100].join(","));
    let answers = spread(target, 4, 300, |client, _| client.send("POST", "/v1/logs", Some(&token), Some(&body), None))?;
    let statuses = statuses(&answers);
    let day = target.client.get(&format!("/v1/logs?date={date}"), Some(&token))?;
    let entries = day.json()["entries"].as_array().map_or(0, Vec::len);
    let passed = count(&statuses, 201) == 2 && count(&statuses, 422) == 298 && day.status == 200 && entries == 200;
    let observed =
        format!("{}; the day holds {entries} entries, its read is {} bytes", tally(&statuses), day.body.len());
    Ok((observed, passed))
}

/// 200 rounds of two PATCHes of one food at once, one of the name and one
/// of the calories: both stay every time.
pub(crate) fn concurrent_field_edits(target: &Target) -> anyhow::Result<(String, bool)> {
    let token = target.client.user(&target.admin, "editor")?;
    let food = target.client.expect(
        201,
        "POST",
        "/v1/foods",
        Some(&token),
        Some(r#"{"name":"Edited","serving_size":100,"serving_unit":"g","calories":100,"protein_g":10,"carbs_g":20,"fat_g":5}"#),
    )?;
    let path = format!("/v1/foods/{}", food["id"].as_i64().context("no food id")?);
    let (namer, counter) = (Client::new(&target.client.base), Client::new(&target.client.base));
    let mut lost = 0;
    let mut statuses = Vec::new();
    for round in 0..200 {
        let (name, calories) = (format!("Edit {round}"), 200 + round);
        let start = Barrier::new(2);
        let (a, b) = std::thread::scope(|scope| {
            let by_name = scope.spawn(|| {
                start.wait();
                namer.send("PATCH", &path, Some(&token), Some(&format!("{{\"name\":\"{name}\"}}")), None)
            });
            let by_calories = scope.spawn(|| {
                start.wait();
                counter.send("PATCH", &path, Some(&token), Some(&format!("{{\"calories\":{calories}}}")), None)
            });
            (by_name.join(), by_calories.join())
        });
        let (a, b) = (a.map_err(|_| anyhow::anyhow!("panicked"))??, b.map_err(|_| anyhow::anyhow!("panicked"))??);
        statuses.extend([a.status, b.status]);
        let now = target.client.get(&path, Some(&token))?.json();
        if now["name"] != name.as_str() || now["calories"].as_f64() != Some(f64::from(calories)) {
            lost += 1;
        }
    }
    let passed = lost == 0 && count(&statuses, 200) == 400;
    Ok((format!("{}; {lost} of 200 rounds lost an edit", tally(&statuses)), passed))
}

/// The same `POST /v1/logs` sent twice with one `Idempotency-Key`, as a
/// mobile client retries: the repeat replays the first answer and logs
/// nothing.
pub(crate) fn retried_post(target: &Target) -> anyhow::Result<(String, bool)> {
    let token = target.client.user(&target.admin, "retrying")?;
    let date = "2026-11-03";
    let body = format!("{{\"entries\":[{{\"date\":\"{date}\",\"meal\":\"snack\",\"food_id\":1,\"servings\":1}}]}}");
    let key = "abuse-retry-0001";
    let first = target.client.send("POST", "/v1/logs", Some(&token), Some(&body), Some(key))?;
    let again = target.client.send("POST", "/v1/logs", Some(&token), Some(&body), Some(key))?;
    let day = target.client.get(&format!("/v1/logs?date={date}"), Some(&token))?;
    let entries = day.json()["entries"].as_array().map_or(0, Vec::len);
    let replayed = again.replayed.as_deref() == Some("true");
    let passed = first.status == 201 && again.status == 201 && again.body == first.body && replayed && entries == 1;
    let observed = format!(
        "{} then {} (same body: {}, Idempotent-Replayed: {}); the day holds {entries} entries",
        first.status,
        again.status,
        again.body == first.body,
        again.replayed.as_deref().unwrap_or("absent")
    );
    Ok((observed, passed))
}

/// A search for a NUL.
pub(crate) fn search_for_nul(target: &Target) -> anyhow::Result<(String, bool)> {
    let token = target.client.user(&target.admin, "searcher")?;
    let answer = target.client.get("/v1/foods?query=%00", Some(&token))?;
    let on_query = answer.body.contains("query");
    Ok((format!("{} (names `query`: {on_query})", answer.status), answer.status == 422 && on_query))
}

/// The day screen of 2,000 dates far from today, from 8 connections: each
/// answered, and no key left per date.
pub(crate) fn far_day_screens(target: &Target) -> anyhow::Result<(String, bool)> {
    let token = target.client.user(&target.admin, "time traveller")?;
    let first = crate::dates::parse("2150-01-01")?;
    // One read first: what a user's first day screen keeps whatever its
    // date (their targets, their streak) is not what is counted.
    let warm = target.client.get(&format!("/v1/days/{}", crate::dates::format(first - 1)), Some(&token))?;
    let before = target.keys()?;
    let answers = spread(target, 8, 2_000, |client, i| {
        client.get(&format!("/v1/days/{}", crate::dates::format(first + i as i64)), Some(&token))
    })?;
    let statuses = statuses(&answers);
    let after = target.keys()?;
    let all_answered = warm.status == 200 && count(&statuses, 200) == 2_000;
    Ok(match (before, after) {
        (Some(before), Some(after)) => {
            let observed = format!("{}; {} new Redis keys", tally(&statuses), after.saturating_sub(before));
            (observed, all_answered && after <= before)
        }
        _ => (format!("{}; keys not countable in-process", tally(&statuses)), all_answered),
    })
}

/// 6,000 completed days up to 2200-12-31, then the streak as of that day,
/// ten times: right, and no key left.
pub(crate) fn streak_of_6000_days(target: &Target) -> anyhow::Result<(String, bool)> {
    const DAYS: usize = 6_000;
    let token = target.client.user(&target.admin, "completionist")?;
    let last = crate::dates::parse("2200-12-31")?;
    let answers = spread(target, 8, DAYS, |client, i| {
        let date = crate::dates::format(last - i as i64);
        client.send("PUT", &format!("/v1/days/{date}/completion"), Some(&token), None, None)
    })?;
    let completions = statuses(&answers);
    // Until the completions' invalidations are applied the user's reads
    // bypass the cache (and store nothing whatever their date): wait for
    // a read of today's streak that does not.
    let settled = Instant::now();
    while target.client.get("/v1/streaks", Some(&token))?.cache_status.is_none_or(|status| status.contains("bypass")) {
        if settled.elapsed() > Duration::from_secs(20) {
            anyhow::bail!("the user's reads still bypass the cache 20 s after their completions");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let before = target.keys()?;
    let mut times = Vec::new();
    let mut streak = serde_json::Value::Null;
    let mut last_status = None;
    for _ in 0..10 {
        let started = Instant::now();
        let answer = target.client.get("/v1/streaks?today=2200-12-31", Some(&token))?;
        times.push(started.elapsed());
        if answer.status != 200 {
            anyhow::bail!("GET /v1/streaks answered {}: {}", answer.status, answer.body);
        }
        streak = answer.json();
        last_status = answer.cache_status;
    }
    let after = target.keys()?;
    // The streak's own entry: a count of keys could hide it behind keys
    // that expired meanwhile.
    let user = macrotrack_service::claimed_user(&token).context("the token names no user")?;
    let today: Day = "2200-12-31".parse().map_err(|_| anyhow::anyhow!("not a day"))?;
    let entry = QueryKey::Streak { user, today }.render();
    let kept = match &target.redis {
        Some((url, prefix)) => Some(redis_holds(url, &format!("{prefix}{entry}"))?),
        None => None,
    };
    let right = streak["current"] == DAYS && streak["longest"] == DAYS && streak["last_completed"] == "2200-12-31";
    let (first, rest) = (times[0], times[1..].iter().sum::<Duration>() / 9);
    let mut observed = format!(
        "completions {}; streak {}/{} ending {}; first call {:.1} ms, the next 9 {:.1} ms on average",
        tally(&completions),
        streak["current"],
        streak["longest"],
        streak["last_completed"],
        first.as_secs_f64() * 1e3,
        rest.as_secs_f64() * 1e3
    );
    let mut passed = right && count(&completions, 200) == DAYS;
    if let (Some(before), Some(after), Some(kept)) = (before, after, kept) {
        let kept = if kept { "kept" } else { "not kept" };
        observed.push_str(&format!("; its entry {kept}, {} new Redis keys", after.saturating_sub(before)));
        passed &= kept == "not kept" && after <= before;
    }
    observed.push_str(&format!("; Cache-Status {}", last_status.as_deref().unwrap_or("absent")));
    Ok((observed, passed))
}

/// A body trickled a byte a second under a 2 s body deadline: 408, and the
/// connection closed.
pub(crate) fn trickled_body(target: &Target) -> anyhow::Result<(String, bool)> {
    let token = target.client.user(&target.admin, "trickler")?;
    let got = trickle(target.port, "/v1/logs", &token, 100, Duration::from_secs(1), Duration::from_secs(10));
    let closed = got
        .closed_after
        .map_or("still open after 10 s".to_owned(), |at| format!("closed after {:.1} s", at.as_secs_f64()));
    let status = got.status.map_or("no answer".to_owned(), |status| status.to_string());
    let passed = got.status == Some(408) && got.closed_after.is_some_and(|at| at < Duration::from_secs(5));
    Ok((format!("{status}, {closed}, {} bytes of 100 sent", got.bytes_sent), passed))
}

/// 3,000 requests of one token as fast as 32 connections go: 429 with
/// Retry-After past the user's budget, answered before the credential is
/// read.
pub(crate) fn one_token_as_fast_as_possible(target: &Target) -> anyhow::Result<(String, bool)> {
    let token = target.client.user(&target.admin, "hasty")?;
    let before = target.client.metrics()?.credential_reads();
    let started = Instant::now();
    let answers = spread(target, FLOOD_CONNECTIONS, 3_000, |client, _| client.get("/v1/me", Some(&token)))?;
    let elapsed = started.elapsed().as_secs_f64();
    let reads = target.client.metrics()?.credential_reads() - before;
    let statuses = statuses(&answers);
    let (served, limited) = (count(&statuses, 200), count(&statuses, 429));
    let with_retry_after = answers.iter().filter(|a| a.status == 429 && a.retry_after.is_some()).count();
    let rate = f64::from(target.rate_limit);
    // The burst (twice the rate), the refill while it ran, what was in flight.
    let bound = (2.0 * rate + rate * elapsed).ceil() as usize + FLOOD_CONNECTIONS;
    let passed = served + limited == 3_000
        && limited > 0
        && with_retry_after == limited
        && served <= bound
        && reads == served as u64;
    let observed = format!(
        "{} in {elapsed:.1} s (served at most {bound}); every 429 with Retry-After: {}; credential reads {reads}",
        tally(&statuses),
        with_retry_after == limited
    );
    Ok((observed, passed))
}

/// 2,000 well-formed made-up tokens from 32 connections: 401 for the
/// failure burst, then 429 with Retry-After and no lookup; a user whose
/// token authenticated before is still served from the same address.
pub(crate) fn made_up_tokens(target: &Target) -> anyhow::Result<(String, bool)> {
    let legitimate = target.client.user(&target.admin, "bystander")?;
    target.client.expect(200, "GET", "/v1/me", Some(&legitimate), None)?;
    let before = target.client.metrics()?.credential_fetches();
    let started = Instant::now();
    let answers = spread(target, FLOOD_CONNECTIONS, 2_000, |client, i| {
        client.get("/v1/logs?date=2026-10-01", Some(&made_up_token(i as u64)))
    })?;
    let elapsed = started.elapsed().as_secs_f64();
    let bystander = target.client.get("/v1/me", Some(&legitimate))?;
    let lookups = target.client.metrics()?.credential_fetches() - before;
    let statuses = statuses(&answers);
    let (unauthorized, limited) = (count(&statuses, 401), count(&statuses, 429));
    let with_retry_after = answers.iter().filter(|a| a.status == 429 && a.retry_after.is_some()).count();
    let bound = FAILURE_BURST + (FAILURES_PER_SECOND * elapsed).ceil() as u64 + FLOOD_CONNECTIONS as u64;
    let passed = unauthorized + limited == 2_000
        && limited > 0
        && with_retry_after == limited
        && lookups <= bound
        && lookups == unauthorized as u64
        && bystander.status == 200;
    let observed = format!(
        "{} in {elapsed:.1} s; {lookups} credential lookups (bound {bound}); a known token from the same address: {}",
        tally(&statuses),
        bystander.status
    );
    Ok((observed, passed))
}
