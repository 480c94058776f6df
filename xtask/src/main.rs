//! Project automation, run as `cargo xtask <command>`.
//!
//! - `docs [--check]`: renders docs/caching-matrix.md from the service's
//!   invalidation matrix; `--check` fails when the file is out of date.
//! - `bench`: runs the benchmarks and writes docs/benchmarks.md.
//! - `soak --minutes N`: a mixed load for N minutes; fails on errors or growing memory.
//! - `reliability`: runs the fault tests and the outbox bench and writes
//!   their figures into docs/reliability.md.
//! - `closed-loop BASE TOKENS_FILE PAUSE_MS`: the bench's read-after-own-write
//!   loop alone, against a running server (one token per line).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};

mod bench;
mod closed_loop;
mod docs;
mod load;
mod profile;
mod reliability;
mod soak;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("docs") => docs::run(&root(), args.iter().any(|a| a == "--check")),
        Some("bench") => {
            let parts: Vec<&str> = match args.get(1).map(String::as_str) {
                Some("--engine") => vec!["engine"],
                Some("--http") => vec!["http"],
                _ => vec!["engine", "http"],
            };
            // `--binary PATH`: measure another build of the server (say,
            // the last commit's) with this tree's benchmark.
            let flag =
                |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).map(PathBuf::from);
            // `--before PATH`: the build before a change, measured in the same run.
            let (binary, before) = (flag("--binary"), flag("--before"));
            bench::run(&root(), &parts, binary.as_deref(), before.as_deref())
        }
        Some("reliability") => reliability::run(&root()),
        // `closed-loop BASE TOKENS_FILE THINK_MS`: the read-after-own-write
        // loop alone, against a server already running (to study it).
        Some("closed-loop") => {
            let arg = |i: usize| args.get(i).cloned().unwrap_or_default();
            let tokens: Vec<String> =
                std::fs::read_to_string(arg(2)).unwrap_or_default().lines().map(str::to_owned).collect();
            let think = std::time::Duration::from_millis(arg(3).parse().unwrap_or(20));
            closed_loop::read_after_own_write("closed loop", &arg(1), &tokens, &load::dates(), 40, think).map(|_| ())
        }
        Some("soak") => {
            let minutes =
                args.iter().position(|a| a == "--minutes").and_then(|i| args.get(i + 1)).and_then(|m| m.parse().ok());
            soak::run(&root(), &bench::target_dir(&root()), minutes.unwrap_or(10), args.iter().any(|a| a == "--debug"))
        }
        _ => {
            eprintln!(
                "usage: cargo xtask docs [--check] | bench [--engine | --http] [--binary PATH] [--before PATH] | soak [--minutes N] [--debug] | reliability | closed-loop BASE TOKENS_FILE PAUSE_MS"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// Replaces what stands between the lines `begin` and `end` of the file at
/// `path` with `section`, so a generated part of a hand-written doc stays
/// the last real run's.
pub fn replace_between(path: &Path, begin: &str, end: &str, section: &str) -> anyhow::Result<()> {
    let doc = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let (Some(start), Some(stop)) = (doc.find(begin), doc.find(end)) else {
        bail!("{} has no `{begin}` ... `{end}` markers", path.display());
    };
    let body = section.trim_end();
    let updated = format!("{}{begin}\n{body}\n{}", &doc[..start], &doc[stop..]);
    std::fs::write(path, updated).with_context(|| format!("writing {}", path.display()))
}

/// Writes `content` to `path`, or with `check` fails if they differ.
pub fn write_or_check(path: &Path, content: &str, check: bool) -> anyhow::Result<()> {
    let current = std::fs::read_to_string(path).unwrap_or_default();
    if check {
        if current != content {
            bail!("{} is out of date: run `cargo xtask docs` and commit the result", path.display());
        }
        println!("{} is up to date", path.display());
        return Ok(());
    }
    if current != content {
        std::fs::write(path, content).with_context(|| format!("writing {}", path.display()))?;
        println!("wrote {}", path.display());
    } else {
        println!("{} unchanged", path.display());
    }
    Ok(())
}
