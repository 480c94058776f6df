//! docs/operations.md tours what ops/ holds: every panel of the dashboard
//! (by its title, in bold) and every alert rule (by its name, with what to
//! do), so neither can be added or renamed without its explanation.

use std::path::{Path, PathBuf};

use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|error| panic!("{path}: {error}"))
}

/// The text of the `## title` section of docs/operations.md.
fn section(title: &str) -> String {
    let doc = read("docs/operations.md");
    let start = doc.find(&format!("\n## {title}\n")).unwrap_or_else(|| panic!("no section {title}"));
    let rest = &doc[start + 1..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |end| end + 3);
    rest[..end].to_owned()
}

#[test]
fn every_panel_is_toured() {
    let dashboard: Value = serde_json::from_str(&read("ops/grafana/macrotrack.json")).expect("JSON");
    let tour = section("The dashboard");
    let panels: Vec<&str> = dashboard["panels"]
        .as_array()
        .expect("panels")
        .iter()
        .filter(|panel| panel["type"] != "row")
        .map(|panel| panel["title"].as_str().expect("a title"))
        .collect();
    assert!(panels.len() >= 12, "{panels:?}");
    for title in panels {
        assert!(tour.contains(&format!("- **{title}**: ")), "docs/operations.md does not tour the panel {title:?}");
    }
}

#[test]
fn every_alert_says_what_to_do() {
    let rules = read("ops/prometheus/alerts.yml");
    let names: Vec<&str> =
        rules.lines().filter_map(|line| line.trim().strip_prefix("- alert:")).map(str::trim).collect();
    assert_eq!(names.len(), 5, "{names:?}");
    let table = section("Alerts");
    for name in &names {
        let row = table.lines().find(|line| line.starts_with(&format!("| `{name}`")));
        let row = row.unwrap_or_else(|| panic!("docs/operations.md has no row for the alert {name}"));
        assert_eq!(row.matches(" | ").count(), 2, "{name}: fires when, what to do: {row}");
    }
    let tests = read("ops/prometheus/alerts.test.yml");
    for name in names {
        assert!(tests.contains(&format!("alertname: {name}")), "alerts.test.yml does not test {name}");
    }
}
