//! The route table: the one list of every route of the API. `configure`
//! registers the handlers from it and `openapi` writes the document from it,
//! so a served route is always documented and a documented one served.
//!
//! Each body is one type (`body!`), which both reads the request and
//! writes its schema; each route's problem statuses come from its use
//! case's error type (`fails`).

/// `/v1/admin/*`.
pub mod admin;
#[cfg(test)]
mod body_tests;
/// Completions, streaks, summaries, the day screen, weeks.
pub mod days;
/// `/docs`.
pub mod docs;
/// `/v1/export`: the user's entries as CSV.
pub mod export;
/// Foods.
pub mod foods;
/// Log entries and the day's logs (the hot read).
pub mod logs;
/// The user and their targets.
pub mod me;
/// `/healthz`, `/readyz`, `/metrics`, `/openapi.json`.
pub mod ops;
/// Meal plans and the schedule.
pub mod plans;
/// Recipes.
pub mod recipes;

use actix_web::http::Method;
use actix_web::web;
use macrotrack_domain::{
    Completion, DayDashboard, DayLogs, Food, FrequentFood, LogEntry, Macros, MealPlan, RecentFood, Recipe, ScheduleDay,
    ScheduledPlan, Streak, Summary, User, Week,
};
use macrotrack_ports::Unavailable;
use macrotrack_service::{
    ChangeError, CreateError, CreateOwnedError, EditFoodError, EditLogError, Failure, GetError, ReadError,
    SchedulePlanError,
};
use schemars::{JsonSchema, Schema, SchemaGenerator};

use crate::examples::{self, Example};

/// Writes the schema of one type into a generator (a `$ref` to it).
pub type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

/// An example of an answer, as the reference shows it.
pub type ExampleFn = fn() -> serde_json::Value;

fn schema<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<T>()
}

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone: operations and the document.
    Public,
    /// A user's bearer token.
    User,
    /// The admin token; without one configured the route is not served (404).
    Admin,
}

/// Where a parameter is, which decides its `in` in the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// A `{name}` segment of the path.
    Path,
    /// A query string parameter.
    Query,
}

/// What a parameter holds, which decides its schema and its failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An i64 id: 400 when it does not parse.
    Id,
    /// `YYYY-MM-DD`: 400 when it is not a real date, 422 out of range.
    Date,
    /// 1..=100, default 20: 400 when not an integer, 422 out of range.
    Limit,
    /// 0..=10000, default 0: 400 when not an integer, 422 out of range.
    Offset,
    /// A search's text: at most 100 characters, no control characters
    /// (what `validation::search_query` refuses, 422).
    SearchText,
    /// A GS1 barcode: 400 when it is not 8, 12, 13 or 14 digits, 422 for
    /// a wrong check digit.
    Barcode,
}

/// A parameter of a route, as the document describes it.
#[derive(Debug, Clone, Copy)]
pub struct Param {
    /// As in the path template or the query.
    pub name: &'static str,
    /// Path or query.
    pub location: Location,
    /// Its schema and failures.
    pub kind: Kind,
    /// Path parameters always are.
    pub required: bool,
    /// What clients are told.
    pub description: &'static str,
}

/// The body of an answer.
#[derive(Clone, Copy)]
pub enum Content {
    /// Its schema and an example.
    Json(SchemaFn, ExampleFn),
    /// Text of this media type and an example: Prometheus exposition, CSV,
    /// the docs page and its script.
    Text(&'static str, &'static str),
    Empty,
}

/// One method on one path: its handler and everything the document says.
pub struct Route {
    /// The one method this route answers.
    pub method: Method,
    /// actix and OpenAPI share the `{name}` template syntax.
    pub path: &'static str,
    /// `HEAD` twins of `GET` routes have their `GET`'s id with `Head` after.
    pub operation_id: std::borrow::Cow<'static, str>,
    /// One line for the document.
    pub summary: &'static str,
    /// Who may call it.
    pub access: Access,
    /// Path parameters (from the template) and query parameters.
    pub params: Vec<Param>,
    /// The JSON body the route reads, if any.
    pub body: Option<SchemaFn>,
    /// The answers that are not problems (usually one success).
    pub answers: Vec<(u16, &'static str, Content)>,
    /// Problem statuses of the use case's error (`fails`) and of the
    /// delivery (`off_is_404`), beyond those of access, body and parameters.
    pub also: Vec<u16>,
    /// A cached read: strong `ETag`, `Cache-Control`, `Cache-Status`, and
    /// `304` for an `If-None-Match` naming the current tag.
    pub cached: bool,
    /// A conditional write: `If-Match` (412 when it names no current tag),
    /// and the new state's `ETag` on success.
    pub conditional: bool,
    /// In the reference: all but the docs page's own routes and the `HEAD`
    /// twins (its introduction says once that every `GET` answers `HEAD`).
    pub listed: bool,
    handler: fn() -> actix_web::Route,
}

impl Route {
    fn new(
        method: Method,
        path: &'static str,
        operation_id: &'static str,
        summary: &'static str,
        handler: fn() -> actix_web::Route,
    ) -> Route {
        Route {
            method,
            path,
            operation_id: operation_id.into(),
            summary,
            access: Access::User,
            params: path_params(path),
            body: None,
            answers: Vec::new(),
            also: Vec::new(),
            cached: false,
            conditional: false,
            listed: true,
            handler,
        }
    }

