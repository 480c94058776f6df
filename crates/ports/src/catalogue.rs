//! The write side of importing a food catalogue.

use std::ops::AddAssign;

use async_trait::async_trait;
use macrotrack_domain::{ImportedFood, Timestamp};

use crate::Unavailable;

/// How one batch changed the catalogue: every food of the batch is counted
/// exactly once. Summed over the batches, these are the import's summary
/// (`imported N, updated M, unchanged K`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportCounts {
    /// Foods whose source id was not in the catalogue yet.
    pub imported: u64,
    /// Foods already imported whose fields or portions differed.
    pub updated: u64,
    /// Foods already imported exactly as given.
    pub unchanged: u64,
}

impl ImportCounts {
    /// Whether the catalogue's readers must see a new state (the service
    /// bumps the catalogue's generation only then).
    pub fn changed_anything(&self) -> bool {
        self.imported + self.updated > 0
    }
}

impl AddAssign for ImportCounts {
    fn add_assign(&mut self, other: ImportCounts) {
        self.imported += other.imported;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
    }
}

/// Writes imported foods into the global catalogue, matched by source id.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait CatalogueImport: Send + Sync + 'static {
    /// MUST upsert `batch` in one transaction, all or nothing, so an
    /// interrupted import leaves whole batches and a re-run finishes it:
    /// - a food whose source id is new is inserted as a global food of
    ///   100 g servings with its portions, stamped `at`;
    /// - a food already imported under that source id whose name, brand,
    ///   generic flag, barcode, macros or portions differ is updated in
    ///   place (its id stays, so log entries keep pointing at it) and
    ///   stamped `at`; its portions are replaced only when they differ;
    /// - a food imported exactly as given is not written at all (a re-run
    ///   of the same files writes nothing);
    /// - nothing is ever deleted, whatever the batch lacks;
    /// - a source id given twice in one batch is applied in order, as two
    ///   batches would be.
    ///
    /// Batches of about a thousand foods are the intended size; any size
    /// MUST work (statements are split below the backends' parameter
    /// limits).
    ///
    /// A batch that imported or updated a food MUST mark the catalogue
    /// changed in its transaction, for `finish_import`.
    async fn upsert_imported_foods(&self, batch: &[ImportedFood], at: Timestamp) -> Result<ImportCounts, Unavailable>;

    /// MUST, when the catalogue is marked changed, raise its generation
    /// by one and clear the mark in one transaction, returning the new
    /// generation; `None` when nothing is marked. A mark left by an
    /// interrupted import is thus bumped by the next one.
    async fn finish_import(&self) -> Result<Option<u64>, Unavailable>;
}
