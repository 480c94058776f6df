//! `POST /v1/recipes`, `GET /v1/recipes/{id}`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use macrotrack_domain::{NewRecipe, Recipe, RecipeId, RecipeInput, ValidationErrors};
use macrotrack_ports::KeptAnswer;
use serde_json::{Map, Value};

use crate::body::{self, Id, Item, Required};
use crate::extract::{Body, FromBody, PathId, Read, User};
use crate::idempotency::{Idempotency, json_answer};
use crate::input;
use crate::problem::Problem;
use crate::state::HttpState;

body! {
    /// A recipe to create from foods.
    #[schemars(example = serde_json::json!({
        "name": "Porridge", "servings": 2,
        "ingredients": [{"food_id": 1, "servings": 0.5}, {"food_id": 2, "servings": 2.5}],
    }))]
    pub struct CreateRecipeRequest {
        /// 1 to 200 characters after trimming.
        #[schemars(length(min = 1, max = 200), pattern(body::TEXT_PATTERN))]
        name: Required<String>,
        /// How many servings the ingredients make: in (0, 100].
        #[schemars(range(min = body::MIN_SERVINGS, max = 100))]
        servings: Required<f64>,
        /// 1 to 50 ingredients, kept in this order.
        #[schemars(length(min = 1, max = 50))]
        ingredients: Required<Vec<Item<IngredientRequest>>>,
    }
}

body! {
    pub struct IngredientRequest {
        /// A global food or one of the user's own.
        food_id: Required<Id>,
        /// Servings of the food: in (0, 100].
        #[schemars(range(min = body::MIN_SERVINGS, max = 100))]
        servings: Required<f64>,
    }
}

/// The order errors are reported in: the top-level fields, then each
/// item's by index, in field order.
fn rank(field: &str) -> usize {
    input::list_rank(field, CreateRecipeRequest::FIELDS, IngredientRequest::FIELDS)
}

/// Every type and rule mistake of the body, or the validated recipe input.
pub(crate) fn parse(body: Map<String, Value>) -> Result<RecipeInput, ValidationErrors> {
    let (request, errors) = body::read::<CreateRecipeRequest>(body);
    let (errors, item_errors) = body::split_list(errors, "ingredients");
    let ingredients = request.ingredients.value().map(|items| {
        items
            .into_iter()
            .map(|item| match item {
                Item::Object(ingredient) => (ingredient.food_id.value().map(|Id(id)| id), ingredient.servings.value()),
                Item::NotObject => (None, None),
            })
            .collect()
    });
    let input = RecipeInput { name: request.name.value(), servings: request.servings.value(), ingredients };
    let rules = match NewRecipe::parse(input.clone()) {
        Ok(_) if errors.is_empty() && item_errors.is_empty() => return Ok(input),
        Ok(_) => ValidationErrors::new(),
        Err(rules) => rules,
    };
    Err(input::with_list_errors(errors, item_errors, rules, "ingredients", rank))
}

impl FromBody for CreateRecipeRequest {
    type Output = RecipeInput;
    const READ: Read<Self::Output> = parse;
}

/// Creates a recipe of the user's.
pub async fn create(
    state: web::Data<HttpState>,
    User(user): User,
    idempotency: Idempotency,
    Body(recipe): Body<CreateRecipeRequest>,
) -> Result<HttpResponse, Problem> {
    idempotency.run(&state, user, created, |keep| state.service.create_recipe_keeping(user, recipe, keep)).await
}

fn created(recipe: &Recipe) -> KeptAnswer {
    json_answer(StatusCode::CREATED, Some(format!("/v1/recipes/{}", recipe.id.0)), recipe)
}

/// One of the user's recipes.
pub async fn get(state: web::Data<HttpState>, User(user): User, PathId(id): PathId) -> Result<HttpResponse, Problem> {
    Ok(HttpResponse::Ok().json(state.service.recipe(user, RecipeId(id)).await?))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fields_of(body: Value) -> Vec<String> {
        let Value::Object(body) = body else { unreachable!() };
        parse(body).unwrap_err().errors().iter().map(|e| e.field.clone()).collect()
    }

    #[test]
    fn every_offending_field_is_named_in_order() {
        let body = json!({"name": " ", "servings": 0, "ingredients": [
            {"food_id": 1, "servings": 1},
            {"food_id": "1", "servings": 100.01},
            3,
            {"servings": "x"},
        ]});
        assert_eq!(
            fields_of(body),
            [
                "name",
                "servings",
                "ingredients.1.food_id",
                "ingredients.1.servings",
                "ingredients.2",
                "ingredients.3.food_id",
                "ingredients.3.servings"
            ]
        );
        assert_eq!(fields_of(json!({})), ["name", "servings", "ingredients"]);
        // Found by schemathesis: 5e-324 is in (0, 100] but rounds to 0.00,
        // the divisor of the per-serving macros; the domain's bound refuses it.
        for tiny in [5e-324, 0.001, 0.0049] {
            let body = json!({"name": "x", "servings": tiny, "ingredients": [{"food_id": 1, "servings": 1}]});
            assert_eq!(fields_of(body), ["servings"], "{tiny}");
        }
        assert_eq!(fields_of(json!({"name": "x", "servings": 1, "ingredients": []})), ["ingredients"]);
        let many = vec![json!(7); 51];
        assert_eq!(fields_of(json!({"name": "x", "servings": 1, "ingredients": many})), ["ingredients"]);
    }

    #[test]
    fn a_valid_recipe_parses() {
        let Value::Object(body) =
            json!({"name": "Porridge", "servings": 2, "ingredients": [{"food_id": 1, "servings": 0.5}]})
        else {
            unreachable!()
        };
        assert!(parse(body).is_ok());
    }
}
