//! Every key and tag of the cache contract, typed, rendered in one place.
//!
//! Nothing else in the code base formats a cache key. Every key of one user
//! carries the Redis Cluster hash tag `{user:ID}`, so all of a user's keys,
//! generations and scripts live in one slot.
//!
//! Three kinds of strings are rendered here:
//! - entry keys: where a cached value lives (`macro:{user:42}:logs:2026-11-24`);
//! - tag names, as the contract and the admin API spell them (`user_42_food`);
//! - guard keys: generation counters that an entry records when it is
//!   fetched; bumping one invalidates every entry that recorded it in O(1).

use std::fmt;

use macrotrack_domain::{Day, UserId};

/// The cache tier an entry belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tier {
    /// Per-user-per-date data that changes often (cachified semantics).
    One,
    /// Tagged query results (Accelerate semantics).
    Two,
}

impl Tier {
    pub fn label(self) -> &'static str {
        match self {
            Tier::One => "1",
            Tier::Two => "2",
        }
    }
}

/// `macro:{user:ID}`, written straight into the key being formatted (an
/// intermediate String per key showed up in profiles of the hot read).
fn scope(user: UserId) -> impl std::fmt::Display {
    struct Scope(UserId);
    impl std::fmt::Display for Scope {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "macro:{{user:{}}}", self.0)
        }
    }
    Scope(user)
}

/// A tier-1 key: one user's data of one date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tier1Key {
    /// DayLogs of a user and date.
    DayLogs { user: UserId, date: Day },
}

impl Tier1Key {
    pub fn user(self) -> UserId {
        match self {
            Tier1Key::DayLogs { user, .. } => user,
        }
    }

    pub fn family(self) -> &'static str {
        match self {
            Tier1Key::DayLogs { .. } => "logs",
        }
    }

    /// Where the entry lives, as the seed names it plus the hash tag.
    pub fn render(self) -> String {
        match self {
            Tier1Key::DayLogs { user, date } => format!("{}:logs:{date}", scope(user)),
        }
    }

    fn guard(self) -> String {
        match self {
            Tier1Key::DayLogs { user, date } => format!("{}:gen:logs:{date}", scope(user)),
        }
    }
}

/// The families of tier-2 tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TagFamily {
    User,
    UserFood,
    UserLogs,
    UserCompletion,
    UserStreaks,
    UserScheduled,
    UserScheduledDate,
}

impl TagFamily {
    pub const ALL: [TagFamily; 7] = [
        TagFamily::User,
        TagFamily::UserFood,
        TagFamily::UserLogs,
        TagFamily::UserCompletion,
        TagFamily::UserStreaks,
        TagFamily::UserScheduled,
        TagFamily::UserScheduledDate,
    ];

    pub fn label(self) -> &'static str {
        match self {
            TagFamily::User => "user",
            TagFamily::UserFood => "user_food",
            TagFamily::UserLogs => "user_logs",
            TagFamily::UserCompletion => "user_completion",
            TagFamily::UserStreaks => "user_streaks",
            TagFamily::UserScheduled => "user_scheduled",
            TagFamily::UserScheduledDate => "user_scheduled_date",
        }
    }
}

/// A tier-2 tag of one user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tag {
    User(UserId),
    UserFood(UserId),
    UserLogs(UserId),
    UserCompletion(UserId),
    UserStreaks(UserId),
    UserScheduled(UserId),
    UserScheduledDate(UserId, Day),
}

/// Why a rendered tag was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TagParseError {
    #[error("unknown tag family")]
    UnknownFamily,
    #[error("tag of another user")]
    OtherUser,
}

impl Tag {
    pub fn user(self) -> UserId {
        match self {
            Tag::User(u)
            | Tag::UserFood(u)
            | Tag::UserLogs(u)
            | Tag::UserCompletion(u)
            | Tag::UserStreaks(u)
            | Tag::UserScheduled(u)
            | Tag::UserScheduledDate(u, _) => u,
        }
    }

