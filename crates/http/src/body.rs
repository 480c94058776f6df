//! Request bodies: one Rust type per body serves both parsing and the
//! OpenAPI schema. A body is declared with `body!`: a struct whose fields are
//! `Required<T>`, `Optional<T>` or `Nullable<T>`. Each field reads whatever
//! came (a value of its type, nothing, or a mistake) without stopping the
//! others, so every offending field is named (`Report`, dotted paths); the
//! schema is the field type's, with the declared bounds.

use std::borrow::Cow;

use macrotrack_domain::{Day, Meal, TimeZone, ValidationErrors};
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::de::{DeserializeOwned, Deserializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A name, brand or unit as a client may send it: one character that is not
/// whitespace at least, and no control character (what the domain accepts;
/// stricter only about whitespace controls at the ends, which it trims).
pub const TEXT_PATTERN: &str =
    r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$";

/// The smallest amount of servings that does not round to 0.00 (bounds
/// apply before rounding; a value that rounds to zero is refused).
pub const MIN_SERVINGS: f64 = 0.005;

/// A JSON value read as `Self`, or the message of why not (`must be ...`).
pub trait FromJson: Sized {
    fn from_json(value: Value) -> Result<Self, String>;
}

impl FromJson for String {
    fn from_json(value: Value) -> Result<Self, String> {
        match value {
            Value::String(text) => Ok(text),
            _ => Err("must be a string".to_owned()),
        }
    }
}

impl FromJson for f64 {
    fn from_json(value: Value) -> Result<Self, String> {
        value.as_f64().ok_or_else(|| "must be a number".to_owned())
    }
}

/// A whole number as JSON Schema counts them: `3` and `3.0` alike.
fn whole(value: &Value) -> Option<i64> {
    value.as_i64().or_else(|| {
        let number = value.as_f64()?;
        // Within i64's range, where an f64 is exact enough to say it is whole.
        (number.fract() == 0.0 && number.abs() < 9.0e15).then_some(number as i64)
    })
}

/// A count or an index (not an id).
impl FromJson for i64 {
    fn from_json(value: Value) -> Result<Self, String> {
        whole(&value).ok_or_else(|| "must be an integer".to_owned())
    }
}

/// A reference to a resource by its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Id(pub i64);

impl FromJson for Id {
    fn from_json(value: Value) -> Result<Self, String> {
        whole(&value).map(Id).ok_or_else(|| "must be an integer id".to_owned())
    }
}

impl JsonSchema for Id {
    fn schema_name() -> Cow<'static, str> {
        "Id".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        schemars::json_schema!({ "type": "integer", "format": "int64" })
    }
}

/// A string the domain parses (`Day`, `Meal`): its own message on failure.
fn parsed<T: std::str::FromStr<Err: ToString>>(value: Value) -> Result<T, String> {
    let text = String::from_json(value)?;
    text.parse().map_err(|error: T::Err| error.to_string())
}

impl FromJson for Day {
    fn from_json(value: Value) -> Result<Self, String> {
        parsed(value)
    }
}

impl FromJson for Meal {
    fn from_json(value: Value) -> Result<Self, String> {
        parsed(value)
    }
}

impl FromJson for TimeZone {
    fn from_json(value: Value) -> Result<Self, String> {
        TimeZone::parse(&String::from_json(value)?).map_err(str::to_owned)
    }
}

/// A list of objects, each read as a body of its own.
impl<T: DeserializeOwned> FromJson for Vec<Item<T>> {
    fn from_json(value: Value) -> Result<Self, String> {
        match value {
            Value::Array(items) => Ok(items.into_iter().map(Item::from_value).collect()),
            _ => Err("must be an array".to_owned()),
        }
    }
}

/// A list of values, each read as `T` (a mistake is reported per element).
impl<T: FromJson> FromJson for Vec<Each<T>> {
    fn from_json(value: Value) -> Result<Self, String> {
        match value {
            Value::Array(items) => Ok(items.into_iter().map(|item| Each(T::from_json(item))).collect()),
            _ => Err("must be an array".to_owned()),
        }
    }
}

/// An object inside a body, read as a body of its own (its mistakes are
/// named under its field's path).
#[derive(Debug, Clone, PartialEq)]
pub struct Nested<T>(pub T);

