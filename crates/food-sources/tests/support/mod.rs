//! What the readers' tests share.

#![allow(dead_code)]

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use flate2::Compression;
use flate2::write::GzEncoder;
use macrotrack_domain::{ImportedFood, Skipped};
use macrotrack_food_sources::{Entry, SourceError};

/// A fixture of `tests/fixtures`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

/// The foods and the skipped rows of a reader, which must not fail.
pub fn split(entries: impl Iterator<Item = Result<Entry, SourceError>>) -> (Vec<ImportedFood>, Vec<Skipped>) {
    let mut foods = Vec::new();
    let mut skipped = Vec::new();
    for entry in entries {
        match entry.expect("the file reads to its end") {
            Ok(food) => foods.push(food),
            Err(skip) => skipped.push(skip),
        }
    }
    (foods, skipped)
}

/// A food's portions as (name, hundredths of grams).
pub fn portions(food: &ImportedFood) -> Vec<(&str, i64)> {
    food.portions.iter().map(|portion| (portion.name.as_str(), portion.grams.hundredths())).collect()
}

/// Writes `from` gzipped to `to` (which may be `from`).
pub fn gzip(from: &Path, to: &Path) {
    let content = fs::read(from).unwrap();
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(&content).unwrap();
    fs::write(to, encoder.finish().unwrap()).unwrap();
}

/// A directory of its own under the system's temporary one, removed when
/// dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(label: &str) -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("macrotrack-food-sources-{label}-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}
