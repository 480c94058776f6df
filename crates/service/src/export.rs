//! Exporting a user's entries over up to ten years: read page by page, a
//! few days at a time, so what is held at once is bounded by a page (a
//! day holds at most `MAX_DAY_ENTRIES` entries), whatever the range.
//! Not cached: an export is rare and reads each entry once.

use std::sync::Arc;

use macrotrack_domain::{Day, LogEntry, UserId, ValidationErrors};
use macrotrack_ports::{CacheStore, LogRepository, Unavailable};

use crate::{ReadError, Service};

/// The most days one export covers: `to - from` is at most this less one.
pub const MAX_EXPORT_DAYS: i64 = 3660;

/// Days read per query: at most 16 × 200 entries, 20 a day typically.
const PAGE_DAYS: i64 = 16;

/// An export in progress: the pages of entries still to read, in day order.
pub struct Export {
    logs: Arc<dyn LogRepository>,
    user: UserId,
    /// The first day not read yet; `None` once every page was read.
    next: Option<Day>,
    to: Day,
}

impl Export {
    /// The next entries in day order, `None` once there are no more. Days
    /// without entries are passed over, so a page is never empty.
    pub async fn next_page(&mut self) -> Option<Result<Vec<LogEntry>, Unavailable>> {
        while let Some(from) = self.next {
            let last = from.plus_days(PAGE_DAYS - 1).map_or(self.to, |last| last.min(self.to));
            self.next = last.plus_days(1).filter(|next| *next <= self.to);
            match self.logs.entries_between(self.user, from, last).await {
                Ok(entries) if entries.is_empty() => continue,
                Ok(entries) => return Some(Ok(entries)),
                Err(error) => {
                    // A page missing from the middle would be a silent gap.
                    self.next = None;
                    return Some(Err(error));
                }
            }
        }
        None
    }
}

impl<S: CacheStore> Service<S> {
    /// The user's entries of `from..=to` (at most `MAX_EXPORT_DAYS` days),
    /// to be read page by page; the range is checked here, before anything
    /// is read.
    pub fn export(&self, user: UserId, from: Day, to: Day) -> Result<Export, ReadError> {
        let mut errors = ValidationErrors::new();
        if from > to {
            errors.add("from", "must not be after to");
        } else if from.days_until(to) >= MAX_EXPORT_DAYS {
            errors.add("to", format!("the range must cover at most {MAX_EXPORT_DAYS} days"));
        }
        if !errors.is_empty() {
            return Err(ReadError::Invalid(errors));
        }
        Ok(Export { logs: self.repos.logs.clone(), user, next: Some(from), to })
    }
}
