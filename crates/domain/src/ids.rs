//! Typed identifiers, so a food id can never be passed where a user id goes.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    )*};
}

id_type!(
    /// A user of the API.
    UserId,
    /// A global or user-owned food.
    FoodId,
    /// A user's recipe.
    RecipeId,
    /// One logged food or recipe on one day.
    LogEntryId,
    /// A reusable meal plan template.
    MealPlanId,
    /// A meal plan placed on the calendar.
    ScheduledPlanId,
    /// One meal of a scheduled plan on one day.
    ScheduledMealId,
    /// A household measure of a catalogue food ("1 cup").
    PortionId,
);
