//! `cargo xtask client [--check]`: the TypeScript client in
//! clients/typescript, regenerated from the server's current OpenAPI
//! document (`macrotrack openapi`) with the openapi-typescript pinned in its
//! package-lock.json. Both the document and the generated types are
//! committed; `--check` (run by CI) fails when either differs, so the client
//! cannot go stale.

use std::path::Path;
use std::process::{Command, Output};

use anyhow::{Context, bail};

/// Where the client lives, and the command that brings it up to date.
const PACKAGE: &str = "clients/typescript";
const FIX: &str = "cargo xtask client";

pub fn run(root: &Path, check: bool) -> anyhow::Result<()> {
    let package = root.join(PACKAGE);
    let document = document(root)?;
    let generator = package.join("node_modules/.bin/openapi-typescript");
    if !generator.exists() {
        println!("client: installing the pinned npm packages (npm ci)");
        succeeded(
            Command::new("npm").args(["ci", "--no-audit", "--no-fund"]).current_dir(&package).output(),
            "npm ci in clients/typescript (is Node.js installed?)",
        )?;
    }
    // Generated apart, so --check leaves the committed files as they are.
    let scratch = std::env::temp_dir().join(format!("macrotrack-client-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)?;
    let generated = generate(&generator, &package, &scratch, &document);
    let _ = std::fs::remove_dir_all(&scratch);
    let schema = generated?;
    crate::write_or_check(&package.join("openapi.json"), &document, check, FIX)?;
    crate::write_or_check(&package.join("schema.ts"), &schema, check, FIX)
}

/// The document as the server writes it: `macrotrack openapi`.
fn document(root: &Path) -> anyhow::Result<String> {
    let output = Command::new(env!("CARGO"))
        .args(["run", "--quiet", "-p", "macrotrack", "--bin", "macrotrack", "--", "openapi"])
        .current_dir(root)
        .output();
    let output = succeeded(output, "macrotrack openapi")?;
    String::from_utf8(output.stdout).context("the document is not UTF-8")
}

/// openapi-typescript's types for `document`, written and read in `scratch`.
fn generate(generator: &Path, package: &Path, scratch: &Path, document: &str) -> anyhow::Result<String> {
    let (input, output) = (scratch.join("openapi.json"), scratch.join("schema.ts"));
    std::fs::write(&input, document)?;
    let run = Command::new(generator).arg(&input).arg("--output").arg(&output).current_dir(package).output();
    succeeded(run, "openapi-typescript")?;
    std::fs::read_to_string(&output).with_context(|| format!("reading {}", output.display()))
}

/// The output of a command that exited 0; otherwise an error with its stderr.
fn succeeded(output: std::io::Result<Output>, what: &str) -> anyhow::Result<Output> {
    let output = output.with_context(|| format!("running {what}"))?;
    if !output.status.success() {
        bail!("{what} failed ({}):\n{}", output.status, String::from_utf8_lossy(&output.stderr).trim_end());
    }
    Ok(output)
}
