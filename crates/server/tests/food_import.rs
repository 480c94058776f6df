//! `macrotrack foods import` run as a binary on the readers' fixtures, on
//! SQLite and on PostgreSQL: the contract's summary lines, a re-run that
//! finds every food unchanged and duplicates none, and a missing required
//! file that fails naming it, having imported nothing.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use macrotrack_testkit::{FreshDatabase, unique_name};
use sea_orm::{ConnectionTrait, Database, Statement};

/// The FDC fixture's summary: 7 foods (one with a bad barcode) and 4 rows
/// skipped, as `crates/food-sources/tests/fdc.rs` reads them.
fn fdc_summary(imported: u64, unchanged: u64) -> Vec<String> {
    let mut lines = vec![format!("imported {imported}, updated 0, unchanged {unchanged}, skipped 4")];
    lines.extend(
        ["empty name 1", "missing energy 1", "out of bounds 1", "unreadable row 1", "bad barcode 1"].map(String::from),
    );
    lines
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../food-sources/tests/fixtures").join(name)
}

fn import(database_url: &str, args: &[&Path]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_macrotrack"));
    command.env("MACROTRACK_LOG", "warn").env("DATABASE_URL", database_url).env_remove("REDIS_URL");
    command.args(["foods", "import"]).args(args).output().expect("runs")
}

fn stdout_lines(output: &Output) -> Vec<String> {
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).lines().map(str::to_owned).collect()
}

async fn imported_foods(database_url: &str) -> i64 {
    let db = Database::connect(database_url).await.unwrap();
    let sql = "SELECT COUNT(*) AS n FROM foods WHERE source IS NOT NULL";
    let row = db.query_one_raw(Statement::from_string(db.get_database_backend(), sql)).await.unwrap().unwrap();
    let count = row.try_get::<i64>("", "n").unwrap();
    let _ = db.close().await;
    count
}

/// The whole story on one database.
async fn imports_on(database_url: &str, scratch: &Path) {
    let fdc = fixture("fdc");
    assert_eq!(stdout_lines(&import(database_url, &[&fdc])), fdc_summary(7, 0));
    assert_eq!(stdout_lines(&import(database_url, &[&fdc])), fdc_summary(0, 7), "a re-run changes nothing");
    assert_eq!(imported_foods(database_url).await, 7, "nothing duplicated");

    let off = fixture("off/products.jsonl");
    let off_args: [&Path; 3] = [Path::new("--format"), Path::new("off"), &off];
    let lines = stdout_lines(&import(database_url, &off_args));
    assert_eq!(
        lines,
        [
            "imported 4, updated 0, unchanged 0, skipped 5",
            "empty name 1",
            "missing energy 1",
            "out of bounds 1",
            "bad source id 1",
            "unreadable row 1",
            "bad barcode 1",
        ]
    );
    assert_eq!(imported_foods(database_url).await, 11);

    // A download without food.csv: nothing of it is imported.
    let partial = scratch.join("fdc-without-food");
    std::fs::create_dir_all(&partial).unwrap();
    for file in ["food_nutrient.csv", "food_portion.csv", "measure_unit.csv", "branded_food.csv"] {
        std::fs::copy(fdc.join(file), partial.join(file)).unwrap();
    }
    let failed = import(database_url, &[&partial]);
    assert!(!failed.status.success());
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(stderr.contains("food.csv"), "names the file: {stderr}");
    assert!(failed.stdout.is_empty(), "no summary: {}", String::from_utf8_lossy(&failed.stdout));
    assert_eq!(imported_foods(database_url).await, 11);
}

fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(unique_name("macrotrack_import"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn imports_the_fixtures_on_sqlite() {
    let dir = scratch();
    let url = format!("sqlite://{}?mode=rwc", dir.join("macrotrack.db").display());
    imports_on(&url, &dir).await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn imports_the_fixtures_on_postgres() {
    let Some(database) = FreshDatabase::create("macrotrack_import").await else { return };
    let dir = scratch();
    imports_on(&database.url, &dir).await;
    database.drop().await;
    let _ = std::fs::remove_dir_all(dir);
}
