//! Repository ports, one per role, with per-operation errors.

use async_trait::async_trait;
use macrotrack_domain::{
    AmountError, Day, DayCopy, DayLogs, Food, FoodId, FoodPatch, FrequentFood, Gtin, LogEntry, LogEntryId,
    LogEntryPatch, Macros, MealPlan, MealPlanId, NewFood, NewLogEntry, NewMealPlan, NewRecipe, RecentFood, Recipe,
    RecipeId, ScheduleDay, ScheduledMealId, ScheduledPlan, ScheduledPlanId, Streak, SummaryDay, TimeZone, Timestamp,
    User, UserId, validation,
};

use crate::{Committed, Keep};

/// The database could not answer (down, timed out, broke a connection).
/// Never carries input mistakes: those are typed per operation.
#[derive(Debug, thiserror::Error)]
#[error("database unavailable")]
pub struct Unavailable(#[source] pub anyhow::Error);

impl Unavailable {
    /// An outage caused by `error`.
    pub fn new(error: impl Into<anyhow::Error>) -> Self {
        Unavailable(error.into())
    }
}

/// A user's stored credential: a public selector to find the row and the
/// SHA-256 of the secret part, compared in constant time by the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCredential {
    /// Whose credential it is.
    pub user: UserId,
    /// SHA-256 of the token's secret: the secret itself is never stored.
    pub secret_hash: [u8; 32],
}

/// Creates users and finds them by credential.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait UserRepository: Send + Sync + 'static {
    /// MUST create a user with a new, never reused id, storing the selector
    /// and the secret's hash only (never the token itself).
    async fn create_user(&self, name: &str, selector: &str, secret_hash: [u8; 32]) -> Result<User, Unavailable>;

    /// MUST return the credential stored under `selector`, if any.
    async fn credential(&self, selector: &str) -> Result<Option<StoredCredential>, Unavailable>;

    /// MUST return the user with their targets, or `None` when absent.
    async fn user(&self, user: UserId) -> Result<Option<User>, Unavailable>;

    /// MUST set the user's targets and write an outbox row for the user in
    /// the same transaction; `None` (and no row) when the user does not exist.
    async fn set_targets(&self, user: UserId, targets: Macros) -> Result<Option<Committed<()>>, Unavailable>;

    /// MUST set the user's time zone and write an outbox row for the user in
    /// the same transaction; `None` (and no row) when the user does not exist.
    async fn set_timezone(&self, user: UserId, zone: TimeZone) -> Result<Option<Committed<()>>, Unavailable>;

    /// MUST delete the user and everything of theirs (foods, recipes, log
    /// entries, use counts, completions, plans, schedules) in one
    /// transaction, writing an outbox row for the user in it (the row
    /// outlives the user); `None` (and no row) when the user did not exist.
    async fn delete_user(&self, user: UserId) -> Result<Option<Committed<()>>, Unavailable>;
}

/// Why a food was not edited.
#[derive(Debug, thiserror::Error)]
pub enum UpdateFoodError {
    /// Missing, or another user's.
    #[error("food not found")]
    NotFound,
    /// Global foods are read-only.
    #[error("global foods are read-only")]
    Global,
    /// The food is no longer in the state the edit expected.
    #[error("the food has changed")]
    Changed,
    /// The database could not be used.
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
}

/// Why a food was not created.
#[derive(Debug, thiserror::Error)]
pub enum CreateFoodError {
    /// The user already owns `MAX_OWN_FOODS` foods.
    #[error("the user owns {} foods, the most one may", validation::MAX_OWN_FOODS)]
    Full,
    /// The database could not be used.
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
}

