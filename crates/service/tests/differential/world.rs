//! A seeded walk over every mutation and every cached read, against two
//! services on one database: one cached, one with the cache off. Every read
//! of the cached service must equal the uncached one.
//!
//! Exhaustive over kinds, random over data: the mutations come in a fixed
//! cycle that holds every kind (`CYCLE`), each with random data, and after
//! each one every kind of read is probed around the date it touched.

use std::fmt::Debug;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use macrotrack_cache::{Engine, EngineConfig};
use macrotrack_cache_keys::ReadFamily;
use macrotrack_db_seaorm::SeaOrmRepository;
use macrotrack_domain::{
    Amount, AmountChange, Day, DayCopy, FoodId, FoodInput, FoodSource, Gtin, ImportedFood, ImportedFoodInput,
    LogAmount, LogEntryId, LogEntryPatch, LogItem, Macros, Meal, MealPlanId, MealPlanInput, MealPlanItemInput,
    NewLogEntry, QuickChange, RecipeId, RecipeInput, ScheduledMealId, ScheduledPlanId, UserId,
};
use macrotrack_ports::{CacheStore, Clock};
use macrotrack_service::{Fault, Matrix, Operation, Policies, Repositories, Service};
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
    token: String,
    foods: Vec<FoodId>,
    recipes: Vec<RecipeId>,
    entries: Vec<LogEntryId>,
    entry_dates: std::collections::HashMap<LogEntryId, Day>,
    plans: Vec<MealPlanId>,
    /// With their first date, which the probe after deleting one reads.
    scheduled_plans: Vec<(ScheduledPlanId, Day)>,
    /// With their date.
    scheduled_meals: Vec<(ScheduledMealId, Day)>,
    /// (date, meal, recipe) of scheduled meals seen in reads: logging one
    /// of these flips its `logged` flag.
    scheduled_slots: Vec<(Day, Meal, RecipeId)>,
    /// Entries logged into a scheduled slot (their `logged` flag is true).
    slot_entries: Vec<LogEntryId>,
    /// The slots those entries were logged into: a copy from one of them
    /// into another slot of its recipe flips that slot's `logged` flag.
    logged_slots: Vec<(Day, Meal, RecipeId)>,
}

pub struct Walk<S: CacheStore, P: CacheStore> {
    cached: Service<S>,
    plain: Service<P>,
    clock: Arc<WalkClock>,
    rng: StdRng,
    users: Vec<Known>,
    /// Deleted users and their tokens: their reads must show nothing,
    /// cached or not, and their tokens must not authenticate.
    ghosts: Vec<(UserId, String)>,
    global_foods: Vec<FoodId>,
    /// What imports write into (the same database).
    catalogue: SeaOrmRepository,
    /// Foods the walk's imports made, and their barcodes.
    imported_foods: Vec<FoodId>,
    barcodes: Vec<Gtin>,
    /// Imports that changed the catalogue.
    pub imports: usize,
    pub reads: usize,
    pub mutations: usize,
    /// Mutations that changed something, by kind (a kind whose
    /// preconditions were missing does nothing that time).
    pub applied: std::collections::BTreeMap<Operation, usize>,
}

fn day(offset: i64) -> Day {
    "2026-11-20".parse::<Day>().ok().and_then(|d| d.plus_days(offset)).unwrap_or_else(|| unreachable!())
}

/// The kinds of reads `read` knows, each with the cached reads it shows
/// (the day screen is composed of four).
const READS: &[(&str, &[ReadFamily])] = &[
    ("day logs", &[ReadFamily::Logs]),
    ("me", &[ReadFamily::Me]),
    ("frequent foods", &[ReadFamily::FrequentFoods]),
    ("summary", &[ReadFamily::Summary]),
    ("week", &[ReadFamily::Week]),
    ("streak", &[ReadFamily::Streak]),
    ("schedule", &[ReadFamily::Schedule]),
    ("credential", &[ReadFamily::Credential]),
    ("dashboard", &[ReadFamily::Logs, ReadFamily::Me, ReadFamily::Schedule, ReadFamily::Streak]),
    // As of the user's today, which their zone (in `me`) says.
    ("streak today", &[ReadFamily::Me, ReadFamily::Streak]),
    ("dashboard today", &[ReadFamily::Logs, ReadFamily::Me, ReadFamily::Schedule, ReadFamily::Streak]),
    ("recent foods", &[ReadFamily::RecentFoods]),
    ("food search", &[ReadFamily::FoodSearch, ReadFamily::CatalogueSearch]),
    ("food", &[ReadFamily::Food]),
    ("barcode", &[ReadFamily::Barcode]),
];

