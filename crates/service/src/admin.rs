//! Operator actions: forced invalidation and refresh.

use macrotrack_cache::Freshness;
use macrotrack_cache_keys::{Tag, TagParseError};
use macrotrack_domain::{Day, DayLogs, UserId, ValidationErrors};
use macrotrack_ports::CacheStore;

use crate::{CreateError, Service};

impl<S: CacheStore> Service<S> {
    /// Forced invalidation of rendered tags of one user; returns how many.
    /// The one invalidation not chosen by a mutation: an operator's (each
    /// tag reaches the tier-2 reads that depend on what it names).
    pub async fn admin_invalidate(&self, user: UserId, tags: &[String]) -> Result<usize, CreateError> {
        let mut errors = ValidationErrors::new();
        let mut targets = std::collections::BTreeSet::new();
        for (index, text) in tags.iter().enumerate() {
            match Tag::parse_for(user, text) {
                Ok(tag) => targets.extend(crate::facts::tag_targets(tag)),
                Err(TagParseError::OtherUser) => errors.add(format!("tags.{index}"), "tag of another user"),
                Err(TagParseError::UnknownFamily) => errors.add(format!("tags.{index}"), "unknown tag family"),
            }
        }
        if !errors.is_empty() {
            return Err(CreateError::Invalid(errors));
        }
        self.known_user(user).await?;
        let targets: Vec<_> = targets.into_iter().collect();
        self.cache.invalidate(&targets).await;
        Ok(tags.len())
    }

    /// Forced refresh of a user's day logs: read from the database and stored.
    pub async fn admin_refresh(&self, user: UserId, date: Day) -> Result<DayLogs, CreateError> {
        self.known_user(user).await?;
        Ok(self.day_logs_with(user, date, Freshness::Force).await?)
    }

    /// The user an operator's body names: an unknown one is a broken
    /// reference in the body (422 on `user_id`), not a missing resource.
    async fn known_user(&self, user: UserId) -> Result<(), CreateError> {
        match self.repos.users.user(user).await? {
            Some(_) => Ok(()),
            None => Err(CreateError::Invalid(ValidationErrors::single("user_id", "unknown user"))),
        }
    }
}
