//! An example of every JSON answer, as the reference shows it. One story
//! throughout: Alice (user 1) logs rolled oats (food 1, a seed food) and
//! roasted chicken breast (food 2) on 2026-11-24, and her recipe 1, so the
//! answers of one route agree with those of another.
//!
//! Written as JSON rather than built from values, so they read as the wire
//! does; the tests read each domain example back into its type and write it
//! again, and openapi.rs checks every example against its schema.

use macrotrack_domain::{
    Completion, DayDashboard, DayLogs, Food, FrequentFood, LogEntry, Macros, MealPlan, RecentFood, Recipe, ScheduleDay,
    ScheduledPlan, Streak, Summary, User, Week,
};
use serde_json::{Value, json};

use crate::routes::{admin, logs, me, ops};

/// A type whose answers the reference shows an example of.
pub trait Example {
    /// What an answer of this type looks like.
    fn example() -> Value;
}

/// A list answer: one element, which is enough to show its shape.
impl<T: Example> Example for Vec<T> {
    fn example() -> Value {
        json!([T::example()])
    }
}

/// Macros as written.
fn macros(calories: f64, protein_g: f64, carbs_g: f64, fat_g: f64) -> Value {
    json!({ "calories": calories, "protein_g": protein_g, "carbs_g": carbs_g, "fat_g": fat_g })
}

/// `extra`'s members added to `base`'s.
fn with(mut base: Value, extra: Value) -> Value {
    if let (Value::Object(base), Value::Object(extra)) = (&mut base, extra) {
        base.extend(extra);
    }
    base
}

fn targets() -> Value {
    macros(2200.0, 140.0, 250.0, 70.0)
}

/// Rolled oats, food 1 of the seed catalogue.
impl Example for Food {
    fn example() -> Value {
        with(
            json!({
                "id": 1, "name": "Oats, rolled", "brand": null, "serving_size": 100.0, "serving_unit": "g",
                "owner": "global", "generic": true, "source": null, "barcode": null, "grams_per_serving": 100.0,
                "portions": [],
            }),
            macros(379.0, 13.15, 67.7, 6.52),
        )
    }
}

impl Example for FrequentFood {
    fn example() -> Value {
        json!({ "food": Food::example(), "uses": 12 })
    }
}

impl Example for RecentFood {
    fn example() -> Value {
        json!({ "food": Food::example(), "last_logged": "2026-11-24" })
    }
}

/// The day's two entries: oats by servings, chicken by grams.
pub(crate) fn entries() -> [Value; 2] {
    let oats = with(
        json!({
            "id": 101, "date": "2026-11-24", "meal": "breakfast", "food_id": 1, "recipe_id": null,
            "name": "Oats, rolled", "servings": 1.5, "grams": 150.0, "portion": null,
            "created_at": "2026-11-24T07:42:10.123456Z", "updated_at": "2026-11-24T07:42:10.123456Z",
        }),
        macros(568.5, 19.73, 101.55, 9.78),
    );
    let chicken = with(
        json!({
            "id": 102, "date": "2026-11-24", "meal": "lunch", "food_id": 2, "recipe_id": null,
            "name": "Chicken breast, skinless, roasted", "servings": 1.5, "grams": 150.0, "portion": null,
            "created_at": "2026-11-24T12:15:03.500000Z", "updated_at": "2026-11-24T12:15:03.500000Z",
        }),
        macros(247.5, 46.53, 0.0, 5.36),
    );
    [oats, chicken]
}

impl Example for LogEntry {
    fn example() -> Value {
        let [oats, _] = entries();
        oats
    }
}

impl Example for DayLogs {
    fn example() -> Value {
        json!({
            "date": "2026-11-24",
            "completed": true,
            "entries": entries(),
            "totals": macros(816.0, 66.26, 101.55, 15.14),
        })
    }
}

impl Example for User {
    fn example() -> Value {
        json!({ "id": 1, "name": "Alice", "targets": targets(), "timezone": "Europe/Berlin" })
    }
}

impl Example for Macros {
    fn example() -> Value {
        targets()
    }
}

