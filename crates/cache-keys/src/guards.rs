//! Dependency guards: the generations an entry records when it is fetched.
//!
//! A guard belongs to one read (`ReadFamily`) of one user and covers one
//! bucket of the dates that read depends on: a day, an ISO week, a calendar
//! month, or the whole read (its undated facts, and whatever an operator
//! forces). The service decides which guards an entry records and which a
//! mutation bumps, from what each read depends on; this file only names them.

use chrono::Datelike;
use macrotrack_domain::{Day, UserId};

use crate::text::KeyText;

/// Every cached read, as its entries and guards are named.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReadFamily {
    /// A day's logs (tier 1).
    Logs,
    /// A token's credential.
    Credential,
    /// A user's name and targets.
    Me,
    /// A user's most used foods.
    FrequentFoods,
    /// A month of daily totals.
    Summary,
    /// An ISO week of days.
    Week,
    /// Streaks as of a day.
    Streak,
    /// A day's schedule.
    Schedule,
    /// A user's part of food searches.
    FoodSearch,
    /// The catalogue's part of food searches (shared).
    CatalogueSearch,
    /// A food by id, per reader.
    Food,
    /// A catalogue food by barcode (shared).
    Barcode,
    /// A user's most recently logged foods.
    RecentFoods,
}

impl ReadFamily {
    /// Every read, for what iterates over them (metrics, the matrix).
    pub const ALL: [ReadFamily; 13] = [
        ReadFamily::Logs,
        ReadFamily::Credential,
        ReadFamily::Me,
        ReadFamily::FrequentFoods,
        ReadFamily::Summary,
        ReadFamily::Week,
        ReadFamily::Streak,
        ReadFamily::Schedule,
        ReadFamily::FoodSearch,
        ReadFamily::CatalogueSearch,
        ReadFamily::Food,
        ReadFamily::Barcode,
        ReadFamily::RecentFoods,
    ];

    /// The metrics label and the family's part of its keys.
    pub fn label(self) -> &'static str {
        match self {
            ReadFamily::Logs => "logs",
            ReadFamily::Credential => "credential",
            ReadFamily::Me => "me",
            ReadFamily::FrequentFoods => "frequent_foods",
            ReadFamily::Summary => "summary",
            ReadFamily::Week => "week",
            ReadFamily::Streak => "streak",
            ReadFamily::Schedule => "schedule",
            ReadFamily::FoodSearch => "food_search",
            ReadFamily::CatalogueSearch => "catalogue_search",
            ReadFamily::Food => "food",
            ReadFamily::Barcode => "barcode",
            ReadFamily::RecentFoods => "recent_foods",
        }
    }
}

/// Which entries of a read one guard covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Bucket {
    /// Every entry of the read (of one user).
    Whole,
    /// The entries of that day.
    Day(Day),
    /// The ISO week (Monday to Sunday) holding the day.
    IsoWeek(Day),
    /// The calendar month holding the day.
    Month(Day),
}

impl Bucket {
    /// The same bucket named by its first day, so that two days of one week
    /// or month make one guard.
    pub fn canonical(self) -> Bucket {
        match self {
            Bucket::IsoWeek(day) => Bucket::IsoWeek(day.iso_week().0),
            Bucket::Month(day) => Bucket::Month(day.month().0),
            other => other,
        }
    }
}

/// One generation counter of one read of one user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Guard {
    /// Whose entries it guards.
    pub user: UserId,
    /// Which read's entries.
    pub read: ReadFamily,
    /// Which of them.
    pub bucket: Bucket,
}

impl Guard {
    /// The guard of `read`'s entries of `user` in `bucket`.
    pub fn new(user: UserId, read: ReadFamily, bucket: Bucket) -> Self {
        Guard { user, read, bucket: bucket.canonical() }
    }

    /// `macro:{user:42}:gen:logs:2026-11-24`, `...:gen:week:2026-W48`,
    /// `...:gen:summary:2026-11`, `...:gen:me`.
    pub fn render(self) -> String {
        let key = KeyText::of(self.user).str(":gen:").str(self.read.label());
        match self.bucket {
            Bucket::Whole => key.done(),
            Bucket::Day(day) => key.str(":").day(day).done(),
            Bucket::IsoWeek(day) => {
                let week = day.date().iso_week();
                key.str(":").number(week.year()).str("-W").two_digits(week.week()).done()
            }
            Bucket::Month(day) => {
                let date = day.date();
                key.str(":").number(date.year()).str("-").two_digits(date.month()).done()
            }
        }
    }
}
