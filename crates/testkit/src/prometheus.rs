//! A throwaway Prometheus server (Debian's `prometheus` package) on a free
//! loopback port, scraping what a test serves, and `promtool`. Queries go
//! through Prometheus's HTTP API, as Grafana's do.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::{free_port, skip_or_fail, unique_name};

/// A prometheus process started by a test; stopped, and its directory
/// removed, when dropped.
pub struct Prometheus {
    child: Child,
    /// Where it listens, for queries.
    pub port: u16,
    dir: PathBuf,
    agent: ureq::Agent,
}

/// What a query answered: Prometheus's `data` on success, its error
/// (`bad_data` for an expression that does not parse) otherwise.
pub type Answer = Result<Value, String>;

/// Runs `promtool` with `args` in `dir`; `None` (after `skip_or_fail`)
/// when it is not installed.
pub fn promtool(dir: &Path, args: &[&str]) -> Option<Output> {
    match Command::new("promtool").args(args).current_dir(dir).output() {
        Ok(output) => Some(output),
        Err(error) => {
            skip_or_fail("promtool (Debian package prometheus)", error);
            None
        }
    }
}

impl Prometheus {
    /// Starts Prometheus scraping `target` (`host:port`, path `/metrics`)
    /// every `interval`, with `rule_files` loaded and evaluated as often.
    /// `None` (after `skip_or_fail`) when the binary is missing or it is
    /// not ready within 30 s.
    pub fn start(target: &str, interval: Duration, rule_files: &[PathBuf]) -> Option<Prometheus> {
        let dir = std::env::temp_dir().join(unique_name("macrotrack_prometheus"));
        std::fs::create_dir_all(&dir).ok()?;
        let every = format!("{}ms", interval.as_millis());
        let config = serde_json::json!({
            "global": { "scrape_interval": every, "scrape_timeout": every, "evaluation_interval": every },
            "rule_files": rule_files,
            "scrape_configs": [{ "job_name": "macrotrack", "static_configs": [{ "targets": [target] }] }],
        });
        // JSON is YAML: no YAML writer needed.
        std::fs::write(dir.join("prometheus.yml"), config.to_string()).ok()?;
        let port = free_port();
        let spawned = Command::new("prometheus")
            .arg(format!("--config.file={}", dir.join("prometheus.yml").display()))
            .arg(format!("--storage.tsdb.path={}", dir.join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("prometheus.log")).ok()?)
            .spawn();
        let child = match spawned {
            Ok(child) => child,
            Err(error) => {
                let _ = std::fs::remove_dir_all(&dir);
                skip_or_fail("prometheus (Debian package prometheus)", error);
                return None;
            }
        };
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(30)))
            .http_status_as_error(false)
            .build()
            .into();
        let mut prometheus = Prometheus { child, port, dir, agent };
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = prometheus.child.try_wait() {
                skip_or_fail("prometheus", format!("exited with {status}: {}", prometheus.log()));
                return None;
            }
            if prometheus.get("/-/ready", &[]).is_ok_and(|(status, _)| status == 200) {
                return Some(prometheus);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        skip_or_fail("prometheus", format!("not ready within 30 s: {}", prometheus.log()));
        None
    }

    /// Prometheus's own log (stderr).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("prometheus.log")).unwrap_or_default()
    }

    fn get(&self, path: &str, query: &[(&str, &str)]) -> Result<(u16, String), String> {
        let mut request = self.agent.get(&format!("http://127.0.0.1:{}{path}", self.port));
        for (name, value) in query {
            request = request.query(*name, *value);
        }
        let mut response = request.call().map_err(|error| error.to_string())?;
        let status = response.status().as_u16();
        let body = response.body_mut().read_to_string().map_err(|error| error.to_string())?;
        Ok((status, body))
    }

    /// An API call (`/api/v1/...`): its `data`, or its error.
    pub fn api(&self, path: &str, query: &[(&str, &str)]) -> Answer {
        let (status, body) = self.get(path, query)?;
        let answer: Value = serde_json::from_str(&body).map_err(|error| format!("{status}: {error}: {body}"))?;
        match answer["status"].as_str() {
            Some("success") => Ok(answer["data"].clone()),
            _ => Err(format!("{status} {}: {}", answer["errorType"], answer["error"])),
        }
    }

    /// `expr` evaluated now.
    pub fn query(&self, expr: &str) -> Answer {
        self.api("/api/v1/query", &[("query", expr)])
    }

    /// `expr` evaluated every `step` over the last `range`.
    pub fn query_range(&self, expr: &str, range: Duration, step: Duration) -> Answer {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs_f64();
        let (start, end, step) =
            (format!("{:.3}", now - range.as_secs_f64()), format!("{now:.3}"), format!("{}", step.as_secs_f64()));
        self.api("/api/v1/query_range", &[("query", expr), ("start", &start), ("end", &end), ("step", &step)])
    }

    /// Every metric name Prometheus has stored.
    pub fn metric_names(&self) -> Vec<String> {
        let names = self.api("/api/v1/label/__name__/values", &[]).unwrap_or_default();
        names.as_array().into_iter().flatten().filter_map(|name| name.as_str().map(str::to_owned)).collect()
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("--- prometheus (port {}) log ---\n{}", self.port, self.log());
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