/// Recipe 1: two servings of oats with chicken (CI's fixture names it).
impl Example for Recipe {
    fn example() -> Value {
        json!({
            "id": 1,
            "name": "Oats and chicken",
            "servings": 2.0,
            "ingredients": [{ "food_id": 1, "servings": 1.0 }, { "food_id": 2, "servings": 1.0 }],
            "per_serving": macros(272.0, 22.09, 33.85, 5.05),
        })
    }
}

impl Example for Completion {
    fn example() -> Value {
        json!({ "date": "2026-11-24", "completed": true })
    }
}

impl Example for Streak {
    fn example() -> Value {
        json!({ "current": 3, "longest": 9, "last_completed": "2026-11-24" })
    }
}

impl Example for Summary {
    fn example() -> Value {
        json!({
            "from": "2026-11-23",
            "to": "2026-11-24",
            "days": [
                { "date": "2026-11-23", "totals": macros(2105.0, 131.2, 240.5, 68.0), "entries": 5 },
                { "date": "2026-11-24", "totals": macros(816.0, 66.26, 101.55, 15.14), "entries": 2 },
            ],
        })
    }
}

fn scheduled_plan() -> Value {
    json!({
        "id": 4, "meal_plan_id": 3, "name": "Cutting week", "start_date": "2026-11-23", "end_date": "2026-11-29",
    })
}

impl Example for ScheduledPlan {
    fn example() -> Value {
        scheduled_plan()
    }
}

impl Example for ScheduleDay {
    fn example() -> Value {
        json!({
            "date": "2026-11-24",
            "plan": scheduled_plan(),
            "meals": [{
                "id": 17, "meal": "dinner", "recipe_id": 1, "name": "Oats and chicken", "servings": 1.0,
                "logged": false,
            }],
        })
    }
}

impl Example for MealPlan {
    fn example() -> Value {
        json!({
            "id": 3,
            "name": "Cutting week",
            "days": 7,
            "items": [
                { "day": 0, "meal": "dinner", "recipe_id": 1, "servings": 1.0 },
                { "day": 1, "meal": "lunch", "recipe_id": 1, "servings": 1.5 },
            ],
        })
    }
}

impl Example for DayDashboard {
    fn example() -> Value {
        json!({
            "date": "2026-11-24",
            "logs": DayLogs::example(),
            "targets": targets(),
            "remaining": macros(1384.0, 73.74, 148.45, 54.86),
            "schedule": ScheduleDay::example(),
            "streak": Streak::example(),
        })
    }
}

impl Example for Week {
    fn example() -> Value {
        let day = |date: &str, totals: Value, entries: u32, completed: bool| json!({ "date": date, "totals": totals, "entries": entries, "completed": completed });
        let none = || macros(0.0, 0.0, 0.0, 0.0);
        json!({
            "start": "2026-11-23",
            "end": "2026-11-29",
            "days": [
                day("2026-11-23", macros(2105.0, 131.2, 240.5, 68.0), 5, true),
                day("2026-11-24", macros(816.0, 66.26, 101.55, 15.14), 2, true),
                day("2026-11-25", none(), 0, false),
                day("2026-11-26", none(), 0, false),
                day("2026-11-27", none(), 0, false),
                day("2026-11-28", none(), 0, false),
                day("2026-11-29", none(), 0, false),
            ],
            "average": macros(1460.5, 98.73, 171.03, 41.57),
            "targets": targets(),
            "on_target_days": 1,
        })
    }
}

impl Example for logs::CreatedLogs {
    fn example() -> Value {
        json!({ "entries": entries() })
    }
}

impl Example for me::Settings {
    fn example() -> Value {
        json!({ "timezone": "Europe/Berlin" })
    }
}

impl Example for admin::CreatedUser {
    fn example() -> Value {
        json!({
            "id": 1,
            "name": "Alice",
            "token": "mt_1_5f0c2a9e41d7b3c8_9b2e6f1d4c7a8e3b0f5d2c9a6e1b4f7d8c3a0e5b2f9d6c1a4e7b8f3d0c5a2e9b6f1d",
        })
    }
}

impl Example for admin::Invalidated {
    fn example() -> Value {
        json!({ "invalidated": 2 })
    }
}

impl Example for ops::Health {
    fn example() -> Value {
        json!({ "status": "ok" })
    }
}

impl Example for ops::Readiness {
    fn example() -> Value {
        json!({ "database": "ok", "cache": "in-process" })
    }
}