impl<T: DeserializeOwned> FromJson for Nested<T> {
    fn from_json(value: Value) -> Result<Self, String> {
        match value {
            // A body's fields read any value, so an object always reads.
            object @ Value::Object(_) => serde_json::from_value(object).map(Nested).map_err(|error| error.to_string()),
            _ => Err("must be an object".to_owned()),
        }
    }
}

impl<T: Report> Report for Nested<T> {
    fn report(&self, path: &Path, errors: &mut ValidationErrors) {
        self.0.report(path, errors);
    }
}

impl<T: JsonSchema> JsonSchema for Nested<T> {
    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        generator.subschema_for::<T>()
    }
}

/// One element of a list of values: the value, or its mistake.
#[derive(Debug, Clone, PartialEq)]
pub struct Each<T>(pub Result<T, String>);

impl<T: JsonSchema> JsonSchema for Each<T> {
    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        generator.subschema_for::<T>()
    }
}

impl<T> Report for Vec<Each<T>> {
    fn report(&self, path: &Path, errors: &mut ValidationErrors) {
        for (index, Each(element)) in self.iter().enumerate() {
            if let Err(message) = element {
                errors.add(path.at(index).0, message.clone());
            }
        }
    }
}

/// One item of a list of objects: the object read as `T`, or not an object.
#[derive(Debug, Clone, PartialEq)]
pub enum Item<T> {
    Object(T),
    NotObject,
}

impl<T: DeserializeOwned> Item<T> {
    fn from_value(value: Value) -> Item<T> {
        match value {
            // A body's fields read whatever comes: an object never fails.
            object @ Value::Object(_) => serde_json::from_value(object).map_or(Item::NotObject, Item::Object),
            _ => Item::NotObject,
        }
    }

    /// The object, for tests that look inside an item.
    #[cfg(test)]
    pub fn object(&self) -> Option<&T> {
        match self {
            Item::Object(object) => Some(object),
            Item::NotObject => None,
        }
    }
}

impl<T: JsonSchema> JsonSchema for Item<T> {
    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        generator.subschema_for::<T>()
    }
}

/// Where a field is, for its errors: `entries.3.servings`.
#[derive(Debug, Clone, Default)]
pub struct Path(String);

impl Path {
    /// The path of member `key` of the value here.
    pub fn join(&self, key: &str) -> Path {
        if self.0.is_empty() { Path(key.to_owned()) } else { Path(format!("{}.{key}", self.0)) }
    }

    fn at(&self, index: usize) -> Path {
        self.join(&index.to_string())
    }
}

/// Reports every mistake under its path.
pub trait Report {
    fn report(&self, path: &Path, errors: &mut ValidationErrors);
}

macro_rules! leaves {
    ($($leaf:ty),*) => { $(impl Report for $leaf { fn report(&self, _: &Path, _: &mut ValidationErrors) {} })* };
}
leaves!(String, f64, i64, Id, Day, Meal, TimeZone);

impl<T: Report> Report for Vec<Item<T>> {
    fn report(&self, path: &Path, errors: &mut ValidationErrors) {
        for (index, item) in self.iter().enumerate() {
            match item {
                Item::Object(object) => object.report(&path.at(index), errors),
                Item::NotObject => errors.add(path.at(index).0, "must be an object"),
            }
        }
    }
}

/// A field that must be present (null counts as missing).
#[derive(Debug, Clone, PartialEq)]
pub enum Required<T> {
    Value(T),
    Missing,
    /// Present with the wrong type or shape: the message.
    Mistyped(String),
}

impl<T> Required<T> {
    /// The value, when it came well typed (its mistake is reported apart).
    pub fn value(self) -> Option<T> {
        match self {
            Required::Value(value) => Some(value),
            Required::Missing | Required::Mistyped(_) => None,
        }
    }
}

impl<T: Report> Report for Required<T> {
    fn report(&self, path: &Path, errors: &mut ValidationErrors) {
        match self {
            Required::Value(value) => value.report(path, errors),
            Required::Missing => errors.add(path.0.clone(), "is required"),
            Required::Mistyped(message) => errors.add(path.0.clone(), message.clone()),
        }
    }
}

/// A field that may be absent; null reads as absent.
#[derive(Debug, Clone, PartialEq)]
pub enum Optional<T> {
    Absent,
    Value(T),
    Mistyped(String),
}