    pub fn family(self) -> TagFamily {
        match self {
            Tag::User(_) => TagFamily::User,
            Tag::UserFood(_) => TagFamily::UserFood,
            Tag::UserLogs(_) => TagFamily::UserLogs,
            Tag::UserCompletion(_) => TagFamily::UserCompletion,
            Tag::UserStreaks(_) => TagFamily::UserStreaks,
            Tag::UserScheduled(_) => TagFamily::UserScheduled,
            Tag::UserScheduledDate(..) => TagFamily::UserScheduledDate,
        }
    }

    /// The tag as the seed spells it: `user_42`, `user_42_scheduled_2026-11-24`.
    pub fn render(self) -> String {
        let user = self.user();
        match self {
            Tag::User(_) => format!("user_{user}"),
            Tag::UserScheduledDate(_, date) => format!("user_{user}_scheduled_{date}"),
            other => format!("user_{user}_{}", &other.family().label()["user_".len()..]),
        }
    }

    /// Parses a rendered tag of `user` (the admin route's input).
    pub fn parse_for(user: UserId, text: &str) -> Result<Tag, TagParseError> {
        let rest = text.strip_prefix("user_").ok_or(TagParseError::UnknownFamily)?;
        let (id, suffix) = match rest.split_once('_') {
            Some((id, suffix)) => (id, Some(suffix)),
            None => (rest, None),
        };
        let id: i64 = id.parse().map_err(|_| TagParseError::UnknownFamily)?;
        // Reject non-canonical ids such as "+42" or "042" so a tag has one spelling.
        if id.to_string() != rest[..rest.len() - suffix.map_or(0, |s| s.len() + 1)] {
            return Err(TagParseError::UnknownFamily);
        }
        let tag = match suffix {
            None => Tag::User(UserId(id)),
            Some("food") => Tag::UserFood(UserId(id)),
            Some("logs") => Tag::UserLogs(UserId(id)),
            Some("completion") => Tag::UserCompletion(UserId(id)),
            Some("streaks") => Tag::UserStreaks(UserId(id)),
            Some("scheduled") => Tag::UserScheduled(UserId(id)),
            Some(other) => {
                let date = other.strip_prefix("scheduled_").ok_or(TagParseError::UnknownFamily)?;
                let date: Day = date.parse().map_err(|_| TagParseError::UnknownFamily)?;
                Tag::UserScheduledDate(UserId(id), date)
            }
        };
        if tag.user() != user {
            return Err(TagParseError::OtherUser);
        }
        Ok(tag)
    }

    fn guard(self) -> String {
        format!("{}:tag:{}", scope(self.user()), self.render())
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

/// A tier-2 query and its parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QueryKey {
    /// A user's stored credential, by the selector of their token.
    Credential {
        user: UserId,
        selector: u64,
    },
    Me {
        user: UserId,
    },
    FrequentFoods {
        user: UserId,
        limit: u32,
    },
    /// One calendar month of a user's daily totals (any day of it names
    /// it): summaries of any range are composed of months, so the keys a
    /// user can make grow with the months asked for, not with the ranges.
    SummaryMonth {
        user: UserId,
        month: Day,
    },
    Streak {
        user: UserId,
        today: Day,
    },
    Schedule {
        user: UserId,
        date: Day,
    },
}

impl QueryKey {
    pub fn user(self) -> UserId {
        match self {
            QueryKey::Me { user }
            | QueryKey::Credential { user, .. }
            | QueryKey::FrequentFoods { user, .. }
            | QueryKey::SummaryMonth { user, .. }
            | QueryKey::Streak { user, .. }
            | QueryKey::Schedule { user, .. } => user,
        }
    }

    pub fn family(self) -> &'static str {
        match self {
            QueryKey::Credential { .. } => "credential",
            QueryKey::Me { .. } => "me",
            QueryKey::FrequentFoods { .. } => "frequent_foods",
            QueryKey::SummaryMonth { .. } => "summary",
            QueryKey::Streak { .. } => "streak",
            QueryKey::Schedule { .. } => "schedule",
        }
    }

