//! The catalogue's cached reads: food search (the user's part and the
//! catalogue's shared part), a food by id and by barcode.
//!
//! Against a mocked repository: a warm search is a hit whatever the query's
//! spelling, users share the catalogue's part, misses leave nothing, and
//! a new catalogue generation leaves every entry behind. Against real
//! stores (SQLite with the in-process store; PostgreSQL with Redis): an
//! import made by one instance reaches another instance's cached reads
//! once it follows the generation, and a user's foods never reach another
//! user's searches.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use macrotrack_cache::{Engine, EngineConfig, MemoryStore};
use macrotrack_cache_fred::{RedisConfig, RedisStore};
use macrotrack_db_seaorm::{DbConfig, SeaOrmRepository};
use macrotrack_domain::{
    Amount, Food, FoodId, FoodInput, FoodOwner, FoodSource, Gtin, ImportedFood, ImportedFoodInput, Macros, UserId,
};
use macrotrack_ports::{
    CacheStore, Clock, MockCompletionRepository, MockFoodRepository, MockIdempotencyRepository, MockLogRepository,
    MockOutboxRepository, MockPlanRepository, MockRecipeRepository, MockUserRepository, SystemClock,
};
use macrotrack_service::{ErrorKind, Failure, Policies, Repositories, Service};

const ALICE: UserId = UserId(42);
const BOB: UserId = UserId(43);

fn food(id: i64, name: &str, owner: FoodOwner) -> Food {
    Food {
        id: FoodId(id),
        name: name.to_owned(),
        brand: None,
        serving_size: Amount::from_hundredths(10000),
        serving_unit: "g".into(),
        grams_per_serving: Some(Amount::from_hundredths(10000)),
        per_serving: Macros::default(),
        owner,
        generic: true,
        source: None,
        barcode: None,
        portions: Vec::new(),
    }
}

fn service<S: CacheStore>(repos: Repositories, store: S) -> Service<S> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    Service::new(repos, Engine::new(store, clock.clone(), EngineConfig::default()), clock, Policies::default())
}

fn mocked(foods: MockFoodRepository) -> Repositories {
    Repositories {
        users: Arc::new(MockUserRepository::new()),
        foods: Arc::new(foods),
        recipes: Arc::new(MockRecipeRepository::new()),
        logs: Arc::new(MockLogRepository::new()),
        completions: Arc::new(MockCompletionRepository::new()),
        plans: Arc::new(MockPlanRepository::new()),
        outbox: Arc::new(MockOutboxRepository::new()),
        idempotency: Arc::new(MockIdempotencyRepository::new()),
    }
}

fn counter() -> Arc<AtomicUsize> {
    Arc::default()
}

fn count(counter: &AtomicUsize) -> usize {
    counter.load(Ordering::SeqCst)
}

