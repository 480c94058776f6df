//! The two worked examples of docs/extending.md against mocked
//! repositories and an observed store: what each asks of the ports, and
//! when. The week read fetches each ISO week once, is then served from the
//! store in one round trip, and is fetched again after exactly the
//! mutations its facts name; editing a food changes frequent foods at once.

use std::sync::Arc;

use macrotrack_cache::observed::Observed;
use macrotrack_cache::{Engine, EngineConfig, MemoryStore};
use macrotrack_domain::{
    Amount, Day, Food, FoodId, FoodInput, FoodOwner, FrequentFood, Macros, SummaryDay, User, UserId,
};
use macrotrack_ports::{
    Committed, MockCompletionRepository, MockFoodRepository, MockLogRepository, MockOutboxRepository,
    MockPlanRepository, MockRecipeRepository, MockUserRepository, OutboxId, SystemClock,
};
use macrotrack_service::{Policies, Repositories, Service};

const USER: UserId = UserId(42);

fn day(text: &str) -> Day {
    text.parse().unwrap()
}

fn kcal(value: i64) -> Macros {
    Macros { calories: Amount::from_hundredths(value * 100), ..Macros::default() }
}

#[derive(Default)]
struct Mocks {
    users: MockUserRepository,
    foods: MockFoodRepository,
    logs: MockLogRepository,
    completions: MockCompletionRepository,
    outbox: MockOutboxRepository,
}

fn service(mut mocks: Mocks) -> (Service<Arc<Observed<MemoryStore>>>, Arc<Observed<MemoryStore>>) {
    mocks.outbox.expect_done().returning(|_| Ok(()));
    let store = Observed::new(MemoryStore::new(1 << 20));
    let repos = Repositories {
        users: Arc::new(mocks.users),
        foods: Arc::new(mocks.foods),
        recipes: Arc::new(MockRecipeRepository::new()),
        logs: Arc::new(mocks.logs),
        completions: Arc::new(mocks.completions),
        plans: Arc::new(MockPlanRepository::new()),
        outbox: Arc::new(mocks.outbox),
        idempotency: Arc::new(macrotrack_ports::MockIdempotencyRepository::new()),
    };
    let engine = Engine::new(store.clone(), Arc::new(SystemClock), EngineConfig::default());
    (Service::new(repos, engine, Arc::new(SystemClock), Policies::default()), store)
}

/// Thursday 26 November to Wednesday 2 December 2026: ISO weeks 48 and 49.
#[tokio::test]
async fn a_week_is_fetched_per_iso_week_once_then_read_in_one_round_trip() {
    let mut mocks = Mocks::default();
    mocks.logs.expect_summary().times(2).returning(|_, from, _| {
        Ok(if from == day("2026-11-23") {
            vec![SummaryDay { date: day("2026-11-27"), totals: kcal(1900), entries: 3 }]
        } else {
            vec![SummaryDay { date: day("2026-12-01"), totals: kcal(2500), entries: 1 }]
        })
    });
    mocks.completions.expect_completed_between().times(2).returning(|_, from, to| {
        assert_eq!(from.days_until(to), 6, "one ISO week a fetch");
        Ok(vec![day("2026-11-26")].into_iter().filter(|date| (from..=to).contains(date)).collect())
    });
    let targets = Some(kcal(2000));
    mocks
        .users
        .expect_user()
        .times(2)
        .returning(move |id| Ok(Some(User { id, name: "Ann".into(), targets, timezone: Default::default() })));
    let (service, store) = service(mocks);

    let week = service.week(USER, day("2026-11-26")).await.unwrap();
    assert_eq!((week.start, week.end), (day("2026-11-26"), day("2026-12-02")));
    assert!(week.days[0].completed, "26 November is completed");
    assert_eq!(week.days[1].entries, 3);
    assert_eq!(week.average.map(|average| average.calories), Some(Amount::from_hundredths(220000)));
    assert_eq!(week.on_target_days, 1, "1900 is within 10% of 2000, 2500 is not");
    assert_eq!(store.count_on("store_if_current", "macro:{user:42}:q:week:2026-W48"), 1);
    assert_eq!(store.count_on("store_if_current", "macro:{user:42}:q:week:2026-W49"), 1);
    assert_eq!(store.take(&["read_many"]), 1, "both ISO weeks asked in one round trip");

    // Warm: the same answer, one round trip, no repository call (the mocks
    // allow two of each, both spent above).
    let again = service.week(USER, day("2026-11-26")).await.unwrap();
    assert_eq!(again, week);
    assert_eq!(store.take(&["read", "read_many"]), 1);
    // A week inside ISO week 48 needs no fetch either.
    service.week(USER, day("2026-11-23")).await.unwrap();
}

