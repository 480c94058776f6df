//! `cargo xtask reliability`: runs the fault tests and the outbox's
//! write-path bench, and writes what they tried and measured into
//! docs/reliability.md, between its markers, so the figures there are real.
//!
//! The fault tests report through `macrotrack_testkit::report`, one JSON
//! line each in the file named by `MACROTRACK_REPORT`.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, bail};

use crate::bench::{criterion_mean, human, machine, target_dir};
use crate::harness::today;

const FAULTS_BEGIN: &str = "<!-- faults:begin (written by `cargo xtask reliability`) -->";
const FAULTS_END: &str = "<!-- faults:end -->";
const WRITE_PATH_BEGIN: &str = "<!-- write-path:begin (written by `cargo xtask reliability`) -->";
const WRITE_PATH_END: &str = "<!-- write-path:end -->";

/// The test targets whose tests report: (package, test target).
const SUITES: &[(&str, &str)] =
    &[("macrotrack-service", "faults"), ("macrotrack", "processes"), ("macrotrack", "redis_down")];

/// The outbox bench's variants, in the table's column order.
const VARIANTS: &[(&str, &str)] = &[
    ("without_outbox", "without outbox"),
    ("insert_only", "row inserted, never deleted"),
    ("delete_each", "row deleted by its own statement (first design)"),
    ("delete_batched", "row deleted in batches of 256 (as shipped)"),
];

pub fn run(root: &Path) -> anyhow::Result<()> {
    let faults = faults_section(root)?;
    let write_path = write_path_section(root)?;
    let doc = root.join("docs/reliability.md");
    crate::replace_between(&doc, FAULTS_BEGIN, FAULTS_END, &faults)?;
    crate::replace_between(&doc, WRITE_PATH_BEGIN, WRITE_PATH_END, &write_path)?;
    println!("reliability: wrote the fault tests' and the write path's figures into docs/reliability.md");
    Ok(())
}

fn faults_section(root: &Path) -> anyhow::Result<String> {
    let report = target_dir(root).join("reliability-report.jsonl");
    let _ = std::fs::remove_file(&report);
    for (package, target) in SUITES {
        println!("reliability: running `{package}` test `{target}` one test at a time (each prints its figures)");
        let status = Command::new(env!("CARGO"))
            .args(["test", "-p", package, "--test", target, "--", "--test-threads=1", "--nocapture"])
            .env("MACROTRACK_REPORT", &report)
            .env("MACROTRACK_REQUIRE_SERVICES", "1")
            .current_dir(root)
            .status()
            .context("running cargo test")?;
        if !status.success() {
            bail!("a test of {package} {target} failed; docs/reliability.md is left as it was");
        }
    }
    let text = std::fs::read_to_string(&report).with_context(|| format!("reading {}", report.display()))?;
    let mut rows = Vec::new();
    for line in text.lines() {
        let record: serde_json::Value = serde_json::from_str(line).context("a malformed report line")?;
        let field = |name: &str| record[name].as_str().map(cell).with_context(|| format!("no {name} in {line}"));
        rows.push(format!("| `{}` | {} | {} |", field("test")?, field("tried")?, field("figures")?));
    }
    if rows.is_empty() {
        bail!("the fault tests reported nothing");
    }
    Ok(format!(
        "Run on {} ({}) by `cargo xtask reliability`: {} (debug build, one test at a time), {} tests, all \
         passed.\n\n| test | what was tried | figures |\n|---|---|---|\n{}\n",
        today(),
        machine(),
        SUITES
            .iter()
            .map(|(package, target)| format!("`cargo test -p {package} --test {target}`"))
            .collect::<Vec<_>>()
            .join(", "),
        rows.len(),
        rows.join("\n")
    ))
}

fn write_path_section(root: &Path) -> anyhow::Result<String> {
    println!("reliability: running the outbox write-path bench (release build)");
    let status = Command::new(env!("CARGO"))
        .args(["bench", "-p", "macrotrack-db-seaorm", "--bench", "outbox"])
        .current_dir(root)
        .status()
        .context("running cargo bench")?;
    if !status.success() {
        bail!("the outbox bench failed");
    }
    let mut out = format!(
        "Criterion, `crates/db-seaorm/benches/outbox.rs`, run on {}: `create_log_entries` of one entry on SQLite, \
         mean per write, and the ratio to the same write without the outbox.\n\n| SQLite |",
        today()
    );
    for (_, label) in VARIANTS {
        out.push_str(&format!(" {label} |"));
    }
    out.push_str("\n|---|");
    out.push_str(&"---|".repeat(VARIANTS.len()));
    out.push('\n');
    for (database, label) in [("sqlite_file", "WAL file"), ("sqlite_memory", "in memory")] {
        let base = criterion_mean(root, &format!("outbox/{database}_without_outbox"))?;
        out.push_str(&format!("| {label} |"));
        for (variant, _) in VARIANTS {
            let mean = criterion_mean(root, &format!("outbox/{database}_{variant}"))?;
            out.push_str(&format!(" {} ({:.2}×) |", human(mean), mean / base));
        }
        out.push('\n');
    }
    Ok(out)
}

/// A table cell: no line breaks, no column separators.
fn cell(text: &str) -> String {
    text.replace('\n', " ").replace('|', "\\|")
}
