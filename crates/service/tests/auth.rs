//! Authentication runs on every request, so its credential lookup is
//! cached: a known token costs the database once, an unknown one is never
//! cached, and deleting the user forgets the cached credential at once.

use std::sync::Arc;

use macrotrack_cache::{Engine, EngineConfig, MemoryStore};
use macrotrack_domain::{User, UserId};
use macrotrack_ports::{
    Committed, MockCompletionRepository, MockFoodRepository, MockLogRepository, MockOutboxRepository,
    MockPlanRepository, MockRecipeRepository, MockUserRepository, OutboxId, StoredCredential, SystemClock,
};
use macrotrack_service::{AuthError, Policies, Repositories, Service};
use sha2::{Digest, Sha256};

#[tokio::test]
async fn credentials_are_cached_until_the_user_is_deleted() {
    let secret = "ab".repeat(32);
    let secret_hash: [u8; 32] = Sha256::digest(secret.as_bytes()).into();
    let mut users = MockUserRepository::new();
    users.expect_create_user().returning(|name, _, _| {
        Ok(User { id: UserId(42), name: name.to_owned(), targets: None, timezone: Default::default() })
    });
    // The known selector is read from the database three times in all:
    // once for user 42 before the deletion (their epoch did not exist yet:
    // the read confirms the credential before any guard is made, and its
    // value is stored under the guard made then, which nothing bumped
    // meanwhile), once for user 43 (another key, refused, leaving nothing
    // behind), and once for user 42 after the deletion (the bump made the
    // epoch). Unknown selectors: every time.
    users
        .expect_credential()
        .withf(|selector| selector == "0123456789abcdef")
        .times(3)
        .returning(move |_| Ok(Some(StoredCredential { user: UserId(42), secret_hash })));
    users.expect_credential().withf(|selector| selector == "00000000000000ff").times(3).returning(|_| Ok(None));
    users.expect_delete_user().times(1).returning(|_| Ok(Some(Committed { value: (), outbox: OutboxId(1) })));
    let mut outbox = MockOutboxRepository::new();
    outbox.expect_done().returning(|_| Ok(()));
    let repos = Repositories {
        users: Arc::new(users),
        foods: Arc::new(MockFoodRepository::new()),
        recipes: Arc::new(MockRecipeRepository::new()),
        logs: Arc::new(MockLogRepository::new()),
        completions: Arc::new(MockCompletionRepository::new()),
        plans: Arc::new(MockPlanRepository::new()),
        outbox: Arc::new(outbox),
        idempotency: Arc::new(macrotrack_ports::MockIdempotencyRepository::new()),
    };
    let engine = Engine::new(MemoryStore::new(1 << 20), Arc::new(SystemClock), EngineConfig::default());
    let service = Service::new(repos, engine, Arc::new(SystemClock), Policies::default());
    let token = format!("mt_42_0123456789abcdef_{secret}");
    for _ in 0..5 {
        assert_eq!(service.authenticate(&token).await.unwrap(), UserId(42));
    }
    let wrong_secret = format!("mt_42_0123456789abcdef_{}", "cd".repeat(32));
    assert!(matches!(service.authenticate(&wrong_secret).await, Err(AuthError::Unauthenticated)));
    let other_user = format!("mt_43_0123456789abcdef_{secret}");
    // Another user id with the same selector reads its own (empty) entry.
    assert!(matches!(service.authenticate(&other_user).await, Err(AuthError::Unauthenticated)));
    let unknown = format!("mt_42_00000000000000ff_{secret}");
    for _ in 0..3 {
        assert!(matches!(service.authenticate(&unknown).await, Err(AuthError::Unauthenticated)));
    }
    service.delete_user(UserId(42)).await.unwrap();
    // The epoch bump forgot the credential: the next check reads the database.
    assert_eq!(service.authenticate(&token).await.unwrap(), UserId(42));
}
