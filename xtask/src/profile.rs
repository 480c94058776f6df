//! Where the hot read's time goes: `perf record` (cpu-clock samples with
//! DWARF call graphs) on the release server while wrk runs the warm
//! `GET /v1/logs` load, folded here into the shares the benchmark doc shows.
//! The folded stacks stay in the target directory for a flamegraph tool.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, bail};

/// Frames whose inclusive share the doc reports: (what it is, how the
/// symbol starts). Prefixes, not substrings: generic arguments of actix's
/// frames name our functions too. (The handler, the middleware and the
/// read ahead are async blocks the compiler may inline into other frames,
/// where no symbol names them, so they are not listed.)
const FRAMES: &[(&str, &str)] = &[
    (
        "the store's reads, credential and day entry in one call (lookups of entries and guards)",
        "macrotrack_cache::memory::MemoryStore as macrotrack_ports::store::CacheStore>::read",
    ),
    (
        "checking the token against its credential (`check_claim`)",
        "macrotrack_service::users::<impl macrotrack_service::Service<S>>::check_claim::",
    ),
    (
        "the day's logs through the engine (`read_json`: guards, envelope, checksum)",
        "macrotrack_cache::engine::Engine<S>::read_json",
    ),
    ("cache keys and addresses (`macrotrack_cache_keys`)", "macrotrack_cache_keys::"),
    ("metrics (handles, counters, histograms)", "metrics"),
];

/// The frames of the write profile (`POST /v1/logs`), by the same rule.
const WRITE_FRAMES: &[(&str, &str)] = &[
    // Inlined into actix's handler future, the handler is named only in its type.
    (
        "the whole handler of `POST /v1/logs`",
        "macrotrack_http::routes::logs::create|{async_block#0}<fn(actix_web::data::Data<macrotrack_http::state::HttpState>, \
         macrotrack_http::extract::User, macrotrack_http::extract::Body<macrotrack_http::routes::logs::CreateLogsRequest>) \
         -> macrotrack_http::routes::logs::create",
    ),
    ("authentication (the credential, one store read)", "macrotrack_http::auth::user"),
    ("reading and validating the body", "macrotrack_http::input::json_object|macrotrack_http::routes::logs::parse"),
    (
        "the database write (`create_log_entries`: items, then the write)",
        "macrotrack_db_seaorm::logs::<impl macrotrack_ports::repositories::LogRepository for macrotrack_db_seaorm::SeaOrmRepository>::create_log_entries",
    ),
    ("  of which: building the write's statement", "macrotrack_db_seaorm::logs::batch_statement"),
    ("SQLite's writes' thread (group commits)", "macrotrack_db_seaorm::write_thread::"),
    ("the invalidation (`Service::forget`: one bump)", "macrotrack_service::Service<S>::forget"),
    ("reading the day again after the write (`warm`)", "macrotrack_service::Service<S>::warm"),
    (
        "sqlx: returning connections to the pool (it pings each one)",
        "sqlx_core::pool::connection::Floating<DB,sqlx_core::pool::connection::Live<DB>>::return_to_pool",
    ),
    ("sqlx: writing to the database's socket", "sqlx_core::net::socket::buffered::BufferedSocket<S>::flush"),
    ("fred: commands to Redis (router, socket writes)", "fred::router::commands::process_command"),
];

/// Whether `frame` starts with one of the `|`-separated `prefixes`.
fn starts_with(frame: &str, prefixes: &str) -> bool {
    let frame = frame.trim_start_matches('<');
    prefixes.split('|').any(|prefix| frame.starts_with(prefix))
}

/// Samples the server `pid` for `seconds` while `load` runs; returns the
/// doc's section, or why there is none.
pub fn hot_read(pid: u32, work: &Path, target: &Path, seconds: u32, load: impl FnOnce()) -> String {
    let what = "the embedded server during the warm `GET /v1/logs` load";
    profile(pid, work, &target.join("hot-read.folded"), seconds, load, what, FRAMES)
}

