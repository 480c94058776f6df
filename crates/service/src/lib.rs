//! The use cases of Macrotrack, and the only place that decides what the
//! cache forgets: each mutation describes what it changed (`Facts`) and
//! applies the matrix (`matrix::MATRIX`) after its transaction commits.
//! Reads go through the cache engine with the policies of `Policies`.

mod errors;
pub mod matrix;
mod policies;
mod tokens;

use std::sync::Arc;

use macrotrack_cache::{Engine, Freshness, InvalidationReport, StoreStatus};
use macrotrack_cache_keys::{EntryAddress, Tag, TagParseError, Target, Tier1Key};
use macrotrack_domain::{
    Day, DayLogs, Food, FoodId, FoodInput, LogEntry, LogItem, NewFood, NewLogEntry, Timestamp, User, UserId,
    ValidationErrors,
};
use macrotrack_ports::{
    CacheStore, Clock, CreateLogsError, FoodRepository, LogRepository, Unavailable, UserRepository,
};

pub use errors::{AuthError, GetError, ReadError, WriteError};
pub use matrix::{Facts, ItemKind, Matrix, Operation};
pub use policies::Policies;

/// The repositories the use cases need, each behind its port.
#[derive(Clone)]
pub struct Repositories {
    pub users: Arc<dyn UserRepository>,
    pub foods: Arc<dyn FoodRepository>,
    pub logs: Arc<dyn LogRepository>,
}

impl Repositories {
    /// All roles played by one adapter (the SeaORM repository).
    pub fn from_one<R: UserRepository + FoodRepository + LogRepository>(repository: R) -> Self {
        let shared = Arc::new(repository);
        Repositories { users: shared.clone(), foods: shared.clone(), logs: shared }
    }
}

/// A newly created user and the only copy of their token.
#[derive(Debug, Clone)]
pub struct CreatedUser {
    pub user: User,
    pub token: String,
}

/// The use cases over repositories and a cache store `S`.
pub struct Service<S> {
    repos: Repositories,
    cache: Engine<S>,
    clock: Arc<dyn Clock>,
    policies: Policies,
    matrix: Matrix,
}

impl<S> Clone for Service<S> {
    fn clone(&self) -> Self {
        Service {
            repos: self.repos.clone(),
            cache: self.cache.clone(),
            clock: self.clock.clone(),
            policies: self.policies,
            matrix: self.matrix.clone(),
        }
    }
}

impl<S: CacheStore> Service<S> {
    pub fn new(repos: Repositories, cache: Engine<S>, clock: Arc<dyn Clock>, policies: Policies) -> Self {
        Service { repos, cache, clock, policies, matrix: Matrix::default() }
    }

    /// Replaces the invalidation matrix (tests prove each rule is needed).
    pub fn with_matrix(mut self, matrix: Matrix) -> Self {
        self.matrix = matrix;
        self
    }

    pub fn cache(&self) -> &Engine<S> {
        &self.cache
    }

    pub async fn cache_status(&self) -> StoreStatus {
        self.cache.store_status().await
    }

    fn now(&self) -> Timestamp {
        Timestamp::new(self.clock.now())
    }

    /// Today's date in UTC, the default `today` of streaks.
    pub fn today(&self) -> Option<Day> {
        Day::new(self.clock.now().date_naive()).ok()
    }

    /// Applies the matrix row of `operation`: the one way use cases forget.
    async fn forget(&self, operation: Operation, facts: Facts) -> InvalidationReport {
        let targets: Vec<Target> = self.matrix.targets(operation, &facts).into_iter().collect();
        let report = self.cache.invalidate(&targets).await;
        if report.deferred > 0 {
            tracing::warn!(
                ?operation,
                deferred = report.deferred,
                "invalidations deferred until the cache store answers"
            );
        }
        report
    }

    // ---- users and auth -------------------------------------------------

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

    // ---- foods ------------------------------------------------------------

