use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{Macros, UserId};

/// A user as they see themselves (`GET /v1/me`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct User {
    pub id: UserId,
    pub name: String,
    pub targets: Option<Macros>,
}
