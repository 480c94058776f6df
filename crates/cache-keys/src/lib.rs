//! Every key and tag of the cache contract, typed, rendered in one place.
//!
//! Nothing else in the code base formats a cache key. Every key of one user
//! carries the Redis Cluster hash tag `{user:ID}`, so all of a user's keys,
//! generations and scripts live in one slot.
//!
//! Three kinds of strings are rendered here:
//! - entry keys: where a cached value lives (`macro:{user:42}:logs:2026-11-24`);
//! - guard keys (`guards.rs`): generation counters that an entry records
//!   when it is fetched; bumping one invalidates every entry that recorded
//!   it in O(1);
//! - tag names (`tags.rs`), as the contract and the admin API spell them
//!   (`user_42_food`).

#![warn(missing_docs)]

mod guards;
mod tags;
mod text;

use macrotrack_domain::{Day, UserId};

pub use guards::{Bucket, Guard, ReadFamily};

/// The owner of the catalogue's shared entries (global food searches and
/// barcodes): the id no account has, so they live in a slot of their own,
/// rendered `{catalogue}`. Imports invalidate them by their generation,
/// which their keys carry, not by a guard.
pub const CATALOGUE: UserId = UserId(0);
pub use tags::{Tag, TagFamily, TagParseError};

use text::KeyText;

/// The cache tier an entry belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tier {
    /// Per-user-per-date data that changes often (cachified semantics).
    One,
    /// Tagged query results (Accelerate semantics).
    Two,
}

impl Tier {
    /// The tier as metrics label it.
    pub fn label(self) -> &'static str {
        match self {
            Tier::One => "1",
            Tier::Two => "2",
        }
    }
}

/// A tier-1 key: one user's data of one date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tier1Key {
    /// DayLogs of a user and date.
    DayLogs {
        /// Whose logs.
        user: UserId,
        /// The day logged.
        date: Day,
    },
}

impl Tier1Key {
    /// Whose data it is: every key of a user shares their slot.
    pub fn user(self) -> UserId {
        match self {
            Tier1Key::DayLogs { user, .. } => user,
        }
    }

    /// The read this key belongs to, whose guards it records.
    pub fn family(self) -> ReadFamily {
        match self {
            Tier1Key::DayLogs { .. } => ReadFamily::Logs,
        }
    }

    /// Where the entry lives, as the seed names it plus the hash tag.
    pub fn render(self) -> String {
        match self {
            Tier1Key::DayLogs { user, date } => KeyText::of(user).str(":logs:").day(date).done(),
        }
    }
}

/// A tier-2 query and its parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QueryKey {
    /// A user's stored credential, by the selector of their token.
    Credential {
        /// Whose credential: the token claims this user.
        user: UserId,
        /// The token's selector, which names one credential of the user.
        selector: u64,
    },
    /// A user's name and targets.
    Me {
        /// Whose profile.
        user: UserId,
    },
    /// A user's most used foods.
    FrequentFoods {
        /// Whose foods.
        user: UserId,
        /// How many: each limit asked for is its own entry.
        limit: u32,
    },
    /// One calendar month of a user's daily totals (any day of it names
    /// it): summaries of any range are composed of months, so the keys a
    /// user can make grow with the months asked for, not with the ranges.
    SummaryMonth {
        /// Whose totals.
        user: UserId,
        /// Any day of the month.
        month: Day,
    },
    /// One ISO week (Monday to Sunday) of a user's days: a week read from
    /// any start day is composed of the one or two ISO weeks it touches.
    Week {
        /// Whose week.
        user: UserId,
        /// Any day of the ISO week.
        week: Day,
    },
    /// A user's streaks as of a day.
    Streak {
        /// Whose streaks.
        user: UserId,
        /// The day they are counted to.
        today: Day,
    },
    /// What a user's meal plans schedule on a day.
    Schedule {
        /// Whose schedule.
        user: UserId,
        /// The day scheduled.
        date: Day,
    },
    /// A user's part of a food search: their own and logged foods that
    /// match. Keyed by the catalogue's generation too, as logged global
    /// foods change with an import.
    FoodSearch {
        /// Whose foods.
        user: UserId,
        /// The catalogue generation it was read under.
        generation: u64,
        /// A digest of the normalized query (128 bits: a client cannot
        /// make two queries collide).
        query: u128,
    },
    /// The catalogue's part of a food search: the first `rows` global
    /// foods that match, ranked; shared by every user.
    CatalogueSearch {
        /// The catalogue generation it was read under.
        generation: u64,
        /// A digest of the normalized query.
        query: u128,
        /// How many ranked rows it holds.
        rows: u32,
    },
    /// A food by id, as `user` sees it (global or their own).
    Food {
        /// Who reads it: their own foods are theirs only.
        user: UserId,
        /// The catalogue generation it was read under.
        generation: u64,
        /// The food's id.
        id: i64,
    },
    /// A user's most recently logged foods.
    RecentFoods {
        /// Whose foods.
        user: UserId,
        /// The catalogue generation it was read under.
        generation: u64,
        /// How many: each limit asked for is its own entry.
        limit: u32,
    },
    /// The catalogue food that carries a barcode (only global foods do):
    /// shared by every user.
    Barcode {
        /// The catalogue generation it was read under.
        generation: u64,
        /// The GTIN-14, as a number.
        code: u64,
    },
}

