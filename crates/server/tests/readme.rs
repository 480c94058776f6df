//! The README's walk-through, run verbatim (with the server's real address
//! and admin token substituted) against a server built by `build()`, so the
//! README cannot drift from the API.

mod common;

use std::process::Command;

/// The shell blocks of the README.
fn shell_blocks() -> Vec<String> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).expect("README.md");
    readme
        .split("```sh\n")
        .skip(1)
        .filter_map(|rest| rest.split_once("```").map(|(block, _)| block.to_owned()))
        .collect()
}

#[actix_web::test]
async fn the_readme_walk_through_works() {
    for tool in ["curl", "jq", "bash"] {
        if Command::new(tool).arg("--version").output().is_err() {
            macrotrack_testkit::skip_or_fail(tool, "not installed");
            return;
        }
    }
    let blocks = shell_blocks();
    assert!(
        blocks[0].contains("cargo run --release") && blocks[0].contains("cargo test --workspace"),
        "the two commands open the README"
    );
    let walk =
        blocks.iter().find(|block| block.starts_with("BASE=")).expect("a walk-through block starting with BASE=");
    let (settings, dir) = common::sqlite_settings();
    let settings_url = settings.database_url.clone();
    let application = macrotrack::build(settings).await.unwrap();
    let port = application.port();
    let handle = application.handle();
    let server = actix_web::rt::spawn(application.run_until_stopped());
    let script = walk
        .replace("BASE=http://127.0.0.1:8080", &format!("BASE=http://127.0.0.1:{port}"))
        .replace("ADMIN=let-me-in", &format!("ADMIN={}", common::ADMIN));
    // The import runs as the README says, with the built binary, in the
    // repository (where the sample is), on the server's database.
    let script = script.replace("cargo run --release --", env!("CARGO_BIN_EXE_macrotrack"));
    let database_url = settings_url;
    let output = actix_web::rt::task::spawn_blocking(move || {
        Command::new("bash")
            .arg("-c")
            .arg(format!("set -euo pipefail\n{script}"))
            .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
            .env("DATABASE_URL", database_url)
            .output()
            .expect("bash runs")
    })
    .await
    .unwrap();
    handle.stop(true).await;
    server.await.unwrap().unwrap();
    let _ = std::fs::remove_dir_all(dir);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "the walk-through failed:\n{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    // 1.5 servings of 310.5 kcal, then the entry count after the second write.
    assert!(stdout.contains("\"calories\": 465.75"), "{stdout}");
    assert!(stdout.lines().any(|line| line.trim() == "2"), "the second entry is read at once:\n{stdout}");
    assert!(stdout.contains("\"status\": 422") && stdout.contains("entries.0.servings"), "{stdout}");
    // The completed day on the day screen, and the document's routes.
    assert!(stdout.contains(r#"{"completed":true,"totals":"#), "{stdout}");
    assert!(stdout.contains(r#""streak":{"current":1,"longest":1,"last_completed":"2026-11-24"}"#), "{stdout}");
    assert!(stdout.lines().any(|line| line == "/v1/days/{date}/completion"), "{stdout}");
    // The time zone set, and the export: its header and an entry, in CRLF lines.
    assert!(stdout.contains(r#"{"timezone":"Europe/Berlin"}"#), "{stdout}");
    assert!(
        stdout.contains(r#"{"date":"2026-11-25","meal":"breakfast","name":"Overnight oats","calories":"#),
        "yesterday's breakfast is copied: {stdout}"
    );
    assert!(stdout.contains(r#"{"name":"Latte","food_id":null,"calories":190"#), "{stdout}");
    assert!(stdout.contains("\r\n2026-11-25,snack,Latte,"), "the export holds the quick add: {stdout}");
    let header = "date,meal,name,servings,grams,calories,protein_g,carbs_g,fat_g,food_id,recipe_id\r\n";
    assert!(stdout.contains(header) && stdout.contains("\r\n2026-11-24,breakfast,Overnight oats,1.5,"), "{stdout}");
    // The revalidation: 304 for the ETag just read, and a hit said so.
    assert!(stdout.lines().any(|line| line == "304"), "{stdout}");
    assert!(
        stdout.lines().any(|line| line.to_ascii_lowercase().starts_with("cache-status: macrotrack; hit")),
        "{stdout}"
    );
    assert!(stdout.contains(r#"{"start":"2026-11-23","days":7,"average":{"calories":"#), "{stdout}");
    // The sample imported, then found: accents aside, generic first, by barcode.
    assert!(stdout.lines().any(|line| line.starts_with("imported ") && line.contains(", skipped ")), "{stdout}");
    assert!(stdout.lines().any(|line| line == "Crème fraîche"), "{stdout}");
    assert!(
        stdout.contains(r#"{"name":"Milk, whole, 3.25% milkfat, with added vitamin D","generic":true}"#),
        "{stdout}"
    );
    assert!(stdout.contains(r#""barcode":"00051500255162""#), "{stdout}");
}
