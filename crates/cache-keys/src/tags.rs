//! The tier-2 tags as the seed and the contract spell them
//! (`user_42_scheduled_2026-11-24`): what operators name in the admin
//! route. Entries no longer record tags; they record dependency guards
//! (`guards.rs`), and the service maps a tag to the guards of the reads it
//! names.

use std::fmt;

use macrotrack_domain::{Day, UserId};

/// The families of tier-2 tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TagFamily {
    /// Everything of a user.
    User,
    /// A user's foods and recipes.
    UserFood,
    /// A user's log entries.
    UserLogs,
    /// A user's completed days.
    UserCompletion,
    /// A user's streaks.
    UserStreaks,
    /// A user's scheduled plans.
    UserScheduled,
    /// A user's schedule of one date.
    UserScheduledDate,
}

impl TagFamily {
    /// Every family, for what iterates over them (the admin API, docs).
    pub const ALL: [TagFamily; 7] = [
        TagFamily::User,
        TagFamily::UserFood,
        TagFamily::UserLogs,
        TagFamily::UserCompletion,
        TagFamily::UserStreaks,
        TagFamily::UserScheduled,
        TagFamily::UserScheduledDate,
    ];

    /// The family as tag names spell it.
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
    /// Everything of the user.
    User(UserId),
    /// The user's foods and recipes.
    UserFood(UserId),
    /// The user's log entries.
    UserLogs(UserId),
    /// The user's completed days.
    UserCompletion(UserId),
    /// The user's streaks.
    UserStreaks(UserId),
    /// The user's scheduled plans.
    UserScheduled(UserId),
    /// The user's schedule of that date.
    UserScheduledDate(UserId, Day),
}

/// Why a rendered tag was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TagParseError {
    /// Not a family the contract names.
    #[error("unknown tag family")]
    UnknownFamily,
    /// Names a user other than the one asking.
    #[error("tag of another user")]
    OtherUser,
}

impl Tag {
    /// Whose data the tag covers.
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

    /// The family the tag belongs to.
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
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const U: UserId = UserId(42);

    fn date(text: &str) -> Day {
        text.parse().unwrap()
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
        }
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
}