/// `/readyz`'s 503: the database does not answer.
pub(crate) fn readiness_down() -> Value {
    json!({ "database": "down", "cache": "ok" })
}

/// The document's head (the whole is the reference itself).
impl Example for ops::OpenApiDocument {
    fn example() -> Value {
        json!({ "openapi": "3.1.0", "info": { "title": "Macrotrack", "version": env!("CARGO_PKG_VERSION") }, "paths": {} })
    }
}

/// A line of the exposition.
pub(crate) const METRICS: &str = "# TYPE macrotrack_http_requests_total counter\n\
    macrotrack_http_requests_total{route=\"/v1/logs\",method=\"GET\",status=\"200\"} 1024\n";

/// The export of the day's entries (export.rs's tests write it from them).
pub(crate) const CSV: &str = "date,meal,name,servings,grams,calories,protein_g,carbs_g,fat_g,food_id,recipe_id\r\n\
    2026-11-24,breakfast,\"Oats, rolled\",1.5,150.0,568.5,19.73,101.55,9.78,1,\r\n\
    2026-11-24,lunch,\"Chicken breast, skinless, roasted\",1.5,150.0,247.5,46.53,0.0,5.36,2,\r\n";

#[cfg(test)]
mod tests {
    use serde::Serialize;
    use serde::de::DeserializeOwned;

    use macrotrack_domain::{Amount, WeekBlock, WeekDay};

    use super::*;

    /// `T`'s example read into `T` and written again: the same JSON, so it
    /// names every field, each of the right type and within its bounds.
    fn reads_back<T: Example + Serialize + DeserializeOwned>() {
        let example = T::example();
        let read: T = serde_json::from_value(example.clone())
            .unwrap_or_else(|error| panic!("{}: {error}\n{example}", std::any::type_name::<T>()));
        assert_eq!(serde_json::to_value(read).unwrap(), example, "{}", std::any::type_name::<T>());
    }

    #[test]
    fn every_domain_example_is_what_its_type_writes() {
        reads_back::<Food>();
        reads_back::<Vec<FrequentFood>>();
        reads_back::<Vec<RecentFood>>();
        reads_back::<LogEntry>();
        reads_back::<DayLogs>();
        reads_back::<User>();
        reads_back::<Macros>();
        reads_back::<Recipe>();
        reads_back::<Completion>();
        reads_back::<Streak>();
        reads_back::<Summary>();
        reads_back::<ScheduledPlan>();
        reads_back::<ScheduleDay>();
        reads_back::<MealPlan>();
        reads_back::<DayDashboard>();
        reads_back::<Week>();
    }

    /// The figures are those the domain computes: an entry's macros from
    /// its food's, a day's totals, what remains, a recipe's per serving, a
    /// week's average and days on target.
    #[test]
    fn the_story_adds_up() {
        let read = |value: Value| -> Macros { serde_json::from_value(value).unwrap() };
        let oats = read(Food::example());
        let chicken = read(macros(165.0, 31.02, 0.0, 3.57));
        let servings = Amount::from_hundredths(150);
        let logs: DayLogs = serde_json::from_value(DayLogs::example()).unwrap();
        let eaten: Vec<Macros> = logs.entries.iter().map(|entry| entry.macros).collect();
        assert_eq!(eaten, [oats.times(servings), chicken.times(servings)]);
        assert_eq!(logs.totals, eaten.into_iter().sum());
        let dashboard: DayDashboard = serde_json::from_value(DayDashboard::example()).unwrap();
        assert_eq!(dashboard.remaining, Some(dashboard.targets.unwrap().minus(logs.totals)));
        let recipe: Recipe = serde_json::from_value(Recipe::example()).unwrap();
        let one = Amount::from_hundredths(100);
        assert_eq!(recipe.per_serving, Recipe::per_serving([(oats, one), (chicken, one)], recipe.servings));

        let week: Week = serde_json::from_value(Week::example()).unwrap();
        let known: Vec<WeekDay> = week.days.iter().filter(|day| day.entries > 0).copied().collect();
        let block = WeekBlock::new(week.start, &known, week.targets);
        assert_eq!(Week::compose(week.start, &[block]), week);
    }
}