#[tokio::test]
async fn the_last_start_is_2200_12_25() {
    let (service, store) = service(Mocks::default());
    let error = service.week(USER, day("2200-12-26")).await.unwrap_err();
    assert!(matches!(error, macrotrack_service::ReadError::Invalid(_)), "{error:?}");
    assert_eq!(store.methods(false).len(), 0, "refused before the store is asked");
}

#[tokio::test]
async fn a_week_is_fetched_again_after_targets_change_and_after_a_completion_in_it() {
    let mut mocks = Mocks::default();
    // Three fetches of ISO week 48: cold, after the targets, after the completion.
    mocks.logs.expect_summary().times(3).returning(|_, _, _| Ok(Vec::new()));
    mocks.completions.expect_completed_between().times(3).returning(|_, _, _| Ok(Vec::new()));
    mocks
        .users
        .expect_user()
        .times(3)
        .returning(|id| Ok(Some(User { id, name: "Ann".into(), targets: None, timezone: Default::default() })));
    mocks.users.expect_set_targets().times(1).returning(|_, _| Ok(Some(Committed::new((), OutboxId(1)))));
    mocks.completions.expect_complete_day().times(2).returning(|_, _| Ok(Committed::new((), OutboxId(2))));
    let (service, _) = service(mocks);
    let monday = day("2026-11-23");
    service.week(USER, monday).await.unwrap();
    service.week(USER, monday).await.unwrap();
    service.set_targets(USER, kcal(1800)).await.unwrap();
    service.week(USER, monday).await.unwrap();
    // A completion in another ISO week leaves this one cached...
    service.complete_day(USER, day("2026-12-01")).await.unwrap();
    service.week(USER, monday).await.unwrap();
    // ...one in it does not.
    service.complete_day(USER, day("2026-11-29")).await.unwrap();
    service.week(USER, monday).await.unwrap();
}

fn oats(name: &str) -> Food {
    Food {
        id: FoodId(100),
        name: name.into(),
        brand: None,
        serving_size: Amount::from_hundredths(4000),
        serving_unit: "g".into(),
        per_serving: kcal(150),
        owner: FoodOwner::User,
        generic: false,
        source: None,
        barcode: None,
        grams_per_serving: Some(Amount::from_hundredths(4000)),
        portions: Vec::new(),
    }
}

#[tokio::test]
async fn frequent_foods_show_an_edit_at_once() {
    let mut mocks = Mocks::default();
    let mut sequence = mockall::Sequence::new();
    mocks
        .foods
        .expect_frequent_foods()
        .times(1)
        .in_sequence(&mut sequence)
        .returning(|_, _| Ok(vec![FrequentFood { food: oats("Oats"), uses: 2 }]));
    mocks
        .foods
        .expect_update_food()
        .times(1)
        .in_sequence(&mut sequence)
        .returning(|_, _, _, _| Ok(Committed::new(oats("Porridge"), OutboxId(3))));
    mocks
        .foods
        .expect_frequent_foods()
        .times(1)
        .in_sequence(&mut sequence)
        .returning(|_, _| Ok(vec![FrequentFood { food: oats("Porridge"), uses: 2 }]));
    let (service, _) = service(mocks);
    assert_eq!(service.frequent_foods(USER, None).await.unwrap()[0].food.name, "Oats");
    assert_eq!(service.frequent_foods(USER, None).await.unwrap()[0].food.name, "Oats", "a hit");
    let input = FoodInput { name: Some(" Porridge ".into()), ..FoodInput::default() };
    assert_eq!(service.edit_food(USER, FoodId(100), input).await.unwrap().name, "Porridge");
    assert_eq!(service.frequent_foods(USER, None).await.unwrap()[0].food.name, "Porridge");
}

#[tokio::test]
async fn a_global_or_missing_food_is_refused_before_its_patch_is_read() {
    let mut mocks = Mocks::default();
    mocks.foods.expect_food().returning(|_, id| {
        Ok(match id.0 {
            1 => Some(Food { owner: FoodOwner::Global, ..oats("Oats") }),
            _ => None,
        })
    });
    mocks.foods.expect_update_food().never();
    let (service, _) = service(mocks);
    let conflict = service.editable_food(USER, FoodId(1)).await.unwrap_err();
    assert!(matches!(conflict, macrotrack_service::EditFoodError::Conflict), "{conflict:?}");
    let missing = service.editable_food(USER, FoodId(2)).await.unwrap_err();
    assert!(matches!(missing, macrotrack_service::EditFoodError::NotFound), "{missing:?}");
}