impl<T> Optional<T> {
    /// The value, when it came well typed (its mistake is reported apart).
    pub fn value(self) -> Option<T> {
        match self {
            Optional::Value(value) => Some(value),
            Optional::Absent | Optional::Mistyped(_) => None,
        }
    }
}

impl<T: Report> Report for Optional<T> {
    fn report(&self, path: &Path, errors: &mut ValidationErrors) {
        match self {
            Optional::Value(value) => value.report(path, errors),
            Optional::Absent => {}
            Optional::Mistyped(message) => errors.add(path.0.clone(), message.clone()),
        }
    }
}

/// A field where null means "clear it" and absence "leave it": declare it
/// `#[serde(default)]`.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Nullable<T> {
    #[default]
    Absent,
    Null,
    Value(T),
    Mistyped(String),
}

impl<T> Nullable<T> {
    /// `None` when absent or mistyped; `Some(None)` when null.
    pub fn value(self) -> Option<Option<T>> {
        match self {
            Nullable::Null => Some(None),
            Nullable::Value(value) => Some(Some(value)),
            Nullable::Absent | Nullable::Mistyped(_) => None,
        }
    }
}

impl<T: Report> Report for Nullable<T> {
    fn report(&self, path: &Path, errors: &mut ValidationErrors) {
        match self {
            Nullable::Value(value) => value.report(path, errors),
            Nullable::Absent | Nullable::Null => {}
            Nullable::Mistyped(message) => errors.add(path.0.clone(), message.clone()),
        }
    }
}

// Serde asks a missing field for an "option" and finds none: `Required`
// and `Optional` read a missing field that way (no `#[serde(default)]`,
// which would make the schema call every field optional).
struct OptionVisitor<T>(std::marker::PhantomData<T>);

impl<'de, T: FromJson> serde::de::Visitor<'de> for OptionVisitor<T> {
    type Value = Option<Result<T, String>>;

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("any JSON value")
    }

    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        Ok(Some(T::from_json(Value::deserialize(deserializer)?)))
    }
}

fn read_option<'de, T: FromJson, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Result<T, String>>, D::Error> {
    deserializer.deserialize_option(OptionVisitor(std::marker::PhantomData))
}

impl<'de, T: FromJson> Deserialize<'de> for Required<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match read_option(deserializer)? {
            None => Required::Missing,
            Some(Ok(value)) => Required::Value(value),
            Some(Err(message)) => Required::Mistyped(message),
        })
    }
}

impl<'de, T: FromJson> Deserialize<'de> for Optional<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match read_option(deserializer)? {
            None => Optional::Absent,
            Some(Ok(value)) => Optional::Value(value),
            Some(Err(message)) => Optional::Mistyped(message),
        })
    }
}

impl<'de, T: FromJson> Deserialize<'de> for Nullable<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Present (absence is the field's default): null is a value here.
        Ok(match Value::deserialize(deserializer)? {
            Value::Null => Nullable::Null,
            value => match T::from_json(value) {
                Ok(value) => Nullable::Value(value),
                Err(message) => Nullable::Mistyped(message),
            },
        })
    }
}

impl<T: JsonSchema> JsonSchema for Required<T> {
    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        generator.subschema_for::<T>()
    }
}

/// Documented as its type, not nullable: null is accepted (as absent) but
/// says nothing a client should send.
impl<T: JsonSchema> JsonSchema for Optional<T> {
    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        generator.subschema_for::<T>()
    }
    fn _schemars_private_is_option() -> bool {
        true
    }
}

impl<T: JsonSchema> JsonSchema for Nullable<T> {
    fn schema_name() -> Cow<'static, str> {
        <Option<T>>::schema_name()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        <Option<T>>::json_schema(generator)
    }
    fn _schemars_private_is_option() -> bool {
        true
    }
}

