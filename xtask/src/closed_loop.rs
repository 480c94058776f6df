//! What users do, that wrk cannot: each user logs an entry and then reads
//! that day again, in a closed loop (the next write waits for the read, and
//! a pause: people look at the day they logged to before they log again).
//! Two paces: `BUSY` (10 writes a second per user, far beyond a real one,
//! but the machine keeps up) and `SATURATED` (pauses so short that 40 users
//! ask more than the 2 cores serve: latency is then queueing, the mixed and
//! write-only loads' regime).
//! The read right after one's own write is the one a cache is most likely
//! to get slow (a miss, a lease) or wrong (a stale read): it is timed and
//! checked to hold the entry just written.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::harness::Measure;

/// Between a user's read and their next write, on average.
pub(crate) const BUSY: Duration = Duration::from_millis(100);
pub(crate) const SATURATED: Duration = Duration::from_millis(20);

/// One user's loop on their day: POST one entry, GET the day, `cycles`
/// times (or until `until`, a guard).
fn user_loop(
    base: &str,
    token: &str,
    date: &str,
    cycles: usize,
    think: Duration,
    until: Instant,
) -> anyhow::Result<Timings> {
    // One agent per user: its own keep-alive connection, as a browser has.
    let agent: ureq::Agent = ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(10))).build().into();
    let auth = format!("Bearer {token}");
    let mut timings = Timings::default();
    // Users neither start nor think in step: each starts at a random point
    // of one pause and pauses between half and one and a half of it. (In
    // step, all of them wrote at the same instant every cycle: a burst of
    // 40 writes on 10 database connections, which no real users make.)
    let jitter = Jitter::new();
    std::thread::sleep(think.mul_f64(jitter.next()));
    for _ in 0..cycles {
        if Instant::now() > until {
            bail!("{cycles} cycles did not end within the time given");
        }
        let body = format!(r#"{{"entries":[{{"date":"{date}","meal":"snack","food_id":1,"servings":1}}]}}"#);
        let started = Instant::now();
        let mut created = agent
            .post(&format!("{base}/v1/logs"))
            .header("Authorization", &auth)
            .content_type("application/json")
            .send(body.as_bytes())
            .context("POST /v1/logs")?;
        timings.writes.push(started.elapsed());
        let created: serde_json::Value = serde_json::from_str(&created.body_mut().read_to_string()?)?;
        let id = created["entries"][0]["id"].as_i64().context("no entry id in the answer")?;
        let started = Instant::now();
        let mut read = agent
            .get(&format!("{base}/v1/logs?date={date}"))
            .header("Authorization", &auth)
            .call()
            .context("GET /v1/logs")?;
        let text = read.body_mut().read_to_string()?;
        timings.reads.push(started.elapsed());
        let day: serde_json::Value = serde_json::from_str(&text)?;
        let seen = day["entries"].as_array().is_some_and(|entries| entries.iter().any(|e| e["id"] == id));
        if !seen {
            timings.stale += 1;
        }
        std::thread::sleep(think.mul_f64(0.5 + jitter.next()));
    }
    Ok(timings)
}

/// Uniform numbers in [0, 1) from the standard library's random hasher
/// keys (the xtask needs no more randomness than this).
struct Jitter(std::cell::Cell<u64>, std::collections::hash_map::RandomState);

impl Jitter {
    fn new() -> Self {
        Jitter(std::cell::Cell::new(0), std::collections::hash_map::RandomState::new())
    }

    fn next(&self) -> f64 {
        use std::hash::BuildHasher;
        self.0.set(self.0.get() + 1);
        (self.1.hash_one(self.0.get()) >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[derive(Default)]
struct Timings {
    writes: Vec<Duration>,
    reads: Vec<Duration>,
    /// Reads that did not hold the entry written just before.
    stale: u64,
}

/// The percentile `p` (0..=100) of `sorted`, in milliseconds.
fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)].as_secs_f64() * 1000.0
}

/// Runs one loop of `cycles` per token; answers the reads' measure and the
/// writes' (each per second of the run). Any failed request, and any read
/// that misses the entry just written, is an error.
pub(crate) fn read_after_own_write(
    label: &str,
    base: &str,
    tokens: &[String],
    dates: &[String],
    cycles: usize,
    think: Duration,
) -> anyhow::Result<(Measure, Measure)> {
    let until = Instant::now() + Duration::from_secs(120);
    let started = Instant::now();
    let loops: Vec<_> = tokens
        .iter()
        .zip(dates.iter().cycle())
        .map(|(token, date)| {
            let (base, token, date) = (base.to_owned(), token.clone(), date.clone());
            // Each user logs on one day and reads it again, as on their today.
            std::thread::spawn(move || user_loop(&base, &token, &date, cycles, think, until))
        })
        .collect();
    let mut all = Timings::default();
    let mut failures = Vec::new();
    for handle in loops {
        match handle.join() {
            Ok(Ok(timings)) => {
                all.writes.extend(timings.writes);
                all.reads.extend(timings.reads);
                all.stale += timings.stale;
            }
            Ok(Err(error)) => failures.push(format!("{error:#}")),
            Err(_) => failures.push("a user's loop panicked".to_owned()),
        }
    }
    if all.reads.is_empty() {
        bail!("no cycle completed: {}", failures.join("; "));
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.reads.sort_unstable();
    all.writes.sort_unstable();
    let over_100ms = all.reads.iter().filter(|read| **read > Duration::from_millis(100)).count();
    let measure = |what: &str, sorted: &[Duration], errors: u64| Measure {
        label: format!("{label}: {what}"),
        requests_per_second: sorted.len() as f64 / elapsed,
        p50_ms: percentile(sorted, 50.0),
        p99_ms: percentile(sorted, 99.0),
        errors,
        error_detail: failures.join("; "),
    };
    let errors = failures.len() as u64 + all.stale;
    let reads = measure("the read right after", &all.reads, errors);
    let writes = measure("the write", &all.writes, failures.len() as u64);
    println!(
        "bench: {label}: {} cycles, reads p50 {:.2} ms p90 {:.2} ms p99 {:.2} ms max {:.2} ms ({over_100ms} over 100 ms, {} \
         stale), writes p50 {:.2} ms p99 {:.2} ms, {} failed users",
        all.reads.len(),
        reads.p50_ms,
        percentile(&all.reads, 90.0),
        reads.p99_ms,
        percentile(&all.reads, 100.0),
        all.stale,
        writes.p50_ms,
        writes.p99_ms,
        failures.len()
    );
    Ok((reads, writes))
}
