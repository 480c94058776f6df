//! A seeded random walk over every mutation and every cached read, against
//! two services on one database: one cached, one with the cache off. Every
//! read of the cached service must equal the uncached one.

use std::fmt::Debug;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use macrotrack_cache::{Engine, EngineConfig};
use macrotrack_domain::{
    Day, FoodId, FoodInput, LogEntryId, LogEntryPatch, LogItem, Macros, Meal, MealPlanId, MealPlanInput,
    MealPlanItemInput, NewLogEntry, RecipeId, RecipeInput, ScheduledMealId, ScheduledPlanId, UserId,
};
use macrotrack_ports::{CacheStore, Clock};
use macrotrack_service::{Matrix, Policies, Repositories, Service};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// A clock the walk moves forward, so entries go stale and expire. It
/// starts amid the walk's days (2026-11-22), so reads whose caching depends
/// on being near today (streaks) are cached for some of them.
#[derive(Default)]
pub struct WalkClock(AtomicI64);

impl Clock for WalkClock {
    fn now(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(1_795_305_600_000 + self.0.load(Ordering::SeqCst)).unwrap_or_default()
    }
}

/// What the walk knows of one user, learned from answers.
#[derive(Default)]
struct Known {
    id: Option<UserId>,
    foods: Vec<FoodId>,
    recipes: Vec<RecipeId>,
    entries: Vec<LogEntryId>,
    entry_dates: std::collections::HashMap<LogEntryId, Day>,
    plans: Vec<MealPlanId>,
    scheduled_plans: Vec<ScheduledPlanId>,
    scheduled_meals: Vec<ScheduledMealId>,
    /// (date, meal, recipe) of scheduled meals seen in reads: logging one
    /// of these flips its `logged` flag.
    scheduled_slots: Vec<(Day, Meal, RecipeId)>,
    /// Entries logged into a scheduled slot (their `logged` flag is true).
    slot_entries: Vec<LogEntryId>,
}

pub struct Walk<S: CacheStore, P: CacheStore> {
    cached: Service<S>,
    plain: Service<P>,
    clock: Arc<WalkClock>,
    rng: StdRng,
    users: Vec<Known>,
    /// Deleted users: their reads must show nothing, cached or not.
    ghosts: Vec<UserId>,
    global_foods: Vec<FoodId>,
    pub reads: usize,
    pub mutations: usize,
}

fn day(offset: i64) -> Day {
    "2026-11-20".parse::<Day>().ok().and_then(|d| d.plus_days(offset)).unwrap_or_else(|| unreachable!())
}

/// The kinds of cached reads `read` knows.
const READ_KINDS: usize = 8;

/// A few days, so mutations and reads meet often.
const DAYS: i64 = 6;

impl<S: CacheStore, P: CacheStore> Walk<S, P> {
    pub async fn new(repos: Repositories, cached_store: S, plain_store: P, matrix: Matrix, seed: u64) -> Self {
        let clock = Arc::new(WalkClock::default());
        // As the server configures a shared store: a store behind the walk's
        // own bumps would show in `store_behind`.
        let config = EngineConfig { own_bumps_window: Some(Duration::from_secs(30)), ..EngineConfig::default() };
        let cached_engine = Engine::new(cached_store, clock.clone(), config);
        let plain_engine =
            Engine::new(plain_store, clock.clone(), EngineConfig { enabled: false, ..EngineConfig::default() });
        let cached = Service::new(repos.clone(), cached_engine, clock.clone(), Policies::default())
            .with_matrix(matrix)
            .warm_after_writes(macrotrack_service::WARM_DAYS_AFTER_A_WRITE);
        let plain = Service::new(repos, plain_engine, clock.clone(), Policies::default());
        let mut walk = Walk {
            cached,
            plain,
            clock,
            rng: StdRng::seed_from_u64(seed),
            users: Vec::new(),
            ghosts: Vec::new(),
            global_foods: Vec::new(),
            reads: 0,
            mutations: 0,
        };
        for _ in 0..3 {
            let known = walk.new_user().await;
            walk.users.push(known);
        }
        let someone = walk.users[0].id.unwrap_or(UserId(0));
        let globals = walk.plain.search_foods(someone, "", Some(100)).await.unwrap_or_default();
        walk.global_foods = globals.iter().take(8).map(|food| food.id).collect();
        walk
    }

