use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{Day, DayLogs, Macros, ScheduleDay, Streak};

/// Everything a day screen shows, composed of the cached reads.
#[allow(
    missing_docs,
    reason = "a field's doc comment would become its description in the OpenAPI document and the generated client; the contract documents the fields"
)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DayDashboard {
    pub date: Day,
    pub logs: DayLogs,
    pub targets: Option<Macros>,
    /// Targets minus the day's totals; may be negative.
    pub remaining: Option<Macros>,
    pub schedule: ScheduleDay,
    pub streak: Streak,
}

/// The state of a day's completion after a change.
#[allow(
    missing_docs,
    reason = "a field's doc comment would become its description in the OpenAPI document and the generated client; the contract documents the fields"
)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Completion {
    pub date: Day,
    pub completed: bool,
}
