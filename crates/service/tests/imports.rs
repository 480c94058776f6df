//! The import use case against a mocked `CatalogueImport`: batches of
//! `IMPORT_BATCH`, skipped rows never written, the summary's counts and
//! lines, progress after each batch, and an error ending the import.

use std::sync::{Arc, Mutex};

use macrotrack_cache::{Engine, EngineConfig};
use macrotrack_domain::{FoodSource, ImportedFood, ImportedFoodInput, SkipReason, Skipped};
use macrotrack_ports::{
    ImportCounts, MockCacheStore, MockCatalogueImport, MockCompletionRepository, MockFoodRepository, MockLogRepository,
    MockOutboxRepository, MockPlanRepository, MockRecipeRepository, MockUserRepository, SystemClock, Unavailable,
};
use macrotrack_service::{IMPORT_BATCH, ImportError, ImportProgress, ImportSummary, Policies, Repositories, Service};

/// A service whose store has no expectations: any read or bump of the
/// cache fails the test.
fn service() -> Service<MockCacheStore> {
    let repos = Repositories {
        users: Arc::new(MockUserRepository::new()),
        foods: Arc::new(MockFoodRepository::new()),
        recipes: Arc::new(MockRecipeRepository::new()),
        logs: Arc::new(MockLogRepository::new()),
        completions: Arc::new(MockCompletionRepository::new()),
        plans: Arc::new(MockPlanRepository::new()),
        outbox: Arc::new(MockOutboxRepository::new()),
        idempotency: Arc::new(macrotrack_ports::MockIdempotencyRepository::new()),
    };
    let engine = Engine::new(MockCacheStore::new(), Arc::new(SystemClock), EngineConfig::default());
    Service::new(repos, engine, Arc::new(SystemClock), Policies::default())
}

fn food(id: u64, barcode: Option<&str>) -> ImportedFood {
    ImportedFood::from_input(ImportedFoodInput {
        source: FoodSource::Fdc(id),
        name: format!("Food {id}"),
        brand: None,
        generic: true,
        barcode: barcode.map(str::to_owned),
        calories: Some(100.0),
        protein_g: Some(1.0),
        carbs_g: Some(2.0),
        fat_g: Some(3.0),
        portions: Vec::new(),
    })
    .unwrap()
}

fn skipped(id: u64, reason: SkipReason) -> Skipped {
    Skipped { source: format!("fdc:{id}"), reason }
}

type Item = Result<Result<ImportedFood, Skipped>, std::io::Error>;

/// Records each batch's size and answers as if each food were new.
fn recording_catalogue(batches: Arc<Mutex<Vec<usize>>>) -> MockCatalogueImport {
    let mut catalogue = MockCatalogueImport::new();
    catalogue.expect_upsert_imported_foods().returning(move |batch, _| {
        batches.lock().unwrap().push(batch.len());
        Ok(ImportCounts { imported: batch.len() as u64, updated: 0, unchanged: 0 })
    });
    catalogue.expect_finish_import().returning(|| Ok(Some(1)));
    catalogue
}

#[derive(Default)]
struct Watched(Vec<u64>);

impl ImportProgress for Watched {
    fn batch_written(&mut self, so_far: &ImportSummary) {
        self.0.push(so_far.counts.imported);
    }
}

#[tokio::test]
async fn foods_are_written_in_batches_and_skipped_rows_are_counted_not_written() {
    let mut items: Vec<Item> = (0..2500).map(|id| Ok(Ok(food(id, None)))).collect();
    items.insert(10, Ok(Err(skipped(9001, SkipReason::MissingEnergy))));
    items.insert(20, Ok(Err(skipped(9002, SkipReason::MissingEnergy))));
    items.push(Ok(Err(skipped(9003, SkipReason::EmptyName))));
    let batches = Arc::new(Mutex::new(Vec::new()));
    let catalogue = recording_catalogue(batches.clone());
    let mut progress = Watched::default();
    let summary = service().import_foods(&catalogue, items, &mut progress).await.unwrap();
    assert_eq!(*batches.lock().unwrap(), [IMPORT_BATCH, IMPORT_BATCH, 500]);
    assert_eq!(progress.0, [1000, 2000, 2500], "told after each batch, with the totals so far");
    assert_eq!(summary.counts, ImportCounts { imported: 2500, updated: 0, unchanged: 0 });
    assert_eq!(summary.skipped_total(), 3);
    assert_eq!(summary.rows(), 2503);
    assert_eq!(
        summary.lines(),
        ["imported 2500, updated 0, unchanged 0, skipped 3", "empty name 1", "missing energy 2"],
        "reasons in the order SkipReason::ALL lists them"
    );
}