impl QueryKey {
    /// Whose data it is: every key of a user shares their slot.
    pub fn user(self) -> UserId {
        match self {
            QueryKey::Me { user }
            | QueryKey::Credential { user, .. }
            | QueryKey::FrequentFoods { user, .. }
            | QueryKey::SummaryMonth { user, .. }
            | QueryKey::Week { user, .. }
            | QueryKey::Streak { user, .. }
            | QueryKey::Schedule { user, .. }
            | QueryKey::FoodSearch { user, .. }
            | QueryKey::Food { user, .. }
            | QueryKey::RecentFoods { user, .. } => user,
            QueryKey::CatalogueSearch { .. } | QueryKey::Barcode { .. } => CATALOGUE,
        }
    }

    /// The read this key belongs to, whose guards it records.
    pub fn family(self) -> ReadFamily {
        match self {
            QueryKey::Credential { .. } => ReadFamily::Credential,
            QueryKey::Me { .. } => ReadFamily::Me,
            QueryKey::FrequentFoods { .. } => ReadFamily::FrequentFoods,
            QueryKey::SummaryMonth { .. } => ReadFamily::Summary,
            QueryKey::Week { .. } => ReadFamily::Week,
            QueryKey::Streak { .. } => ReadFamily::Streak,
            QueryKey::Schedule { .. } => ReadFamily::Schedule,
            QueryKey::FoodSearch { .. } => ReadFamily::FoodSearch,
            QueryKey::CatalogueSearch { .. } => ReadFamily::CatalogueSearch,
            QueryKey::Food { .. } => ReadFamily::Food,
            QueryKey::Barcode { .. } => ReadFamily::Barcode,
            QueryKey::RecentFoods { .. } => ReadFamily::RecentFoods,
        }
    }

    /// The key as the store holds it, hash tag included.
    pub fn render(self) -> String {
        let key = KeyText::of(self.user()).str(":q:");
        match self {
            QueryKey::Credential { selector, .. } => key.str("credential:").hex16(selector).done(),
            QueryKey::Me { .. } => key.str("me").done(),
            QueryKey::FrequentFoods { limit, .. } => key.str("frequent_foods:").number(limit).done(),
            QueryKey::SummaryMonth { month, .. } => {
                let first = month.month().0.date();
                let (year, month) = (chrono::Datelike::year(&first), chrono::Datelike::month(&first));
                key.str("summary:").number(year).str("-").two_digits(month).done()
            }
            QueryKey::Week { week, .. } => {
                let week = chrono::Datelike::iso_week(&week.date());
                key.str("week:").number(week.year()).str("-W").two_digits(week.week()).done()
            }
            QueryKey::Streak { today, .. } => key.str("streak:").day(today).done(),
            QueryKey::Schedule { date, .. } => key.str("schedule:").day(date).done(),
            QueryKey::FoodSearch { generation, query, .. } => {
                key.str("food_search:g").number(generation).str(":").hex32(query).done()
            }
            QueryKey::CatalogueSearch { generation, query, rows } => {
                key.str("catalogue_search:g").number(generation).str(":").hex32(query).str(":").number(rows).done()
            }
            QueryKey::Food { generation, id, .. } => key.str("food:g").number(generation).str(":").number(id).done(),
            QueryKey::RecentFoods { generation, limit, .. } => {
                key.str("recent_foods:g").number(generation).str(":").number(limit).done()
            }
            QueryKey::Barcode { generation, code } => {
                key.str("barcode:g").number(generation).str(":").number(code).done()
            }
        }
    }
}

