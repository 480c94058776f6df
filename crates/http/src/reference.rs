//! The reference's prose, in the order a user meets the API: an
//! introduction to what every route shares (authentication, errors,
//! caching, idempotency, `HEAD`), then one section (an OpenAPI tag) per
//! kind of resource, the operators' last.

/// A section of the reference. The declaration order is the reference's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Tag {
    Logs,
    Days,
    Foods,
    Recipes,
    MealPlans,
    Me,
    Admin,
    Operations,
}

impl Tag {
    /// Every tag, in the reference's order.
    pub const ALL: [Tag; 8] =
        [Tag::Logs, Tag::Days, Tag::Foods, Tag::Recipes, Tag::MealPlans, Tag::Me, Tag::Admin, Tag::Operations];

    /// The section of a route, from its path: the segment after `/v1/`, or
    /// `Operations` outside `/v1/`. `None` for a segment no tag names yet,
    /// which openapi.rs's tests refuse.
    pub fn of(path: &str) -> Option<Tag> {
        let Some(rest) = path.strip_prefix("/v1/") else { return Some(Tag::Operations) };
        let tag = match rest.split('/').next().unwrap_or_default() {
            "logs" | "export" => Tag::Logs,
            "days" | "streaks" | "summary" | "weeks" => Tag::Days,
            "foods" => Tag::Foods,
            "recipes" => Tag::Recipes,
            "meal-plans" | "schedule" | "scheduled-meals" | "scheduled-plans" => Tag::MealPlans,
            "me" => Tag::Me,
            "admin" => Tag::Admin,
            _ => return None,
        };
        Some(tag)
    }

    /// Its name, as the navigation shows it.
    pub fn name(self) -> &'static str {
        match self {
            Tag::Logs => "Logs",
            Tag::Days => "Days",
            Tag::Foods => "Foods",
            Tag::Recipes => "Recipes",
            Tag::MealPlans => "Meal plans",
            Tag::Me => "Me",
            Tag::Admin => "Admin",
            Tag::Operations => "Operations",
        }
    }

    /// What its section opens with (Markdown).
    pub fn description(self) -> &'static str {
        match self {
            Tag::Logs => {
                "What the user ate: entries of a food or a recipe on a day and a meal, by servings, grams or a \
                 food's portion. Each entry keeps the macros it was logged with, so editing a food later does not \
                 change the past. A day's logs are the hot read, cached and never stale after a write; the export \
                 is every entry of a range as CSV."
            }
            Tag::Days => {
                "Days as a whole: the day screen (logs, targets, what remains, the schedule, the streak), \
                 completing a day, streaks of completed days, a week at a glance and daily totals over a range."
            }
            Tag::Foods => {
                "The shared catalogue (seeded, and imported from USDA FoodData Central or Open Food Facts) and \
                 the user's own foods, with macros per serving. Search matches every word in the name or brand, \
                 whatever the case and accents; a barcode finds a branded food."
            }
            Tag::Recipes => "Recipes of foods, with their macros per serving, to log as one item.",
            Tag::MealPlans => {
                "Plans of recipes over days, placed on the calendar: what is scheduled on a day, and whether it \
                 was logged."
            }
            Tag::Me => {
                "The user: their targets, their time zone (which says what their today is), and deleting \
                 them with all their data."
            }
            Tag::Admin => {
                "For operators, with the admin token (`MACROTRACK_ADMIN_TOKEN`): creating users and steering the \
                 cache. Without an admin token configured these routes do not exist (404)."
            }
            Tag::Operations => {
                "For probes and monitoring, without authentication: liveness, readiness, Prometheus metrics, and \
                 this document as JSON."
            }
        }
    }
}

/// `info.description`: what every route shares. Redoc lists its `#`
/// headings first in the navigation, before the tags.
pub const INTRODUCTION: &str = r#"Macrotrack tracks what its users eat: they log foods and recipes per day, complete days and schedule meal plans. Every read after a write sees that write.

Request and answer bodies are JSON (`application/json`); amounts are numbers with at most two decimals, dates are `YYYY-MM-DD` within 1900-01-01 to 2200-12-31.

# Authentication

Every route under `/v1/` takes a bearer token in `Authorization: Bearer <token>`. A user's token (`mt_…`) is shown once, when the user is created: by an operator with `POST /v1/admin/users`, or on the server with `macrotrack user create NAME`. The admin routes take the server's admin token instead. A missing or unknown token is `401` (with `WWW-Authenticate: Bearer`) before anything else about the request is looked at. The operations routes (`/healthz`, `/readyz`, `/metrics`, `/openapi.json`) take none.

<!-- ReDoc-Inject: <security-definitions> -->

# Errors

Every error is `application/problem+json` (RFC 9457): `type` (always `about:blank`), `title`, `status`, `detail`, and `instance`, the request's id as `urn:request:<X-Request-Id>`, which is what a support request should name. On `400` and `422`, `errors` lists every offending field as `{"field", "message"}`, with paths like `entries.0.servings`. Another user's resource answers `404` exactly as a missing one does. `429` (too many requests) and `503` (a backing service is down, or the write queue is full) carry `Retry-After` in seconds. A method a path does not answer is `405` with `Allow`.

Each answer carries `X-Request-Id`: the client's own, when it sends one of 1 to 128 visible ASCII characters, else a new UUID.

# Caching

Cached reads (their answers list these headers) answer a strong `ETag`, `Cache-Control: private, no-cache` and `Cache-Status` (RFC 9211: how the server's cache answered). Send the `ETag` back as `If-None-Match`: the answer is `304 Not Modified`, without a body, until the data changes. No read after a write answers data from before it. Editing a food takes `If-Match` with its `ETag`: `412` when the food changed since, and nothing is written.

# Idempotency

A user's `POST` takes an `Idempotency-Key` (1 to 255 visible ASCII characters). Repeated with the same key, path and body within 24 hours, it answers the first answer again, with `Idempotent-Replayed: true`, and changes nothing: a client can retry a create whose answer it lost. The key with another path or body is `422`; a repeat while the first still runs is `409`. A `5xx` answer is not kept. Keys are per user.

# HEAD

Every `GET` route also answers `HEAD`: the same status and headers, without a body. This reference lists the `GET`s only.
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_is_in_declaration_order_with_each_tag_once() {
        let mut sorted = Tag::ALL;
        sorted.sort();
        assert_eq!(sorted, Tag::ALL);
        for (i, tag) in Tag::ALL.iter().enumerate() {
            assert!(!Tag::ALL[i + 1..].contains(tag), "{tag:?}");
        }
    }

    #[test]
    fn a_path_outside_v1_is_operations_and_an_unknown_v1_segment_has_none() {
        assert_eq!(Tag::of("/healthz"), Some(Tag::Operations));
        assert_eq!(Tag::of("/v1/days/{date}/copy"), Some(Tag::Days));
        assert_eq!(Tag::of("/v1/export"), Some(Tag::Logs));
        assert_eq!(Tag::of("/v1/plans"), None);
    }
}