    fn access(mut self, access: Access) -> Self {
        self.access = access;
        self
    }

    fn query(mut self, name: &'static str, kind: Kind, required: bool, description: &'static str) -> Self {
        self.params.push(Param { name, location: Location::Query, kind, required, description });
        self
    }

    fn limit(self) -> Self {
        self.query("limit", Kind::Limit, false, "How many at most: 1 to 100 (default 20).")
    }

    fn body<T: JsonSchema>(mut self) -> Self {
        self.body = Some(schema::<T>);
        self
    }

    fn answers<T: JsonSchema + Example>(mut self, status: u16, description: &'static str) -> Self {
        self.answers.push((status, description, Content::Json(schema::<T>, T::example)));
        self
    }

    /// The last answer's example, where its type's would mislead.
    fn example(mut self, example: ExampleFn) -> Self {
        if let Some((_, _, Content::Json(_, last))) = self.answers.last_mut() {
            *last = example;
        }
        self
    }

    fn answers_text(
        mut self,
        status: u16,
        media_type: &'static str,
        description: &'static str,
        example: &'static str,
    ) -> Self {
        self.answers.push((status, description, Content::Text(media_type, example)));
        self
    }

    /// Served, but not in the reference: the docs page itself.
    fn unlisted(mut self) -> Self {
        self.listed = false;
        self
    }

    fn no_content(mut self, description: &'static str) -> Self {
        self.answers.push((204, description, Content::Empty));
        self
    }

    /// The route's use case fails as `E` does: its kinds' statuses.
    fn fails<E: Failure>(mut self) -> Self {
        self.also.extend(E::KINDS.iter().map(|kind| crate::problem::status_of(*kind)));
        self
    }

    /// Served only when configured (`/metrics` on its own listener).
    fn off_is_404(mut self) -> Self {
        self.also.push(404);
        self
    }

    fn cached(mut self) -> Self {
        self.cached = true;
        self
    }

    fn conditional(mut self) -> Self {
        self.conditional = true;
        self
    }

    /// The `HEAD` twin of a `GET` route: the same handler, statuses and
    /// headers; actix sends no body for `HEAD`. Unlisted: it would double
    /// the reference.
    fn head(&self) -> Route {
        Route {
            method: Method::HEAD,
            path: self.path,
            operation_id: format!("{}Head", self.operation_id).into(),
            summary: self.summary,
            access: self.access,
            params: self.params.clone(),
            body: None,
            answers: self
                .answers
                .iter()
                .map(|(status, description, _)| (*status, *description, Content::Empty))
                .collect(),
            also: self.also.clone(),
            cached: self.cached,
            conditional: self.conditional,
            listed: false,
            handler: self.handler,
        }
    }

    /// The actix route: the handler behind a guard of this method.
    pub fn handler(&self) -> actix_web::Route {
        (self.handler)().method(self.method.clone())
    }

    /// Every problem status this route can answer, ascending.
    /// A user's `POST`: it takes an `Idempotency-Key` (400 when it breaks
    /// its bound; 409 while a request with it runs; 422 for a key used on
    /// another request).
    pub fn idempotent(&self) -> bool {
        self.method == Method::POST && self.access == Access::User
    }