#[tokio::test]
async fn the_port_counts_are_summed_and_a_bad_barcode_is_imported_and_counted() {
    let mut catalogue = MockCatalogueImport::new();
    let mut answers = vec![
        ImportCounts { imported: 1, updated: 2, unchanged: 997 },
        ImportCounts { imported: 0, updated: 0, unchanged: 2 },
    ]
    .into_iter();
    catalogue.expect_upsert_imported_foods().times(2).returning(move |_, _| Ok(answers.next().unwrap()));
    catalogue.expect_finish_import().times(1).returning(|| Ok(Some(4)));
    let mut items: Vec<Item> = (0..1002).map(|id| Ok(Ok(food(id, None)))).collect();
    items[3] = Ok(Ok(food(3, Some("12345678"))));
    assert!(items.iter().any(|item| matches!(item, Ok(Ok(food)) if food.barcode_rejected)));
    let service = service();
    let summary = service.import_foods(&catalogue, items, &mut ()).await.unwrap();
    assert_eq!(summary.counts, ImportCounts { imported: 1, updated: 2, unchanged: 999 });
    assert_eq!(summary.generation, Some(4));
    assert_eq!(service.catalogue_generation(), Some(4), "this instance's catalogue reads follow at once");
    assert_eq!(summary.lines(), ["imported 1, updated 2, unchanged 999, skipped 0", "bad barcode 1"]);
}

#[tokio::test]
async fn an_import_that_changes_nothing_touches_no_cache_and_an_empty_source_writes_nothing() {
    // The store mock has no expectations: a bump would panic.
    let mut catalogue = MockCatalogueImport::new();
    catalogue
        .expect_upsert_imported_foods()
        .times(1)
        .returning(|batch, _| Ok(ImportCounts { imported: 0, updated: 0, unchanged: batch.len() as u64 }));
    // Nothing marked changed: the generation stays.
    catalogue.expect_finish_import().times(1).returning(|| Ok(None));
    let items: Vec<Item> = (0..5).map(|id| Ok(Ok(food(id, None)))).collect();
    let unchanged = service();
    let summary = unchanged.import_foods(&catalogue, items, &mut ()).await.unwrap();
    assert!(!summary.counts.changed_anything());
    assert_eq!((summary.generation, unchanged.catalogue_generation()), (None, None));
    assert_eq!(summary.lines(), ["imported 0, updated 0, unchanged 5, skipped 0"]);

    let mut untouched = MockCatalogueImport::new();
    untouched.expect_upsert_imported_foods().never();
    untouched.expect_finish_import().times(1).returning(|| Ok(None));
    let only_skips: Vec<Item> = vec![Ok(Err(skipped(1, SkipReason::UnreadableRow)))];
    let summary = service().import_foods(&untouched, only_skips, &mut ()).await.unwrap();
    assert_eq!(summary.lines(), ["imported 0, updated 0, unchanged 0, skipped 1", "unreadable row 1"]);
}

#[tokio::test]
async fn a_source_error_or_an_outage_ends_the_import_keeping_the_batches_written() {
    let batches = Arc::new(Mutex::new(Vec::new()));
    let catalogue = recording_catalogue(batches.clone());
    let mut items: Vec<Item> = (0..1500).map(|id| Ok(Ok(food(id, None)))).collect();
    items.push(Err(std::io::Error::other("disk gone")));
    items.push(Ok(Ok(food(5000, None))));
    let error = service().import_foods(&catalogue, items, &mut ()).await.unwrap_err();
    assert!(matches!(error, ImportError::Source(ref io) if io.to_string() == "disk gone"), "{error:?}");
    assert_eq!(*batches.lock().unwrap(), [IMPORT_BATCH], "the half batch before the error is not written");

    let mut down = MockCatalogueImport::new();
    down.expect_upsert_imported_foods().times(1).returning(|_, _| Err(Unavailable::new(std::io::Error::other("db"))));
    let items: Vec<Item> = (0..3).map(|id| Ok(Ok(food(id, None)))).collect();
    let error = service().import_foods(&down, items, &mut ()).await.unwrap_err();
    assert!(matches!(error, ImportError::Unavailable(_)));
}
