//! CSV files read by column name, as FoodData Central's releases differ in
//! which columns they have and in what order.

use std::path::{Path, PathBuf};

use csv::{Reader, StringRecord};

use crate::{SourceError, is_io, open};

/// A CSV file opened with its header read.
pub(crate) struct CsvFile {
    pub(crate) path: PathBuf,
    pub(crate) reader: Reader<Box<dyn std::io::Read + Send>>,
    headers: StringRecord,
}

impl CsvFile {
    /// Opens `path` (RFC 4180: double-quoted values, embedded quotes
    /// doubled) and reads its header row.
    pub(crate) fn open(path: &Path) -> Result<CsvFile, SourceError> {
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(open(path)?);
        let headers = reader.headers().map_err(|error| SourceError::unreadable(path, error))?.clone();
        if headers.is_empty() {
            return Err(SourceError::unreadable(path, "no header row"));
        }
        Ok(CsvFile { path: path.to_owned(), reader, headers })
    }

    /// The index of column `name`, if the file has it.
    pub(crate) fn column(&self, name: &str) -> Option<usize> {
        // A byte order mark may precede the first header.
        self.headers.iter().position(|header| header.trim_start_matches('\u{feff}').trim() == name)
    }

    /// The index of column `name`, which the import cannot do without.
    pub(crate) fn required(&self, name: &'static str) -> Result<usize, SourceError> {
        self.column(name).ok_or_else(|| SourceError::MissingColumn { file: self.path.clone(), column: name })
    }

    /// Reads every row, handing each to `row`; a malformed row is passed
    /// over (the caller's maps then lack it), a failing file is an error.
    pub(crate) fn for_each(mut self, mut row: impl FnMut(&StringRecord)) -> Result<(), SourceError> {
        let mut record = StringRecord::new();
        loop {
            match self.reader.read_record(&mut record) {
                Ok(true) => row(&record),
                Ok(false) => return Ok(()),
                Err(error) if is_io(&error) => return Err(SourceError::unreadable(&self.path, error)),
                Err(_) => continue,
            }
        }
    }
}

/// The trimmed value of column `index` of `record`; empty when the file has
/// no such column or the row is short.
pub(crate) fn field(record: &StringRecord, index: Option<usize>) -> &str {
    index.and_then(|index| record.get(index)).unwrap_or("").trim()
}

/// A number of column `index`; `None` when empty, not a number or not
/// finite (a value no food could hold).
pub(crate) fn number(record: &StringRecord, index: Option<usize>) -> Option<f64> {
    field(record, index).parse::<f64>().ok().filter(|value| value.is_finite())
}

/// An id of column `index` (fdc_id, nutrient or unit ids).
pub(crate) fn id(record: &StringRecord, index: Option<usize>) -> Option<u32> {
    field(record, index).parse().ok()
}