#[tokio::test]
async fn a_warm_search_is_a_hit_users_share_the_catalogues_part_and_a_new_generation_leaves_it() {
    let (own_fetches, catalogue_fetches) = (counter(), counter());
    let generation = Arc::new(AtomicU64::new(3));
    let mut foods = MockFoodRepository::new();
    let seen = generation.clone();
    foods.expect_catalogue_generation().returning(move || Ok(seen.load(Ordering::SeqCst)));
    let fetches = own_fetches.clone();
    foods.expect_search_own_foods().returning(move |user, query, _| {
        fetches.fetch_add(1, Ordering::SeqCst);
        assert_eq!(query, "milk", "the normalized query reaches the repository");
        Ok(if user == ALICE { vec![food(9, "Milk of Alice's", FoodOwner::User)] } else { Vec::new() })
    });
    let fetches = catalogue_fetches.clone();
    foods.expect_search_catalogue().returning(move |_, rows| {
        fetches.fetch_add(1, Ordering::SeqCst);
        assert!(rows >= 20, "a page of rows at least ({rows})");
        Ok(vec![food(1, "Milk, whole", FoodOwner::Global), food(2, "Milk, skim", FoodOwner::Global)])
    });
    let service = service(mocked(foods), MemoryStore::new(1 << 20));

    // Before the generation is known, nothing is cached.
    for _ in 0..2 {
        service.search_foods(ALICE, "milk", None, None).await.unwrap();
    }
    assert_eq!((count(&own_fetches), count(&catalogue_fetches)), (2, 2), "bypassed until known");

    assert_eq!(service.refresh_catalogue().await.unwrap(), 3);
    let first = service.search_foods(ALICE, "Milk", None, None).await.unwrap();
    let names: Vec<&str> = first.iter().map(|food| food.name.as_str()).collect();
    assert_eq!(names, ["Milk of Alice's", "Milk, whole", "Milk, skim"], "the user's part first");
    for spelling in ["milk", "  MILK ", "mílk"] {
        assert_eq!(service.search_foods(ALICE, spelling, None, None).await.unwrap(), first, "{spelling}");
    }
    assert_eq!((count(&own_fetches), count(&catalogue_fetches)), (3, 3), "one fetch of each part, then hits");
    let page = service.search_foods(ALICE, "milk", Some(1), Some(2)).await.unwrap();
    assert_eq!(page, first[2..], "pages come from the same entries");
    assert_eq!((count(&own_fetches), count(&catalogue_fetches)), (3, 3));

    let bobs = service.search_foods(BOB, "milk", None, None).await.unwrap();
    assert_eq!(bobs, first[1..], "never another user's food");
    assert_eq!(
        (count(&own_fetches), count(&catalogue_fetches)),
        (4, 3),
        "Bob's part is his; the catalogue's is shared"
    );

    generation.store(4, Ordering::SeqCst);
    assert_eq!(service.refresh_catalogue().await.unwrap(), 4);
    service.search_foods(ALICE, "milk", None, None).await.unwrap();
    assert_eq!((count(&own_fetches), count(&catalogue_fetches)), (5, 4), "a new generation: both parts again");
}

#[tokio::test]
async fn foods_by_id_and_barcode_are_cached_and_misses_leave_nothing() {
    let (by_id, by_barcode) = (counter(), counter());
    let code = Gtin::parse("4006381333931").unwrap();
    let mut foods = MockFoodRepository::new();
    foods.expect_catalogue_generation().returning(|| Ok(0));
    let fetches = by_id.clone();
    foods.expect_food().returning(move |_, id| {
        fetches.fetch_add(1, Ordering::SeqCst);
        Ok((id == FoodId(1)).then(|| food(1, "Oats", FoodOwner::Global)))
    });
    let fetches = by_barcode.clone();
    foods.expect_food_by_barcode().returning(move |reader, asked| {
        fetches.fetch_add(1, Ordering::SeqCst);
        assert_eq!(reader, macrotrack_cache_keys::CATALOGUE, "the shared read sees global foods only");
        Ok((asked.as_str() == "04006381333931").then(|| food(1, "Oats", FoodOwner::Global)))
    });
    let service = service(mocked(foods), MemoryStore::new(1 << 20));
    service.refresh_catalogue().await.unwrap();

    for _ in 0..3 {
        assert_eq!(service.food(ALICE, FoodId(1)).await.unwrap().name, "Oats");
        let missing = service.food(ALICE, FoodId(2)).await.unwrap_err();
        assert_eq!(missing.kind(), ErrorKind::NotFound);
    }
    assert_eq!(count(&by_id), 1 + 3, "food 1 fetched once; the missing food every time");

    let other = Gtin::parse("96385074").unwrap();
    for user in [ALICE, BOB, ALICE] {
        assert_eq!(service.food_by_barcode(user, &code).await.unwrap().name, "Oats");
        assert_eq!(service.food_by_barcode(user, &other).await.unwrap_err().kind(), ErrorKind::NotFound);
    }
    assert_eq!(count(&by_barcode), 1 + 3, "one fetch shared by every user; misses every time");
}

