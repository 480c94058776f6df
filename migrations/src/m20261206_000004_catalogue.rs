//! The imported catalogue: foods gain where they come from (`source`, the
//! key re-imports match on), whether they are generic or branded, their
//! barcode, when an import last wrote them, and a folded text for search;
//! their household measures go to `food_portions`.
//!
//! Every new column has a default or is nullable, so writes that predate
//! the import keep working unchanged. The seeded catalogue is generic
//! (its serving is already 100 g, so it has gram servings as it is).

use sea_orm_migration::prelude::*;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use crate::m20261125_000001_core::Foods;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CatalogueFoods {
    Generic,
    Source,
    Barcode,
    ImportedAt,
    SearchFolded,
}

#[derive(DeriveIden)]
enum FoodPortions {
    Table,
    Id,
    FoodId,
    Position,
    Name,
    Grams,
}

const SOURCE_INDEX: &str = "foods_source";
const BARCODE_INDEX: &str = "foods_barcode";
const PORTIONS_INDEX: &str = "food_portions_food_id_position";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one at a time.
        let columns = [
            ColumnDef::new(CatalogueFoods::Generic).boolean().not_null().default(false).to_owned(),
            // "fdc:<fdc_id>" or "off:<code>"; NULL for the seed and users' foods.
            ColumnDef::new(CatalogueFoods::Source).string().null().to_owned(),
            // The GTIN-14; not unique (USDA lists one GTIN under several foods).
            ColumnDef::new(CatalogueFoods::Barcode).string().null().to_owned(),
            // When an import last inserted or changed the food: a barcode
            // carried by several foods answers the most recently imported.
            ColumnDef::new(CatalogueFoods::ImportedAt).timestamp_with_time_zone().null().to_owned(),
            // Name and brand, lowercased without diacritics, for search.
            ColumnDef::new(CatalogueFoods::SearchFolded).string().null().to_owned(),
        ];
        for column in columns {
            manager.alter_table(Table::alter().table(Foods::Table).add_column(column).to_owned()).await?;
        }
        manager
            .create_index(
                Index::create().name(SOURCE_INDEX).table(Foods::Table).col(CatalogueFoods::Source).unique().to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name(BARCODE_INDEX).table(Foods::Table).col(CatalogueFoods::Barcode).to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(FoodPortions::Table)
                    .col(ColumnDef::new(FoodPortions::Id).big_integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(FoodPortions::FoodId).big_integer().not_null())
                    .col(ColumnDef::new(FoodPortions::Position).integer().not_null())
                    .col(ColumnDef::new(FoodPortions::Name).string().not_null())
                    // Hundredths of a gram, as every amount of the schema.
                    .col(ColumnDef::new(FoodPortions::Grams).big_integer().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(FoodPortions::Table, FoodPortions::FoodId)
                            .to(Foods::Table, Foods::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(PORTIONS_INDEX)
                    .table(FoodPortions::Table)
                    .col(FoodPortions::FoodId)
                    .col(FoodPortions::Position)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // Only the seed is global before any import.
        let seeded = Query::update()
            .table(Foods::Table)
            .value(CatalogueFoods::Generic, true)
            .and_where(Expr::col(Foods::OwnerUserId).is_null())
            .to_owned();
        manager.execute(seeded).await?;
        fold_foods(manager, false).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(FoodPortions::Table).to_owned()).await?;
        // SQLite refuses to drop an indexed column.
        for index in [SOURCE_INDEX, BARCODE_INDEX] {
            manager.drop_index(Index::drop().name(index).table(Foods::Table).to_owned()).await?;
        }
        for column in [
            CatalogueFoods::Generic,
            CatalogueFoods::Source,
            CatalogueFoods::Barcode,
            CatalogueFoods::ImportedAt,
            CatalogueFoods::SearchFolded,
        ] {
            manager.alter_table(Table::alter().table(Foods::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}

/// Fills `search_folded` of the foods there are (the seed and users' own),
/// or (`only_unfolded`) of those whose writes did not fill it.
pub(crate) async fn fold_foods(manager: &SchemaManager<'_>, only_unfolded: bool) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let mut select = Query::select().columns([Foods::Id, Foods::Name, Foods::Brand]).from(Foods::Table).to_owned();
    if only_unfolded {
        select.and_where(Expr::col(CatalogueFoods::SearchFolded).is_null());
    }
    for row in db.query_all(&select).await? {
        let id: i64 = row.try_get("", "id")?;
        let name: String = row.try_get("", "name")?;
        let brand: Option<String> = row.try_get("", "brand")?;
        let update = Query::update()
            .table(Foods::Table)
            .value(CatalogueFoods::SearchFolded, search_text(&name, brand.as_deref()))
            .and_where(Expr::col(Foods::Id).eq(id))
            .to_owned();
        manager.execute(update).await?;
    }
    Ok(())
}

/// The domain's `search_text` as it was when this migration was written: a
/// migration is a snapshot and must not change when the rule does (and the
/// migrations depend on no crate of the workspace). db-seaorm's tests check
/// the two agree on the seeded foods.
fn search_text(name: &str, brand: Option<&str>) -> String {
    let fold = |text: &str| -> String {
        text.chars().flat_map(char::to_lowercase).nfkd().filter(|&c| !is_combining_mark(c)).collect()
    };
    match brand {
        Some(brand) => format!("{} {}", fold(name), fold(brand)),
        None => fold(name),
    }
}