    pub async fn create_food(&self, user: UserId, input: FoodInput) -> Result<Food, WriteError> {
        let food = NewFood::parse(input)?;
        let created = self.repos.foods.create_food(user, &food).await?;
        self.forget(Operation::CreateFood, Facts::user(user)).await;
        Ok(created)
    }

    pub async fn food(&self, user: UserId, id: FoodId) -> Result<Food, GetError> {
        self.repos.foods.food(user, id).await?.ok_or(GetError::NotFound)
    }

    // ---- log entries --------------------------------------------------------

    /// Logs a validated batch, all or nothing, then forgets every date it touched.
    pub async fn create_log_entries(
        &self,
        user: UserId,
        entries: Vec<NewLogEntry>,
    ) -> Result<Vec<LogEntry>, WriteError> {
        let created =
            self.repos.logs.create_log_entries(user, &entries, self.now()).await.map_err(|error| match error {
                CreateLogsError::UnknownFood { index } => {
                    WriteError::Invalid(ValidationErrors::single(format!("entries.{index}.food_id"), "unknown food"))
                }
                CreateLogsError::UnknownRecipe { index } => WriteError::Invalid(ValidationErrors::single(
                    format!("entries.{index}.recipe_id"),
                    "unknown recipe",
                )),
                CreateLogsError::Unavailable(unavailable) => WriteError::Unavailable(unavailable),
            })?;
        let touched = entries.iter().map(|entry| (entry.date, item_kind(entry.item)));
        self.forget(Operation::CreateLogEntries, Facts::touched(user, touched)).await;
        Ok(created)
    }

    /// A day's entries and totals (tier 1).
    pub async fn day_logs(&self, user: UserId, date: Day) -> Result<DayLogs, ReadError> {
        self.day_logs_with(user, date, Freshness::Cached).await
    }

    async fn day_logs_with(&self, user: UserId, date: Day, freshness: Freshness) -> Result<DayLogs, ReadError> {
        let address = EntryAddress::tier1(Tier1Key::DayLogs { user, date });
        let logs = self.repos.logs.clone();
        let fetch = move || {
            let logs = logs.clone();
            async move { logs.day_logs(user, date).await }
        };
        Ok(self.cache.read(&address, self.policies.day_logs, freshness, DayLogs::check, fetch).await?)
    }

    // ---- admin ---------------------------------------------------------------

    /// Forced invalidation of rendered tags of one user.
    pub async fn admin_invalidate(&self, user: UserId, tags: &[String]) -> Result<usize, WriteError> {
        let mut errors = ValidationErrors::new();
        let mut targets = Vec::with_capacity(tags.len());
        for (index, text) in tags.iter().enumerate() {
            match Tag::parse_for(user, text) {
                Ok(tag) => targets.push(Target::Tag(tag)),
                Err(TagParseError::OtherUser) => errors.add(format!("tags.{index}"), "tag of another user"),
                Err(TagParseError::UnknownFamily) => errors.add(format!("tags.{index}"), "unknown tag family"),
            }
        }
        if !errors.is_empty() {
            return Err(WriteError::Invalid(errors));
        }
        self.repos.users.user(user).await?.ok_or(WriteError::NotFound)?;
        self.cache.invalidate(&targets).await;
        Ok(targets.len())
    }

    /// Forced refresh of a user's day logs: read from the database and stored.
    pub async fn admin_refresh(&self, user: UserId, date: Day) -> Result<DayLogs, GetError> {
        self.repos.users.user(user).await?.ok_or(GetError::NotFound)?;
        self.day_logs_with(user, date, Freshness::Force)
            .await
            .map_err(|ReadError::Unavailable(error)| GetError::Unavailable(error))
    }

    /// Whether the database answers (`/readyz`): a real query.
    pub async fn database_ready(&self) -> Result<(), Unavailable> {
        self.repos.users.user(UserId(0)).await.map(|_| ())
    }
}

fn item_kind(item: LogItem) -> ItemKind {
    match item {
        LogItem::Food(_) => ItemKind::Food,
        LogItem::Recipe(_) => ItemKind::Recipe,
    }
}