fn kefir(name: &str, calories: f64) -> Result<Result<ImportedFood, macrotrack_domain::Skipped>, std::io::Error> {
    let input = ImportedFoodInput {
        source: FoodSource::Fdc(880_001),
        name: name.to_owned(),
        brand: None,
        generic: true,
        barcode: Some("4006381333931".into()),
        calories: Some(calories),
        protein_g: Some(3.0),
        carbs_g: Some(4.0),
        fat_g: Some(1.0),
        portions: Vec::new(),
    };
    Ok(Ok(ImportedFood::from_input(input).unwrap()))
}

/// Instance `a` imports; instance `b` (sharing the database and the store)
/// caches the catalogue's reads, keeps answering them until it follows the
/// generation, then answers what the database says.
async fn an_import_reaches_the_other_instance<S: CacheStore>(
    a: Service<S>,
    b: Service<S>,
    importer: &SeaOrmRepository,
    truth: Service<MemoryStore>,
) {
    a.refresh_catalogue().await.unwrap();
    b.refresh_catalogue().await.unwrap();
    let alice = a.create_user("alice").await.unwrap().user.id;
    let bob = a.create_user("bob").await.unwrap().user.id;
    let code = Gtin::parse("4006381333931").unwrap();
    a.import_foods(importer, vec![kefir("Kefir, plain", 60.0)], &mut ()).await.unwrap();
    b.refresh_catalogue().await.unwrap();
    let searched = b.search_foods(bob, "kefir", None, None).await.unwrap();
    assert_eq!(searched.iter().map(|food| food.name.as_str()).collect::<Vec<_>>(), ["Kefir, plain"]);
    let id = searched[0].id;
    assert_eq!(b.food(bob, id).await.unwrap().name, "Kefir, plain");
    assert_eq!(b.food_by_barcode(bob, &code).await.unwrap().name, "Kefir, plain");

    let summary = a.import_foods(importer, vec![kefir("Kefir, low fat", 41.0)], &mut ()).await.unwrap();
    assert_eq!(summary.counts.updated, 1);
    assert_eq!(a.catalogue_generation(), summary.generation, "the importing instance follows at once");
    assert_eq!(a.search_foods(bob, "kefir", None, None).await.unwrap()[0].name, "Kefir, low fat");
    assert_eq!(b.search_foods(bob, "kefir", None, None).await.unwrap()[0].name, "Kefir, plain", "cached before");
    b.refresh_catalogue().await.unwrap();
    assert_eq!(b.catalogue_generation(), summary.generation);
    for (user, query) in [(bob, "kefir"), (bob, "KÉFIR low")] {
        assert_eq!(
            b.search_foods(user, query, None, None).await.unwrap(),
            truth.search_foods(user, query, None, None).await.unwrap()
        );
    }
    assert_eq!(b.search_foods(bob, "kefir", None, None).await.unwrap()[0].name, "Kefir, low fat");
    assert_eq!(b.food(bob, id).await.unwrap(), truth.food(bob, id).await.unwrap());
    assert_eq!(b.food_by_barcode(bob, &code).await.unwrap().name, "Kefir, low fat");

    // A user's own food is in their searches at once, and never in another's.
    let input = FoodInput {
        name: Some("Kefir, homemade".into()),
        brand: None,
        serving_size: Some(100.0),
        serving_unit: Some("g".into()),
        calories: Some(55.0),
        protein_g: Some(3.0),
        carbs_g: Some(4.0),
        fat_g: Some(2.0),
    };
    a.search_foods(alice, "kefir", None, None).await.unwrap();
    let homemade = a.create_food(alice, input).await.unwrap();
    for service in [&a, &b] {
        let alices = service.search_foods(alice, "kefir", None, None).await.unwrap();
        assert_eq!(alices.iter().map(|food| food.id).collect::<Vec<_>>(), [homemade.id, id]);
        let bobs = service.search_foods(bob, "kefir", None, None).await.unwrap();
        assert_eq!(bobs.iter().map(|food| food.id).collect::<Vec<_>>(), [id]);
        assert_eq!(service.food(bob, homemade.id).await.unwrap_err().kind(), ErrorKind::NotFound);
    }
}

