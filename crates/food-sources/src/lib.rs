//! Readers of public food data sets, turning their files into the
//! domain's [`ImportedFood`]s one at a time:
//! - [`read_fdc`]: a USDA FoodData Central CSV download (a folder);
//! - [`read_off`]: an Open Food Facts JSONL export (a file, gzipped or not).
//!
//! Both stream their big files and hold only compact per-food data, so a
//! catalogue of hundreds of thousands of foods is read in bounded memory.
//! A required file that is missing or unreadable is an error naming it,
//! raised by the opening function, before any food is read. Rows that are
//! not foods the contract accepts come out as [`Skipped`] with a reason;
//! only an I/O failure in the middle of a file ends the stream, as an
//! `Err` item.
//!
//! No I/O but reading the given files; nothing here writes anywhere.

#![warn(missing_docs)]

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;
use macrotrack_domain::{ImportedFood, Skipped};

mod columns;
mod fdc;
mod fdc_extras;
mod off;
mod text;

pub use fdc::{FdcFoods, read_fdc};
pub use off::{OffFoods, read_off};

/// One source food: imported, or skipped with its reason.
pub type Entry = Result<ImportedFood, Skipped>;

/// A file could not be read. Its message names the file, for the
/// command's one error line.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// Missing, not readable, not valid CSV or gzip, or failing halfway.
    #[error("cannot read {}: {reason}", file.display())]
    Unreadable {
        /// The file at fault.
        file: PathBuf,
        /// What went wrong, in one line.
        reason: String,
    },
    /// A CSV file lacks a column the import needs (columns are found by
    /// their header names, whose set differs between releases).
    #[error("{} has no column {column:?}", file.display())]
    MissingColumn {
        /// The file at fault.
        file: PathBuf,
        /// The header name looked for.
        column: &'static str,
    },
}

impl SourceError {
    fn unreadable(file: &Path, reason: impl ToString) -> SourceError {
        SourceError::Unreadable { file: file.to_owned(), reason: reason.to_string() }
    }
}

/// Opens `path` for reading, through a gzip decoder when it starts with
/// gzip's magic bytes (whatever its name says).
fn open(path: &Path) -> Result<Box<dyn Read + Send>, SourceError> {
    let file = File::open(path).map_err(|error| SourceError::unreadable(path, error))?;
    if !file.metadata().map_err(|error| SourceError::unreadable(path, error))?.is_file() {
        return Err(SourceError::unreadable(path, "not a file"));
    }
    let mut buffered = BufReader::with_capacity(1 << 16, file);
    let gzipped = buffered.fill_buf().map_err(|error| SourceError::unreadable(path, error))?.starts_with(&[0x1f, 0x8b]);
    Ok(if gzipped {
        // Multi-member: exports are often gzipped in concatenated parts.
        Box::new(BufReader::with_capacity(1 << 16, MultiGzDecoder::new(buffered)))
    } else {
        Box::new(buffered)
    })
}

/// Whether a CSV error is the file failing (I/O, a broken gzip stream)
/// rather than one malformed row.
fn is_io(error: &csv::Error) -> bool {
    matches!(error.kind(), csv::ErrorKind::Io(_))
}

/// Whether an I/O error while reading lines is the file failing; invalid
/// data in one line is that line's problem.
fn is_fatal(error: &io::Error) -> bool {
    error.kind() != io::ErrorKind::InvalidData
}