    pub fn problem_statuses(&self) -> Vec<u16> {
        let mut statuses = self.also.clone();
        if self.idempotent() {
            statuses.extend([400, 409, 422]);
        }
        match self.access {
            Access::Public => {}
            // 429: the rate limits answer every authenticated route.
            Access::User => statuses.extend([401, 429, 503]),
            Access::Admin => statuses.extend([401, 404, 429, 503]),
        }
        if self.body.is_some() {
            statuses.extend([400, 408, 413, 415, 422]);
        }
        for param in &self.params {
            statuses.push(400);
            if matches!(param.kind, Kind::Date | Kind::Limit | Kind::Offset | Kind::Barcode) {
                statuses.push(422);
            }
        }
        statuses.retain(|status| !self.answers.iter().any(|(answer, _, _)| answer == status));
        statuses.sort_unstable();
        statuses.dedup();
        statuses
    }
}

/// The `{name}` segments of a path: ids, except `{date}` and `{start}`.
fn path_params(path: &'static str) -> Vec<Param> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| {
            let (kind, description) = if name == "date" || name == "start" {
                (Kind::Date, "A calendar date, YYYY-MM-DD, in 1900-01-01..=2200-12-31.")
            } else if name == "code" {
                (Kind::Barcode, "A GS1 barcode: 8, 12, 13 or 14 digits with its check digit.")
            } else {
                (Kind::Id, "An id (i64).")
            };
            Param { name, location: Location::Path, kind, required: true, description }
        })
        .collect()
}

/// Every route, in registration order: a literal path comes before a
/// templated one that would capture it (`/v1/foods/frequent` before
/// `/v1/foods/{id}`). Each `GET` has a `HEAD` twin after it, served but
/// said once in the reference's introduction rather than listed.
pub fn table() -> Vec<Route> {
    let mut table = Vec::new();
    for route in routes() {
        let head = (route.method == Method::GET).then(|| route.head());
        table.push(route);
        table.extend(head);
    }
    table
}

