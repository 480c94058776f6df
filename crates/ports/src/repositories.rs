//! Repository ports, one per role, with per-operation errors.

use async_trait::async_trait;
use macrotrack_domain::{Day, DayLogs, Food, FoodId, LogEntry, NewFood, NewLogEntry, Timestamp, User, UserId};

/// The database could not answer (down, timed out, broke a connection).
/// Never carries input mistakes: those are typed per operation.
#[derive(Debug, thiserror::Error)]
#[error("database unavailable")]
pub struct Unavailable(#[source] pub anyhow::Error);

impl Unavailable {
    pub fn new(error: impl Into<anyhow::Error>) -> Self {
        Unavailable(error.into())
    }
}

/// A user's stored credential: a public selector to find the row and the
/// SHA-256 of the secret part, compared in constant time by the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCredential {
    pub user: UserId,
    pub secret_hash: [u8; 32],
}

/// Creates users and finds them by credential.
#[mockall::automock]
#[async_trait]
pub trait UserRepository: Send + Sync + 'static {
    /// MUST create a user with a new, never reused id, storing the selector
    /// and the secret's hash only (never the token itself).
    async fn create_user(&self, name: &str, selector: &str, secret_hash: [u8; 32]) -> Result<User, Unavailable>;

    /// MUST return the credential stored under `selector`, if any.
    async fn credential(&self, selector: &str) -> Result<Option<StoredCredential>, Unavailable>;

    /// MUST return the user with their targets, or `None` when absent.
    async fn user(&self, user: UserId) -> Result<Option<User>, Unavailable>;
}

/// Stores the food catalogue: global foods and each user's own.
#[mockall::automock]
#[async_trait]
pub trait FoodRepository: Send + Sync + 'static {
    /// MUST create a food owned by `owner`.
    async fn create_food(&self, owner: UserId, food: &NewFood) -> Result<Food, Unavailable>;

    /// MUST return the food when it is global or owned by `reader`, and
    /// `None` otherwise (another user's food is as absent as a missing one).
    async fn food(&self, reader: UserId, id: FoodId) -> Result<Option<Food>, Unavailable>;
}

/// Why a batch of log entries was not created.
#[derive(Debug, thiserror::Error)]
pub enum CreateLogsError {
    /// The entry at `index` names a food that is missing or not visible to the user.
    #[error("entry {index}: unknown food")]
    UnknownFood { index: usize },
    /// The entry at `index` names a recipe that is missing or not the user's.
    #[error("entry {index}: unknown recipe")]
    UnknownRecipe { index: usize },
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
}

/// Stores what users ate.
#[mockall::automock]
#[async_trait]
pub trait LogRepository: Send + Sync + 'static {
    /// MUST insert every entry in one transaction, or none of them; each
    /// entry's macros are the food's or recipe's per-serving macros ×
    /// servings (`Macros::times`) at this moment; each food entry adds a use
    /// to the user's count for that food. Returns the entries in input order.
    async fn create_log_entries(
        &self,
        user: UserId,
        entries: &[NewLogEntry],
        now: Timestamp,
    ) -> Result<Vec<LogEntry>, CreateLogsError>;

    /// MUST return the user's entries of `date` (ordered by meal then id)
    /// and whether the day is completed.
    async fn day_logs(&self, user: UserId, date: Day) -> Result<DayLogs, Unavailable>;
}
