//! For `prometheus.rs`: the expressions of the dashboard and of the alert
//! rules, read from ops/, and a short load of a few users on a server
//! process, counting answers by status.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::{Value, json};

use crate::process::{ADMIN, send, try_send};

/// The repository's ops/ directory.
pub fn ops_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ops")
}

/// One query of a panel: (panel title, refId, expression as written).
pub struct PanelQuery {
    pub panel: String,
    pub reference: String,
    pub expr: String,
}

/// The dashboard JSON, every query of every panel (rows included), and the
/// queries of its template variables.
pub fn dashboard() -> (Vec<PanelQuery>, Vec<String>) {
    let path = ops_dir().join("grafana/macrotrack.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    let dashboard: Value = serde_json::from_str(&text).expect("the dashboard is JSON");
    let mut panels: Vec<&Value> = Vec::new();
    for panel in dashboard["panels"].as_array().expect("panels") {
        panels.push(panel);
        panels.extend(panel["panels"].as_array().into_iter().flatten());
    }
    let queries = panels
        .iter()
        .flat_map(|panel| {
            let title = panel["title"].as_str().unwrap_or("untitled").to_owned();
            panel["targets"].as_array().into_iter().flatten().map(move |target| PanelQuery {
                panel: title.clone(),
                reference: target["refId"].as_str().unwrap_or("?").to_owned(),
                expr: target["expr"].as_str().expect("a Prometheus target has an expr").to_owned(),
            })
        })
        .collect();
    let variables = dashboard["templating"]["list"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|variable| variable["query"]["query"].as_str().map(str::to_owned))
        .collect();
    (queries, variables)
}

/// Every alerting rule of alerts.yml: (alert name, expression). The file
/// is read line by line (`alert:` then `expr:`, a block scalar or one
/// line): its shape is this project's own, and promtool checks it whole.
pub fn rules() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(ops_dir().join("prometheus/alerts.yml")).expect("alerts.yml");
    let mut rules = Vec::new();
    let mut lines = text.lines().peekable();
    let mut name = None;
    while let Some(line) = lines.next() {
        let trimmed = line.trim_start();
        if let Some(alert) = trimmed.strip_prefix("- alert:") {
            name = Some(alert.trim().to_owned());
        } else if let Some(expr) = trimmed.strip_prefix("expr:") {
            let indent = line.len() - trimmed.len();
            let mut expr = expr.trim().to_owned();
            if expr == "|" {
                expr.clear();
                while let Some(next) = lines.next_if(|next| next.trim().is_empty() || indent_of(next) > indent) {
                    expr.push_str(next.trim());
                    expr.push('\n');
                }
            }
            rules.push((name.take().expect("an expr follows its alert"), expr.trim().to_owned()));
        }
    }
    rules
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// Grafana's variables as a query over a short test window sees them.
pub fn substitute(expr: &str, rate_interval: &str) -> String {
    let expr = expr.replace("$__rate_interval", rate_interval).replace("$instance", ".*");
    assert!(!expr.contains('$'), "a variable the test does not know: {expr}");
    expr
}

/// The `macrotrack_*` metric names an expression reads.
pub fn metric_names(expr: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = expr;
    while let Some(at) = rest.find("macrotrack_") {
        let name: String =
            rest[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':').collect();
        rest = &rest[at + name.len()..];
        names.push(name);
    }
    names
}

/// Answers counted by the load, by kind of status.
#[derive(Debug, Default)]
pub struct Counts {
    pub ok: AtomicU64,
    pub unavailable: AtomicU64,
    /// Any other 5xx (a bug) or a failed exchange.
    pub broken: AtomicU64,
}

/// A few users, each on a thread of its own, writing log entries and
/// reading every kind of cached read, until stopped.
pub struct Load {
    pub counts: Arc<Counts>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl Load {
    pub fn start(port: u16, users: usize) -> Load {
        let counts = Arc::new(Counts::default());
        let stop = Arc::new(AtomicBool::new(false));
        let threads = (0..users)
            .map(|index| {
                let created = send(port, "POST", "/v1/admin/users", Some(ADMIN), Some(&json!({ "name": "load" })));
                let token = created.ok(201)["token"].as_str().expect("a token").to_owned();
                let (counts, stop) = (counts.clone(), stop.clone());
                std::thread::spawn(move || user_loop(port, &token, index, &counts, &stop))
            })
            .collect();
        Load { counts, stop, threads }
    }

    pub fn stop(self) -> Arc<Counts> {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads {
            thread.join().expect("a load thread");
        }
        self.counts
    }
}

fn user_loop(port: u16, token: &str, index: usize, counts: &Counts, stop: &AtomicBool) {
    let dates = ["2026-11-23", "2026-11-24", "2026-11-25"];
    let mut round = 0;
    while !stop.load(Ordering::Relaxed) {
        let date = dates[(round + index) % dates.len()];
        let entry = json!({"entries": [{"date": date, "meal": "snack", "food_id": 1 + round % 3, "servings": 1}]});
        let requests: [(&str, String, Option<&Value>); 7] = [
            ("POST", "/v1/logs".to_owned(), Some(&entry)),
            ("GET", format!("/v1/logs?date={date}"), None),
            ("GET", format!("/v1/days/{date}?today={date}"), None),
            ("GET", "/v1/weeks/2026-11-23".to_owned(), None),
            ("GET", "/v1/summary?from=2026-11-01&to=2026-11-30".to_owned(), None),
            ("GET", "/v1/foods/frequent".to_owned(), None),
            ("GET", "/v1/me".to_owned(), None),
        ];
        for (method, path, body) in requests {
            let counter = match try_send(port, method, &path, Some(token), body) {
                Ok(answer) if answer.status < 500 => &counts.ok,
                Ok(answer) if answer.status == 503 => &counts.unavailable,
                _ => &counts.broken,
            };
            counter.fetch_add(1, Ordering::Relaxed);
        }
        round += 1;
        std::thread::sleep(Duration::from_millis(20));
    }
}
