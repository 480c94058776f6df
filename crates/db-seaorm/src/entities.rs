//! SeaORM entities mirroring the tables of `macrotrack-migrations`. Amounts
//! are `i64` hundredths; the repositories convert to and from the domain.

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
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

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
        pub brand: Option<String>,
        pub serving_size: i64,
        pub serving_unit: String,
        pub calories: i64,
        pub protein_g: i64,
        pub carbs_g: i64,
        pub fat_g: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

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
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

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
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

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
