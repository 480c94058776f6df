//! The contract's bounds against mocked ports: a repository's refusal
//! becomes the operation's error of the right kind, on the field the
//! contract names (422 on `entries` for a create, on `date` for a move;
//! 409 past what a user may own), and a refused write forgets nothing.

use std::sync::Arc;

use macrotrack_cache::{Engine, EngineConfig};
use macrotrack_domain::{
    Amount, Day, FoodInput, LogAmount, LogEntryId, LogEntryPatch, LogItem, Meal, MealPlanInput, MealPlanItemInput,
    NewLogEntry, RecipeInput, UserId,
};
use macrotrack_ports::{
    CreateFoodError, CreateLogsError, CreatePlanError, CreateRecipeError, MockCacheStore, MockCompletionRepository,
    MockFoodRepository, MockLogRepository, MockOutboxRepository, MockPlanRepository, MockRecipeRepository,
    MockUserRepository, SystemClock, UpdateLogError,
};
use macrotrack_service::{CreateOwnedError, EditLogError, ErrorKind, Failure, Policies, Repositories, Service};

const USER: UserId = UserId(42);

fn day(text: &str) -> Day {
    text.parse().unwrap()
}

/// A service over `logs`, `foods`, `recipes` and `plans` whose store and
/// outbox must never be asked to forget anything.
fn service(
    logs: MockLogRepository,
    foods: MockFoodRepository,
    recipes: MockRecipeRepository,
    plans: MockPlanRepository,
) -> Service<MockCacheStore> {
    let mut outbox = MockOutboxRepository::new();
    outbox.expect_done().never();
    let mut store = MockCacheStore::new();
    store.expect_bump().never();
    let repos = Repositories {
        users: Arc::new(MockUserRepository::new()),
        foods: Arc::new(foods),
        recipes: Arc::new(recipes),
        logs: Arc::new(logs),
        completions: Arc::new(MockCompletionRepository::new()),
        plans: Arc::new(plans),
        outbox: Arc::new(outbox),
        idempotency: Arc::new(macrotrack_ports::MockIdempotencyRepository::new()),
    };
    let clock = Arc::new(SystemClock);
    Service::new(repos, Engine::new(store, clock.clone(), EngineConfig::default()), clock, Policies::default())
}

fn refusing_logs() -> MockLogRepository {
    let mut logs = MockLogRepository::new();
    logs.expect_create_log_entries()
        .times(1)
        .returning(|_, _, _| Err(CreateLogsError::DayFull { date: day("2026-11-25") }));
    logs.expect_update_log_entry()
        .times(1)
        .returning(|_, _, _, _| Err(UpdateLogError::DayFull { date: day("2026-11-26") }));
    logs
}

fn refusing_owners() -> (MockFoodRepository, MockRecipeRepository, MockPlanRepository) {
    let mut foods = MockFoodRepository::new();
    foods.expect_create_food().times(1).returning(|_, _| Err(CreateFoodError::Full));
    let mut recipes = MockRecipeRepository::new();
    recipes.expect_create_recipe().times(1).returning(|_, _| Err(CreateRecipeError::Full));
    let mut plans = MockPlanRepository::new();
    plans.expect_create_meal_plan().times(1).returning(|_, _| Err(CreatePlanError::Full));
    (foods, recipes, plans)
}

#[tokio::test]
async fn a_full_day_is_invalid_on_entries_for_a_create_and_on_date_for_a_move() {
    let (foods, recipes, plans) = (MockFoodRepository::new(), MockRecipeRepository::new(), MockPlanRepository::new());
    let service = service(refusing_logs(), foods, recipes, plans);

    let batch = vec![NewLogEntry {
        date: day("2026-11-25"),
        meal: Meal::Lunch,
        item: LogItem::Food(macrotrack_domain::FoodId(9)),
        amount: LogAmount::Servings(Amount::from_hundredths(100)),
    }];
    let error = service.create_log_entries(USER, batch).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Invalid);
    let rules = error.invalid().unwrap().errors();
    assert_eq!(rules.len(), 1);
    assert_eq!(rules[0].field, "entries");
    assert!(rules[0].message.contains("2026-11-25") && rules[0].message.contains("200"), "{}", rules[0].message);

    let patch = LogEntryPatch { date: Some(day("2026-11-26")), ..Default::default() };
    let error = service.update_log_entry(USER, LogEntryId(5), patch).await.unwrap_err();
    assert!(matches!(error, EditLogError::Invalid(_)), "{error:?}");
    let rules = error.invalid().unwrap().errors();
    assert_eq!((rules.len(), rules[0].field.as_str()), (1, "date"));
    assert!(rules[0].message.contains("2026-11-26"), "{}", rules[0].message);
    // Delivery documents and maps statuses from these.
    assert_eq!(EditLogError::KINDS, [ErrorKind::NotFound, ErrorKind::Invalid, ErrorKind::Unavailable]);
}

#[tokio::test]
async fn past_what_a_user_may_own_is_a_conflict() {
    let (foods, recipes, plans) = refusing_owners();
    let service = service(MockLogRepository::new(), foods, recipes, plans);

    let food = FoodInput {
        name: Some("Oats".into()),
        brand: None,
        serving_size: Some(40.0),
        serving_unit: Some("g".into()),
        calories: Some(150.0),
        protein_g: Some(5.0),
        carbs_g: Some(27.0),
        fat_g: Some(3.0),
    };
    let recipe = RecipeInput {
        name: Some("Porridge".into()),
        servings: Some(2.0),
        ingredients: Some(vec![(Some(9), Some(1.0))]),
    };
    let plan = MealPlanInput {
        name: Some("Week".into()),
        days: Some(1),
        items: Some(vec![MealPlanItemInput {
            day: Some(0),
            meal: Some(Meal::Lunch),
            recipe_id: Some(3),
            servings: Some(1.0),
        }]),
    };
    let errors = [
        ("foods", service.create_food(USER, food).await.unwrap_err()),
        ("recipes", service.create_recipe(USER, recipe).await.unwrap_err()),
        ("meal plans", service.create_meal_plan(USER, plan).await.unwrap_err()),
    ];
    for (what, error) in errors {
        assert!(matches!(error, CreateOwnedError::Conflict(_)), "{what}: {error:?}");
        assert_eq!(error.kind(), ErrorKind::Conflict);
        assert!(error.to_string().contains(what), "{what}: {error}");
    }
    assert_eq!(CreateOwnedError::KINDS, [ErrorKind::Invalid, ErrorKind::Conflict, ErrorKind::Unavailable]);
}
