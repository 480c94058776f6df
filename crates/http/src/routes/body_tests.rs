//! Every request body the document describes is one the server accepts:
//! each example, and bodies generated at random from each body's schema
//! (as a client generating from `/openapi.json` would), pass the route's
//! parser, domain rules included. References to rows (ids) are the
//! service's to check and are not looked at here.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value, json};

use macrotrack_domain::{ValidationErrors, validation};

use super::{admin, days, foods, logs, me, plans, recipes, table};
use crate::body;

type Parser = fn(Map<String, Value>) -> Result<(), ValidationErrors>;

fn types_only<T: serde::de::DeserializeOwned + body::Report>(
    object: Map<String, Value>,
) -> Result<(), ValidationErrors> {
    let (_, errors) = body::read::<T>(object);
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

/// The parser of each route with a body, by operation id.
fn parsers() -> Vec<(&'static str, Parser)> {
    vec![
        ("createUser", |object| {
            types_only::<admin::CreateUserRequest>(object.clone())?;
            let name = object["name"].as_str().unwrap_or_default();
            validation::name(name).map(drop).map_err(|message| ValidationErrors::single("name", message))
        }),
        ("invalidateCache", types_only::<admin::InvalidateRequest>),
        ("refreshCache", types_only::<admin::RefreshRequest>),
        ("setTargets", |object| me::macros(object).map(drop)),
        ("setSettings", |object| me::settings(object).map(drop)),
        ("createFood", |object| foods::parse_new(object).map(drop)),
        ("editFood", |object| foods::parse_patch(object).map(drop)),
        ("createRecipe", |object| recipes::parse(object).map(drop)),
        ("createLogs", |object| logs::parse(object).map(drop)),
        ("updateLog", |object| logs::patch(object).map(drop)),
        ("copyDay", |object| days::parse_copy(object).map(drop)),
        ("createMealPlan", |object| plans::parse(object).map(drop)),
        ("scheduleMealPlan", types_only::<plans::ScheduleRequest>),
    ]
}

/// The schema at `schema`, following a `$ref` into the document.
fn resolve<'a>(document: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(target) => document.pointer(target.trim_start_matches('#')).unwrap_or(schema),
        None => schema,
    }
}

/// A random instance of `schema`, for the keywords the document uses.
fn instance(document: &Value, schema: &Value, rng: &mut StdRng) -> Value {
    let schema = resolve(document, schema);
    if let Some(options) = schema.get("enum").and_then(Value::as_array) {
        return options[rng.random_range(0..options.len())].clone();
    }
    let kind = match &schema["type"] {
        Value::String(kind) => kind.clone(),
        // A nullable type: its non-null one, or null now and then.
        Value::Array(kinds) => {
            let kinds: Vec<&str> = kinds.iter().filter_map(Value::as_str).collect();
            match kinds.iter().find(|kind| **kind != "null") {
                Some(kind) if !rng.random_bool(0.2) => (*kind).to_owned(),
                _ => return Value::Null,
            }
        }
        _ if schema.get("properties").is_some() => "object".to_owned(),
        other => panic!("no generator for {other}: {schema}"),
    };
    match kind.as_str() {
        "object" => object(document, schema, rng),
        "array" => {
            let min = schema["minItems"].as_u64().unwrap_or(0) as usize;
            let max = schema["maxItems"].as_u64().map_or(min + 3, |max| max as usize).min(min + 3);
            (0..rng.random_range(min..=max)).map(|_| instance(document, &schema["items"], rng)).collect()
        }
        "string" if schema["format"] == "date" => {
            let year = rng.random_range(1900..=2200);
            json!(format!("{year:04}-{:02}-{:02}", rng.random_range(1..=12), rng.random_range(1..=28)))
        }
        "string" => {
            let min = schema["minLength"].as_u64().unwrap_or(0).max(1) as usize;
            let max = schema["maxLength"].as_u64().map_or(min + 12, |max| max as usize).min(min + 12);
            let alphabet: Vec<char> = "abcdefghijklmnopqrstuvwxyzABC XYZ0123456789éü_".chars().collect();
            let mut text: String =
                (0..rng.random_range(min..=max)).map(|_| alphabet[rng.random_range(0..alphabet.len())]).collect();
            if text.trim().is_empty() {
                text.replace_range(0..1, "x");
            }
            json!(text)
        }
        "integer" => {
            let min = schema["minimum"].as_i64().unwrap_or(-1000);
            let max = schema["maximum"].as_i64().unwrap_or(1000);
            json!(rng.random_range(min..=max))
        }
        "number" => {
            let min = schema["minimum"].as_f64().unwrap_or(-1000.0);
            let max = schema["maximum"].as_f64().unwrap_or(1000.0);
            // As a client writes them: at most three decimals, ends included.
            let value = match rng.random_range(0..10) {
                0 => min,
                1 => max,
                _ => (rng.random_range(min..=max) * 1000.0).round() / 1000.0,
            };
            json!(value.clamp(min, max))
        }
        other => panic!("no generator for type {other}"),
    }
}

