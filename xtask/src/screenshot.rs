//! `cargo xtask screenshot`: docs/api-reference.png, the top of `/docs` (the
//! introduction and the navigation) as headless Chromium draws it, for the
//! README. The debug build serves it on the embedded default.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, bail};

use crate::harness::{Backend, free_port, start_server};

/// Wide enough for Redoc's three columns, tall enough for the whole
/// navigation.
const WINDOW: &str = "--window-size=1400,900";

pub fn run(root: &Path, target: &Path) -> anyhow::Result<()> {
    println!("screenshot: building the debug server");
    let built = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "-p", "macrotrack", "--bin", "macrotrack"])
        .current_dir(root)
        .status()?;
    if !built.success() {
        bail!("build failed");
    }
    let work = std::env::temp_dir().join(format!("macrotrack-screenshot-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let outcome = shoot(root, target, &work);
    let _ = std::fs::remove_dir_all(&work);
    outcome
}

fn shoot(root: &Path, target: &Path, work: &Path) -> anyhow::Result<()> {
    let backend = Backend {
        name: "embedded",
        database_url: format!("sqlite://{}?mode=rwc", work.join("screenshot.db").display()),
        redis_url: None,
    };
    let port = free_port()?;
    let _server = start_server(&target.join("debug/macrotrack"), &backend, true, port)?;
    let picture = root.join("docs/api-reference.png");
    // Virtual time: Redoc's timers run at once, and the picture is taken
    // when the page is idle or 10 virtual seconds have passed.
    let output = Command::new("chromium")
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars", WINDOW])
        .arg("--virtual-time-budget=10000")
        .arg(format!("--user-data-dir={}", work.join("profile").display()))
        .arg(format!("--screenshot={}", picture.display()))
        .arg(format!("http://127.0.0.1:{port}/docs"))
        .output()
        .context("running chromium (Debian package chromium)")?;
    if !output.status.success() {
        bail!("chromium failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    let written = std::fs::read(&picture).with_context(|| format!("reading {}", picture.display()))?;
    if !written.starts_with(b"\x89PNG") {
        bail!("{} is not a PNG", picture.display());
    }
    println!("screenshot: wrote {} ({} KiB)", picture.display(), written.len() / 1024);
    Ok(())
}