/// Stores the food catalogue: global foods and each user's own.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait FoodRepository: Send + Sync + 'static {
    /// MUST create a food owned by `owner`, unless they own
    /// `MAX_OWN_FOODS` already (`Full`), counted in the same transaction
    /// under a lock that keeps concurrent creates of the user apart, and
    /// write an outbox row for the user in it (the user's searches show
    /// the new food).
    async fn create_food(&self, owner: UserId, food: &NewFood) -> Result<Committed<Food>, CreateFoodError>;

    /// MUST do as `create_food` does and, in the same transaction, keep the
    /// answer `keep` renders from its value (`IdempotencyRepository::keep`'s
    /// rule: if the claim is no longer held, fail and write nothing).
    async fn create_food_keeping(
        &self,
        owner: UserId,
        food: &NewFood,
        keep: Keep<Food>,
    ) -> Result<Committed<Food>, CreateFoodError>;

    /// MUST return the food when it is global or owned by `reader`, and
    /// `None` otherwise (another user's food is as absent as a missing one).
    async fn food(&self, reader: UserId, id: FoodId) -> Result<Option<Food>, Unavailable>;

    /// MUST return the food visible to `reader` whose barcode is `code`
    /// (its GTIN-14); of several, the most recently imported, then the
    /// highest id; `None` when no visible food carries it.
    async fn food_by_barcode(&self, reader: UserId, code: &Gtin) -> Result<Option<Food>, Unavailable>;

    /// MUST return at most `limit` of the foods `reader` owns or has logged
    /// (a use count above zero) that match `query` (`search_foods`' rule),
    /// ordered most uses first, then as `search_catalogue` orders.
    async fn search_own_foods(&self, reader: UserId, query: &str, limit: u32) -> Result<Vec<Food>, Unavailable>;

    /// MUST return at most `limit` global foods in which every
    /// whitespace-separated word of `query` occurs in the name or in the
    /// brand, case- and diacritic-insensitively (as `domain::fold` folds;
    /// every global food when `query` has no word), ordered: names whose
    /// first word starts with the query's first word, then generic before
    /// branded, then fewer words in the name, then the folded name, then id.
    async fn search_catalogue(&self, query: &str, limit: u32) -> Result<Vec<Food>, Unavailable>;

    /// At most `limit` foods visible to `reader` matching `query`, in the
    /// contract's order: the reader's own and logged foods first (most uses
    /// first), then the catalogue's (`domain::merge_search` of the two).
    async fn search_foods(&self, reader: UserId, query: &str, limit: u32) -> Result<Vec<Food>, Unavailable> {
        let own = self.search_own_foods(reader, query, limit).await?;
        let rows = macrotrack_domain::catalogue_rows_needed(&own, limit as usize);
        let catalogue = self.search_catalogue(query, u32::try_from(rows).unwrap_or(u32::MAX)).await?;
        Ok(macrotrack_domain::merge_search(own, catalogue, limit as usize))
    }

    /// MUST return the catalogue's generation: the number an import that
    /// changed the catalogue raises (`CatalogueImport::finish_import`).
    async fn catalogue_generation(&self) -> Result<u64, Unavailable>;

    /// MUST return at most `limit` foods the user logged at least once, with
    /// their use counts, most uses first, ties by food id ascending.
    async fn frequent_foods(&self, user: UserId, limit: u32) -> Result<Vec<FrequentFood>, Unavailable>;

    /// MUST return at most `limit` distinct foods of the user's food log
    /// entries (not recipe or quick entries), ordered by their most recently
    /// created entry, newest first, ties by food id ascending; each with
    /// that entry's date (of entries created together, the highest id's).
    async fn recent_foods(&self, user: UserId, limit: u32) -> Result<Vec<RecentFood>, Unavailable>;

    /// MUST, in one transaction, apply `patch` to the food when `owner` owns
    /// it, recompute the per-serving macros of every recipe that uses it
    /// (`Recipe::per_serving`, from its foods as they are now), and write an
    /// outbox row; log entries keep their snapshots. A global food is
    /// `Global`, a missing or foreign one `NotFound` (and no row either way).
    /// With `expected`, the food MUST be read under the write's lock and,
    /// when it differs from `expected`, left as it is: `Changed` (so two
    /// edits that both expect one state cannot both apply).
    async fn update_food(
        &self,
        owner: UserId,
        id: FoodId,
        patch: &FoodPatch,
        expected: Option<Food>,
    ) -> Result<Committed<Food>, UpdateFoodError>;
}

/// Why a recipe was not created.
#[derive(Debug, thiserror::Error)]
pub enum CreateRecipeError {
    /// The ingredient at `index` names a food missing or not visible to the user.
    #[error("ingredient {index}: unknown food")]
    UnknownFood {
        /// Its position in the request, so the error can name it.
        index: usize,
    },
    /// The user already owns `MAX_OWN_RECIPES` recipes.
    #[error("the user owns {} recipes, the most one may", validation::MAX_OWN_RECIPES)]
    Full,
    /// The database could not be used.
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
}

