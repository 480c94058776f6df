//! `cargo xtask bench`: runs the criterion benches and writes their ratios,
//! each against a baseline measured in the same run, to docs/benchmarks.md.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

/// The criterion benches and the comparisons the issue asks for.
const RATIOS: &[(&str, &str, &str, &str)] = &[
    (
        "tier-1 hit on Redis vs a raw fred GET of the same bytes",
        "hit/tier1_redis",
        "hit/raw_fred_get_same_bytes",
        "≤ 1.3×",
    ),
    (
        "tag invalidation, 100 000 vs 1 entry under the tag",
        "tag_invalidation/100000_entries",
        "tag_invalidation/1_entries",
        "≤ 1.5×",
    ),
];

pub fn run(root: &Path) -> anyhow::Result<()> {
    println!("bench: running criterion (release build; the first run compiles for a few minutes)");
    let status = Command::new(env!("CARGO"))
        .args(["bench", "-p", "macrotrack-cache-fred", "--bench", "engine"])
        .current_dir(root)
        .status()
        .context("running cargo bench")?;
    if !status.success() {
        bail!("cargo bench failed");
    }
    let criterion = target_dir(root).join("criterion");
    let mean = |id: &str| -> anyhow::Result<f64> {
        let path = criterion.join(id).join("new/estimates.json");
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        let json: serde_json::Value = serde_json::from_str(&text)?;
        json["mean"]["point_estimate"].as_f64().context("no mean in estimates.json")
    };
    let mut doc = String::from(
        "<!-- Written by `cargo xtask bench`; the figures are from the run described below. -->\n\n# Benchmarks\n\n",
    );
    doc.push_str(&format!("Run on {} ({}).\n\n", today(), machine()));
    doc.push_str("## Cache engine (criterion, `crates/cache-fred/benches/engine.rs`)\n\n");
    doc.push_str("| bench | mean |\n|---|---|\n");
    for id in [
        "hit/tier1_in_process",
        "hit/tier1_in_process_json",
        "hit/raw_fred_get_same_bytes",
        "hit/tier1_redis",
        "hit/tier1_redis_json",
        "tag_invalidation/1_entries",
        "tag_invalidation/100000_entries",
    ] {
        doc.push_str(&format!("| {id} | {} |\n", human(mean(id)?)));
    }
    doc.push_str("\n| ratio | measured | goal |\n|---|---|---|\n");
    for (label, measured, baseline, goal) in RATIOS {
        let ratio = mean(measured)? / mean(baseline)?;
        println!("bench: {label}: {ratio:.2}× (goal {goal})");
        doc.push_str(&format!("| {label} | {ratio:.2}× | {goal} |\n"));
    }
    doc.push_str(NOTES);
    crate::write_or_check(&root.join("docs/benchmarks.md"), &doc, false)
}

const NOTES: &str = "
How to read these: a tier-1 hit on Redis is one MGET of the entry and its two
guards and a header check (schema fingerprint, generations, age, CRC-32 of
the payload). The JSON variant hands the stored JSON on as it is, which is
what `GET /v1/logs` serves; the typed variant also decodes it into the value
and runs its check-value. The raw GET fetches the same bytes and does
nothing with them.
Tag invalidation sets one generation whatever the number of entries under
the tag, so its cost does not grow with them.
";

fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target"))
}

fn today() -> String {
    let output = Command::new("date").args(["-u", "+%Y-%m-%d"]).output();
    output.ok().map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned()).unwrap_or_default()
}

fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model =
        cpuinfo.lines().find_map(|l| l.strip_prefix("model name")).map(|l| l.trim_start_matches([' ', '\t', ':']));
    let cores = cpuinfo.lines().filter(|l| l.starts_with("processor")).count();
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory_kb: u64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|l| l.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    format!("{}, {cores} cores, {} GiB", model.unwrap_or("unknown CPU"), memory_kb / 1024 / 1024)
}

fn human(nanos: f64) -> String {
    if nanos >= 1e6 { format!("{:.2} ms", nanos / 1e6) } else { format!("{:.2} µs", nanos / 1e3) }
}