async fn sqlite(path: &str) -> SeaOrmRepository {
    let repository = SeaOrmRepository::connect(&DbConfig::new(path)).await.expect("sqlite");
    repository.migrate().await.expect("migrate");
    repository
}

fn plain(repository: SeaOrmRepository) -> Service<MemoryStore> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let engine =
        Engine::new(MemoryStore::new(1 << 20), clock.clone(), EngineConfig { enabled: false, ..Default::default() });
    Service::new(Repositories::from_one(repository), engine, clock, Policies::default())
}

#[tokio::test]
async fn an_import_reaches_another_instance_on_sqlite_and_a_shared_in_process_store() {
    let repository = sqlite("sqlite::memory:").await;
    let store = MemoryStore::new(8 << 20);
    let a = service(Repositories::from_one(repository.clone()), store.clone());
    let b = service(Repositories::from_one(repository.clone()), store);
    an_import_reaches_the_other_instance(a, b, &repository, plain(repository.clone())).await;
}

#[tokio::test]
async fn an_import_reaches_another_instance_on_postgres_and_redis() {
    let Some(database) = macrotrack_testkit::FreshDatabase::create("catalogue_instances").await else { return };
    let connect = async || {
        let repository = SeaOrmRepository::connect(&DbConfig::new(database.url.clone())).await.expect("postgres");
        repository.migrate().await.expect("migrate");
        repository
    };
    let (first, second) = (connect().await, connect().await);
    let prefix = macrotrack_testkit::unique_name("catalogue_instances");
    let redis = async || {
        let mut config = RedisConfig::new(macrotrack_testkit::redis_url());
        config.key_prefix = prefix.clone();
        RedisStore::connect(config).await
    };
    let (store_a, store_b) = match (redis().await, redis().await) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(error), _) | (_, Err(error)) => {
            database.drop().await;
            macrotrack_testkit::skip_or_fail("Redis", error);
            return;
        }
    };
    let a = service(Repositories::from_one(first.clone()), store_a);
    let b = service(Repositories::from_one(second.clone()), store_b);
    an_import_reaches_the_other_instance(a, b, &first, plain(second)).await;
    database.drop().await;
}

#[tokio::test]
async fn recent_foods_are_cached_per_limit_and_follow_the_catalogue() {
    let fetches = counter();
    let generation = Arc::new(AtomicU64::new(0));
    let mut foods = MockFoodRepository::new();
    let seen = generation.clone();
    foods.expect_catalogue_generation().returning(move || Ok(seen.load(Ordering::SeqCst)));
    let counted = fetches.clone();
    foods.expect_recent_foods().returning(move |_, limit| {
        counted.fetch_add(1, Ordering::SeqCst);
        let last_logged = "2026-11-24".parse().unwrap();
        let all = [food(3, "Oats", FoodOwner::Global), food(1, "Milk", FoodOwner::Global)];
        Ok(all
            .into_iter()
            .take(limit as usize)
            .map(|food| macrotrack_domain::RecentFood { food, last_logged })
            .collect())
    });
    let service = service(mocked(foods), MemoryStore::new(1 << 20));
    service.refresh_catalogue().await.unwrap();
    for _ in 0..3 {
        assert_eq!(service.recent_foods(ALICE, None).await.unwrap().len(), 2);
        assert_eq!(service.recent_foods(ALICE, Some(1)).await.unwrap().len(), 1);
    }
    assert_eq!(count(&fetches), 2, "one fetch per limit, then hits");
    let refused = service.recent_foods(ALICE, Some(0)).await.unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::Invalid);
    generation.store(1, Ordering::SeqCst);
    service.refresh_catalogue().await.unwrap();
    service.recent_foods(ALICE, None).await.unwrap();
    assert_eq!(count(&fetches), 3, "an import shows in recent foods too");
}
