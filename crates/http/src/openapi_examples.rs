//! Every example the document shows matches the schema beside it: a client
//! copying one sends (or expects) what the document describes. Checked with
//! the keywords of JSON Schema 2020-12 the document uses; a keyword it
//! starts to use that this does not know fails the test rather than
//! passing unchecked.

use regex::Regex;
use serde_json::Value;

use crate::openapi::document;

/// Keywords that say nothing about validity here: annotations, and `format`
/// (dates and times are checked by reading the examples back into their
/// types, examples.rs).
const ANNOTATIONS: [&str; 5] = ["description", "examples", "format", "default", "title"];

/// What is wrong with `value` under `schema`, each at its JSON path.
fn violations(document: &Value, schema: &Value, value: &Value, at: &str, found: &mut Vec<String>) {
    let object = match schema {
        Value::Bool(true) => return,
        Value::Bool(false) => return found.push(format!("{at}: not allowed")),
        Value::Object(object) => object,
        _ => return found.push(format!("{at}: the schema {schema} is not a schema")),
    };
    for (keyword, expected) in object {
        let number = || value.as_f64().unwrap_or(f64::NAN);
        let bound = || expected.as_f64().unwrap_or(f64::NAN);
        // Each counts its own type's size and leaves other types be.
        let count = |of: fn(&Value) -> Option<usize>| of(value).map_or(f64::NAN, |size| size as f64);
        let chars = |value: &Value| value.as_str().map(|text| text.chars().count());
        let items = |value: &Value| value.as_array().map(Vec::len);
        let members = |value: &Value| value.as_object().map(serde_json::Map::len);
        let broken = match keyword.as_str() {
            "$ref" => {
                let target = expected.as_str().unwrap_or_default().trim_start_matches('#');
                let resolved = document.pointer(target).unwrap_or(&Value::Bool(false));
                violations(document, resolved, value, at, found);
                false
            }
            "type" => {
                let names = expected.as_array().cloned().unwrap_or_else(|| vec![expected.clone()]);
                !names.iter().any(|name| is_type(value, name.as_str().unwrap_or_default()))
            }
            "enum" => !expected.as_array().is_some_and(|options| options.contains(value)),
            "const" => expected != value,
            "properties" => {
                for (name, property) in expected.as_object().into_iter().flatten() {
                    if let Some(member) = value.get(name).filter(|_| value.is_object()) {
                        violations(document, property, member, &format!("{at}.{name}"), found);
                    }
                }
                false
            }
            "required" => expected
                .as_array()
                .into_iter()
                .flatten()
                .any(|name| value.is_object() && value.get(name.as_str().unwrap_or_default()).is_none()),
            // {"a": ["b"]}: when `a` is present, so is `b`.
            "dependentRequired" => expected.as_object().into_iter().flatten().any(|(present, needed)| {
                value.get(present).is_some()
                    && needed
                        .as_array()
                        .into_iter()
                        .flatten()
                        .any(|name| value.get(name.as_str().unwrap_or_default()).is_none())
            }),
            "additionalProperties" => {
                let known = object.get("properties").and_then(Value::as_object);
                for (name, member) in value.as_object().into_iter().flatten() {
                    if !known.is_some_and(|known| known.contains_key(name)) {
                        violations(document, expected, member, &format!("{at}.{name}"), found);
                    }
                }
                false
            }
            "items" => {
                for (i, item) in value.as_array().into_iter().flatten().enumerate() {
                    violations(document, expected, item, &format!("{at}[{i}]"), found);
                }
                false
            }
            "anyOf" | "oneOf" => {
                let passing = expected
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|branch| {
                        let mut inner = Vec::new();
                        violations(document, branch, value, at, &mut inner);
                        inner.is_empty()
                    })
                    .count();
                if keyword == "anyOf" { passing == 0 } else { passing != 1 }
            }
            "minimum" => value.is_number() && number() < bound(),
            "maximum" => value.is_number() && number() > bound(),
            "minLength" => count(chars) < bound(),
            "maxLength" => count(chars) > bound(),
            "minItems" => count(items) < bound(),
            "maxItems" => count(items) > bound(),
            "minProperties" => count(members) < bound(),
            "pattern" => {
                let pattern =
                    Regex::new(expected.as_str().unwrap_or_default()).expect("a pattern the regex crate reads");
                value.as_str().is_some_and(|text| !pattern.is_match(text))
            }
            known if ANNOTATIONS.contains(&known) => false,
            unknown => {
                found.push(format!("{at}: the keyword {unknown} is not checked here; teach this test it"));
                false
            }
        };
        if broken {
            found.push(format!("{at}: breaks {keyword}: {expected}"));
        }
    }
}

fn is_type(value: &Value, name: &str) -> bool {
    match name {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "number" => value.is_number(),
        // JSON Schema's integer is a number without a fraction, 1.0 too.
        "integer" => value.as_f64().is_some_and(|number| number.fract() == 0.0),
        _ => false,
    }
}

/// Every (where, schema, example) of the document: media types' `example`
/// and schemas' `examples` (the request bodies').
fn examples(document: &Value) -> Vec<(String, &Value, &Value)> {
    let mut found = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let bodies = operation.get("requestBody").map(|body| ("body".to_owned(), body));
            let answers = operation["responses"].as_object().unwrap().iter().map(|(s, r)| (s.clone(), r));
            for (what, part) in bodies.into_iter().chain(answers) {
                for (media_type, content) in part.get("content").and_then(Value::as_object).into_iter().flatten() {
                    if let Some(example) = content.get("example") {
                        found.push((format!("{method} {path} {what} {media_type}"), &content["schema"], example));
                    }
                }
            }
        }
    }
    for (name, schema) in document["components"]["schemas"].as_object().unwrap() {
        for example in schema.get("examples").and_then(Value::as_array).into_iter().flatten() {
            found.push((format!("#/components/schemas/{name}"), schema, example));
        }
    }
    found
}

#[test]
fn every_example_matches_its_schema() {
    let document = document();
    let examples = examples(&document);
    assert!(examples.len() > 200, "{}", examples.len());
    let mut found = Vec::new();
    for (place, schema, example) in examples {
        let mut wrong = Vec::new();
        violations(&document, schema, example, "$", &mut wrong);
        found.extend(wrong.into_iter().map(|violation| format!("{place}: {violation}")));
    }
    assert!(found.is_empty(), "examples that do not match their schema:\n{}", found.join("\n"));
}

#[test]
fn the_checker_finds_what_is_wrong() {
    let document = document();
    let food = serde_json::json!({ "$ref": "#/components/schemas/Food" });
    let mut example = <macrotrack_domain::Food as crate::examples::Example>::example();
    let mut found = Vec::new();
    violations(&document, &food, &example, "$", &mut found);
    assert!(found.is_empty(), "{found:?}");
    example["calories"] = "many".into();
    example["owner"] = "nobody".into();
    example.as_object_mut().unwrap().remove("name");
    violations(&document, &food, &example, "$", &mut found);
    assert_eq!(found.len(), 3, "{found:?}");
    assert!(found.iter().any(|violation| violation.starts_with("$.calories: breaks type")), "{found:?}");
    let copy = serde_json::json!({ "$ref": "#/components/schemas/CopyDayRequest" });
    let mut wrong = Vec::new();
    violations(&document, &copy, &serde_json::json!({ "to": "2026-11-25", "to_meal": "lunch" }), "$", &mut wrong);
    assert!(wrong.iter().any(|violation| violation.contains("breaks dependentRequired")), "{wrong:?}");
}
