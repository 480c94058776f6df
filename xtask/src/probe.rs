//! What the hostile-client suite and the flood benchmark observe a server
//! through: HTTP answers with their status and headers whatever the status,
//! the counters of `/metrics`, the Redis keys under the server's prefix,
//! and a raw connection that trickles a body.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// One answer: status, the headers the suite looks at, the body.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) retry_after: Option<String>,
    pub(crate) replayed: Option<String>,
    pub(crate) cache_status: Option<String>,
    pub(crate) body: String,
}

impl Answer {
    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// A client of one server on one keep-alive connection (an agent per
/// thread, so N threads are N connections).
#[derive(Clone)]
pub(crate) struct Client {
    agent: ureq::Agent,
    pub(crate) base: String,
}

impl Client {
    pub(crate) fn new(base: &str) -> Client {
        let agent = ureq::Agent::config_builder()
            // 4xx and 5xx are answers to look at, not errors.
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        Client { agent, base: base.to_owned() }
    }

    /// Sends `method path` with a bearer `token` and a JSON `body`, and an
    /// `Idempotency-Key` when given.
    pub(crate) fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
        idempotency_key: Option<&str>,
    ) -> anyhow::Result<Answer> {
        let uri = format!("{}{path}", self.base);
        let mut request = ureq::http::Request::builder().method(method).uri(&uri);
        if let Some(token) = token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        if let Some(key) = idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        let answer = match body {
            Some(body) => {
                let request = request.header("Content-Type", "application/json").body(body.to_owned())?;
                self.agent.run(request)
            }
            None => self.agent.run(request.body(())?),
        };
        let mut answer = answer.with_context(|| format!("{method} {path}"))?;
        let header = |name: &str| answer.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let (retry_after, replayed) = (header("retry-after"), header("idempotent-replayed"));
        let cache_status = header("cache-status");
        let status = answer.status().as_u16();
        let body = answer.body_mut().with_config().limit(64 << 20).read_to_string().unwrap_or_default();
        Ok(Answer { status, retry_after, replayed, cache_status, body })
    }

    pub(crate) fn get(&self, path: &str, token: Option<&str>) -> anyhow::Result<Answer> {
        self.send("GET", path, token, None, None)
    }

    /// Sends and insists on `status`; the answer's JSON.
    pub(crate) fn expect(
        &self,
        status: u16,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
    ) -> anyhow::Result<serde_json::Value> {
        let answer = self.send(method, path, token, body, None)?;
        if answer.status != status {
            bail!("{method} {path}: {} (expected {status}): {}", answer.status, answer.body);
        }
        Ok(answer.json())
    }

    /// A new user through the admin route; their token.
    pub(crate) fn user(&self, admin: &str, name: &str) -> anyhow::Result<String> {
        let created =
            self.expect(201, "POST", "/v1/admin/users", Some(admin), Some(&format!("{{\"name\":\"{name}\"}}")))?;
        created["token"].as_str().map(str::to_owned).context("no token in the answer")
    }

    /// The server's `/metrics` text.
    pub(crate) fn metrics(&self) -> anyhow::Result<Metrics> {
        let answer = self.get("/metrics", None)?;
        if answer.status != 200 {
            bail!("/metrics answered {}", answer.status);
        }
        Ok(Metrics(answer.body))
    }
}

/// A scrape of `/metrics`.
pub(crate) struct Metrics(String);

impl Metrics {
    /// The sum of `name`'s series whose labels satisfy `wanted`.
    pub(crate) fn sum(&self, name: &str, wanted: impl Fn(&dyn Fn(&str) -> Option<String>) -> bool) -> u64 {
        let prefix = format!("{name}{{");
        let mut total = 0.0;
        for line in self.0.lines() {
            let Some(rest) = line.strip_prefix(&prefix) else { continue };
            let Some((labels, value)) = rest.rsplit_once("} ") else { continue };
            let label = |key: &str| {
                labels
                    .split(',')
                    .find_map(|pair| Some(pair.strip_prefix(key)?.strip_prefix("=\"")?.strip_suffix('"')?.to_owned()))
            };
            if wanted(&label) {
                total += value.trim().parse::<f64>().unwrap_or(0.0);
            }
        }
        total as u64
    }

    /// Credential reads that reached the database: a token's lookup.
    pub(crate) fn credential_fetches(&self) -> u64 {
        self.sum("macrotrack_cache_fetches_total", |label: &dyn Fn(&str) -> Option<String>| {
            label("family").as_deref() == Some("credential")
        })
    }

    /// Credential reads through the cache, whatever their outcome.
    pub(crate) fn credential_reads(&self) -> u64 {
        self.sum("macrotrack_cache_requests_total", |label: &dyn Fn(&str) -> Option<String>| {
            label("family").as_deref() == Some("credential") && label("outcome").as_deref() != Some("rejected_store")
        })
    }

    /// Requests answered with a 5xx since the server started.
    pub(crate) fn server_errors(&self) -> u64 {
        self.sum("macrotrack_http_requests_total", |label: &dyn Fn(&str) -> Option<String>| {
            label("status").is_some_and(|status| status.starts_with('5'))
        })
    }
}

