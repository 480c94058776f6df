//! The migrations apply, roll back and re-apply on SQLite (PostgreSQL is
//! exercised by the db-seaorm suite, which migrates a fresh database per test).

use macrotrack_migrations::{Migrator, MigratorTrait, steps_through};
use sea_orm_migration::sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};

async fn count(db: &DatabaseConnection, sql: &str) -> i64 {
    let row = db.query_one_raw(Statement::from_string(DbBackend::Sqlite, sql)).await.unwrap().unwrap();
    row.try_get_by_index(0).unwrap()
}

#[tokio::test]
async fn up_down_up_on_sqlite() {
    let db = Database::connect("sqlite::memory:").await.unwrap();
    Migrator::up(&db, None).await.unwrap();
    assert!(count(&db, "SELECT COUNT(*) FROM foods WHERE owner_user_id IS NULL").await >= 30);
    // The users id is an AUTOINCREMENT rowid, so ids are never reused.
    let users_sql =
        count(&db, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'users' AND sql LIKE '%AUTOINCREMENT%'").await;
    assert_eq!(users_sql, 1);
    // Applying again is a no-op.
    Migrator::up(&db, None).await.unwrap();
    Migrator::down(&db, None).await.unwrap();
    assert_eq!(count(&db, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'foods'").await, 0);
    Migrator::up(&db, None).await.unwrap();
    assert!(count(&db, "SELECT COUNT(*) FROM foods").await >= 30);
}

/// The second migration rebuilds log_entries on SQLite to add the recipe
/// foreign key: rows survive, the AUTOINCREMENT counter carries over, the
/// key holds, and food names are folded for search.
#[tokio::test]
async fn recipe_migration_keeps_log_entries_and_their_ids_on_sqlite() {
    let db = Database::connect("sqlite::memory:").await.unwrap();
    db.execute_unprepared("PRAGMA foreign_keys = ON").await.unwrap();
    Migrator::up(&db, Some(1)).await.unwrap();
    db.execute_unprepared(
        "INSERT INTO users (name, token_selector, secret_hash, created_at)
             VALUES ('alice', 'sel', x'00', '2026-11-25T00:00:00Z');
         INSERT INTO foods (owner_user_id, name, serving_size, serving_unit, calories, protein_g, carbs_g, fat_g)
             VALUES (1, 'ÄPFEL Crumble', 100, 'g', 1, 1, 1, 1);",
    )
    .await
    .unwrap();
    let insert = |id: i64| {
        format!(
            "INSERT INTO log_entries (id, user_id, date, meal, food_id, name, servings, calories, protein_g, carbs_g,
                 fat_g, created_at, updated_at)
             VALUES ({id}, 1, '2026-11-24', 'lunch', 1, 'Oats', 100, 1, 1, 1, 1, '2026-11-25T00:00:00Z',
                 '2026-11-25T00:00:00Z')"
        )
    };
    db.execute_unprepared(&insert(1)).await.unwrap();
    db.execute_unprepared(&insert(2)).await.unwrap();
    db.execute_unprepared("DELETE FROM log_entries WHERE id = 2").await.unwrap();

    Migrator::up(&db, None).await.unwrap();
    assert_eq!(count(&db, "SELECT COUNT(*) FROM log_entries WHERE id = 1 AND name = 'Oats'").await, 1);
    db.execute_unprepared(
        "INSERT INTO log_entries (user_id, date, meal, food_id, name, servings, calories, protein_g, carbs_g, fat_g,
             created_at, updated_at)
         VALUES (1, '2026-11-24', 'lunch', 1, 'Oats', 100, 1, 1, 1, 1, '2026-11-25T00:00:00Z', '2026-11-25T00:00:00Z')",
    )
    .await
    .unwrap();
    assert_eq!(count(&db, "SELECT MAX(id) FROM log_entries").await, 3, "id 2 was handed out again");
    let dangling = db.execute_unprepared("UPDATE log_entries SET food_id = NULL, recipe_id = 999 WHERE id = 1").await;
    assert!(dangling.is_err(), "log_entries.recipe_id has no foreign key");
    let folded = "SELECT COUNT(*) FROM foods WHERE name_folded = 'äpfel crumble'";
    assert_eq!(count(&db, folded).await, 1);
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM foods WHERE name_folded = LOWER(name)").await,
        count_globals(&db).await
    );
    for index in ["log_entries_user_id_date_meal_recipe_id", "log_entries_food_id", "scheduled_meals_user_id_date"] {
        let sql = format!("SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = '{index}'");
        assert_eq!(count(&db, &sql).await, 1, "{index}");
    }

    // The second migration and every later one.
    Migrator::down(&db, steps_through("m20261125_000002_recipes_plans")).await.unwrap();
    assert_eq!(count(&db, "SELECT COUNT(*) FROM log_entries").await, 2);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'recipes'").await, 0);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'log_entries_user_id_date'").await, 1);
    Migrator::up(&db, None).await.unwrap();
    assert_eq!(count(&db, "SELECT COUNT(*) FROM log_entries").await, 2);
}