/// An object: every required property, each optional one half of the time,
/// within one branch of a `oneOf` (its required properties in, those it
/// sets to `false` out).
fn object(document: &Value, schema: &Value, rng: &mut StdRng) -> Value {
    let names = |branch: &Value| -> Vec<String> {
        branch["required"].as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_owned).collect()
    };
    let mut required = names(schema);
    let mut excluded = Vec::new();
    if let Some(branches) = schema["oneOf"].as_array() {
        let branch = &branches[rng.random_range(0..branches.len())];
        required.extend(names(branch));
        let properties = branch["properties"].as_object().into_iter().flatten();
        excluded
            .extend(properties.filter(|(_, property)| **property == Value::Bool(false)).map(|(name, _)| name.clone()));
    }
    let mut out = Map::new();
    for (name, property) in schema["properties"].as_object().into_iter().flatten() {
        let wanted = required.contains(name) || rng.random_bool(0.5);
        if wanted && !excluded.contains(name) {
            out.insert(name.clone(), instance(document, property, rng));
        }
    }
    let at_least = schema["minProperties"].as_u64().unwrap_or(0) as usize;
    if out.len() < at_least {
        let (name, property) = schema["properties"].as_object().and_then(|p| p.iter().next()).expect("a property");
        out.insert(name.clone(), instance(document, property, rng));
    }
    Value::Object(out)
}

/// Whether every string in `value` matches the patterns its schema sets.
fn check_patterns(document: &Value, schema: &Value, value: &Value) {
    let schema = resolve(document, schema);
    if let (Some(pattern), Some(text)) = (schema["pattern"].as_str(), value.as_str()) {
        let regex = regex::Regex::new(pattern).expect("a pattern regex understands");
        assert!(regex.is_match(text), "{text:?} does not match {pattern}");
    }
    match value {
        Value::Object(map) => {
            for (name, item) in map {
                check_patterns(document, &schema["properties"][name], item);
            }
        }
        Value::Array(items) => items.iter().for_each(|item| check_patterns(document, &schema["items"], item)),
        _ => {}
    }
}

/// The one rule of a body that JSON Schema cannot state, applied to a
/// generated body as a client following the documentation would.
fn across_fields(operation: &str, body: &mut Value) {
    if operation == "copyDay" && body.get("meal").is_none_or(Value::is_null) {
        // "to_meal: only with meal" (`dependentRequired`, which the generator does not read).
        body.as_object_mut().map(|body| body.remove("to_meal"));
    }
    if operation == "createMealPlan" {
        // "day: 0-based day of the plan, less than days".
        let days = body["days"].as_i64().unwrap_or(1).max(1);
        for item in body["items"].as_array_mut().into_iter().flatten() {
            if let Some(day) = item["day"].as_i64() {
                item["day"] = json!(day % days);
            }
        }
    }
}

#[test]
fn every_example_and_generated_body_is_accepted() {
    let document = crate::openapi::document();
    let parsers = parsers();
    let mut rng = StdRng::seed_from_u64(20_261_205);
    let mut checked = 0;
    for route in table().iter().filter(|route| route.body.is_some()) {
        let operation = route.operation_id.as_ref();
        let parse = parsers
            .iter()
            .find(|(id, _)| *id == operation)
            .unwrap_or_else(|| panic!("{operation}: a body with no parser in this test"))
            .1;
        let method = route.method.as_str().to_ascii_lowercase();
        let schema =
            &document["paths"][route.path][method.as_str()]["requestBody"]["content"]["application/json"]["schema"];
        let body_schema = resolve(&document, schema);
        let examples = body_schema["examples"].as_array().unwrap_or_else(|| panic!("{operation}: no example"));
        for example in examples {
            let Value::Object(object) = example.clone() else { panic!("{operation}: an example not an object") };
            parse(object).unwrap_or_else(|errors| panic!("{operation}: example {example} refused: {errors}"));
        }
        for _ in 0..300 {
            let mut body = instance(&document, schema, &mut rng);
            across_fields(operation, &mut body);
            check_patterns(&document, schema, &body);
            let Value::Object(object) = body.clone() else { unreachable!("bodies are objects") };
            parse(object).unwrap_or_else(|errors| panic!("{operation}: generated {body} refused: {errors}"));
            checked += 1;
        }
    }
    assert_eq!(checked, 300 * parsers.len(), "every parser was given bodies");
}