/// Stores users' recipes.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait RecipeRepository: Send + Sync + 'static {
    /// MUST create the recipe with its ingredients in their given order and
    /// its per-serving macros computed by `Recipe::per_serving` from the
    /// foods' current per-serving macros, in one transaction; `Full` (and
    /// nothing written) when the owner has `MAX_OWN_RECIPES` already,
    /// counted as for foods.
    async fn create_recipe(&self, owner: UserId, recipe: &NewRecipe) -> Result<Recipe, CreateRecipeError>;

    /// MUST do as `create_recipe` does and, in the same transaction, keep the
    /// answer `keep` renders from its value (`IdempotencyRepository::keep`'s
    /// rule: if the claim is no longer held, fail and write nothing).
    async fn create_recipe_keeping(
        &self,
        owner: UserId,
        recipe: &NewRecipe,
        keep: Keep<Recipe>,
    ) -> Result<Recipe, CreateRecipeError>;

    /// MUST return the recipe when `reader` owns it, else `None`.
    async fn recipe(&self, reader: UserId, id: RecipeId) -> Result<Option<Recipe>, Unavailable>;
}

/// Why a batch of log entries was not created.
#[derive(Debug, thiserror::Error)]
pub enum CreateLogsError {
    /// The entry at `index` names a food that is missing or not visible to the user.
    #[error("entry {index}: unknown food")]
    UnknownFood {
        /// Its position in the request, so the error can name it.
        index: usize,
    },
    /// The entry at `index` names a recipe that is missing or not the user's.
    #[error("entry {index}: unknown recipe")]
    UnknownRecipe {
        /// Its position in the request, so the error can name it.
        index: usize,
    },
    /// The entry at `index` gives an amount its item cannot be measured in
    /// (`LogAmount::measure`).
    #[error("entry {index}: {}", error.message())]
    Amount {
        /// Its position in the request, so the error can name it.
        index: usize,
        /// Which rule.
        error: AmountError,
    },
    /// `date` would hold more than `MAX_DAY_ENTRIES` entries (the earliest
    /// such date of the batch).
    #[error("{date} would hold more than {} entries", validation::MAX_DAY_ENTRIES)]
    DayFull {
        /// The day that would pass its bound.
        date: Day,
    },
    /// The database could not be used.
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
}

/// Why a log entry was not changed.
#[derive(Debug, thiserror::Error)]
pub enum UpdateLogError {
    /// Moving it would make `date` hold more than `MAX_DAY_ENTRIES` entries.
    #[error("{date} would hold more than {} entries", validation::MAX_DAY_ENTRIES)]
    DayFull {
        /// The day that would pass its bound.
        date: Day,
    },
    /// The new amount cannot be measured for the entry's item, or a
    /// quantity alone was given for an entry not logged by portion.
    #[error("{}: {}", .0.field(), .0.message())]
    Amount(AmountError),
    /// `quick` names an entry that is not a quick add.
    #[error("quick: changes only a quick entry")]
    NotQuick,
    /// An amount (the field named) names a quick entry, which has none.
    #[error("{0}: a quick entry has no amount")]
    QuickAmount(&'static str),
    /// The database could not be used.
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
}

/// Stores what users ate.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait LogRepository: Send + Sync + 'static {
    /// MUST insert every entry in one transaction, or none of them; each
    /// entry's name and macros are the food's (global or own) or the
    /// recipe's (own) name and its amount measured (`LogAmount::measure`:
    /// servings, grams, portion and macros) at this moment, or
    /// `Amount` for the first entry whose amount cannot be measured; each food entry adds a use to the
    /// user's count for that food; and one outbox row for the user. Returns
    /// the entries in input order. A batch that would make any of its
    /// dates hold more than `MAX_DAY_ENTRIES` entries is `DayFull` and
    /// writes nothing; the count is taken in the write's transaction under
    /// a lock that keeps concurrent writes of the user apart, so no two
    /// batches can pass the bound together.
    async fn create_log_entries(
        &self,
        user: UserId,
        entries: &[NewLogEntry],
        now: Timestamp,
    ) -> Result<Committed<Vec<LogEntry>>, CreateLogsError>;

    /// MUST do as `create_log_entries` does and, in the same transaction, keep the
    /// answer `keep` renders from its value (`IdempotencyRepository::keep`'s
    /// rule: if the claim is no longer held, fail and write nothing).
    async fn create_log_entries_keeping(
        &self,
        user: UserId,
        entries: &[NewLogEntry],
        now: Timestamp,
        keep: Keep<Vec<LogEntry>>,
    ) -> Result<Committed<Vec<LogEntry>>, CreateLogsError>;