/// The outbox has no foreign key (a deleted user's row outlives the user),
/// an index on created_at, and goes away on its own when rolled back.
#[tokio::test]
async fn outbox_migration_adds_a_table_without_foreign_keys() {
    let db = Database::connect("sqlite::memory:").await.unwrap();
    db.execute_unprepared("PRAGMA foreign_keys = ON").await.unwrap();
    Migrator::up(&db, None).await.unwrap();
    db.execute_unprepared("INSERT INTO cache_outbox (user_id, created_at) VALUES (424242, '2026-12-01T00:00:00Z')")
        .await
        .expect("a row for a user that does not exist");
    let index = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'cache_outbox_created_at'";
    assert_eq!(count(&db, index).await, 1);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM pragma_foreign_key_list('cache_outbox')").await, 0);
    // The outbox migration and every later one.
    Migrator::down(&db, steps_through("m20261201_000003_cache_outbox")).await.unwrap();
    assert_eq!(count(&db, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'cache_outbox'").await, 0);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'recipes'").await, 1);
    Migrator::up(&db, None).await.unwrap();
    assert_eq!(count(&db, "SELECT COUNT(*) FROM cache_outbox").await, 0);
}

/// The catalogue migration: the seed becomes generic with a folded search
/// text, source ids are unique (NULLs aside), barcodes are indexed but not
/// unique, a user's food written as before still works, and rolling back
/// removes it all.
#[tokio::test]
async fn catalogue_migration_adds_columns_with_defaults_and_portions() {
    let db = Database::connect("sqlite::memory:").await.unwrap();
    db.execute_unprepared("PRAGMA foreign_keys = ON").await.unwrap();
    Migrator::up(&db, Some(3)).await.unwrap();
    db.execute_unprepared(
        "INSERT INTO users (name, token_selector, secret_hash, created_at)
             VALUES ('alice', 'sel', x'00', '2026-11-25T00:00:00Z');
         INSERT INTO foods (owner_user_id, name, brand, serving_size, serving_unit, calories, protein_g, carbs_g, fat_g)
             VALUES (1, 'Crème Brûlée', 'Chez Émile', 100, 'g', 1, 1, 1, 1);",
    )
    .await
    .unwrap();
    Migrator::up(&db, None).await.unwrap();

    let globals = count_globals(&db).await;
    assert_eq!(count(&db, "SELECT COUNT(*) FROM foods WHERE generic AND owner_user_id IS NULL").await, globals);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM foods WHERE NOT generic").await, 1, "a user's food is not generic");
    assert_eq!(count(&db, "SELECT COUNT(*) FROM foods WHERE search_folded = 'creme brulee chez emile'").await, 1);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM foods WHERE search_folded = 'oats, rolled'").await, 1);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM foods WHERE search_folded IS NULL").await, 0);

    // Written as before the migration: the defaults fill the new columns.
    db.execute_unprepared(
        "INSERT INTO foods (owner_user_id, name, serving_size, serving_unit, calories, protein_g, carbs_g, fat_g)
             VALUES (1, 'Plain', 100, 'g', 1, 1, 1, 1)",
    )
    .await
    .unwrap();
    assert_eq!(count(&db, "SELECT generic FROM foods WHERE name = 'Plain'").await, 0);

    let imported = |source: &str, barcode: &str| {
        format!(
            "INSERT INTO foods (name, serving_size, serving_unit, calories, protein_g, carbs_g, fat_g, generic, source,
                 barcode, imported_at)
             VALUES ('Imported', 10000, 'g', 1, 1, 1, 1, false, '{source}', '{barcode}', '2026-12-06T00:00:00Z')"
        )
    };
    db.execute_unprepared(&imported("fdc:1", "00036000291452")).await.unwrap();
    db.execute_unprepared(&imported("fdc:2", "00036000291452")).await.expect("barcodes are not unique");
    assert!(db.execute_unprepared(&imported("fdc:1", "")).await.is_err(), "source ids are unique");
    let food = count(&db, "SELECT id FROM foods WHERE source = 'fdc:1'").await;
    db.execute_unprepared(&format!(
        "INSERT INTO food_portions (food_id, position, name, grams) VALUES ({food}, 0, '1 cup', 24400)"
    ))
    .await
    .unwrap();
    let again = format!("INSERT INTO food_portions (food_id, position, name, grams) VALUES ({food}, 0, '1 mug', 1)");
    assert!(db.execute_unprepared(&again).await.is_err(), "one portion per position");
    for index in ["foods_source", "foods_barcode", "food_portions_food_id_position"] {
        let sql = format!("SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = '{index}'");
        assert_eq!(count(&db, &sql).await, 1, "{index}");
    }
    db.execute_unprepared(&format!("DELETE FROM foods WHERE id = {food}")).await.unwrap();
    assert_eq!(count(&db, "SELECT COUNT(*) FROM food_portions").await, 0, "portions go with their food");

    Migrator::down(&db, steps_through("m20261206_000004_catalogue")).await.unwrap();
    assert_eq!(count(&db, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'food_portions'").await, 0);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM pragma_table_info('foods') WHERE name = 'source'").await, 0);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM foods WHERE name = 'Crème Brûlée'").await, 1, "rows stay");
    Migrator::up(&db, None).await.unwrap();
    assert_eq!(count(&db, "SELECT COUNT(*) FROM pragma_table_info('foods') WHERE name = 'source'").await, 1);
}

async fn count_globals(db: &DatabaseConnection) -> i64 {
    count(db, "SELECT COUNT(*) FROM foods WHERE owner_user_id IS NULL").await
}