fn routes() -> Vec<Route> {
    use Method as M;
    vec![
        // Operations.
        Route::new(M::GET, "/healthz", "healthz", "Whether the process serves", || web::route().to(ops::healthz))
            .access(Access::Public)
            .answers::<ops::Health>(200, "The process serves."),
        Route::new(M::GET, "/readyz", "readyz", "Whether the database answers; reports the cache store", || {
            web::route().to(ops::readyz)
        })
        .access(Access::Public)
        .answers::<ops::Readiness>(200, "The database answers.")
        .answers::<ops::Readiness>(503, "The database does not answer.")
        .example(examples::readiness_down),
        Route::new(M::GET, "/metrics", "metrics", "Prometheus metrics", || web::route().to(ops::metrics))
            .access(Access::Public)
            .answers_text(200, "text/plain", "Prometheus text exposition.", examples::METRICS)
            .off_is_404(),
        Route::new(M::GET, "/openapi.json", "openapi", "This document", || web::route().to(ops::openapi))
            .access(Access::Public)
            .answers::<ops::OpenApiDocument>(200, "The OpenAPI 3.1 document of every route."),
        Route::new(M::GET, "/docs", "docs", "This document for people (Redoc)", || web::route().to(docs::page))
            .access(Access::Public)
            .answers_text(200, "text/html", "A page rendering /openapi.json; it loads nothing from another origin.", "")
            .unlisted(),
        Route::new(M::GET, docs::SCRIPT_PATH, "docsScript", "The docs page's script (Redoc)", || {
            web::route().to(docs::script)
        })
        .access(Access::Public)
        .answers_text(200, "text/javascript", "Redoc's standalone bundle; its path names its version.", "")
        .unlisted(),
        // Admin.
        Route::new(M::POST, "/v1/admin/users", "createUser", "Creates a user and returns their token once", || {
            web::route().to(admin::create_user)
        })
        .access(Access::Admin)
        .body::<admin::CreateUserRequest>()
        .answers::<admin::CreatedUser>(201, "The user and their bearer token (shown only now).")
        .fails::<CreateError>(),
        Route::new(
            M::POST,
            "/v1/admin/cache/invalidate",
            "invalidateCache",
            "Invalidates rendered tags of a user",
            || web::route().to(admin::invalidate),
        )
        .access(Access::Admin)
        .body::<admin::InvalidateRequest>()
        .answers::<admin::Invalidated>(200, "How many tags were invalidated.")
        .fails::<CreateError>(),
        Route::new(
            M::POST,
            "/v1/admin/cache/refresh",
            "refreshCache",
            "Re-reads a user's day logs into the cache",
            || web::route().to(admin::refresh),
        )
        .access(Access::Admin)
        .body::<admin::RefreshRequest>()
        .answers::<DayLogs>(200, "The day's logs, freshly read and stored.")
        .fails::<CreateError>(),
        // The user.
        Route::new(M::GET, "/v1/me", "getMe", "The user, their targets and time zone", || web::route().to(me::get))
            .answers::<User>(200, "The user.")
            .cached()
            .fails::<GetError>(),
        Route::new(M::PUT, "/v1/me/targets", "setTargets", "Sets the user's daily targets", || {
            web::route().to(me::set_targets)
        })
        .body::<me::TargetsRequest>()
        .answers::<Macros>(200, "The targets as stored (rounded).")
        .fails::<ChangeError>(),
        Route::new(M::PUT, "/v1/me/settings", "setSettings", "Sets the user's time zone", || {
            web::route().to(me::set_settings)
        })
        .body::<me::SettingsRequest>()
        .answers::<me::Settings>(200, "The settings as stored.")
        .fails::<ChangeError>(),
        Route::new(M::DELETE, "/v1/me", "deleteMe", "Deletes the user and all their data", || {
            web::route().to(me::delete)
        })
        .no_content("Everything of the user is gone, cached copies included.")
        .fails::<ChangeError>(),
        // Foods.
        Route::new(M::GET, "/v1/foods", "searchFoods", "Visible foods matching every word of the query", || {
            web::route().to(foods::search)
        })
        .query(
            "query",
            Kind::SearchText,
            false,
            "Words, each a case- and diacritic-insensitive part of the name or of the brand; absent or empty: \
             every food. At most 100 characters after trimming, no control characters (422).",
        )
        .limit()
        .query("offset", Kind::Offset, false, "How many to skip: 0 to 10000 (default 0).")
        .answers::<Vec<Food>>(
            200,
            "The user's own and logged foods first (most uses first), then names whose first word starts with \
             the query's first word, then generic before branded, then fewer words, then the folded name, then id.",
        )
        .cached()
        .fails::<ReadError>(),
        Route::new(M::POST, "/v1/foods", "createFood", "Creates a food of the user", || web::route().to(foods::create))
            .body::<foods::CreateFoodRequest>()
            .answers::<Food>(201, "The food (macros per serving).")
            .fails::<CreateOwnedError>(),
        Route::new(M::GET, "/v1/foods/frequent", "frequentFoods", "The user's most logged foods", || {
            web::route().to(foods::frequent)
        })
        .limit()
        .answers::<Vec<FrequentFood>>(200, "Most uses first, ties by food id.")
        .cached()
        .fails::<ReadError>(),
        Route::new(M::GET, "/v1/foods/recent", "recentFoods", "The user's most recently logged foods", || {
            web::route().to(foods::recent)
        })
        .limit()
        .answers::<Vec<RecentFood>>(
            200,
            "The user's distinct logged foods (food entries only), by their most recently created entry, newest \
             first (ties by food id); `last_logged` is that entry's date.",
        )
        .cached()
        .fails::<ReadError>(),
        Route::new(M::GET, "/v1/foods/barcode/{code}", "foodByBarcode", "The food carrying a barcode", || {
            web::route().to(foods::by_barcode)
        })
        .answers::<Food>(200, "The visible food whose GTIN-14 is the code left-padded with zeros; of several, the most recently imported, then the highest id.")
        .cached()
        .fails::<GetError>(),
        Route::new(M::GET, "/v1/foods/{id}", "getFood", "A global food or one of the user's own", || {
            web::route().to(foods::get)
        })
        .answers::<Food>(200, "The food.")
        .cached()
        .fails::<GetError>(),
        Route::new(M::PATCH, "/v1/foods/{id}", "editFood", "Edits one of the user's own foods", || {
            web::route().to(foods::edit)
        })
        .body::<foods::EditFoodRequest>()
        .answers::<Food>(200, "The food as edited; log entries keep their snapshot.")
        .conditional()
        .fails::<EditFoodError>(),
        // Recipes.
        Route::new(M::POST, "/v1/recipes", "createRecipe", "Creates a recipe of foods", || {
            web::route().to(recipes::create)
        })
        .body::<recipes::CreateRecipeRequest>()
        .answers::<Recipe>(201, "The recipe with its per-serving macros.")
        .fails::<CreateOwnedError>(),
        Route::new(M::GET, "/v1/recipes/{id}", "getRecipe", "One of the user's recipes", || {
            web::route().to(recipes::get)
        })
        .answers::<Recipe>(200, "The recipe.")
        .fails::<GetError>(),
        // Logs.
        Route::new(M::GET, "/v1/logs", "dayLogs", "A day's log entries and totals", || web::route().to(logs::day))
            .query("date", Kind::Date, true, "The day, YYYY-MM-DD.")
            .answers::<DayLogs>(200, "Entries ordered by meal, then id.")
            .cached()
            .fails::<Unavailable>(),
        Route::new(M::POST, "/v1/logs", "createLogs", "Logs a batch of entries, all or nothing", || {
            web::route().to(logs::create)
        })
        .body::<logs::CreateLogsRequest>()
        .answers::<logs::CreatedLogs>(201, "The entries, in the order of the request.")
        .fails::<CreateError>(),
        Route::new(M::PATCH, "/v1/logs/{id}", "updateLog", "Changes an entry's date, meal or servings", || {
            web::route().to(logs::update)
        })
        .body::<logs::UpdateLogRequest>()
        .answers::<LogEntry>(200, "The entry with its macros recomputed.")
        .fails::<EditLogError>(),
        Route::new(M::DELETE, "/v1/logs/{id}", "deleteLog", "Deletes an entry", || web::route().to(logs::delete))
            .no_content("The entry is gone.")
            .fails::<ChangeError>(),
        // Days.
        Route::new(M::POST, "/v1/days/{date}/copy", "copyDay", "Copies a day's or a meal's entries, all or nothing", || {
            web::route().to(days::copy)
        })
        .body::<days::CopyDayRequest>()
        .answers::<logs::CreatedLogs>(201, "The copies, in the day's order (meal, then id).")
        .fails::<CreateError>(),
        Route::new(M::PUT, "/v1/days/{date}/completion", "completeDay", "Marks a day completed (idempotent)", || {
            web::route().to(days::complete)
        })
        .answers::<Completion>(200, "The day is completed.")
        .fails::<Unavailable>(),
        Route::new(
            M::DELETE,
            "/v1/days/{date}/completion",
            "undoDay",
            "Undoes a day's completion (idempotent)",
            || web::route().to(days::undo),
        )
        .answers::<Completion>(200, "The day is not completed.")
        .fails::<Unavailable>(),
        Route::new(M::GET, "/v1/streaks", "streaks", "Completed-day streaks", || web::route().to(days::streak))
            .query("today", Kind::Date, false, "The day streaks are counted to (default: the user's today, in their time zone).")
            .answers::<Streak>(200, "The streaks.")
            .cached()
            .fails::<Unavailable>(),
        Route::new(M::GET, "/v1/summary", "summary", "Daily totals over at most 92 days", || {
            web::route().to(days::summary)
        })
        .query("from", Kind::Date, true, "The first day, YYYY-MM-DD.")
        .query("to", Kind::Date, true, "The last day (inclusive), at most 91 days after from.")
        .answers::<Summary>(200, "One row per day that has entries, ordered by date.")
        .cached()
        .fails::<ReadError>(),
        Route::new(M::GET, "/v1/days/{date}", "dashboard", "Everything a day screen shows", || {
            web::route().to(days::dashboard)
        })
        .query("today", Kind::Date, false, "The day streaks are counted to (default: the user's today, in their time zone).")
        .answers::<DayDashboard>(200, "Logs, targets, what remains, the schedule and the streak.")
        .cached()
        .fails::<GetError>(),
        Route::new(M::GET, "/v1/weeks/{start}", "week", "A week at a glance: seven days from start", || {
            web::route().to(days::week)
        })
        .answers::<Week>(200, "Each day's totals and completion, the average, the targets and the days on target.")
        .cached()
        .fails::<ReadError>(),
        Route::new(M::GET, "/v1/export", "exportEntries", "The user's entries of a range, as CSV", || {
            web::route().to(export::export)
        })
        .query("from", Kind::Date, true, "The first day, YYYY-MM-DD.")
        .query("to", Kind::Date, true, "The last day (inclusive), at most 3659 days after from.")
        .answers_text(
            200,
            "text/csv",
            "An attachment (RFC 4180, CRLF line endings): the header row date,meal,name,servings,grams,calories,\
             protein_g,carbs_g,fat_g,food_id,recipe_id, then one row per entry in day order (by date, then meal, \
             then id); numbers as in the JSON answers, null as an empty field. Streamed.",
            examples::CSV,
        )
        .fails::<ReadError>(),
        // Meal plans and the schedule.
        Route::new(M::POST, "/v1/meal-plans", "createMealPlan", "Creates a meal plan of recipes", || {
            web::route().to(plans::create)
        })
        .body::<plans::CreateMealPlanRequest>()
        .answers::<MealPlan>(201, "The plan.")
        .fails::<CreateOwnedError>(),
        Route::new(M::GET, "/v1/meal-plans/{id}", "getMealPlan", "One of the user's meal plans", || {
            web::route().to(plans::get)
        })
        .answers::<MealPlan>(200, "The plan.")
        .fails::<GetError>(),
        Route::new(
            M::POST,
            "/v1/meal-plans/{id}/schedule",
            "scheduleMealPlan",
            "Places a plan on the calendar",
            || web::route().to(plans::schedule),
        )
        .body::<plans::ScheduleRequest>()
        .answers::<ScheduledPlan>(201, "The scheduled plan.")
        .fails::<SchedulePlanError>(),
        Route::new(M::GET, "/v1/schedule", "scheduleDay", "What is scheduled on a day", || {
            web::route().to(plans::schedule_day)
        })
        .query("date", Kind::Date, true, "The day, YYYY-MM-DD.")
        .answers::<ScheduleDay>(200, "The covering plan and the day's meals.")
        .cached()
        .fails::<Unavailable>(),
        Route::new(M::DELETE, "/v1/scheduled-meals/{id}", "deleteScheduledMeal", "Deletes one scheduled meal", || {
            web::route().to(plans::delete_meal)
        })
        .no_content("The meal is gone from the schedule.")
        .fails::<ChangeError>(),
        Route::new(M::DELETE, "/v1/scheduled-plans/{id}", "deleteScheduledPlan", "Deletes a scheduled plan", || {
            web::route().to(plans::delete_plan)
        })
        .no_content("The plan and its meals are gone from the schedule.")
        .fails::<ChangeError>(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether actix's template `pattern` would match the literal `path`.
    fn captures(pattern: &str, path: &str) -> bool {
        let (a, b): (Vec<_>, Vec<_>) = (pattern.split('/').collect(), path.split('/').collect());
        a.len() == b.len() && a.iter().zip(&b).all(|(p, s)| p == s || (p.starts_with('{') && !s.starts_with('{')))
    }

    /// The size of the future an async handler returns, without calling it.
    fn future_size<Args, H: actix_web::Handler<Args>>(_: H) -> usize {
        std::mem::size_of::<H::Future>()
    }

    /// A request's future is moved (copied) at every level that awaits it,
    /// and an `async fn` that takes a future and awaits it holds it twice.
    /// Wrappers nested that way (`authenticated`, `reported`, `prefetch`)
    /// once made the hot read's future 21 kB and the day screen's 15 kB,
    /// and memcpy 38% of the hot read's instructions (callgrind).
    #[test]
    fn the_cached_reads_futures_stay_small() {
        const LIMIT: usize = 8 * 1024;
        let handlers = [
            ("GET /v1/logs", future_size(logs::day)),
            ("GET /v1/days/{date}", future_size(days::dashboard)),
            ("GET /v1/summary", future_size(days::summary)),
            ("GET /v1/weeks/{start}", future_size(days::week)),
            ("GET /v1/streak", future_size(days::streak)),
            ("GET /v1/me", future_size(me::get)),
            ("GET /v1/foods/frequent", future_size(foods::frequent)),
            ("GET /v1/foods/recent", future_size(foods::recent)),
            ("GET /v1/schedule/{date}", future_size(plans::schedule_day)),
        ];
        for (route, size) in handlers {
            assert!(size <= LIMIT, "{route}: its handler's future is {size} bytes (at most {LIMIT})");
        }
    }

    #[test]
    fn no_route_is_shadowed_by_an_earlier_template() {
        let table = table();
        for (i, later) in table.iter().enumerate() {
            for earlier in &table[..i] {
                if earlier.path != later.path {
                    assert!(!captures(earlier.path, later.path), "{} shadows {}", earlier.path, later.path);
                }
            }
        }
    }

    #[test]
    fn each_method_and_path_once_each_operation_id_once() {
        let table = table();
        for (i, route) in table.iter().enumerate() {
            for other in &table[i + 1..] {
                assert!(!(route.method == other.method && route.path == other.path), "{} {}", route.method, route.path);
                assert_ne!(route.operation_id, other.operation_id);
            }
            assert!(!route.answers.is_empty(), "{} {} answers nothing", route.method, route.path);
        }
    }
}