fn epoch_guard(user: UserId) -> String {
    KeyText::of(user).str(":epoch").done()
}

/// Everything the engine needs to know about one cached entry: where it
/// lives and which generations guard it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryAddress {
    /// Whose entry: all its keys share the user's slot.
    pub user: UserId,
    /// Which tier's semantics it follows.
    pub tier: Tier,
    /// The read's name, for metrics and reports.
    pub family: &'static str,
    /// Where the value lives in the store.
    pub key: String,
    /// Guard keys whose generations the entry records; all of one user.
    pub guards: Vec<String>,
}

impl EntryAddress {
    /// Where instances agree which one fetches this entry under
    /// `generations` (a short lease). The generations are part of the key,
    /// so a lease taken before an invalidation never holds back a fetch
    /// after it. Made on a miss only.
    pub fn lease(&self, generations: &[u64]) -> String {
        // FNV-1a over the generations: the same on every instance.
        let digest = generations
            .iter()
            .fold(0xcbf2_9ce4_8422_2325_u64, |hash, generation| (hash ^ generation).wrapping_mul(0x0100_0000_01b3));
        format!("{}:lease:{digest:016x}", self.key)
    }

    /// A tier-1 entry, guarded by `guards` (of its user) and its user's epoch.
    pub fn tier1(key: Tier1Key, guards: &[Guard]) -> Self {
        Self::new(key.user(), Tier::One, key.family(), key.render(), guards)
    }

    /// A tier-2 entry, guarded by `guards` (of its user) and its user's epoch.
    pub fn tier2(query: QueryKey, guards: &[Guard]) -> Self {
        Self::new(query.user(), Tier::Two, query.family(), query.render(), guards)
    }

    fn new(user: UserId, tier: Tier, family: ReadFamily, key: String, guards: &[Guard]) -> Self {
        debug_assert!(guards.iter().all(|guard| guard.user == user), "guards of another user");
        let mut rendered = Vec::with_capacity(guards.len() + 1);
        rendered.extend(guards.iter().map(|guard| guard.render()));
        rendered.push(epoch_guard(user));
        EntryAddress { user, tier, family: family.label(), key, guards: rendered }
    }
}

/// One thing a mutation makes the cache forget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    /// The entries of one read that recorded this guard.
    Guard(Guard),
    /// Every tier-1 and tier-2 entry of the user (deleting a user).
    AllOfUser(UserId),
}

impl Target {
    /// A day's tier-1 logs (its own guard).
    pub fn day_logs(user: UserId, date: Day) -> Target {
        Target::Guard(Guard::new(user, ReadFamily::Logs, Bucket::Day(date)))
    }

    /// Whose keys it concerns: one bump per user.
    pub fn user(self) -> UserId {
        match self {
            Target::Guard(guard) => guard.user,
            Target::AllOfUser(user) => user,
        }
    }

    /// The tier of the entries it forgets.
    pub fn tier(self) -> Tier {
        match self {
            Target::Guard(Guard { read: ReadFamily::Logs, .. }) | Target::AllOfUser(_) => Tier::One,
            Target::Guard(_) => Tier::Two,
        }
    }

