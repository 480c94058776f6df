//! The contract's additions (`GET /v1/weeks/{start}`, `PATCH /v1/foods/{id}`)
//! on the embedded default; `services.rs` runs them on PostgreSQL and Redis
//! across two instances.

mod common;

use common::TestApp;

#[actix_web::test]
async fn weeks_on_sqlite() {
    let app = TestApp::sqlite().await;
    let client = app.client().await;
    common::additions::weeks(&client, &client).await;
}

#[actix_web::test]
async fn food_edits_on_sqlite() {
    let app = TestApp::sqlite().await;
    let client = app.client().await;
    common::additions::food_edits(&client, &client).await;
}
