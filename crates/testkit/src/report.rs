//! Figures that a test reports for the docs. `cargo xtask reliability` sets
//! `MACROTRACK_REPORT` to a file and runs the fault tests; each test appends
//! one JSON line (what it tried, what it measured), and the xtask renders
//! them into docs/reliability.md, so the numbers there come from a real run.

use std::io::Write;

/// Where the reports go when a run collects them.
pub const REPORT_ENV: &str = "MACROTRACK_REPORT";

/// Records one test's outcome: `test` names it (`module::function`),
/// `tried` says what was done to the system, `figures` what was measured.
/// Always printed (visible with `--nocapture`); appended to the file named
/// by `MACROTRACK_REPORT` when it is set.
pub fn report(test: &str, tried: &str, figures: &str) {
    println!("report: {test}: {figures}");
    let Ok(path) = std::env::var(REPORT_ENV) else { return };
    let line = serde_json::json!({ "test": test, "tried": tried, "figures": figures }).to_string() + "\n";
    // One write of one line with O_APPEND: lines of concurrent tests never interleave.
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut file| file.write_all(line.as_bytes()));
    if let Err(error) = written {
        panic!("cannot append the report to {path}: {error}");
    }
}