    /// The metrics label of what was invalidated.
    pub fn family(self) -> &'static str {
        match self {
            Target::Guard(guard) => guard.read.label(),
            Target::AllOfUser(_) => "all_of_user",
        }
    }

    /// The guard whose generation must change.
    pub fn guard(self) -> String {
        match self {
            Target::Guard(guard) => guard.render(),
            Target::AllOfUser(user) => epoch_guard(user),
        }
    }

    /// The entry that can be deleted at once to free memory, if any: a
    /// tier-1 day's guard covers exactly that day's entry.
    pub fn entry(self) -> Option<String> {
        match self {
            Target::Guard(Guard { user, read: ReadFamily::Logs, bucket: Bucket::Day(date) }) => {
                Some(Tier1Key::DayLogs { user, date }.render())
            }
            Target::Guard(_) | Target::AllOfUser(_) => None,
        }
    }

    /// A human rendering for docs and logs.
    pub fn describe(self) -> String {
        match self {
            Target::Guard(guard) => guard.render(),
            Target::AllOfUser(user) => format!("every entry of user {user}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> Day {
        text.parse().unwrap()
    }

    const U: UserId = UserId(42);

    /// The keys as `format!` wrote them before `KeyText`, over every day
    /// of the range and users of every width: the stored keys must not
    /// change with the writer.
    #[test]
    fn keys_match_their_format_spelling() {
        use chrono::Datelike;
        for user in [UserId(1), UserId(42), UserId(-7), UserId(i64::MAX)] {
            let scope = format!("macro:{{user:{}}}", user.0);
            let mut date = Day::MIN;
            while date <= Day::MAX {
                let day = Day::new(date).unwrap();
                let iso = date.format("%Y-%m-%d").to_string();
                let week = date.iso_week();
                let cases = [
                    (Tier1Key::DayLogs { user, date: day }.render(), format!("{scope}:logs:{iso}")),
                    (QueryKey::Streak { user, today: day }.render(), format!("{scope}:q:streak:{iso}")),
                    (QueryKey::Schedule { user, date: day }.render(), format!("{scope}:q:schedule:{iso}")),
                    (
                        QueryKey::Week { user, week: day }.render(),
                        format!("{scope}:q:week:{:04}-W{:02}", week.year(), week.week()),
                    ),
                    (
                        QueryKey::SummaryMonth { user, month: day }.render(),
                        format!("{scope}:q:summary:{:04}-{:02}", date.year(), date.month()),
                    ),
                    (Guard::new(user, ReadFamily::Logs, Bucket::Day(day)).render(), format!("{scope}:gen:logs:{iso}")),
                    (
                        Guard::new(user, ReadFamily::Week, Bucket::IsoWeek(day)).render(),
                        format!("{scope}:gen:week:{:04}-W{:02}", week.year(), week.week()),
                    ),
                    (
                        Guard::new(user, ReadFamily::Summary, Bucket::Month(day)).render(),
                        format!("{scope}:gen:summary:{:04}-{:02}", date.year(), date.month()),
                    ),
                ];
                for (written, spelled) in cases {
                    assert_eq!(written, spelled);
                }
                date = date.succ_opt().unwrap();
            }
            for selector in [0, 1, 0xdead_beef, u64::MAX] {
                let key = QueryKey::Credential { user, selector }.render();
                assert_eq!(key, format!("{scope}:q:credential:{selector:016x}"));
            }
            for limit in [1, 10, 100] {
                let key = QueryKey::FrequentFoods { user, limit }.render();
                assert_eq!(key, format!("{scope}:q:frequent_foods:{limit}"));
            }
            assert_eq!(QueryKey::Me { user }.render(), format!("{scope}:q:me"));
            assert_eq!(Guard::new(user, ReadFamily::Me, Bucket::Whole).render(), format!("{scope}:gen:me"));
            assert_eq!(Target::AllOfUser(user).guard(), format!("{scope}:epoch"));
        }
    }

    #[test]
    fn golden_tier1_keys() {
        let d = date("2026-11-24");
        let key = Tier1Key::DayLogs { user: U, date: d };
        assert_eq!(key.render(), "macro:{user:42}:logs:2026-11-24");
        let address = EntryAddress::tier1(key, &[Guard::new(U, ReadFamily::Logs, Bucket::Day(d))]);
        assert_eq!(address.guards, ["macro:{user:42}:gen:logs:2026-11-24", "macro:{user:42}:epoch"]);
        assert_eq!(address.family, "logs");
        assert_eq!(address.lease(&[1, 2]), "macro:{user:42}:logs:2026-11-24:lease:082f2407b4e8902a");
        assert_ne!(address.lease(&[1, 2]), address.lease(&[1, 3]), "other generations, another lease");
        assert_ne!(address.lease(&[1, 2]), address.lease(&[2, 1]));
    }

    #[test]
    fn golden_guards() {
        let d = date("2026-11-24");
        let cases = [
            (Guard::new(U, ReadFamily::Me, Bucket::Whole), "macro:{user:42}:gen:me"),
            (Guard::new(U, ReadFamily::Schedule, Bucket::Day(d)), "macro:{user:42}:gen:schedule:2026-11-24"),
            (Guard::new(U, ReadFamily::Week, Bucket::IsoWeek(d)), "macro:{user:42}:gen:week:2026-W48"),
            (Guard::new(U, ReadFamily::Summary, Bucket::Month(d)), "macro:{user:42}:gen:summary:2026-11"),
        ];
        for (guard, rendered) in cases {
            assert_eq!(guard.render(), rendered);
            assert_eq!(Target::Guard(guard).guard(), rendered);
        }
        // Two days of one ISO week or month name one guard; 2027-01-01 is
        // in ISO week 53 of 2026.
        let week = |text| Guard::new(U, ReadFamily::Week, Bucket::IsoWeek(date(text)));
        assert_eq!(week("2026-11-23"), week("2026-11-29"));
        assert_ne!(week("2026-11-29"), week("2026-11-30"));
        assert_eq!(week("2027-01-01").render(), "macro:{user:42}:gen:week:2026-W53");
        let month = |text| Guard::new(U, ReadFamily::Summary, Bucket::Month(date(text)));
        assert_eq!(month("2026-11-01"), month("2026-11-30"));
    }

    #[test]
    fn only_a_day_guard_of_tier_1_frees_its_entry() {
        let d = date("2026-11-24");
        let logs = Target::Guard(Guard::new(U, ReadFamily::Logs, Bucket::Day(d)));
        assert_eq!(logs.entry().as_deref(), Some("macro:{user:42}:logs:2026-11-24"));
        assert_eq!(logs.tier(), Tier::One);
        let schedule = Target::Guard(Guard::new(U, ReadFamily::Schedule, Bucket::Day(d)));
        assert_eq!((schedule.entry(), schedule.tier(), schedule.family()), (None, Tier::Two, "schedule"));
        assert_eq!(Target::AllOfUser(U).guard(), "macro:{user:42}:epoch");
    }

    #[test]
    fn golden_query_keys() {
        let cases = [
            (QueryKey::Me { user: U }, "macro:{user:42}:q:me"),
            (QueryKey::Credential { user: U, selector: 0xab }, "macro:{user:42}:q:credential:00000000000000ab"),
            (QueryKey::FrequentFoods { user: U, limit: 20 }, "macro:{user:42}:q:frequent_foods:20"),
            (QueryKey::SummaryMonth { user: U, month: date("2026-11-17") }, "macro:{user:42}:q:summary:2026-11"),
            (QueryKey::Week { user: U, week: date("2026-11-26") }, "macro:{user:42}:q:week:2026-W48"),
            (QueryKey::Streak { user: U, today: date("2026-11-24") }, "macro:{user:42}:q:streak:2026-11-24"),
            (QueryKey::Schedule { user: U, date: date("2026-11-24") }, "macro:{user:42}:q:schedule:2026-11-24"),
            (
                QueryKey::FoodSearch { user: U, generation: 3, query: 0xab },
                "macro:{user:42}:q:food_search:g3:000000000000000000000000000000ab",
            ),
            (
                QueryKey::CatalogueSearch { generation: 3, query: 1 << 64, rows: 50 },
                "macro:{catalogue}:q:catalogue_search:g3:00000000000000010000000000000000:50",
            ),
            (QueryKey::Food { user: U, generation: 0, id: 7 }, "macro:{user:42}:q:food:g0:7"),
            (QueryKey::RecentFoods { user: U, generation: 1, limit: 20 }, "macro:{user:42}:q:recent_foods:g1:20"),
            (
                QueryKey::Barcode { generation: 2, code: 4_006_381_333_931 },
                "macro:{catalogue}:q:barcode:g2:4006381333931",
            ),
        ];
        for (query, rendered) in cases {
            assert_eq!(query.render(), rendered);
        }
        let address = EntryAddress::tier2(
            QueryKey::FrequentFoods { user: U, limit: 5 },
            &[Guard::new(U, ReadFamily::FrequentFoods, Bucket::Whole)],
        );
        assert_eq!(address.guards, ["macro:{user:42}:gen:frequent_foods", "macro:{user:42}:epoch"]);
    }

    #[test]
    fn every_key_of_a_user_shares_one_hash_tag() {
        let d = date("2026-11-24");
        let mut rendered = vec![
            Tier1Key::DayLogs { user: U, date: d }.render(),
            QueryKey::Me { user: U }.render(),
            QueryKey::Week { user: U, week: d }.render(),
        ];
        rendered.extend(
            [
                Target::AllOfUser(U),
                Target::Guard(Guard::new(U, ReadFamily::Schedule, Bucket::Day(d))),
                Target::Guard(Guard::new(U, ReadFamily::Week, Bucket::IsoWeek(d))),
            ]
            .map(Target::guard),
        );
        for key in rendered {
            assert!(key.contains("{user:42}"), "{key}");
            assert_eq!(key.matches('{').count(), 1, "{key}");
        }
    }
}
