use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{Macros, TimeZone, UserId};

/// A user as they see themselves (`GET /v1/me`).
#[allow(
    missing_docs,
    reason = "a field's doc comment would become its description in the OpenAPI document and the generated client; the contract documents the fields"
)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct User {
    pub id: UserId,
    pub name: String,
    pub targets: Option<Macros>,
    pub timezone: TimeZone,
}
