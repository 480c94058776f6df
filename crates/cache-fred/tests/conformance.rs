//! The store conformance suite shared with the in-process store.

mod common;

#[tokio::test]
async fn redis_store_conforms() {
    let Some(store) = common::store().await else {
        return;
    };
    macrotrack_cache::conformance::run_all(&store).await;
}