/// The catalogue reads, probed after an import.
const CATALOGUE_READS: [usize; 3] = [READS.len() - 3, READS.len() - 2, READS.len() - 1];

/// Queries the walk searches with: everything, the walk's own food names,
/// edited ones, imported ones, and a word of the seeded catalogue.
const QUERIES: [&str; 6] = ["", "food", "edited", "imported", "imported rice", "oat"];

/// Source ids of the walk's imports: few, so re-imports update them.
const SOURCES: u64 = 12;

/// A GTIN-13 made of `body` (12 digits) and its GS1 check digit.
fn gtin(body: u64) -> Gtin {
    let digits = format!("{body:012}");
    let sum: u32 = digits
        .chars()
        .rev()
        .enumerate()
        .map(|(i, c)| c.to_digit(10).unwrap_or(0) * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    Gtin::parse(&format!("{digits}{}", (10 - sum % 10) % 10)).expect("a valid GTIN")
}

/// Zones the walk sets: its clock starts at midnight UTC, so their todays
/// differ, and a few hours of the walk carry some across midnight.
const ZONES: &[&str] =
    &["UTC", "Pacific/Auckland", "America/Los_Angeles", "Asia/Kolkata", "Etc/GMT+12", "Pacific/Kiritimati"];

/// The mutations in the order the walk makes them, round and round: every
/// kind each cycle (some twice, so the data grows), deleting a user last.
const CYCLE: &[Operation] = &[
    Operation::CreateFood,
    Operation::CreateLogEntries,
    Operation::CompleteDay,
    Operation::EditFood,
    Operation::CreateLogEntries,
    Operation::UpdateLogEntry,
    Operation::SetTargets,
    Operation::CopyDay,
    Operation::CreateLogEntries,
    Operation::SetTimeZone,
    Operation::ScheduleMealPlan,
    Operation::UpdateLogEntry,
    Operation::DeleteLogEntry,
    Operation::UndoDay,
    Operation::CreateLogEntries,
    Operation::DeleteScheduledMeal,
    Operation::DeleteScheduledPlan,
    Operation::CompleteDay,
    Operation::DeleteUser,
];

/// A stale read: which read, and what it answered against the database.
#[derive(Debug)]
pub struct Divergence {
    pub read: &'static str,
    pub detail: String,
}

impl Divergence {
    /// The cached reads whose entries the stale answer came from.
    pub fn families(&self) -> &'static [ReadFamily] {
        READS.iter().find(|(name, _)| *name == self.read).map(|(_, families)| *families).unwrap_or(&[])
    }
}

impl std::fmt::Display for Divergence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.detail)
    }
}

/// A few days, so mutations and reads meet often.
const DAYS: i64 = 6;