/// Declares a request body: the struct (deserialized leniently, its schema
/// derived from the same fields and their `#[schemars]` bounds), its
/// `Report`, and `FIELDS`, its field names in order (the order errors are
/// reported in).
macro_rules! body {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$field_meta:meta])* $field:ident : $ty:ty ),* $(,)?
        }
    ) => {
        #[derive(Debug, Clone, serde::Deserialize, schemars::JsonSchema)]
        $(#[$meta])*
        pub struct $name {
            $( $(#[$field_meta])* pub $field: $ty ),*
        }

        impl $name {
            #[allow(dead_code)] // each body uses what its errors need
            pub const FIELDS: &'static [&'static str] = &[$(stringify!($field)),*];
        }

        impl $crate::body::Report for $name {
            fn report(&self, path: &$crate::body::Path, errors: &mut macrotrack_domain::ValidationErrors) {
                $( $crate::body::Report::report(&self.$field, &path.join(stringify!($field)), errors); )*
            }
        }
    };
}

/// Splits a body's errors: those of the list at `list` and its items, and
/// the others (a list of the wrong length is one error, not one per item).
pub fn split_list(errors: ValidationErrors, list: &str) -> (ValidationErrors, ValidationErrors) {
    let prefix = format!("{list}.");
    let (mut top, mut items) = (ValidationErrors::new(), ValidationErrors::new());
    for error in errors.errors() {
        let into = if error.field.starts_with(&prefix) { &mut items } else { &mut top };
        into.add(error.field.clone(), error.message.clone());
    }
    (top, items)
}

/// Reads a JSON object as the body `T`: never fails (its fields capture
/// every mistake), and answers the type mistakes, each under its path.
pub fn read<T: DeserializeOwned + Report>(object: serde_json::Map<String, Value>) -> (T, ValidationErrors) {
    // A body's fields accept any value, so an object always deserializes.
    let body: T = match serde_json::from_value(Value::Object(object)) {
        Ok(body) => body,
        Err(error) => unreachable!("a body's fields read any JSON value: {error}"),
    };
    let mut errors = ValidationErrors::new();
    body.report(&Path::default(), &mut errors);
    (body, errors)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    body! {
        /// A test body.
        pub struct Sample {
            name: Required<String>,
            count: Optional<i64>,
            #[serde(default)]
            brand: Nullable<String>,
            items: Required<Vec<Item<Inner>>>,
        }
    }

    body! {
        pub struct Inner {
            id: Required<Id>,
            meal: Optional<Meal>,
        }
    }

    fn read_json(value: Value) -> (Sample, Vec<String>) {
        let Value::Object(object) = value else { unreachable!() };
        let (body, errors) = read::<Sample>(object);
        (body, errors.errors().iter().map(|e| format!("{}: {}", e.field, e.message)).collect())
    }

    #[test]
    fn every_mistake_is_named_under_its_path() {
        let (body, errors) = read_json(json!({
            "name": 3, "count": "x", "brand": 7,
            "items": [{"id": 1.0, "meal": "lunch"}, 5, {"id": "1", "meal": "brunch"}, {}],
        }));
        assert_eq!(
            errors,
            [
                "name: must be a string",
                "count: must be an integer",
                "brand: must be a string",
                "items.1: must be an object",
                "items.2.id: must be an integer id",
                "items.2.meal: must be one of breakfast, lunch, dinner, snack",
                "items.3.id: is required",
            ]
        );
        let items = body.items.value().unwrap();
        assert_eq!(items[0].object().unwrap().id, Required::Value(Id(1)));
        assert_eq!(Sample::FIELDS, ["name", "count", "brand", "items"]);
    }

    #[test]
    fn absent_null_and_present_are_told_apart_where_they_differ() {
        let (body, errors) = read_json(json!({"name": "x", "items": [], "count": null, "brand": null}));
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!((body.count, body.brand), (Optional::Absent, Nullable::Null));
        let (body, errors) = read_json(json!({"name": null}));
        assert_eq!(errors, ["name: is required", "items: is required"]);
        assert_eq!(body.brand, Nullable::Absent);
        let (_, errors) = read_json(json!({"name": "x", "items": {}}));
        assert_eq!(errors, ["items: must be an array"]);
    }

    #[test]
    fn the_schema_comes_from_the_same_fields() {
        let schema = serde_json::to_value(schemars::schema_for!(Sample)).unwrap();
        assert_eq!(schema["required"], json!(["name", "items"]));
        assert_eq!(schema["properties"]["name"], json!({"type": "string"}));
        assert_eq!(schema["properties"]["count"]["type"], "integer");
        assert_eq!(schema["properties"]["brand"]["type"], json!(["string", "null"]));
        assert_eq!(schema["properties"]["items"]["type"], "array");
        let inner = &schema["$defs"]["Inner"];
        assert_eq!(inner["required"], json!(["id"]));
        assert_eq!(inner["properties"]["id"], json!({"type": "integer", "format": "int64"}));
    }
}
