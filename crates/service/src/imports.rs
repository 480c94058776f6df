//! Importing a food catalogue: source foods written in batches through the
//! `CatalogueImport` port, counted the way the import's summary reports them.
//!
//! The readers (crate `macrotrack-food-sources`) stay out of the service:
//! the use case takes any iterator of their items, so the CLI hands it a
//! reader and tests hand it a vector.

use std::collections::BTreeMap;

use macrotrack_domain::{ImportedFood, SkipReason, Skipped};
use macrotrack_ports::{CacheStore, CatalogueImport, ImportCounts, Unavailable};

use crate::Service;

/// Foods per transaction: large enough that a transaction's cost is shared
/// by many rows, small enough that an interrupted import loses little.
pub const IMPORT_BATCH: usize = 1000;

/// What an import did so far; at the end, its summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportSummary {
    /// Imported, updated and unchanged foods, summed over the batches.
    pub counts: ImportCounts,
    /// Skipped rows by reason.
    pub skipped: BTreeMap<SkipReason, u64>,
    /// Foods imported without their barcode, which was not a GTIN.
    pub bad_barcodes: u64,
    /// The catalogue's new generation, when the import (or an interrupted
    /// one before it) changed the catalogue; cached catalogue reads of
    /// every instance follow it.
    pub generation: Option<u64>,
}

impl ImportSummary {
    /// Every skipped row, whatever its reason.
    pub fn skipped_total(&self) -> u64 {
        self.skipped.values().sum()
    }

    /// Source rows handled so far (written or skipped), for progress.
    pub fn rows(&self) -> u64 {
        self.counts.imported + self.counts.updated + self.counts.unchanged + self.skipped_total()
    }

    /// The contract's summary: `imported N, updated M, unchanged K,
    /// skipped S`, then one line per skip reason that occurred, in the
    /// order `SkipReason::ALL` lists them, then `bad barcode N` when any.
    pub fn lines(&self) -> Vec<String> {
        let ImportCounts { imported, updated, unchanged } = self.counts;
        let mut lines = vec![format!(
            "imported {imported}, updated {updated}, unchanged {unchanged}, skipped {}",
            self.skipped_total()
        )];
        for reason in SkipReason::ALL {
            if let Some(count) = self.skipped.get(&reason).filter(|count| **count > 0) {
                lines.push(format!("{} {count}", reason.label()));
            }
        }
        if self.bad_barcodes > 0 {
            lines.push(format!("bad barcode {}", self.bad_barcodes));
        }
        lines
    }
}

/// Told after every batch written, so a terminal can show progress and
/// tests can watch the batches.
pub trait ImportProgress {
    /// `so_far` includes the batch just written.
    fn batch_written(&mut self, so_far: &ImportSummary);
}

/// For callers that show nothing.
impl ImportProgress for () {
    fn batch_written(&mut self, _: &ImportSummary) {}
}

/// Why an import stopped before the end of its source. Batches written
/// before it stay written: a re-run finishes the job.
#[derive(Debug, thiserror::Error)]
pub enum ImportError<E> {
    /// The source could not be read further (an I/O error halfway).
    #[error(transparent)]
    Source(E),
    /// The database did not answer.
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
}

impl<S: CacheStore> Service<S> {
    /// Writes every food of `source` through `catalogue`, in batches of
    /// [`IMPORT_BATCH`], and counts what each row became. A skipped row is
    /// counted by reason and never written. At the end, raises the
    /// catalogue's generation when anything changed.
    pub async fn import_foods<E>(
        &self,
        catalogue: &dyn CatalogueImport,
        source: impl IntoIterator<Item = Result<Result<ImportedFood, Skipped>, E>>,
        progress: &mut dyn ImportProgress,
    ) -> Result<ImportSummary, ImportError<E>> {
        let mut summary = ImportSummary::default();
        let mut batch = Vec::with_capacity(IMPORT_BATCH);
        for item in source {
            match item.map_err(ImportError::Source)? {
                Ok(food) => {
                    summary.bad_barcodes += u64::from(food.barcode_rejected);
                    batch.push(food);
                }
                Err(skipped) => *summary.skipped.entry(skipped.reason).or_default() += 1,
            }
            if batch.len() == IMPORT_BATCH {
                self.write_import_batch(catalogue, &mut batch, &mut summary, progress).await?;
            }
        }
        if !batch.is_empty() {
            self.write_import_batch(catalogue, &mut batch, &mut summary, progress).await?;
        }
        // Once, at the end, and only if a batch (of this run or of one
        // interrupted before) changed anything.
        summary.generation = catalogue.finish_import().await?;
        if let Some(generation) = summary.generation {
            self.observe_catalogue(generation);
        }
        Ok(summary)
    }

    async fn write_import_batch(
        &self,
        catalogue: &dyn CatalogueImport,
        batch: &mut Vec<ImportedFood>,
        summary: &mut ImportSummary,
        progress: &mut dyn ImportProgress,
    ) -> Result<(), Unavailable> {
        summary.counts += catalogue.upsert_imported_foods(batch, self.now()).await?;
        batch.clear();
        progress.batch_written(summary);
        Ok(())
    }
}