    async fn new_user(&mut self) -> Known {
        let created = self.cached.create_user("walker").await.expect("create user");
        Known { id: Some(created.user.id), ..Known::default() }
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> Option<T> {
        (!items.is_empty()).then(|| items[self.rng.random_range(0..items.len())])
    }

    /// An entry of user `who`, half of the time one logged into a scheduled slot.
    fn pick_entry(&mut self, who: usize) -> Option<LogEntryId> {
        let slotted = self.pick(&self.users[who].slot_entries.clone()).filter(|_| self.rng.random_bool(0.5));
        slotted.or_else(|| self.pick(&self.users[who].entries.clone()))
    }

    fn some_day(&mut self) -> Day {
        day(self.rng.random_range(0..DAYS))
    }

    fn some_meal(&mut self) -> Meal {
        Meal::ALL[self.rng.random_range(0..4)]
    }

    /// Runs `steps` random steps; the first divergence ends the walk.
    /// Guards the cached store answered older than the walk had set them.
    pub fn store_behind(&self) -> u64 {
        self.cached.cache().stats().store_behind
    }

    pub async fn run(&mut self, steps: usize) -> Result<(), String> {
        for step in 0..steps {
            let who = self.rng.random_range(0..self.users.len());
            if self.rng.random_bool(0.5) {
                let user = self.reader(who);
                let date = self.some_day();
                let kind = self.rng.random_range(0..READ_KINDS);
                self.read(who, user, date, kind).await.map_err(|divergence| format!("step {step}: {divergence}"))?;
            } else {
                let (user, date) = self.mutate(who).await;
                // Probe every read right after the write: what it changed is
                // read before another write can hide a missing invalidation.
                for kind in 0..READ_KINDS {
                    self.read(who, user, date, kind)
                        .await
                        .map_err(|divergence| format!("step {step} (probe): {divergence}"))?;
                }
            }
            if self.rng.random_bool(0.05) {
                // Minutes pass: entries become stale (served while refreshed) or expire.
                let minutes = self.rng.random_range(1..30);
                self.clock.0.fetch_add(minutes * 60_000, Ordering::SeqCst);
            }
        }
        Ok(())
    }

    /// A user to read: usually the walker, sometimes a deleted one.
    fn reader(&mut self, who: usize) -> UserId {
        if !self.ghosts.is_empty() && self.rng.random_bool(0.1) {
            self.pick(&self.ghosts.clone()).unwrap_or(UserId(0))
        } else {
            self.users[who].id.unwrap_or(UserId(0))
        }
    }

    async fn read(&mut self, who: usize, user: UserId, date: Day, kind: usize) -> Result<(), String> {
        self.reads += 1;
        let other = self.some_day();
        match kind {
            0 => same("day logs", self.cached.day_logs(user, date).await, self.plain.day_logs(user, date).await),
            1 => same("me", self.cached.me(user).await, self.plain.me(user).await),
            2 => {
                let limit = Some([1, 3, 20][self.rng.random_range(0..3)]);
                same(
                    "frequent foods",
                    self.cached.frequent_foods(user, limit).await,
                    self.plain.frequent_foods(user, limit).await,
                )
            }
            3 => {
                let (from, to) = (date.min(other), date.max(other));
                same("summary", self.cached.summary(user, from, to).await, self.plain.summary(user, from, to).await)
            }
            4 => same("streak", self.cached.streak(user, date).await, self.plain.streak(user, date).await),
            5 => {
                let cached = self.cached.schedule_day(user, date).await;
                if let (Ok(schedule), Some(known)) = (&cached, self.users.get_mut(who)) {
                    known.scheduled_meals.extend(schedule.meals.iter().map(|meal| meal.id));
                    known.scheduled_slots.extend(schedule.meals.iter().map(|meal| (date, meal.meal, meal.recipe_id)));
                }
                same("schedule", cached, self.plain.schedule_day(user, date).await)
            }
            _ => same(
                "dashboard",
                self.cached.dashboard(user, date, other).await,
                self.plain.dashboard(user, date, other).await,
            ),
        }
    }

    /// One random mutation by user `who`; returns the user and the date it
    /// was about, for the probe that follows.
    async fn mutate(&mut self, who: usize) -> (UserId, Day) {
        self.mutations += 1;
        let date = self.some_day();
        let Some(user) = self.users[who].id else { return (UserId(0), date) };
        let mut about = date;
        let service = self.cached.clone();
        match self.rng.random_range(0..100) {
            0..=7 => {
                let calories = self.rng.random_range(0..900) as f64 + 0.25;
                let input = FoodInput {
                    name: Some(format!("food {}", self.rng.random_range(0..1000))),
                    brand: None,
                    serving_size: Some(100.0),
                    serving_unit: Some("g".into()),
                    calories: Some(calories),
                    protein_g: Some(10.5),
                    carbs_g: Some(20.0),
                    fat_g: Some(3.33),
                };
                if let Ok(food) = service.create_food(user, input).await {
                    self.users[who].foods.push(food.id);
                }
            }
            8..=37 => {
                let count = self.rng.random_range(1..4);
                let mut batch = Vec::new();
                let mut slotted = 0;
                for _ in 0..count {
                    let slot = self.pick(&self.users[who].scheduled_slots.clone());
                    if let Some((slot_date, meal, recipe)) = slot.filter(|_| self.rng.random_bool(0.3)) {
                        let servings = macrotrack_domain::Amount::from_hundredths(100);
                        batch.push(NewLogEntry { date: slot_date, meal, item: LogItem::Recipe(recipe), servings });
                        about = slot_date;
                        slotted += 1;
                        continue;
                    }
                    let recipe =
                        if self.rng.random_bool(0.35) { self.pick(&self.users[who].recipes.clone()) } else { None };
                    let item = match recipe {
                        Some(recipe) => LogItem::Recipe(recipe),
                        None => {
                            let mut foods = self.users[who].foods.clone();
                            foods.extend(self.global_foods.iter().copied());
                            LogItem::Food(self.pick(&foods).unwrap_or(FoodId(1)))
                        }
                    };
                    let servings = macrotrack_domain::Amount::from_hundredths(self.rng.random_range(25..400));
                    about = self.some_day();
                    batch.push(NewLogEntry { date: about, meal: self.some_meal(), item, servings });
                }
                if let Ok(created) = service.create_log_entries(user, batch).await {
                    self.users[who].entries.extend(created.iter().map(|entry| entry.id));
                    self.users[who].entry_dates.extend(created.iter().map(|entry| (entry.id, entry.date)));
                    if slotted > 0 {
                        let slot_entries =
                            created.iter().filter(|entry| entry.recipe_id.is_some()).map(|entry| entry.id);
                        self.users[who].slot_entries.extend(slot_entries);
                    }
                }
            }
            38..=49 => {
                let Some(id) = self.pick_entry(who) else { return (user, about) };
                let slot = self.pick(&self.users[who].scheduled_slots.clone());
                let patch = match self.rng.random_range(0..4) {
                    0 => LogEntryPatch { date: Some(date), ..LogEntryPatch::default() },
                    1 => LogEntryPatch { meal: Some(self.some_meal()), ..LogEntryPatch::default() },
                    2 if slot.is_some() => {
                        let (slot_date, meal, _) = slot.unwrap_or((date, Meal::Lunch, RecipeId(0)));
                        about = slot_date;
                        LogEntryPatch { date: Some(slot_date), meal: Some(meal), servings: None }
                    }
                    _ => LogEntryPatch {
                        servings: Some(macrotrack_domain::Amount::from_hundredths(self.rng.random_range(10..500))),
                        ..LogEntryPatch::default()
                    },
                };
                let before = self.users[who].entry_dates.get(&id).copied();
                if let Ok(entry) = service.update_log_entry(user, id, patch).await {
                    self.users[who].entry_dates.insert(entry.id, entry.date);
                    // A moved slot entry un-logs its old slot: probe the old date.
                    about = before.filter(|_| self.rng.random_bool(0.5)).unwrap_or(about);
                    about = if self.rng.random_bool(0.5) { entry.date } else { about };
                }
            }
            50..=57 => {
                let Some(id) = self.pick_entry(who) else { return (user, about) };
                if let Some(entry_date) = self.users[who].entry_dates.get(&id) {
                    about = *entry_date;
                }
                if service.delete_log_entry(user, id).await.is_ok() {
                    self.users[who].entries.retain(|entry| *entry != id);
                    self.users[who].slot_entries.retain(|entry| *entry != id);
                }
            }
            58..=65 => {
                let _ = service.complete_day(user, date).await;
            }
            66..=69 => {
                let _ = service.undo_day(user, date).await;
            }
            70..=73 => {
                let value = self.rng.random_range(1000..3000) as f64;
                let targets = Macros::parse("", value, 120.0, 200.0, 60.0).unwrap_or_default();
                let _ = service.set_targets(user, targets).await;
            }
            74..=79 => {
                let mut foods = self.users[who].foods.clone();
                foods.extend(self.global_foods.iter().copied());
                let ingredients = (0..self.rng.random_range(1..3))
                    .map(|_| (self.pick(&foods).map(|food| food.0), Some(self.rng.random_range(1..30) as f64 / 10.0)))
                    .collect();
                let input =
                    RecipeInput { name: Some("stew".into()), servings: Some(2.0), ingredients: Some(ingredients) };
                if let Ok(recipe) = service.create_recipe(user, input).await {
                    self.users[who].recipes.push(recipe.id);
                }
            }
            80..=83 => {
                let recipes = self.users[who].recipes.clone();
                if recipes.is_empty() {
                    return (user, about);
                }
                let days = self.rng.random_range(1..4);
                let items = (0..self.rng.random_range(1..5))
                    .map(|_| MealPlanItemInput {
                        day: Some(self.rng.random_range(0..days)),
                        meal: Some(self.some_meal()),
                        recipe_id: self.pick(&recipes).map(|recipe| recipe.0),
                        servings: Some(1.0),
                    })
                    .collect();
                let input = MealPlanInput { name: Some("plan".into()), days: Some(days), items: Some(items) };
                if let Ok(plan) = service.create_meal_plan(user, input).await {
                    self.users[who].plans.push(plan.id);
                }
            }
            84..=89 => {
                let Some(plan) = self.pick(&self.users[who].plans.clone()) else { return (user, about) };
                if let Ok(scheduled) = service.schedule_meal_plan(user, plan, date).await {
                    self.users[who].scheduled_plans.push(scheduled.id);
                }
            }
            90..=94 => {
                let Some(meal) = self.pick(&self.users[who].scheduled_meals.clone()) else { return (user, about) };
                let _ = service.delete_scheduled_meal(user, meal).await;
                if let Some(slot) = self.pick(&self.users[who].scheduled_slots.clone()) {
                    about = slot.0;
                }
                self.users[who].scheduled_meals.retain(|known| *known != meal);
            }
            95..=97 => {
                let Some(plan) = self.pick(&self.users[who].scheduled_plans.clone()) else { return (user, about) };
                let _ = service.delete_scheduled_plan(user, plan).await;
                self.users[who].scheduled_plans.retain(|known| *known != plan);
            }
            _ => {
                if service.delete_user(user).await.is_ok() {
                    self.ghosts.push(user);
                    self.users[who] = self.new_user().await;
                }
            }
        }
        (user, about)
    }
}

/// Both answers equal, or both errors of the same kind.
fn same<T: PartialEq + Debug, E: Debug>(read: &str, cached: Result<T, E>, plain: Result<T, E>) -> Result<(), String> {
    match (&cached, &plain) {
        (Ok(a), Ok(b)) if a == b => Ok(()),
        (Err(a), Err(b)) if std::mem::discriminant(a) == std::mem::discriminant(b) => Ok(()),
        _ => Err(format!("{read}: cached {cached:?} but database says {plain:?}")),
    }
}