    pub fn render(self) -> String {
        let scope = scope(self.user());
        match self {
            QueryKey::Credential { selector, .. } => format!("{scope}:q:credential:{selector:016x}"),
            QueryKey::Me { .. } => format!("{scope}:q:me"),
            QueryKey::FrequentFoods { limit, .. } => format!("{scope}:q:frequent_foods:{limit}"),
            QueryKey::SummaryMonth { month, .. } => {
                let first = month.month().0.date();
                format!(
                    "{scope}:q:summary:{:04}-{:02}",
                    chrono::Datelike::year(&first),
                    chrono::Datelike::month(&first)
                )
            }
            QueryKey::Streak { today, .. } => format!("{scope}:q:streak:{today}"),
            QueryKey::Schedule { date, .. } => format!("{scope}:q:schedule:{date}"),
        }
    }
}

fn epoch_guard(user: UserId) -> String {
    format!("{}:epoch", scope(user))
}

/// Everything the engine needs to know about one cached entry: where it
/// lives and which generations guard it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryAddress {
    pub user: UserId,
    pub tier: Tier,
    pub family: &'static str,
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

    /// A tier-1 entry, guarded by its own generation and its user's epoch.
    pub fn tier1(key: Tier1Key) -> Self {
        let rendered = key.render();
        EntryAddress {
            user: key.user(),
            tier: Tier::One,
            family: key.family(),
            key: rendered,
            guards: vec![key.guard(), epoch_guard(key.user())],
        }
    }

    /// A tier-2 entry, guarded by its user's epoch and each of its tags.
    /// Every tag must belong to the query's user.
    pub fn tier2(query: QueryKey, tags: &[Tag]) -> Self {
        debug_assert!(tags.iter().all(|tag| tag.user() == query.user()), "tags of another user");
        let mut guards = Vec::with_capacity(tags.len() + 1);
        guards.push(epoch_guard(query.user()));
        guards.extend(tags.iter().map(|tag| tag.guard()));
        let key = query.render();
        EntryAddress { user: query.user(), tier: Tier::Two, family: query.family(), key, guards }
    }
}

/// One thing a mutation makes the cache forget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    /// One tier-1 key.
    Key(Tier1Key),
    /// A tier-2 tag: every entry that carries it.
    Tag(Tag),
    /// Every tier-1 and tier-2 entry of the user (deleting a user).
    AllOfUser(UserId),
}

impl Target {
    pub fn day_logs(user: UserId, date: Day) -> Target {
        Target::Key(Tier1Key::DayLogs { user, date })
    }

    pub fn user(self) -> UserId {
        match self {
            Target::Key(key) => key.user(),
            Target::Tag(tag) => tag.user(),
            Target::AllOfUser(user) => user,
        }
    }

    pub fn tier(self) -> Tier {
        match self {
            Target::Key(_) | Target::AllOfUser(_) => Tier::One,
            Target::Tag(_) => Tier::Two,
        }
    }