    /// MUST return the user's entries of `date` (ordered by meal then id)
    /// and whether the day is completed.
    async fn day_logs(&self, user: UserId, date: Day) -> Result<DayLogs, Unavailable>;

    /// MUST return the user's entry, or `None` (also for another user's).
    async fn log_entry(&self, user: UserId, id: LogEntryId) -> Result<Option<LogEntry>, Unavailable>;

    /// MUST apply the patch to the user's entry and take its snapshot anew
    /// from the food or recipe as it is now: its name, and its amount (the
    /// new one, else the one it was logged by) measured by
    /// `LogAmount::measure`, refusing what cannot be measured (`Amount`) and
    /// changing nothing then; set `updated_at` to `now`, and write an outbox
    /// row, in one transaction. Returns the entry before and after, or
    /// `None` (and no row) when it is not theirs. A move to another date
    /// that would make it hold more than `MAX_DAY_ENTRIES` entries is
    /// `DayFull` and changes nothing (counted as `create_log_entries` does).
    async fn update_log_entry(
        &self,
        user: UserId,
        id: LogEntryId,
        patch: LogEntryPatch,
        now: Timestamp,
    ) -> Result<Option<Committed<(LogEntry, LogEntry)>>, UpdateLogError>;

    /// MUST delete the user's entry and, for a food entry, take one use back
    /// from the food's count, and write an outbox row, in one transaction.
    /// Returns the deleted entry, or `None` (and no row).
    async fn delete_log_entry(&self, user: UserId, id: LogEntryId) -> Result<Option<Committed<LogEntry>>, Unavailable>;

    /// MUST return, for each date in `from..=to` that has entries, the
    /// round2 totals of its entries and their number, ordered by date.
    async fn summary(&self, user: UserId, from: Day, to: Day) -> Result<Vec<SummaryDay>, Unavailable>;

    /// MUST return the user's entries of `from..=to` in day order: by date,
    /// then as `day_logs` orders a day (meal, then id). Callers keep the
    /// range short (an export reads page by page): a day holds at most
    /// `MAX_DAY_ENTRIES` entries, so the answer is bounded by the range.
    async fn entries_between(&self, user: UserId, from: Day, to: Day) -> Result<Vec<LogEntry>, Unavailable>;

    /// MUST copy the user's entries of `copy.from` (only those of
    /// `copy.meal` when given) to `copy.to`, into `copy.meal_of_copy`, in
    /// day order, as `create_log_entries` writes a batch: all or nothing,
    /// each copy a new entry keeping the source's food, recipe or quick
    /// macros, its amount as logged (unit, grams, portion snapshot), name
    /// and macros, created `now`; a food entry's copy adds a use; one
    /// outbox row; `keep`'s answer in the same transaction. Returns the
    /// copies in day order. Nothing to copy is `Nothing` and a copy that
    /// would pass `to`'s bound is `DayFull`; both write nothing.
    async fn copy_day(
        &self,
        user: UserId,
        copy: DayCopy,
        now: Timestamp,
        keep: Option<Keep<Vec<LogEntry>>>,
    ) -> Result<Committed<Vec<LogEntry>>, CopyDayError>;
}

/// Why a day was not copied.
#[derive(Debug, thiserror::Error)]
pub enum CopyDayError {
    /// The day (or its meal) has no entry.
    #[error("nothing to copy")]
    Nothing,
    /// `to` would hold more than `MAX_DAY_ENTRIES` entries.
    #[error("the day copied to would hold more than {} entries", validation::MAX_DAY_ENTRIES)]
    DayFull,
    /// The database could not be used.
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
}

/// Stores which days users completed.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait CompletionRepository: Send + Sync + 'static {
    /// MUST mark the day completed (idempotent) and write an outbox row, in
    /// one transaction.
    async fn complete_day(&self, user: UserId, date: Day) -> Result<Committed<()>, Unavailable>;

    /// MUST unmark the day (idempotent) and write an outbox row, in one
    /// transaction.
    async fn undo_day(&self, user: UserId, date: Day) -> Result<Committed<()>, Unavailable>;

    /// MUST answer the user's streaks as of `today`, as `Streak::compute`
    /// of their completed days would, reading a bounded number of rows
    /// however long their history (what a streak is read from is kept up to
    /// date by `complete_day` and `undo_day`).
    async fn streak(&self, user: UserId, today: Day) -> Result<Streak, Unavailable>;

    /// MUST return the user's completed days in `from..=to`, in any order.
    async fn completed_between(&self, user: UserId, from: Day, to: Day) -> Result<Vec<Day>, Unavailable>;
}

