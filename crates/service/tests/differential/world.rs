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
    Day, FoodId, FoodInput, LogEntryId, LogEntryPatch, LogItem, Macros, Meal, MealPlanId, MealPlanInput, MealPlanItemInput,
    NewLogEntry, RecipeId, RecipeInput, ScheduledMealId, ScheduledPlanId, UserId,
};
use macrotrack_ports::{CacheStore, Clock};
use macrotrack_service::{Matrix, Policies, Repositories, Service};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// A clock the walk moves forward, so entries go stale and expire.
#[derive(Default)]
pub struct WalkClock(AtomicI64);

impl Clock for WalkClock {
    fn now(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(1_764_000_000_000 + self.0.load(Ordering::SeqCst)).unwrap_or_default()
    }
}

/// What the walk knows of one user, learned from answers.
#[derive(Default)]
struct Known {
    id: Option<UserId>,
    foods: Vec<FoodId>,
    recipes: Vec<RecipeId>,
    entries: Vec<LogEntryId>,
    plans: Vec<MealPlanId>,
    scheduled_plans: Vec<ScheduledPlanId>,
    scheduled_meals: Vec<ScheduledMealId>,
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

/// A few days, so mutations and reads meet often.
const DAYS: i64 = 6;

impl<S: CacheStore, P: CacheStore> Walk<S, P> {
    pub async fn new(repos: Repositories, cached_store: S, plain_store: P, matrix: Matrix, seed: u64) -> Self {
        let clock = Arc::new(WalkClock::default());
        let cached_engine = Engine::new(cached_store, clock.clone(), EngineConfig::default());
        let plain_engine = Engine::new(plain_store, clock.clone(), EngineConfig { enabled: false, ..EngineConfig::default() });
        let cached = Service::new(repos.clone(), cached_engine, clock.clone(), Policies::default()).with_matrix(matrix);
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

    fn some_day(&mut self) -> Day {
        day(self.rng.random_range(0..DAYS))
    }

    fn some_meal(&mut self) -> Meal {
        Meal::ALL[self.rng.random_range(0..4)]
    }

    /// Runs `steps` random steps; the first divergence ends the walk.
    pub async fn run(&mut self, steps: usize) -> Result<(), String> {
        for step in 0..steps {
            let who = self.rng.random_range(0..self.users.len());
            if self.rng.random_bool(0.55) {
                self.read(who).await.map_err(|divergence| format!("step {step}: {divergence}"))?;
            } else {
                self.mutate(who).await;
            }
            if self.rng.random_bool(0.05) {
                // Minutes pass: entries become stale (served while refreshed) or expire.
                let minutes = self.rng.random_range(1..30);
                self.clock.0.fetch_add(minutes * 60_000, Ordering::SeqCst);
            }
        }
        Ok(())
    }

    async fn read(&mut self, who: usize) -> Result<(), String> {
        self.reads += 1;
        let user = if !self.ghosts.is_empty() && self.rng.random_bool(0.1) {
            self.pick(&self.ghosts.clone()).unwrap_or(UserId(0))
        } else {
            self.users[who].id.unwrap_or(UserId(0))
        };
        let date = self.some_day();
        let other = self.some_day();
        match self.rng.random_range(0..7) {
            0 => same("day logs", self.cached.day_logs(user, date).await, self.plain.day_logs(user, date).await),
            1 => same("me", self.cached.me(user).await, self.plain.me(user).await),
            2 => {
                let limit = Some([1, 3, 20][self.rng.random_range(0..3)]);
                same("frequent foods", self.cached.frequent_foods(user, limit).await, self.plain.frequent_foods(user, limit).await)
            }
            3 => {
                let (from, to) = (date.min(other), date.max(other));
                same("summary", self.cached.summary(user, from, to).await, self.plain.summary(user, from, to).await)
            }
            4 => same("streak", self.cached.streak(user, date).await, self.plain.streak(user, date).await),
            5 => {
                let cached = self.cached.schedule_day(user, date).await;
                if let Ok(schedule) = &cached {
                    let meals: Vec<ScheduledMealId> = schedule.meals.iter().map(|meal| meal.id).collect();
                    self.users[who].scheduled_meals.extend(meals);
                }
                same("schedule", cached, self.plain.schedule_day(user, date).await)
            }
            _ => same("dashboard", self.cached.dashboard(user, date, other).await, self.plain.dashboard(user, date, other).await),
        }
    }

    async fn mutate(&mut self, who: usize) {
        self.mutations += 1;
        let Some(user) = self.users[who].id else { return };
        let date = self.some_day();
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
                for _ in 0..count {
                    let recipe = if self.rng.random_bool(0.35) { self.pick(&self.users[who].recipes.clone()) } else { None };
                    let item = match recipe {
                        Some(recipe) => LogItem::Recipe(recipe),
                        None => {
                            let mut foods = self.users[who].foods.clone();
                            foods.extend(self.global_foods.iter().copied());
                            LogItem::Food(self.pick(&foods).unwrap_or(FoodId(1)))
                        }
                    };
                    let servings = macrotrack_domain::Amount::from_hundredths(self.rng.random_range(25..400));
                    batch.push(NewLogEntry { date: self.some_day(), meal: self.some_meal(), item, servings });
                }
                if let Ok(created) = service.create_log_entries(user, batch).await {
                    self.users[who].entries.extend(created.iter().map(|entry| entry.id));
                }
            }
            38..=49 => {
                let Some(id) = self.pick(&self.users[who].entries.clone()) else { return };
                let patch = match self.rng.random_range(0..3) {
                    0 => LogEntryPatch { date: Some(date), ..LogEntryPatch::default() },
                    1 => LogEntryPatch { meal: Some(self.some_meal()), ..LogEntryPatch::default() },
                    _ => LogEntryPatch {
                        servings: Some(macrotrack_domain::Amount::from_hundredths(self.rng.random_range(10..500))),
                        ..LogEntryPatch::default()
                    },
                };
                let _ = service.update_log_entry(user, id, patch).await;
            }
            50..=57 => {
                let Some(id) = self.pick(&self.users[who].entries.clone()) else { return };
                if service.delete_log_entry(user, id).await.is_ok() {
                    self.users[who].entries.retain(|entry| *entry != id);
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
                let input = RecipeInput { name: Some("stew".into()), servings: Some(2.0), ingredients: Some(ingredients) };
                if let Ok(recipe) = service.create_recipe(user, input).await {
                    self.users[who].recipes.push(recipe.id);
                }
            }
            80..=83 => {
                let recipes = self.users[who].recipes.clone();
                if recipes.is_empty() {
                    return;
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
                let Some(plan) = self.pick(&self.users[who].plans.clone()) else { return };
                if let Ok(scheduled) = service.schedule_meal_plan(user, plan, date).await {
                    self.users[who].scheduled_plans.push(scheduled.id);
                }
            }
            90..=94 => {
                let Some(meal) = self.pick(&self.users[who].scheduled_meals.clone()) else { return };
                let _ = service.delete_scheduled_meal(user, meal).await;
                self.users[who].scheduled_meals.retain(|known| *known != meal);
            }
            95..=97 => {
                let Some(plan) = self.pick(&self.users[who].scheduled_plans.clone()) else { return };
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

/// Lets background refreshes run between steps.
pub async fn settle() {
    tokio::time::sleep(Duration::from_millis(1)).await;
}
