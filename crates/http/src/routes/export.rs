//! `GET /v1/export?from=&to=`: the user's entries as CSV (RFC 4180, CRLF
//! line endings), streamed page by page, so memory stays bounded by a page
//! whatever the range.

use actix_web::http::header::{ContentDisposition, DispositionParam, DispositionType};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use macrotrack_domain::{Amount, LogEntry, ValidationErrors};

use crate::extract::User;
use crate::input;
use crate::problem::Problem;
use crate::state::HttpState;

/// The header row, as the contract names the columns.
pub const HEADER: [&str; 11] =
    ["date", "meal", "name", "servings", "grams", "calories", "protein_g", "carbs_g", "fat_g", "food_id", "recipe_id"];

/// The user's entries of a range, as a CSV attachment. The range is checked
/// and the first page read before answering, so a bad range is 422 and a
/// database that does not answer 503; a failure later ends the stream
/// early (the answer has begun: no status can say it), which a client
/// sees as a cut transfer rather than a short file.
pub async fn export(state: web::Data<HttpState>, User(user): User, req: HttpRequest) -> Result<HttpResponse, Problem> {
    let from = input::optional_query_param(&req, "from")?;
    let to = input::optional_query_param(&req, "to")?;
    let [from, to] = match (from, to) {
        (Some(from), Some(to)) => input::day_params([("from", &from), ("to", &to)])?,
        (from, to) => {
            let mut missing = ValidationErrors::new();
            for (name, value) in [("from", from), ("to", to)] {
                if value.is_none() {
                    missing.add(name, "is required");
                }
            }
            return Err(Problem::bad_parameters(missing));
        }
    };
    let mut export = state.service.export(user, from, to)?;
    let first = export.next_page().await.transpose()?;
    let mut head = rows(&[], true);
    if let Some(page) = &first {
        head.extend_from_slice(&rows(page, false));
    }
    let rest = futures::stream::unfold(first.map(|_| export), |export| async move {
        let mut export = export?;
        match export.next_page().await? {
            Ok(page) => Some((Ok(Bytes::from(rows(&page, false))), Some(export))),
            Err(error) => {
                tracing::warn!(%error, "an export stopped: the database did not answer");
                Some((Err(actix_web::error::ErrorServiceUnavailable("the database did not answer")), None))
            }
        }
    });
    let body = futures::stream::StreamExt::chain(futures::stream::iter([Ok(Bytes::from(head))]), rest);
    let disposition = ContentDisposition {
        disposition: DispositionType::Attachment,
        parameters: vec![DispositionParam::Filename(format!("macrotrack-{from}-{to}.csv"))],
    };
    Ok(HttpResponse::Ok().content_type("text/csv; charset=utf-8").insert_header(disposition).streaming(body))
}

/// A page of entries as CSV rows (after the header row when `header`),
/// quoted and escaped by the `csv` crate, each line ending in CRLF.
pub fn rows(entries: &[LogEntry], header: bool) -> Vec<u8> {
    let mut writer = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
    let mut write = || -> csv::Result<()> {
        if header {
            writer.write_record(HEADER)?;
        }
        for entry in entries {
            let id = |id: Option<i64>| id.map(|id| id.to_string()).unwrap_or_default();
            writer.write_record([
                entry.date.to_string(),
                entry.meal.as_str().to_owned(),
                entry.name.clone(),
                number(entry.servings),
                entry.grams.map(number).unwrap_or_default(),
                number(entry.macros.calories),
                number(entry.macros.protein_g),
                number(entry.macros.carbs_g),
                number(entry.macros.fat_g),
                id(entry.food_id.map(|food| food.0)),
                id(entry.recipe_id.map(|recipe| recipe.0)),
            ])?;
        }
        writer.flush()?;
        Ok(())
    };
    // Writing into memory fails only if memory does.
    write().unwrap_or_else(|error| unreachable!("CSV into a Vec: {error}"));
    writer.into_inner().unwrap_or_else(|error| unreachable!("CSV into a Vec: {error}"))
}

/// A number as the JSON answers write it.
fn number(amount: Amount) -> String {
    serde_json::to_string(&amount).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use macrotrack_domain::{Day, FoodId, LogEntryId, Macros, Meal, RecipeId, Timestamp};

    fn entry(name: &str, food: Option<i64>, recipe: Option<i64>) -> LogEntry {
        let at: Timestamp = serde_json::from_str("\"2026-12-06T10:00:00Z\"").unwrap();
        LogEntry {
            id: LogEntryId(1),
            date: "2026-12-06".parse::<Day>().unwrap(),
            meal: Meal::Snack,
            food_id: food.map(FoodId),
            recipe_id: recipe.map(RecipeId),
            name: name.to_owned(),
            servings: Amount::from_hundredths(150),
            grams: food.map(|_| Amount::from_hundredths(4500)),
            portion: None,
            macros: Macros::parse("", 200.0, 10.25, 0.0, 3.0).unwrap(),
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn rows_are_rfc_4180_with_crlf_and_json_numbers() {
        let text = String::from_utf8(rows(&[entry("a, \"b\"\nc", Some(7), None), entry("x", None, Some(3))], true));
        assert_eq!(
            text.unwrap(),
            "date,meal,name,servings,grams,calories,protein_g,carbs_g,fat_g,food_id,recipe_id\r\n\
             2026-12-06,snack,\"a, \"\"b\"\"\nc\",1.5,45.0,200.0,10.25,0.0,3.0,7,\r\n\
             2026-12-06,snack,x,1.5,,200.0,10.25,0.0,3.0,,3\r\n"
        );
        assert!(rows(&[], false).is_empty());
    }

    #[test]
    fn the_references_example_is_what_the_examples_day_exports() {
        let entries: Vec<LogEntry> = serde_json::from_value(crate::examples::entries().into()).unwrap();
        assert_eq!(String::from_utf8(rows(&entries, true)).unwrap(), crate::examples::CSV);
    }
}