/// Why a meal plan was not created.
#[derive(Debug, thiserror::Error)]
pub enum CreatePlanError {
    /// The item at `index` names a recipe missing or not the user's.
    #[error("item {index}: unknown recipe")]
    UnknownRecipe {
        /// Its position in the request, so the error can name it.
        index: usize,
    },
    /// The user already owns `MAX_OWN_MEAL_PLANS` meal plans.
    #[error("the user owns {} meal plans, the most one may", validation::MAX_OWN_MEAL_PLANS)]
    Full,
    /// The database could not be used.
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
}

/// Why a meal plan was not scheduled.
#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    /// The plan is missing or not the user's.
    #[error("meal plan not found")]
    NotFound,
    /// Its days would pass the last supported date.
    #[error("the schedule would end after 2200-12-31")]
    OutOfRange,
    /// Some of its days already belong to another scheduled plan of the user.
    #[error("overlaps scheduled plan {0}")]
    Overlaps(ScheduledPlanId),
    /// The database could not be used.
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
}

/// Stores meal plans and their schedules.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait PlanRepository: Send + Sync + 'static {
    /// MUST create the plan with its items in their given order; every
    /// recipe must be the owner's; `Full` (and nothing written) when the
    /// owner has `MAX_OWN_MEAL_PLANS` already, counted as for foods.
    async fn create_meal_plan(&self, owner: UserId, plan: &NewMealPlan) -> Result<MealPlan, CreatePlanError>;

    /// MUST do as `create_meal_plan` does and, in the same transaction, keep the
    /// answer `keep` renders from its value (`IdempotencyRepository::keep`'s
    /// rule: if the claim is no longer held, fail and write nothing).
    async fn create_meal_plan_keeping(
        &self,
        owner: UserId,
        plan: &NewMealPlan,
        keep: Keep<MealPlan>,
    ) -> Result<MealPlan, CreatePlanError>;

    /// MUST return the plan when `reader` owns it.
    async fn meal_plan(&self, reader: UserId, id: MealPlanId) -> Result<Option<MealPlan>, Unavailable>;

    /// MUST, in one transaction, refuse a schedule whose days
    /// `start..=start+days-1` overlap another scheduled plan of the user,
    /// and otherwise create the scheduled plan, one scheduled meal per item
    /// on `start + item.day`, and an outbox row.
    async fn schedule_meal_plan(
        &self,
        user: UserId,
        plan: MealPlanId,
        start: Day,
    ) -> Result<Committed<ScheduledPlan>, ScheduleError>;

    /// MUST do as `schedule_meal_plan` does and, in the same transaction, keep the
    /// answer `keep` renders from its value (`IdempotencyRepository::keep`'s
    /// rule: if the claim is no longer held, fail and write nothing).
    async fn schedule_meal_plan_keeping(
        &self,
        user: UserId,
        plan: MealPlanId,
        start: Day,
        keep: Keep<ScheduledPlan>,
    ) -> Result<Committed<ScheduledPlan>, ScheduleError>;

    /// MUST return the scheduled plan covering `date` (even with no meals
    /// that day) and its meals of that date, each with `logged` true when
    /// the user has a log entry on that date with the same meal and recipe.
    async fn schedule_day(&self, user: UserId, date: Day) -> Result<ScheduleDay, Unavailable>;

    /// MUST delete the user's scheduled meal and write an outbox row, in one
    /// transaction; returns its date, or `None` (and no row).
    async fn delete_scheduled_meal(
        &self,
        user: UserId,
        id: ScheduledMealId,
    ) -> Result<Option<Committed<Day>>, Unavailable>;

    /// MUST delete the user's scheduled plan with all its meals and write an
    /// outbox row, in one transaction; returns it, or `None` (and no row).
    async fn delete_scheduled_plan(
        &self,
        user: UserId,
        id: ScheduledPlanId,
    ) -> Result<Option<Committed<ScheduledPlan>>, Unavailable>;
}
