//! Project automation, run as `cargo xtask <command>`.
//!
//! - `docs [--check]`: renders docs/caching-matrix.md from the service's
//!   invalidation matrix; `--check` fails when the file is out of date.
//! - `client [--check]`: regenerates the TypeScript client (clients/typescript)
//!   from the server's OpenAPI document; `--check` fails when it is stale.
//! - `bench`: runs the benchmarks and writes docs/benchmarks.md.
//! - `soak --minutes N`: a mixed load for N minutes; fails on errors or growing memory.
//! - `abuse [--debug] [--flood]`: hostile clients against the binary on both
//!   backends, each held to the contract's answer; `--flood` measures a
//!   user's p99 while made-up tokens flood.
//! - `reliability`: runs the fault tests and the outbox bench and writes
//!   their figures into docs/reliability.md.
//! - `catalogue [--binary PATH] [--sample N]`: issue 22's food catalogue
//!   benchmark (390,381 foods; not in CI): import time and peak RSS, search
//!   p50/p99 against the 44-food baseline, the ranking of everyday queries;
//!   writes docs/benchmarks.md's catalogue section.
//! - `export-rss [--binary PATH]`: the server's peak RSS while it exports
//!   3,650 days × 20 entries, on both backends; writes docs/benchmarks.md's
//!   export section.
//! - `callgrind [--binary PATH]`: instructions per warm `GET /v1/logs`
//!   (valgrind's callgrind on the embedded release server).
//! - `screenshot`: docs/api-reference.png, the top of `/docs` in headless
//!   Chromium, for the README.
//! - `closed-loop BASE TOKENS_FILE PAUSE_MS`: the bench's read-after-own-write
//!   loop alone, against a running server (one token per line).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};

mod abuse;
mod bench;
mod callgrind;
mod catalogue;
mod catalogue_data;
mod client;
mod closed_loop;
mod dates;
mod docs;
mod export_rss;
mod flood;
mod harness;
mod hostile;
mod load;
mod probe;
mod profile;
mod reliability;
mod screenshot;
mod soak;

#[derive(Parser, Debug)]
#[command(name = "xtask", bin_name = "cargo xtask", about = "Project automation.")]
struct Cli {
    #[command(subcommand)]
    command: Task,
}

#[derive(Subcommand, Debug, PartialEq, Eq)]
enum Task {
    /// Render docs/caching-matrix.md from the service's invalidation matrix.
    Docs {
        /// Fail when the file is out of date instead of writing it.
        #[arg(long)]
        check: bool,
    },
    /// Regenerate the TypeScript client (clients/typescript) from the server's OpenAPI document.
    Client {
        /// Fail when the committed client differs instead of writing it.
        #[arg(long)]
        check: bool,
    },
    /// Write docs/api-reference.png: the top of /docs in headless Chromium.
    Screenshot,
    /// Run the benchmarks and write docs/benchmarks.md.
    Bench {
        /// The engine's criterion benchmarks only.
        #[arg(long, conflicts_with = "http")]
        engine: bool,
        /// The HTTP benchmarks only.
        #[arg(long)]
        http: bool,
        /// Measure another build of the server (say, the last commit's)
        /// with this tree's benchmark.
        #[arg(long, value_name = "PATH")]
        binary: Option<PathBuf>,
        /// The build before a change, measured in the same run.
        #[arg(long, value_name = "PATH")]
        before: Option<PathBuf>,
    },
    /// The food catalogue benchmark (390,381 foods; too big for CI): import,
    /// search against the 44-food baseline, ranking. Writes its section of
    /// docs/benchmarks.md.
    Catalogue {
        /// The server to measure (default: this tree's release build).
        #[arg(long, value_name = "PATH")]
        binary: Option<PathBuf>,
        /// Only the first N foods (a quick run; the doc is left as it is).
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
        sample: Option<u64>,
    },
    /// The server's peak RSS while it exports 3,650 days × 20 entries, on
    /// both backends. Writes its section of docs/benchmarks.md.
    ExportRss {
        /// The server to measure (default: this tree's release build).
        #[arg(long, value_name = "PATH")]
        binary: Option<PathBuf>,
    },
    /// Instructions per warm GET /v1/logs, counted by callgrind on the embedded release server.
    Callgrind {
        /// The server to measure (default: this tree's release build).
        #[arg(long, value_name = "PATH")]
        binary: Option<PathBuf>,
    },
    /// A mixed load for N minutes; fails on errors or growing memory.
    Soak {
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
        minutes: u32,
        /// Use the debug build (CI), not the release one.
        #[arg(long)]
        debug: bool,
    },
    /// Hostile clients against the binary on both backends, each held to the
    /// contract's answer; a release run writes the table into docs/reliability.md.
    Abuse {
        /// Use the debug build (CI), not the release one.
        #[arg(long)]
        debug: bool,
        /// Instead: a user's p99 while made-up tokens flood (release build;
        /// writes docs/benchmarks.md's flood section).
        #[arg(long, conflicts_with = "debug")]
        flood: bool,
    },
    /// Run the fault tests and the outbox bench; write their figures into docs/reliability.md.
    Reliability,
    /// The bench's read-after-own-write loop alone, against a running server.
    ClosedLoop {
        /// The server's base URL, e.g. http://127.0.0.1:8080.
        base: String,
        /// A file of bearer tokens, one per line.
        tokens_file: PathBuf,
        /// Pause between a user's requests, in milliseconds.
        pause_ms: u64,
    },
}

