//! `If-Match` on a food's edit against mocked ports: a stale tag is refused
//! before the write, a current one is handed down as the state the write
//! must still find under its lock, `*` and no header are unconditional, and
//! a write that finds the food changed is `PreconditionFailed`.

use std::sync::Arc;

use macrotrack_cache::{Engine, EngineConfig, MemoryStore};
use macrotrack_domain::{Amount, Food, FoodId, FoodInput, FoodOwner, Macros, UserId};
use macrotrack_ports::{
    Committed, MockCompletionRepository, MockFoodRepository, MockLogRepository, MockOutboxRepository,
    MockPlanRepository, MockRecipeRepository, MockUserRepository, OutboxId, SystemClock, UpdateFoodError,
};
use macrotrack_service::{ETag, EditFoodError, ErrorKind, Failure, IfMatch, Policies, Repositories, Service};

const USER: UserId = UserId(42);

fn oats(name: &str) -> Food {
    Food {
        id: FoodId(100),
        name: name.into(),
        brand: None,
        serving_size: Amount::from_hundredths(4000),
        serving_unit: "g".into(),
        per_serving: Macros::default(),
        owner: FoodOwner::User,
        generic: false,
        source: None,
        barcode: None,
        grams_per_serving: Some(Amount::from_hundredths(4000)),
        portions: Vec::new(),
    }
}

fn service(foods: MockFoodRepository) -> Service<MemoryStore> {
    let mut outbox = MockOutboxRepository::new();
    outbox.expect_done().returning(|_| Ok(()));
    let repos = Repositories {
        users: Arc::new(MockUserRepository::new()),
        foods: Arc::new(foods),
        recipes: Arc::new(MockRecipeRepository::new()),
        logs: Arc::new(MockLogRepository::new()),
        completions: Arc::new(MockCompletionRepository::new()),
        plans: Arc::new(MockPlanRepository::new()),
        outbox: Arc::new(outbox),
        idempotency: Arc::new(macrotrack_ports::MockIdempotencyRepository::new()),
    };
    let clock = Arc::new(SystemClock);
    let store = MemoryStore::new(1 << 20);
    Service::new(repos, Engine::new(store, clock.clone(), EngineConfig::default()), clock, Policies::default())
}

fn rename() -> FoodInput {
    FoodInput { name: Some("Porridge".into()), ..FoodInput::default() }
}

fn tags(tags: &[&ETag]) -> IfMatch {
    IfMatch::OneOf(tags.iter().map(|tag| tag.as_str().to_owned()).collect())
}

/// The food as stored now, read `times` to compare the client's tags with.
fn stored_oats(foods: &mut MockFoodRepository, times: usize) {
    foods.expect_food().times(times).returning(|_, _| Ok(Some(oats("Oats"))));
}

#[tokio::test]
async fn a_stale_tag_is_refused_and_nothing_is_written() {
    let mut foods = MockFoodRepository::new();
    stored_oats(&mut foods, 2);
    foods.expect_update_food().never();
    let service = service(foods);
    let stale = ETag::of_value(&oats("Oatmeal"));
    let error = service.edit_food_if(USER, FoodId(100), rename(), Some(&tags(&[&stale]))).await.unwrap_err();
    assert!(matches!(error, EditFoodError::PreconditionFailed), "{error:?}");
    assert_eq!(error.kind(), ErrorKind::PreconditionFailed);
    let nothing = service.edit_food_if(USER, FoodId(100), rename(), Some(&IfMatch::OneOf(Vec::new()))).await;
    assert!(matches!(nothing, Err(EditFoodError::PreconditionFailed)), "{nothing:?}");
}

#[tokio::test]
async fn a_current_tag_hands_the_state_it_names_to_the_locked_write() {
    let mut foods = MockFoodRepository::new();
    stored_oats(&mut foods, 1);
    foods
        .expect_update_food()
        .times(1)
        .withf(|_, _, _, expected| expected.as_ref() == Some(&oats("Oats")))
        .returning(|_, _, _, _| Ok(Committed::new(oats("Porridge"), OutboxId(3))));
    let service = service(foods);
    let current = ETag::of_value(&oats("Oats"));
    let other = ETag::of_value(&oats("Oatmeal"));
    let edited = service.edit_food_if(USER, FoodId(100), rename(), Some(&tags(&[&other, &current]))).await.unwrap();
    assert_eq!(edited.name, "Porridge");
}

#[tokio::test]
async fn any_tag_and_no_header_edit_unconditionally() {
    let mut foods = MockFoodRepository::new();
    foods.expect_food().never();
    foods
        .expect_update_food()
        .times(2)
        .withf(|_, _, _, expected| expected.is_none())
        .returning(|_, _, _, _| Ok(Committed::new(oats("Porridge"), OutboxId(3))));
    let service = service(foods);
    service.edit_food_if(USER, FoodId(100), rename(), Some(&IfMatch::Any)).await.unwrap();
    service.edit_food(USER, FoodId(100), rename()).await.unwrap();
}

#[tokio::test]
async fn a_food_changed_before_the_lock_is_a_failed_precondition() {
    let mut foods = MockFoodRepository::new();
    stored_oats(&mut foods, 1);
    foods.expect_update_food().times(1).returning(|_, _, _, _| Err(UpdateFoodError::Changed));
    let service = service(foods);
    let current = ETag::of_value(&oats("Oats"));
    let error = service.edit_food_if(USER, FoodId(100), rename(), Some(&tags(&[&current]))).await.unwrap_err();
    assert!(matches!(error, EditFoodError::PreconditionFailed), "{error:?}");
}
