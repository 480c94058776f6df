//! `macrotrack foods import`: a reader of the source's files handed to the
//! service's import, progress on a terminal, the summary on stdout.

use std::io::IsTerminal;
use std::path::Path;
use std::time::Duration;

use clap::ValueEnum;
use indicatif::{ProgressBar, ProgressStyle};
use macrotrack_food_sources::{read_fdc, read_off};
use macrotrack_service::{ImportProgress, ImportSummary};

use crate::Settings;

/// The layout of what an import reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SourceFormat {
    /// A USDA FoodData Central CSV download: the folder of its files.
    Fdc,
    /// An Open Food Facts JSONL export: one file, gzipped or not.
    Off,
}

/// Imports `path` into the database of `settings` (migrated first) and
/// prints the summary. A required file missing or unreadable is an error
/// naming it, raised before any food is written.
pub async fn import_foods(settings: &Settings, format: SourceFormat, path: &Path) -> anyhow::Result<()> {
    let (service, repository) =
        crate::service_and_repository(settings, std::sync::Arc::new(macrotrack_ports::SystemClock)).await?;
    let source: Box<dyn Iterator<Item = _>> = match format {
        SourceFormat::Fdc => Box::new(read_fdc(path)?),
        SourceFormat::Off => Box::new(read_off(path)?),
    };
    let mut progress = Progress::new();
    let summary = service.import_foods(&repository, source, &mut progress).await;
    progress.bar.finish_and_clear();
    for line in summary?.lines() {
        println!("{line}");
    }
    Ok(())
}

/// A spinner counting rows, drawn only when stderr is a terminal so logs
/// and pipes get the summary alone.
struct Progress {
    bar: ProgressBar,
}

impl Progress {
    fn new() -> Progress {
        if !std::io::stderr().is_terminal() {
            return Progress { bar: ProgressBar::hidden() };
        }
        let bar = ProgressBar::new_spinner();
        if let Ok(style) = ProgressStyle::with_template("{spinner} {elapsed} {msg}") {
            bar.set_style(style);
        }
        bar.enable_steady_tick(Duration::from_millis(200));
        bar.set_message("reading");
        Progress { bar }
    }
}

impl ImportProgress for Progress {
    fn batch_written(&mut self, so_far: &ImportSummary) {
        let counts = so_far.counts;
        self.bar.set_message(format!(
            "{} rows: imported {}, updated {}, unchanged {}, skipped {}",
            so_far.rows(),
            counts.imported,
            counts.updated,
            counts.unchanged,
            so_far.skipped_total()
        ));
    }
}
