//! The global food catalogue seeded by the first migration: common foods
//! with their macros per 100 g (typical USDA FoodData Central values).

use sea_orm_migration::prelude::*;

use super::Foods;

/// (name, kcal, protein g, carbohydrate g, fat g) per 100 g.
const GLOBAL_FOODS: &[(&str, f64, f64, f64, f64)] = &[
    ("Oats, rolled", 379.0, 13.15, 67.7, 6.52),
    ("Chicken breast, skinless, roasted", 165.0, 31.02, 0.0, 3.57),
    ("Turkey breast, roasted", 147.0, 30.13, 0.0, 2.08),
    ("Beef, ground 85% lean, cooked", 250.0, 25.93, 0.0, 15.41),
    ("Salmon, Atlantic, raw", 208.0, 20.42, 0.0, 13.42),
    ("Tuna, canned in water, drained", 116.0, 25.51, 0.0, 0.82),
    ("Cod, cooked", 105.0, 22.83, 0.0, 0.86),
    ("Shrimp, cooked", 99.0, 23.98, 0.2, 0.28),
    ("Egg, whole, raw", 143.0, 12.56, 0.72, 9.51),
    ("Tofu, firm", 144.0, 17.27, 2.78, 8.72),
    ("Rice, white, cooked", 130.0, 2.69, 28.17, 0.28),
    ("Rice, brown, cooked", 123.0, 2.74, 25.58, 0.97),
    ("Pasta, cooked", 158.0, 5.8, 30.86, 0.93),
    ("Quinoa, cooked", 120.0, 4.4, 21.3, 1.92),
    ("Bread, whole wheat", 247.0, 12.95, 41.29, 3.35),
    ("Bread, white", 266.0, 7.64, 50.61, 3.29),
    ("Potato, boiled", 87.0, 1.87, 20.13, 0.1),
    ("Sweet potato, baked", 90.0, 2.01, 20.71, 0.15),
    ("Lentils, cooked", 116.0, 9.02, 20.13, 0.38),
    ("Chickpeas, cooked", 164.0, 8.86, 27.42, 2.59),
    ("Black beans, cooked", 132.0, 8.86, 23.71, 0.54),
    ("Banana", 89.0, 1.09, 22.84, 0.33),
    ("Apple", 52.0, 0.26, 13.81, 0.17),
    ("Orange", 47.0, 0.94, 11.75, 0.12),
    ("Strawberries", 32.0, 0.67, 7.68, 0.3),
    ("Blueberries", 57.0, 0.74, 14.49, 0.33),
    ("Avocado", 160.0, 2.0, 8.53, 14.66),
    ("Broccoli, raw", 34.0, 2.82, 6.64, 0.37),
    ("Spinach, raw", 23.0, 2.86, 3.63, 0.39),
    ("Carrot, raw", 41.0, 0.93, 9.58, 0.24),
    ("Tomato, raw", 18.0, 0.88, 3.89, 0.2),
    ("Milk, whole", 61.0, 3.15, 4.8, 3.25),
    ("Milk, skim", 34.0, 3.37, 4.96, 0.08),
    ("Greek yogurt, plain, nonfat", 59.0, 10.19, 3.6, 0.39),
    ("Cottage cheese, 1% fat", 72.0, 12.39, 2.72, 1.02),
    ("Cheddar cheese", 403.0, 24.9, 1.28, 33.14),
    ("Mozzarella, part-skim", 254.0, 24.26, 2.77, 15.92),
    ("Almonds", 579.0, 21.15, 21.55, 49.93),
    ("Walnuts", 654.0, 15.23, 13.71, 65.21),
    ("Peanut butter, smooth", 588.0, 25.09, 19.56, 50.39),
    ("Olive oil", 884.0, 0.0, 0.0, 100.0),
    ("Butter", 717.0, 0.85, 0.06, 81.11),
    ("Honey", 304.0, 0.3, 82.4, 0.0),
    ("Dark chocolate, 70-85% cocoa", 598.0, 7.79, 45.9, 42.63),
];

/// Hundredths of a value written with at most two decimals.
fn hundredths(value: f64) -> i64 {
    (value * 100.0).round() as i64
}

pub(crate) async fn insert_global_foods(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let mut insert = Query::insert();
    insert.into_table(Foods::Table).columns([
        Foods::OwnerUserId,
        Foods::Name,
        Foods::Brand,
        Foods::ServingSize,
        Foods::ServingUnit,
        Foods::Calories,
        Foods::ProteinG,
        Foods::CarbsG,
        Foods::FatG,
    ]);
    for &(name, calories, protein_g, carbs_g, fat_g) in GLOBAL_FOODS {
        insert.values_panic([
            Option::<i64>::None.into(),
            name.into(),
            Option::<String>::None.into(),
            hundredths(100.0).into(),
            "g".into(),
            hundredths(calories).into(),
            hundredths(protein_g).into(),
            hundredths(carbs_g).into(),
            hundredths(fat_g).into(),
        ]);
    }
    manager.execute(insert).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_is_large_and_plausible() {
        assert!(GLOBAL_FOODS.len() >= 30);
        for &(name, calories, protein_g, carbs_g, fat_g) in GLOBAL_FOODS {
            // Atwater factors: the stated energy is close to 4/4/9 kcal per
            // gram of protein, carbohydrate and fat (fibre and rounding aside).
            let atwater = 4.0 * protein_g + 4.0 * carbs_g + 9.0 * fat_g;
            assert!((atwater - calories).abs() <= 0.2 * calories + 10.0, "{name}: {calories} kcal vs {atwater}");
            assert!(protein_g + carbs_g + fat_g <= 100.0, "{name}: over 100 g per 100 g");
        }
        let mut names: Vec<_> = GLOBAL_FOODS.iter().map(|food| food.0).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), GLOBAL_FOODS.len(), "duplicate names");
    }
}
