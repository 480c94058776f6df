//! SeaORM entities mirroring the tables of `macrotrack-migrations`. Amounts
//! are `i64` hundredths; the repositories convert to and from the domain.

// A model's fields are its table's columns, one for one, and
// macrotrack-migrations is where each is documented.
#![allow(missing_docs, reason = "the models mirror the schema, documented in the migrations")]

/// The `users` table.
pub mod user {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "users")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub name: String,
        #[sea_orm(unique)]
        pub token_selector: String,
        #[sea_orm(column_type = "Binary(32)")]
        pub secret_hash: Vec<u8>,
        pub target_calories: Option<i64>,
        pub target_protein_g: Option<i64>,
        pub target_carbs_g: Option<i64>,
        pub target_fat_g: Option<i64>,
        pub created_at: DateTimeUtc,
        /// A name of the IANA time zone database.
        pub timezone: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The `foods` table.
pub mod food {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "foods")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        /// `None`: a global food.
        pub owner_user_id: Option<i64>,
        pub name: String,
        /// The name lowercased for case-insensitive search (see `foods.rs`).
        pub name_folded: Option<String>,
        pub brand: Option<String>,
        pub serving_size: i64,
        pub serving_unit: String,
        pub calories: i64,
        pub protein_g: i64,
        pub carbs_g: i64,
        pub fat_g: i64,
        /// Generic (true) or branded; users' foods are not generic.
        pub generic: bool,
        /// `fdc:<fdc_id>` or `off:<code>` for an imported food.
        pub source: Option<String>,
        /// The GTIN-14 of an imported food.
        pub barcode: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The `food_uses` table.
pub mod food_use {
    use sea_orm::entity::prelude::*;

    /// How many log entries a user has made of a food.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "food_uses")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub user_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub food_id: i64,
        pub uses: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(belongs_to = "super::food::Entity", from = "Column::FoodId", to = "super::food::Column::Id")]
        Food,
    }

    impl Related<super::food::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Food.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// The `log_entries` table.
pub mod log_entry {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "log_entries")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub user_id: i64,
        pub date: Date,
        /// `breakfast`, `lunch`, `dinner` or `snack`.
        pub meal: String,
        pub food_id: Option<i64>,
        pub recipe_id: Option<i64>,
        pub name: String,
        pub servings: i64,
        pub calories: i64,
        pub protein_g: i64,
        pub carbs_g: i64,
        pub fat_g: i64,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        /// `servings`, `grams` or `portion`: how the amount was given.
        pub amount_unit: String,
        pub grams: Option<i64>,
        /// The portion's snapshot: no foreign key (imports replace portions).
        pub portion_id: Option<i64>,
        pub portion_name: Option<String>,
        pub portion_grams: Option<i64>,
        pub quantity: Option<i64>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The `day_completions` table.
pub mod day_completion {
    use sea_orm::entity::prelude::*;

    /// A day the user marked complete (present row = completed).
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "day_completions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub user_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub date: Date,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The `completion_runs` table.
pub mod completion_run {
    use sea_orm::entity::prelude::*;

    /// A run of consecutive completed days of a user, `first_day` to
    /// `last_day` (`days` of them), with a day not completed either side.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "completion_runs")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub user_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub first_day: Date,
        pub last_day: Date,
        pub days: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The `recipes` table.
pub mod recipe {
    use sea_orm::entity::prelude::*;

    /// A user's recipe with its per-serving macros, fixed at creation.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "recipes")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub owner_user_id: i64,
        pub name: String,
        pub servings: i64,
        pub calories: i64,
        pub protein_g: i64,
        pub carbs_g: i64,
        pub fat_g: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The `recipe_ingredients` table.
pub mod recipe_ingredient {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "recipe_ingredients")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub recipe_id: i64,
        /// 0-based order of the ingredient in the recipe.
        #[sea_orm(primary_key, auto_increment = false)]
        pub position: i32,
        pub food_id: i64,
        pub servings: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The `meal_plans` table.
pub mod meal_plan {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "meal_plans")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub owner_user_id: i64,
        pub name: String,
        pub days: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The `meal_plan_items` table.
pub mod meal_plan_item {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "meal_plan_items")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub meal_plan_id: i64,
        /// 0-based order of the item in the plan.
        #[sea_orm(primary_key, auto_increment = false)]
        pub position: i32,
        /// 0-based day of the plan.
        pub day: i32,
        pub meal: String,
        pub recipe_id: i64,
        pub servings: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The `scheduled_plans` table.
pub mod scheduled_plan {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "scheduled_plans")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub user_id: i64,
        pub meal_plan_id: i64,
        pub name: String,
        pub start_date: Date,
        /// Inclusive.
        pub end_date: Date,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The `scheduled_meals` table.
pub mod scheduled_meal {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "scheduled_meals")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub scheduled_plan_id: i64,
        pub user_id: i64,
        pub date: Date,
        pub meal: String,
        pub recipe_id: i64,
        pub servings: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(belongs_to = "super::recipe::Entity", from = "Column::RecipeId", to = "super::recipe::Column::Id")]
        Recipe,
    }

    impl Related<super::recipe::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Recipe.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// The `cache_outbox` table.
pub mod cache_outbox {
    use sea_orm::entity::prelude::*;

    /// A committed mutation whose cache invalidation may not be applied yet.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "cache_outbox")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        /// No foreign key: a deleted user's row must outlive the user.
        pub user_id: i64,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