impl<S: CacheStore, P: CacheStore> Walk<S, P> {
    pub async fn new(repository: SeaOrmRepository, cached_store: S, plain_store: P, matrix: Matrix, seed: u64) -> Self {
        let repos = Repositories::from_one(repository.clone());
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
            catalogue: repository,
            imported_foods: Vec::new(),
            barcodes: (0..SOURCES).map(|source| gtin(400_000_000_000 + source)).collect(),
            imports: 0,
            reads: 0,
            mutations: 0,
            applied: Default::default(),
        };
        for _ in 0..3 {
            let known = walk.new_user().await;
            walk.users.push(known);
        }
        let someone = walk.users[0].id.unwrap_or(UserId(0));
        let globals = walk.plain.search_foods(someone, "", Some(100), None).await.unwrap_or_default();
        walk.global_foods = globals.iter().take(8).map(|food| food.id).collect();
        // Catalogue reads are cached once the generation is known.
        walk.cached.refresh_catalogue().await.expect("the catalogue's generation");
        walk.plain.refresh_catalogue().await.expect("the catalogue's generation");
        walk
    }

    /// The mutant of imports: the cached service never learns that an
    /// import raised the catalogue's generation.
    pub fn blind_to_imports(mut self) -> Self {
        self.cached = self.cached.clone().with_fault(Fault::BlindToImports);
        self
    }

    /// Imports one to four foods of the walk's sources (new or changed),
    /// as `macrotrack foods import` would.
    async fn import(&mut self) {
        let words = ["oat", "rice", "milk", "bread"];
        let batch: Vec<Result<Result<ImportedFood, macrotrack_domain::Skipped>, std::io::Error>> = (0..self
            .rng
            .random_range(1..5))
            .map(|_| {
                let source = self.rng.random_range(0..SOURCES);
                let input = ImportedFoodInput {
                    source: FoodSource::Fdc(990_000 + source),
                    name: format!("Imported {} {}", words[self.rng.random_range(0..4)], self.rng.random_range(0..5)),
                    brand: None,
                    generic: self.rng.random_bool(0.5),
                    barcode: Some(self.barcodes[source as usize].as_str().to_owned()),
                    calories: Some(self.rng.random_range(0..900) as f64),
                    protein_g: Some(5.0),
                    carbs_g: Some(20.0),
                    fat_g: Some(1.0),
                    portions: Vec::new(),
                };
                Ok(Ok(ImportedFood::from_input(input).expect("a valid imported food")))
            })
            .collect();
        let summary = self.cached.import_foods(&self.catalogue, batch, &mut ()).await.expect("the import");
        if summary.generation.is_some() {
            self.imports += 1;
        }
        let someone = self.users[0].id.unwrap_or(UserId(0));
        let found = self.plain.search_foods(someone, "imported", Some(100), None).await.unwrap_or_default();
        self.imported_foods = found.into_iter().map(|food| food.id).collect();
    }

    async fn new_user(&mut self) -> Known {
        let created = self.cached.create_user("walker").await.expect("create user");
        Known { id: Some(created.user.id), token: created.token, ..Known::default() }
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

    /// Guards the cached store answered older than the walk had set them.
    pub fn store_behind(&self) -> u64 {
        self.cached.cache().stats().store_behind
    }

    /// Runs `steps` steps; the first divergence ends the walk.
    pub async fn run(&mut self, steps: usize) -> Result<(), Divergence> {
        let at = |step: usize, probe: bool| {
            move |divergence: Divergence| Divergence {
                detail: format!("step {step}{}: {}", if probe { " (probe)" } else { "" }, divergence.detail),
                ..divergence
            }
        };
        for step in 0..steps {
            let who = self.rng.random_range(0..self.users.len());
            if self.rng.random_bool(0.5) {
                let (user, token) = self.reader(who);
                let date = self.some_day();
                let kind = self.rng.random_range(0..READS.len());
                self.read(who, user, &token, date, kind).await.map_err(at(step, false))?;
            } else {
                let operation = CYCLE[self.mutations % CYCLE.len()];
                let (user, token, date) = self.mutate(who, operation).await;
                // Probe every read right after the write: what it changed is
                // read before another write can hide a missing invalidation.
                for kind in 0..READS.len() {
                    self.read(who, user, &token, date, kind).await.map_err(at(step, true))?;
                }
            }
            if self.rng.random_bool(0.04) {
                self.import().await;
                let (user, token) = self.reader(who);
                let date = self.some_day();
                for kind in CATALOGUE_READS {
                    self.read(who, user, &token, date, kind).await.map_err(at(step, true))?;
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

    /// A user to read, with their token: usually the walker, sometimes a
    /// deleted one.
    fn reader(&mut self, who: usize) -> (UserId, String) {
        if !self.ghosts.is_empty() && self.rng.random_bool(0.1) {
            self.ghosts[self.rng.random_range(0..self.ghosts.len())].clone()
        } else {
            (self.users[who].id.unwrap_or(UserId(0)), self.users[who].token.clone())
        }
    }

    async fn read(&mut self, who: usize, user: UserId, token: &str, date: Day, kind: usize) -> Result<(), Divergence> {
        self.reads += 1;
        let other = self.some_day();
        let name = READS[kind].0;
        let outcome = match name {
            "day logs" => same(self.cached.day_logs(user, date).await, self.plain.day_logs(user, date).await),
            "me" => same(self.cached.me(user).await, self.plain.me(user).await),
            "frequent foods" => {
                let limit = Some([1, 3, 20][self.rng.random_range(0..3)]);
                same(self.cached.frequent_foods(user, limit).await, self.plain.frequent_foods(user, limit).await)
            }
            "summary" => {
                let (from, to) = (date.min(other), date.max(other));
                same(self.cached.summary(user, from, to).await, self.plain.summary(user, from, to).await)
            }
            "week" => {
                // A week holding the date, from any of its seven starts.
                let start = date.plus_days(-self.rng.random_range(0..7)).unwrap_or(date);
                same(self.cached.week(user, start).await, self.plain.week(user, start).await)
            }
            "streak" => same(self.cached.streak(user, date).await, self.plain.streak(user, date).await),
            "schedule" => {
                let cached = self.cached.schedule_day(user, date).await;
                if let (Ok(schedule), Some(known)) = (&cached, self.users.get_mut(who)) {
                    known.scheduled_meals.extend(schedule.meals.iter().map(|meal| (meal.id, date)));
                    known.scheduled_slots.extend(schedule.meals.iter().map(|meal| (date, meal.meal, meal.recipe_id)));
                }
                same(cached, self.plain.schedule_day(user, date).await)
            }
            "credential" => same(self.cached.authenticate(token).await, self.plain.authenticate(token).await),
            "streak today" => same(self.cached.streak_on(user, None).await, self.plain.streak_on(user, None).await),
            "dashboard today" => {
                same(self.cached.dashboard_on(user, date, None).await, self.plain.dashboard_on(user, date, None).await)
            }
            "recent foods" => {
                let limit = Some([1, 3, 20][self.rng.random_range(0..3)]);
                same(self.cached.recent_foods(user, limit).await, self.plain.recent_foods(user, limit).await)
            }
            "food search" => {
                let query = QUERIES[self.rng.random_range(0..QUERIES.len())];
                let limit = Some([1, 5, 20][self.rng.random_range(0..3)]);
                let offset = Some([0, 0, 2][self.rng.random_range(0..3)]);
                same(
                    self.cached.search_foods(user, query, limit, offset).await,
                    self.plain.search_foods(user, query, limit, offset).await,
                )
            }
            "food" => {
                // Theirs, the catalogue's, imported, or another user's.
                let mut ids = self.users.iter().flat_map(|known| known.foods.iter().copied()).collect::<Vec<_>>();
                ids.extend(self.global_foods.iter().chain(&self.imported_foods).copied());
                let id = self.pick(&ids).unwrap_or(FoodId(1));
                same(self.cached.food(user, id).await, self.plain.food(user, id).await)
            }
            "barcode" => {
                let code = self.pick(&self.barcodes.clone()).unwrap_or_else(|| gtin(1));
                same(self.cached.food_by_barcode(user, &code).await, self.plain.food_by_barcode(user, &code).await)
            }
            _ => same(self.cached.dashboard(user, date, other).await, self.plain.dashboard(user, date, other).await),
        };
        outcome.map_err(|detail| Divergence { read: name, detail: format!("{name}: {detail}") })
    }

    /// One mutation of kind `operation` by user `who`, with random data;
    /// returns the user, their token and the date it was about, for the
    /// probe that follows.
    async fn mutate(&mut self, who: usize, operation: Operation) -> (UserId, String, Day) {
        self.mutations += 1;
        let date = self.some_day();
        let token = self.users[who].token.clone();
        let Some(user) = self.users[who].id else { return (UserId(0), token, date) };
        let service = self.cached.clone();
        let (applied, about) = match operation {
            Operation::CreateFood => {
                let input =
                    FoodInput { name: Some(format!("food {}", self.rng.random_range(0..1000))), ..self.food_input() };
                let created = service.create_food(user, input).await;
                if let Ok(food) = &created {
                    self.users[who].foods.push(food.id);
                }
                (created.is_ok(), date)
            }
            Operation::EditFood => {
                let Some(food) = self.pick(&self.users[who].foods.clone()) else { return (user, token, date) };
                let input = match self.rng.random_range(0..3) {
                    0 => FoodInput {
                        name: Some(format!("edited {}", self.rng.random_range(0..1000))),
                        ..FoodInput::default()
                    },
                    1 => {
                        FoodInput { calories: Some(self.rng.random_range(0..900) as f64 + 0.5), ..FoodInput::default() }
                    }
                    _ => self.food_input(),
                };
                (service.edit_food(user, food, input).await.is_ok(), date)
            }
            Operation::CreateLogEntries => self.create_entries(who, user, date).await,
            Operation::UpdateLogEntry => {
                let Some(id) = self.pick_entry(who) else { return (user, token, date) };
                let slot = self.pick(&self.users[who].scheduled_slots.clone());
                let mut about = date;
                let patch = match self.rng.random_range(0..6) {
                    0 => LogEntryPatch { date: Some(date), ..LogEntryPatch::default() },
                    1 => LogEntryPatch { meal: Some(self.some_meal()), ..LogEntryPatch::default() },
                    2 if slot.is_some() => {
                        let (slot_date, meal, _) = slot.unwrap_or((date, Meal::Lunch, RecipeId(0)));
                        about = slot_date;
                        LogEntryPatch { date: Some(slot_date), meal: Some(meal), ..LogEntryPatch::default() }
                    }
                    // New macros: refused unless the entry is a quick add.
                    5 => LogEntryPatch { quick: Some(self.some_quick_change()), ..LogEntryPatch::default() },
                    // Grams of a recipe entry are refused: an update that fails.
                    3 => {
                        LogEntryPatch { amount: Some(AmountChange::To(self.some_amount())), ..LogEntryPatch::default() }
                    }
                    _ => LogEntryPatch {
                        amount: Some(AmountChange::To(LogAmount::Servings(
                            macrotrack_domain::Amount::from_hundredths(self.rng.random_range(10..500)),
                        ))),
                        ..LogEntryPatch::default()
                    },
                };
                let before = self.users[who].entry_dates.get(&id).copied();
                let updated = service.update_log_entry(user, id, patch).await;
                if let Ok(entry) = &updated {
                    self.users[who].entry_dates.insert(entry.id, entry.date);
                    // A moved entry leaves its old date: probe either.
                    about = before.filter(|_| self.rng.random_bool(0.5)).unwrap_or(entry.date);
                }
                (updated.is_ok(), about)
            }
            Operation::CopyDay => {
                // Sometimes a logged slot's meal into another slot of its
                // recipe (the schedule's `logged` flag follows); else from a
                // day that has entries, usually (else nothing to copy).
                let logged = self.pick(&self.users[who].logged_slots.clone());
                let slots: Vec<(Day, Meal, RecipeId)> = self.users[who]
                    .scheduled_slots
                    .iter()
                    .filter(|slot| logged.is_some_and(|(_, _, recipe)| slot.2 == recipe))
                    .copied()
                    .collect();
                let into_slot = self.pick(&slots).filter(|_| self.rng.random_bool(0.6));
                let copy = match (logged, into_slot) {
                    (Some((from, meal, _)), Some((to, to_meal, _))) => {
                        DayCopy::parse(from, to, Some(meal), Some(to_meal))
                    }
                    _ => {
                        let from = self.pick_entry(who).and_then(|id| self.users[who].entry_dates.get(&id).copied());
                        let from = from.unwrap_or(date);
                        let to = self.some_day();
                        let meal = self.rng.random_bool(0.5).then(|| self.some_meal());
                        let to_meal =
                            if meal.is_some() && self.rng.random_bool(0.5) { Some(self.some_meal()) } else { None };
                        DayCopy::parse(from, to, meal, to_meal)
                    }
                };
                let copy = copy.expect("to_meal only with meal");
                let to = copy.to;
                match service.copy_day(user, copy).await {
                    Ok(copies) => {
                        let known = &mut self.users[who];
                        known.entries.extend(copies.iter().map(|entry| entry.id));
                        known.entry_dates.extend(copies.iter().map(|entry| (entry.id, entry.date)));
                        (true, to)
                    }
                    Err(_) => (false, to),
                }
            }
            Operation::DeleteLogEntry => {
                let Some(id) = self.pick_entry(who) else { return (user, token, date) };
                let about = self.users[who].entry_dates.get(&id).copied().unwrap_or(date);
                let deleted = service.delete_log_entry(user, id).await.is_ok();
                if deleted {
                    self.users[who].entries.retain(|entry| *entry != id);
                    self.users[who].slot_entries.retain(|entry| *entry != id);
                }
                (deleted, about)
            }
            Operation::CompleteDay => (service.complete_day(user, date).await.is_ok(), date),
            Operation::UndoDay => {
                // Undo a day likely completed: this cycle's completion was of some day.
                (service.undo_day(user, date).await.is_ok(), date)
            }
            Operation::SetTargets => {
                let value = self.rng.random_range(1000..3000) as f64;
                let targets = Macros::parse("", value, 120.0, 200.0, 60.0).unwrap_or_default();
                (service.set_targets(user, targets).await.is_ok(), date)
            }
            Operation::SetTimeZone => {
                let name = ZONES[self.rng.random_range(0..ZONES.len())];
                let zone = macrotrack_domain::TimeZone::parse(name).unwrap_or_default();
                (service.set_timezone(user, zone).await.is_ok(), date)
            }
            Operation::ScheduleMealPlan => {
                let Some(plan) = self.ensure_plan(who, user).await else { return (user, token, date) };
                let scheduled = service.schedule_meal_plan(user, plan, date).await;
                if let Ok(scheduled) = &scheduled {
                    self.users[who].scheduled_plans.push((scheduled.id, scheduled.start_date));
                }
                (scheduled.is_ok(), date)
            }
            Operation::DeleteScheduledMeal => {
                let Some((meal, on)) = self.pick(&self.users[who].scheduled_meals.clone()) else {
                    return (user, token, date);
                };
                self.users[who].scheduled_meals.retain(|(known, _)| *known != meal);
                (service.delete_scheduled_meal(user, meal).await.is_ok(), on)
            }
            Operation::DeleteScheduledPlan => {
                let Some((plan, start)) = self.pick(&self.users[who].scheduled_plans.clone()) else {
                    return (user, token, date);
                };
                self.users[who].scheduled_plans.retain(|(known, _)| *known != plan);
                (service.delete_scheduled_plan(user, plan).await.is_ok(), start)
            }
            Operation::DeleteUser => {
                let deleted = service.delete_user(user).await.is_ok();
                if deleted {
                    self.ghosts.push((user, token.clone()));
                    self.users[who] = self.new_user().await;
                }
                (deleted, date)
            }
        };
        if applied {
            *self.applied.entry(operation).or_default() += 1;
        }
        (user, token, about)
    }

    fn food_input(&mut self) -> FoodInput {
        FoodInput {
            name: Some("food".into()),
            brand: None,
            serving_size: Some(100.0),
            serving_unit: Some("g".into()),
            calories: Some(self.rng.random_range(0..900) as f64 + 0.25),
            protein_g: Some(10.5),
            carbs_g: Some(20.0),
            fat_g: Some(3.33),
        }
    }

    /// Macros logged by hand, named or not.
    fn some_quick_change(&mut self) -> QuickChange {
        let hundredths = Amount::from_hundredths;
        let name = self.rng.random_bool(0.5).then(|| format!("quick {}", self.rng.random_range(0..100)));
        let macros = Macros {
            calories: hundredths(self.rng.random_range(0..100_000)),
            protein_g: hundredths(self.rng.random_range(0..5_000)),
            carbs_g: hundredths(self.rng.random_range(0..5_000)),
            fat_g: hundredths(self.rng.random_range(0..5_000)),
        };
        QuickChange { name, macros }
    }

    /// Servings, or grams (every food of the walk has its serving in grams).
    fn some_amount(&mut self) -> LogAmount {
        let hundredths = macrotrack_domain::Amount::from_hundredths;
        if self.rng.random_bool(0.5) {
            LogAmount::Servings(hundredths(self.rng.random_range(25..400)))
        } else {
            LogAmount::Grams(hundredths(self.rng.random_range(1..500_000)))
        }
    }

    /// A batch of one to three entries of the user's foods, global foods,
    /// recipes, or into scheduled slots; the date the probe reads.
    async fn create_entries(&mut self, who: usize, user: UserId, date: Day) -> (bool, Day) {
        if self.users[who].recipes.is_empty() || self.rng.random_bool(0.2) {
            self.create_recipe(who, user).await;
        }
        let mut about = date;
        let mut batch = Vec::new();
        let mut slotted = 0;
        let mut into_slots = Vec::new();
        for _ in 0..self.rng.random_range(1..4) {
            let slot = self.pick(&self.users[who].scheduled_slots.clone());
            if let Some((slot_date, meal, recipe)) = slot.filter(|_| self.rng.random_bool(0.3)) {
                let servings = macrotrack_domain::Amount::from_hundredths(100);
                batch.push(NewLogEntry {
                    date: slot_date,
                    meal,
                    item: LogItem::Recipe(recipe),
                    amount: LogAmount::Servings(servings),
                });
                about = slot_date;
                slotted += 1;
                into_slots.push((slot_date, meal, recipe));
                continue;
            }
            let recipe = if self.rng.random_bool(0.35) { self.pick(&self.users[who].recipes.clone()) } else { None };
            let item = match recipe {
                Some(recipe) => LogItem::Recipe(recipe),
                None if self.rng.random_bool(0.2) => LogItem::Quick(self.some_quick_change().into_new()),
                None => {
                    let mut foods = self.users[who].foods.clone();
                    foods.extend(self.global_foods.iter().copied());
                    LogItem::Food(self.pick(&foods).unwrap_or(FoodId(1)))
                }
            };
            let amount = match item {
                LogItem::Food(_) => self.some_amount(),
                LogItem::Recipe(_) => {
                    LogAmount::Servings(macrotrack_domain::Amount::from_hundredths(self.rng.random_range(25..400)))
                }
                LogItem::Quick(_) => LogAmount::Servings(Amount::ONE),
            };
            about = self.some_day();
            batch.push(NewLogEntry { date: about, meal: self.some_meal(), item, amount });
        }
        let Ok(created) = self.cached.create_log_entries(user, batch).await else { return (false, about) };
        let known = &mut self.users[who];
        known.entries.extend(created.iter().map(|entry| entry.id));
        known.entry_dates.extend(created.iter().map(|entry| (entry.id, entry.date)));
        if slotted > 0 {
            known.slot_entries.extend(created.iter().filter(|entry| entry.recipe_id.is_some()).map(|entry| entry.id));
            known.logged_slots.extend(into_slots);
        }
        (true, about)
    }

    async fn create_recipe(&mut self, who: usize, user: UserId) {
        let mut foods = self.users[who].foods.clone();
        foods.extend(self.global_foods.iter().copied());
        let ingredients = (0..self.rng.random_range(1..3))
            .map(|_| (self.pick(&foods).map(|food| food.0), Some(self.rng.random_range(1..30) as f64 / 10.0)))
            .collect();
        let input = RecipeInput { name: Some("stew".into()), servings: Some(2.0), ingredients: Some(ingredients) };
        if let Ok(recipe) = self.cached.create_recipe(user, input).await {
            self.users[who].recipes.push(recipe.id);
        }
    }

    /// One of the user's meal plans, made (with a recipe) when they have none.
    async fn ensure_plan(&mut self, who: usize, user: UserId) -> Option<MealPlanId> {
        if self.users[who].plans.is_empty() || self.rng.random_bool(0.3) {
            if self.users[who].recipes.is_empty() {
                self.create_recipe(who, user).await;
            }
            let recipes = self.users[who].recipes.clone();
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
            if let Ok(plan) = self.cached.create_meal_plan(user, input).await {
                self.users[who].plans.push(plan.id);
            }
        }
        self.pick(&self.users[who].plans.clone())
    }
}

/// Both answers equal, or both errors of the same kind.
fn same<T: PartialEq + Debug, E: Debug>(cached: Result<T, E>, plain: Result<T, E>) -> Result<(), String> {
    match (&cached, &plain) {
        (Ok(a), Ok(b)) if a == b => Ok(()),
        (Err(a), Err(b)) if std::mem::discriminant(a) == std::mem::discriminant(b) => Ok(()),
        _ => Err(format!("cached {cached:?} but database says {plain:?}")),
    }
}