/// The same for the write-only load (`POST /v1/logs`) on `backend`.
pub fn write_path(pid: u32, work: &Path, target: &Path, seconds: u32, backend: &str, load: impl FnOnce()) -> String {
    let what = format!("the server on {backend} during the `POST /v1/logs` load");
    let name = if backend.starts_with("PostgreSQL") { "write-postgres.folded" } else { "write-sqlite.folded" };
    profile(pid, work, &target.join(name), seconds, load, &what, WRITE_FRAMES)
}

fn profile(
    pid: u32,
    work: &Path,
    folded: &Path,
    seconds: u32,
    load: impl FnOnce(),
    what: &str,
    frames: &[(&str, &str)],
) -> String {
    match sample(pid, work, folded, seconds, load).map(|stacks| render(&stacks, what, frames)) {
        Ok(section) => section,
        Err(error) => {
            println!("bench: no profile: {error:#}");
            format!("No profile in this run: {error:#}.\n")
        }
    }
}

fn sample(pid: u32, work: &Path, folded: &Path, seconds: u32, load: impl FnOnce()) -> anyhow::Result<Vec<Stack>> {
    let data = work.join("perf.data");
    let mut perf = Command::new("perf")
        .args(["record", "-F", "999", "-e", "cpu-clock", "--call-graph", "dwarf,16384", "-p", &pid.to_string()])
        .arg("-o")
        .arg(&data)
        .args(["--", "sleep", &seconds.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting perf (Debian's linux-perf)")?;
    load();
    if !perf.wait()?.success() {
        bail!("perf record failed (is perf_event_paranoid too strict?)");
    }
    let script = Command::new("perf")
        .args(["script", "-F", "ip,sym,dso", "-i"])
        .arg(&data)
        .stderr(Stdio::null())
        .output()
        .context("running perf script")?;
    let stacks = parse(&String::from_utf8_lossy(&script.stdout));
    if stacks.is_empty() {
        bail!("perf recorded no samples");
    }
    let text: String = stacks.iter().map(|stack| format!("{};\n", stack.frames.join(";"))).collect();
    let _ = std::fs::write(folded, text);
    Ok(stacks)
}

struct Stack {
    /// Root first.
    frames: Vec<String>,
    /// The binary or library of the leaf frame.
    leaf_dso: String,
}

/// `perf script` prints one block per sample, leaf frame first, each line
/// `ADDRESS SYMBOL (DSO)`.
fn parse(script: &str) -> Vec<Stack> {
    let mut stacks = Vec::new();
    for block in script.split("\n\n") {
        let mut frames = Vec::new();
        let mut leaf_dso = None;
        for line in block.lines().map(str::trim).filter(|line| !line.is_empty()) {
            let Some((_, rest)) = line.split_once(' ') else { continue };
            let (symbol, dso) = match rest.rsplit_once(" (") {
                Some((symbol, dso)) => (symbol, dso.trim_end_matches(')')),
                None => (rest, ""),
            };
            // Inlined frames name no binary: the leaf's is the first real one.
            if dso != "inlined" {
                leaf_dso.get_or_insert_with(|| dso_label(dso));
            }
            frames.push(symbol.replace(';', ":"));
        }
        if let Some(leaf_dso) = leaf_dso {
            frames.reverse();
            stacks.push(Stack { frames, leaf_dso });
        }
    }
    stacks
}

fn dso_label(dso: &str) -> String {
    let name = dso.rsplit('/').next().unwrap_or(dso);
    match name {
        "[kernel.kallsyms]" => "the kernel (TCP on loopback, scheduling)".into(),
        "macrotrack" => "the server's own code (actix, tokio, quick_cache, ours)".into(),
        _ if name.starts_with("libc") => "libc (allocation, memcpy)".into(),
        "" | "[unknown]" => "unknown".into(),
        other => other.into(),
    }
}

fn render(stacks: &[Stack], what: &str, frames: &[(&str, &str)]) -> String {
    let total = stacks.len() as f64;
    let share = |count: usize| format!("{:.1}%", 100.0 * count as f64 / total);
    let mut out = format!(
        "`perf record -e cpu-clock --call-graph dwarf` on {what}, {} samples. By where the sampled instruction \
         was:\n\n| where | share |\n|---|---|\n",
        stacks.len()
    );
    let mut by_dso: BTreeMap<&str, usize> = BTreeMap::new();
    for stack in stacks {
        *by_dso.entry(&stack.leaf_dso).or_default() += 1;
    }
    let mut by_dso: Vec<_> = by_dso.into_iter().collect();
    by_dso.sort_by_key(|(_, count)| std::cmp::Reverse(*count));
    for (dso, count) in by_dso {
        out.push_str(&format!("| {dso} | {} |\n", share(count)));
    }
    out.push_str("\nInclusive shares (a sample counts for a frame when the frame is on its stack):\n\n");
    out.push_str("| frame | share |\n|---|---|\n");
    for (label, needle) in frames {
        let count = stacks.iter().filter(|stack| stack.frames.iter().any(|frame| starts_with(frame, needle))).count();
        // No sample: the frame was inlined away, or the path does not run
        // here (SQLite's thread on PostgreSQL); 0.0% would read as free.
        let shown = if count == 0 { "not in the samples".to_owned() } else { share(count) };
        out.push_str(&format!("| {label} | {shown} |\n"));
    }
    out.push_str("\nThe leaf functions with the most samples:\n\n| function | share |\n|---|---|\n");
    let mut leaves: BTreeMap<String, usize> = BTreeMap::new();
    for stack in stacks {
        if let Some(leaf) = stack.frames.last() {
            *leaves.entry(shorten(leaf)).or_default() += 1;
        }
    }
    let mut leaves: Vec<_> = leaves.into_iter().collect();
    leaves.sort_by_key(|(_, count)| std::cmp::Reverse(*count));
    for (leaf, count) in leaves.into_iter().take(12) {
        out.push_str(&format!("| `{leaf}` | {} |\n", share(count)));
    }
    out
}

/// A symbol without its generic arguments and hash suffix, for a table cell.
fn shorten(symbol: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for c in symbol.chars() {
        match c {
            '<' => depth += 1,
            '>' => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    let out = out.split("+0x").next().unwrap_or(&out).to_owned();
    out.replace('|', "\\|").chars().take(90).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perf_script_blocks_become_root_first_stacks() {
        let script = "\
\tffffffff81000000 _raw_spin_unlock ([kernel.kallsyms])\n\
\t55cf core::ptr::drop_in_place<macrotrack_cache::engine::Engine<S>::read_json> (inlined)\n\
\t55d0 macrotrack_service::users::<impl macrotrack_service::Service<S>>::check_claim::{{closure}} (/x/release/macrotrack)\n\
\t55d1 main (/x/release/macrotrack)\n\
\n\
\t7f00 malloc (/usr/lib/x86_64-linux-gnu/libc.so.6)\n\
\t55d2 macrotrack_cache::engine::Engine<S>::read_json::{{closure}} (/x/release/macrotrack)\n\
\n\
\t55d3 quick_cache::get (inlined)\n\
\t55d4 macrotrack_cache::engine::read (/x/release/macrotrack)\n";
        let stacks = parse(script);
        assert_eq!(stacks.len(), 3);
        let checking = "macrotrack_service::users::<impl macrotrack_service::Service<S>>::check_claim::{{closure}}";
        assert_eq!(stacks[0].frames[..2], ["main", checking]);
        assert!(stacks[0].leaf_dso.starts_with("the kernel"));
        assert!(stacks[1].leaf_dso.starts_with("libc"));
        assert!(stacks[2].leaf_dso.starts_with("the server's own code"), "an inlined leaf is in its binary");
        let doc = render(&stacks, "a test", FRAMES);
        assert!(doc.contains("| checking the token against its credential (`check_claim`) | 33.3% |"), "{doc}");
        let logs = "| the day's logs through the engine (`read_json`: guards, envelope, checksum) | 33.3% |";
        assert!(doc.contains(logs), "generic arguments do not count: {doc}");
        assert!(doc.contains("| metrics (handles, counters, histograms) | not in the samples |"), "{doc}");
        assert!(starts_with("<b::f", "a::|b::") && !starts_with("c::f", "a::|b::"));
        assert_eq!(shorten("core::ptr::drop_in_place<alloc::string::String>+0x12"), "core::ptr::drop_in_place");
    }
}