/// Keys under `prefix` in the Redis at `url` (SCAN, through redis-cli).
pub(crate) fn redis_keys(url: &str, prefix: &str) -> anyhow::Result<u64> {
    let output = Command::new("redis-cli")
        .args(["-u", url, "--scan", "--pattern", &format!("{prefix}*")])
        .output()
        .context("running redis-cli")?;
    if !output.status.success() {
        bail!("redis-cli: {}", String::from_utf8_lossy(&output.stderr).trim());
    }
    Ok(String::from_utf8_lossy(&output.stdout).lines().filter(|line| !line.is_empty()).count() as u64)
}

/// Whether the Redis at `url` holds `key`.
pub(crate) fn redis_holds(url: &str, key: &str) -> anyhow::Result<bool> {
    let output = Command::new("redis-cli").args(["-u", url, "EXISTS", key]).output().context("running redis-cli")?;
    match String::from_utf8_lossy(&output.stdout).trim() {
        "1" => Ok(true),
        "0" => Ok(false),
        other => bail!("redis-cli EXISTS answered {other:?}: {}", String::from_utf8_lossy(&output.stderr).trim()),
    }
}

/// What a trickled body got: the status line's code (if any came), and
/// when the connection was seen closed, after the headers were sent.
#[derive(Debug)]
pub(crate) struct Trickled {
    pub(crate) status: Option<u16>,
    pub(crate) closed_after: Option<Duration>,
    pub(crate) bytes_sent: usize,
}

/// Sends `POST path`'s headers announcing a body of `length` bytes, then
/// one byte of it every `every`, until the server answers and closes or
/// `give_up` passes.
pub(crate) fn trickle(
    port: u16,
    path: &str,
    token: &str,
    length: usize,
    every: Duration,
    give_up: Duration,
) -> Trickled {
    let started = Instant::now();
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return Trickled { status: None, closed_after: None, bytes_sent: 0 };
    };
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.set_read_timeout(Some(every));
    let mut received = Vec::new();
    let mut bytes_sent = 0;
    let mut closed_after = None;
    let body = b"{\"entries\":[]}".iter().chain(std::iter::repeat(&b' ')).take(length).copied().collect::<Vec<u8>>();
    while started.elapsed() < give_up {
        let mut buffer = [0u8; 4096];
        match stream.read(&mut buffer) {
            Ok(0) => {
                closed_after = Some(started.elapsed());
                break;
            }
            Ok(read) => received.extend_from_slice(&buffer[..read]),
            Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                // A byte a tick, while the server lets the connection be.
                if bytes_sent < length && stream.write_all(&body[bytes_sent..=bytes_sent]).is_ok() {
                    bytes_sent += 1;
                }
            }
            Err(_) => {
                closed_after = Some(started.elapsed());
                break;
            }
        }
    }
    let text = String::from_utf8_lossy(&received);
    let status = text.strip_prefix("HTTP/1.1 ").and_then(|rest| rest.get(..3)?.parse().ok());
    Trickled { status, closed_after, bytes_sent }
}

/// A well-formed token naming a credential nobody holds, and a user no one
/// is (so the flood spends no real user's budget).
pub(crate) fn made_up_token(n: u64) -> String {
    format!("mt_{}_{:016x}_{:064x}", 1_000_000 + n, n, n.wrapping_mul(0x9e37_79b9_7f4a_7c15))
}

/// The `p`-th percentile (0..=100) of `samples`, in milliseconds.
pub(crate) fn percentile_ms(samples: &mut [Duration], p: f64) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    samples.sort_unstable();
    let rank = ((p / 100.0) * samples.len() as f64).ceil() as usize;
    samples[rank.clamp(1, samples.len()) - 1].as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_percentile_is_the_sample_at_its_rank() {
        let mut samples: Vec<Duration> = (1..=100).rev().map(Duration::from_millis).collect();
        assert_eq!(percentile_ms(&mut samples, 99.0), 99.0);
        assert_eq!(percentile_ms(&mut samples, 50.0), 50.0);
        assert_eq!(percentile_ms(&mut samples, 100.0), 100.0);
        assert!(percentile_ms(&mut [], 99.0).is_nan());
    }

    #[test]
    fn metrics_are_summed_over_the_series_whose_labels_match() {
        let metrics = Metrics(
            "# TYPE macrotrack_http_requests_total counter\n\
             macrotrack_http_requests_total{route=\"/v1/logs\",method=\"GET\",status=\"200\"} 7\n\
             macrotrack_http_requests_total{route=\"/v1/logs\",method=\"GET\",status=\"503\"} 2\n\
             macrotrack_http_requests_total{route=\"/v1/me\",method=\"GET\",status=\"500\"} 1\n\
             macrotrack_cache_fetches_total{tier=\"t2\",family=\"credential\"} 3\n\
             macrotrack_cache_fetches_total{tier=\"t1\",family=\"day_logs\"} 9\n"
                .to_owned(),
        );
        assert_eq!(metrics.server_errors(), 3);
        assert_eq!(metrics.credential_fetches(), 3);
    }

    #[test]
    fn made_up_tokens_are_well_formed_and_distinct() {
        let (a, b) = (made_up_token(1), made_up_token(2));
        assert_ne!(a, b);
        for token in [a, b] {
            let parts: Vec<&str> = token.split('_').collect();
            assert_eq!((parts.len(), parts[2].len(), parts[3].len()), (4, 16, 64), "{token}");
        }
    }
}