    /// The metrics label of what was invalidated.
    pub fn family(self) -> &'static str {
        match self {
            Target::Key(key) => key.family(),
            Target::Tag(tag) => tag.family().label(),
            Target::AllOfUser(_) => "all_of_user",
        }
    }

    /// The guard whose generation must change.
    pub fn guard(self) -> String {
        match self {
            Target::Key(key) => key.guard(),
            Target::Tag(tag) => tag.guard(),
            Target::AllOfUser(user) => epoch_guard(user),
        }
    }

    /// The entry that can be deleted at once to free memory, if any.
    pub fn entry(self) -> Option<String> {
        match self {
            Target::Key(key) => Some(key.render()),
            Target::Tag(_) | Target::AllOfUser(_) => None,
        }
    }

    /// A human rendering for docs and logs.
    pub fn describe(self) -> String {
        match self {
            Target::Key(key) => key.render(),
            Target::Tag(tag) => tag.render(),
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

    #[test]
    fn golden_tier1_keys() {
        let key = Tier1Key::DayLogs { user: U, date: date("2026-11-24") };
        assert_eq!(key.render(), "macro:{user:42}:logs:2026-11-24");
        let address = EntryAddress::tier1(key);
        assert_eq!(address.guards, ["macro:{user:42}:gen:logs:2026-11-24", "macro:{user:42}:epoch"]);
        assert_eq!(address.family, "logs");
        assert_eq!(address.lease(&[1, 2]), "macro:{user:42}:logs:2026-11-24:lease:082f2407b4e8902a");
        assert_ne!(address.lease(&[1, 2]), address.lease(&[1, 3]), "other generations, another lease");
        assert_ne!(address.lease(&[1, 2]), address.lease(&[2, 1]));
    }

    #[test]
    fn golden_tags() {
        let cases = [
            (Tag::User(U), "user_42"),
            (Tag::UserFood(U), "user_42_food"),
            (Tag::UserLogs(U), "user_42_logs"),
            (Tag::UserCompletion(U), "user_42_completion"),
            (Tag::UserStreaks(U), "user_42_streaks"),
            (Tag::UserScheduled(U), "user_42_scheduled"),
            (Tag::UserScheduledDate(U, date("2026-11-24")), "user_42_scheduled_2026-11-24"),
        ];
        for (tag, rendered) in cases {
            assert_eq!(tag.render(), rendered);
            assert_eq!(Tag::parse_for(U, rendered), Ok(tag), "{rendered}");
            assert_eq!(Target::Tag(tag).guard(), format!("macro:{{user:42}}:tag:{rendered}"));
        }
    }

    #[test]
    fn golden_query_keys() {
        let cases = [
            (QueryKey::Me { user: U }, "macro:{user:42}:q:me"),
            (QueryKey::Credential { user: U, selector: 0xab }, "macro:{user:42}:q:credential:00000000000000ab"),
            (QueryKey::FrequentFoods { user: U, limit: 20 }, "macro:{user:42}:q:frequent_foods:20"),
            (QueryKey::SummaryMonth { user: U, month: date("2026-11-17") }, "macro:{user:42}:q:summary:2026-11"),
            (QueryKey::Streak { user: U, today: date("2026-11-24") }, "macro:{user:42}:q:streak:2026-11-24"),
            (QueryKey::Schedule { user: U, date: date("2026-11-24") }, "macro:{user:42}:q:schedule:2026-11-24"),
        ];
        for (query, rendered) in cases {
            assert_eq!(query.render(), rendered);
        }
        let address =
            EntryAddress::tier2(QueryKey::FrequentFoods { user: U, limit: 5 }, &[Tag::User(U), Tag::UserFood(U)]);
        assert_eq!(
            address.guards,
            ["macro:{user:42}:epoch", "macro:{user:42}:tag:user_42", "macro:{user:42}:tag:user_42_food"]
        );
    }

    #[test]
    fn tag_parsing_refuses_others_and_unknowns() {
        let refused = [
            ("user_43", TagParseError::OtherUser),
            ("user_43_food", TagParseError::OtherUser),
            ("user_42_drinks", TagParseError::UnknownFamily),
            ("user_042", TagParseError::UnknownFamily),
            ("user_+42", TagParseError::UnknownFamily),
            ("user_42_scheduled_2026-02-30", TagParseError::UnknownFamily),
            ("users_42", TagParseError::UnknownFamily),
            ("user_", TagParseError::UnknownFamily),
            ("", TagParseError::UnknownFamily),
        ];
        for (text, error) in refused {
            assert_eq!(Tag::parse_for(U, text), Err(error), "{text}");
        }
    }

    #[test]
    fn every_key_of_a_user_shares_one_hash_tag() {
        let d = date("2026-11-24");
        let mut rendered = vec![Tier1Key::DayLogs { user: U, date: d }.render(), QueryKey::Me { user: U }.render()];
        rendered.extend(
            [Target::AllOfUser(U), Target::Tag(Tag::UserScheduledDate(U, d)), Target::day_logs(U, d)]
                .map(Target::guard),
        );
        for key in rendered {
            assert!(key.contains("{user:42}"), "{key}");
            assert_eq!(key.matches('{').count(), 1, "{key}");
        }
    }
}
