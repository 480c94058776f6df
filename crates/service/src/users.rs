//! Users, authentication and targets.

use macrotrack_cache::Freshness;
use macrotrack_cache_keys::{EntryAddress, QueryKey, Tag};
use macrotrack_domain::{Macros, User, UserId, ValidationErrors};
use macrotrack_ports::CacheStore;

use crate::{AuthError, Facts, GetError, Operation, Service, WriteError, no_check, tokens};

/// A newly created user and the only copy of their token.
#[derive(Debug, Clone)]
pub struct CreatedUser {
    pub user: User,
    pub token: String,
}

impl<S: CacheStore> Service<S> {
    /// Creates a user and returns their token, which is never stored.
    pub async fn create_user(&self, name: &str) -> Result<CreatedUser, WriteError> {
        let name =
            macrotrack_domain::validation::name(name).map_err(|message| ValidationErrors::single("name", message))?;
        let issued = tokens::issue();
        let user = self.repos.users.create_user(&name, &issued.selector, issued.secret_hash).await?;
        Ok(CreatedUser { user, token: issued.token })
    }

    /// The user a bearer token belongs to.
    pub async fn authenticate(&self, token: &str) -> Result<UserId, AuthError> {
        let (selector, secret) = tokens::split(token).ok_or(AuthError::Unauthenticated)?;
        let credential = self.repos.users.credential(selector).await?.ok_or(AuthError::Unauthenticated)?;
        if tokens::matches(secret, &credential.secret_hash) {
            Ok(credential.user)
        } else {
            Err(AuthError::Unauthenticated)
        }
    }

    /// The user and their targets (tier 2, tag `user`).
    pub async fn me(&self, user: UserId) -> Result<User, GetError> {
        let address = EntryAddress::tier2(QueryKey::Me { user }, &[Tag::User(user)]);
        let found: Option<User> = self
            .cached(address, self.policies.me, Freshness::Cached, no_check, move |repos| async move {
                repos.users.user(user).await
            })
            .await
            .map_err(GetError::from)?;
        found.ok_or(GetError::NotFound)
    }

    pub async fn set_targets(&self, user: UserId, targets: Macros) -> Result<Macros, WriteError> {
        let committed = self.repos.users.set_targets(user, targets).await?.ok_or(WriteError::NotFound)?;
        self.forget(Operation::SetTargets, Facts::user(user), Some(committed.outbox)).await;
        Ok(targets)
    }

    /// Deletes the user, all their data and every cached copy of it.
    pub async fn delete_user(&self, user: UserId) -> Result<(), WriteError> {
        let committed = self.repos.users.delete_user(user).await?.ok_or(WriteError::NotFound)?;
        self.forget(Operation::DeleteUser, Facts::user(user), Some(committed.outbox)).await;
        Ok(())
    }
}