fn main() -> ExitCode {
    // A wrong argument is an error (exit 2), never a silent default.
    let cli = Cli::parse();
    let result = match cli.command {
        Task::Docs { check } => docs::run(&root(), check),
        Task::Client { check } => client::run(&root(), check),
        Task::Screenshot => screenshot::run(&root(), &bench::target_dir(&root())),
        Task::Bench { engine, http, binary, before } => {
            let parts: Vec<&str> = match (engine, http) {
                (true, _) => vec!["engine"],
                (_, true) => vec!["http"],
                _ => vec!["engine", "http"],
            };
            bench::run(&root(), &parts, binary.as_deref(), before.as_deref())
        }
        Task::Abuse { debug, flood: false } => abuse::run(&root(), &bench::target_dir(&root()), debug),
        Task::Abuse { flood: true, .. } => flood::run(&root(), &bench::target_dir(&root())),
        Task::Reliability => reliability::run(&root()),
        Task::Catalogue { binary, sample } => {
            catalogue::run(&root(), &bench::target_dir(&root()), binary.as_deref(), sample.map(|rows| rows as usize))
        }
        Task::ExportRss { binary } => export_rss::run(&root(), &bench::target_dir(&root()), binary.as_deref()),
        Task::Callgrind { binary } => {
            let target = bench::target_dir(&root());
            callgrind::run(&binary.unwrap_or_else(|| target.join("release/macrotrack")), &target.join("callgrind"))
        }
        Task::ClosedLoop { base, tokens_file, pause_ms } => closed_loop(&base, &tokens_file, pause_ms),
        Task::Soak { minutes, debug } => soak::run(&root(), &bench::target_dir(&root()), minutes, debug),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// The read-after-own-write loop alone, against a server already running
/// (to study it).
fn closed_loop(base: &str, tokens_file: &Path, pause_ms: u64) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(tokens_file).with_context(|| format!("reading {}", tokens_file.display()))?;
    let tokens: Vec<String> = text.lines().map(str::to_owned).filter(|token| !token.is_empty()).collect();
    if tokens.is_empty() {
        bail!("{} holds no token", tokens_file.display());
    }
    let pause = Duration::from_millis(pause_ms);
    closed_loop::read_after_own_write("closed loop", base, &tokens, &harness::dates(), 40, pause).map(|_| ())
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

/// Writes `content` to `path`, or with `check` fails if they differ,
/// saying where and that `fix` (a command) brings the file up to date.
pub fn write_or_check(path: &Path, content: &str, check: bool, fix: &str) -> anyhow::Result<()> {
    let current = std::fs::read_to_string(path).unwrap_or_default();
    if check {
        if current != content {
            bail!(
                "{} is out of date ({}): run `{fix}` and commit the result",
                path.display(),
                first_difference(&current, content)
            );
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

/// Where `current` first differs from `wanted`, on one line.
fn first_difference(current: &str, wanted: &str) -> String {
    let clip = |line: Option<&str>| match line {
        None => "nothing".to_owned(),
        Some(line) if line.chars().count() > 80 => format!("{:?}...", line.chars().take(80).collect::<String>()),
        Some(line) => format!("{line:?}"),
    };
    let (mut have, mut want) = (current.lines(), wanted.lines());
    for number in 1.. {
        match (have.next(), want.next()) {
            (None, None) => break,
            (a, b) if a == b => {}
            (a, b) => return format!("line {number} is {}, expected {}", clip(a), clip(b)),
        }
    }
    "only line endings or the final newline differ".to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_check_fails_on_any_difference_and_names_the_fix() {
        let path = std::env::temp_dir().join(format!("xtask-check-{}.txt", std::process::id()));
        std::fs::write(&path, "one\ntwo\n").unwrap();
        assert!(write_or_check(&path, "one\ntwo\n", true, "cargo xtask client").is_ok());
        let error = write_or_check(&path, "one\n2\n", true, "cargo xtask client").unwrap_err().to_string();
        assert!(error.contains(r#"line 2 is "two", expected "2""#), "{error}");
        assert!(error.ends_with("run `cargo xtask client` and commit the result"), "{error}");
        let error = write_or_check(&path, "one\ntwo", true, "x").unwrap_err().to_string();
        assert!(error.contains("the final newline differ"), "{error}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "one\ntwo\n", "a check writes nothing");
        write_or_check(&path, "three\n", false, "x").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "three\n");
        let _ = std::fs::remove_file(path);
    }

    fn parse(args: &[&str]) -> Result<Task, clap::Error> {
        Cli::try_parse_from(std::iter::once("xtask").chain(args.iter().copied())).map(|cli| cli.command)
    }

    #[test]
    fn arguments_that_do_not_parse_are_refused_not_defaulted() {
        assert!(parse(&["soak", "--minutes", "x"]).is_err(), "--minutes x is no longer 10");
        assert!(parse(&["soak", "--minutes", "0"]).is_err());
        assert!(parse(&["soak", "--minuts", "3"]).is_err(), "a misspelt flag is refused");
        assert!(parse(&["bench", "--engine", "--http"]).is_err());
        assert!(parse(&["closed-loop", "http://127.0.0.1:1", "tokens.txt", "soon"]).is_err());
        assert!(parse(&["nothing"]).is_err());
        assert!(parse(&["abuse", "--flood", "--debug"]).is_err(), "the flood is measured on the release build");
    }

    #[test]
    fn arguments_parse_to_their_task() {
        assert_eq!(parse(&["soak"]).unwrap(), Task::Soak { minutes: 10, debug: false });
        assert_eq!(parse(&["soak", "--minutes", "1", "--debug"]).unwrap(), Task::Soak { minutes: 1, debug: true });
        assert_eq!(parse(&["docs", "--check"]).unwrap(), Task::Docs { check: true });
        assert_eq!(parse(&["abuse", "--debug"]).unwrap(), Task::Abuse { debug: true, flood: false });
        assert_eq!(parse(&["abuse", "--flood"]).unwrap(), Task::Abuse { debug: false, flood: true });
        assert_eq!(parse(&["client"]).unwrap(), Task::Client { check: false });
        assert_eq!(parse(&["catalogue"]).unwrap(), Task::Catalogue { binary: None, sample: None });
        assert_eq!(
            parse(&["catalogue", "--sample", "5000"]).unwrap(),
            Task::Catalogue { binary: None, sample: Some(5000) }
        );
        assert!(parse(&["catalogue", "--sample", "0"]).is_err());
        assert_eq!(parse(&["client", "--check"]).unwrap(), Task::Client { check: true });
        assert_eq!(parse(&["screenshot"]).unwrap(), Task::Screenshot);
        let bench = parse(&["bench", "--http", "--before", "old"]).unwrap();
        assert_eq!(bench, Task::Bench { engine: false, http: true, binary: None, before: Some(PathBuf::from("old")) });
        let closed = parse(&["closed-loop", "http://127.0.0.1:1", "tokens.txt", "20"]).unwrap();
        let expected = Task::ClosedLoop {
            base: "http://127.0.0.1:1".into(),
            tokens_file: PathBuf::from("tokens.txt"),
            pause_ms: 20,
        };
        assert_eq!(closed, expected);
    }
}
