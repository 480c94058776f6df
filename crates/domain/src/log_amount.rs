//! How much a log entry records: servings, grams, or a quantity of one of
//! the food's household portions; and what each comes to in servings,
//! grams and macros.
//!
//! Grams need the food's `grams_per_serving`: they are converted through
//! it. A portion stands for round2(quantity × its grams) grams, exactly as
//! if those grams were logged, so it needs `grams_per_serving` too: a
//! portion of a food without one cannot be logged (422 on `portion_id`,
//! the field naming what cannot be measured). A recipe has neither, so
//! grams and portions of a recipe are refused by the same rules.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::validation::{LOGGED_GRAMS, QUANTITY, SERVINGS, ValidationErrors};
use crate::{Amount, Macros, Portion, PortionId};

/// An entry's amount as given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogAmount {
    /// Servings of the food or recipe.
    Servings(Amount),
    /// Grams of a food with `grams_per_serving`.
    Grams(Amount),
    /// `quantity` of one of the food's portions.
    Portion {
        /// The portion.
        id: PortionId,
        /// How many of it.
        quantity: Amount,
    },
}

/// How a PATCH changes an entry's amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AmountChange {
    /// To this amount.
    To(LogAmount),
    /// The quantity of an entry logged by portion, its portion kept.
    Quantity(Amount),
}

/// The portion an entry was logged by, as its answer shows it.
#[allow(
    missing_docs,
    reason = "a field's doc comment would become its description in the OpenAPI document and the generated client; the contract documents the fields"
)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LoggedPortion {
    pub id: PortionId,
    pub name: String,
    pub quantity: Amount,
}

/// What the arithmetic needs of the item logged (a recipe has no grams
/// per serving and no portions).
#[derive(Debug, Clone, Copy)]
pub struct Measure<'a> {
    /// Its macros per serving.
    pub per_serving: Macros,
    /// Its `grams_per_serving`.
    pub grams_per_serving: Option<Amount>,
    /// The portions it may be logged by.
    pub portions: &'a [Portion],
}

/// What an amount comes to: the entry's servings, grams, portion and
/// macros (the snapshot).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Measured {
    /// Servings: as given, or the grams ÷ grams per serving.
    pub servings: Amount,
    /// The grams logged; `None` when the item has no grams per serving.
    pub grams: Option<Amount>,
    /// The portion logged by, with its grams (kept so a later quantity
    /// can be applied even once the catalogue replaced the portion).
    pub portion: Option<(LoggedPortion, Amount)>,
    /// The entry's macros.
    pub macros: Macros,
}

/// An amount the item cannot be measured in; names the field to blame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AmountError {
    /// Grams of an item without `grams_per_serving`.
    NoGramsPerServing,
    /// A portion that is not one of the food's, or of a food without
    /// `grams_per_serving`.
    NotItsPortion,
    /// A quantity alone for an entry not logged by portion.
    NotByPortion,
}

impl AmountError {
    /// The field the rule names.
    pub fn field(self) -> &'static str {
        match self {
            AmountError::NoGramsPerServing => "grams",
            AmountError::NotItsPortion => "portion_id",
            AmountError::NotByPortion => "quantity",
        }
    }

    /// What is wrong, for the problem's `errors`.
    pub fn message(self) -> &'static str {
        match self {
            AmountError::NoGramsPerServing => "needs a food with grams_per_serving",
            AmountError::NotItsPortion => "is not a portion of this food with grams_per_serving",
            AmountError::NotByPortion => "changes only an entry logged by portion",
        }
    }
}

impl LogAmount {
    /// The servings, grams and macros this amount of `item` comes to.
    pub fn measure(self, item: Measure<'_>) -> Result<Measured, AmountError> {
        match self {
            LogAmount::Servings(servings) => Ok(Measured {
                servings,
                grams: item.grams_per_serving.map(|per| servings.times(per)),
                portion: None,
                macros: item.per_serving.times(servings),
            }),
            LogAmount::Grams(grams) => {
                let per = item.grams_per_serving.ok_or(AmountError::NoGramsPerServing)?;
                Ok(by_grams(item.per_serving, grams, per))
            }
            LogAmount::Portion { id, quantity } => {
                let portion = item.portions.iter().find(|portion| portion.id == id);
                let (Some(portion), Some(per)) = (portion, item.grams_per_serving) else {
                    return Err(AmountError::NotItsPortion);
                };
                let measured = by_grams(item.per_serving, portion.grams.times(quantity), per);
                let logged = LoggedPortion { id, name: portion.name.clone(), quantity };
                Ok(Measured { portion: Some((logged, portion.grams)), ..measured })
            }
        }
    }
}

/// round2(per-serving × grams ÷ grams per serving) for each macro, and
/// round2(grams ÷ grams per serving) servings: exact on hundredths.
fn by_grams(per_serving: Macros, grams: Amount, grams_per_serving: Amount) -> Measured {
    let scale = |value: Amount| {
        Amount::ratio(i128::from(value.hundredths()) * i128::from(grams.hundredths()), grams_per_serving)
    };
    Measured {
        servings: Amount::ratio(i128::from(grams.hundredths()) * 100, grams_per_serving),
        grams: Some(grams),
        portion: None,
        macros: per_serving.map(scale),
    }
}

/// The amount fields of an entry or a patch, as given; `None` is absent.
/// A field present with the wrong type is given as an impossible value
/// (NaN, id 0): it counts as present, and its parser already reported it.
#[derive(Debug, Clone, Copy, Default)]
pub struct AmountInput {
    /// As given.
    pub servings: Option<f64>,
    /// As given.
    pub grams: Option<f64>,
    /// As given.
    pub portion_id: Option<i64>,
    /// As given.
    pub quantity: Option<f64>,
}

impl AmountInput {
    /// Whether no amount field was given.
    pub fn is_empty(&self) -> bool {
        self.servings.is_none() && self.grams.is_none() && self.portion_id.is_none() && self.quantity.is_none()
    }

    /// The fields given, in the contract's order.
    pub fn given(&self) -> Vec<&'static str> {
        let fields = [
            ("servings", self.servings.is_some()),
            ("grams", self.grams.is_some()),
            ("portion_id", self.portion_id.is_some()),
            ("quantity", self.quantity.is_some()),
        ];
        fields.into_iter().filter(|(_, given)| *given).map(|(field, _)| field).collect()
    }

    /// The change given, checked, errors named `{prefix}{field}`: exactly
    /// one of servings, grams and portion_id (with quantity), or
    /// (`quantity_alone`, a PATCH) a quantity alone. Nothing given is `None`,
    /// and an error on servings unless a PATCH.
    pub(crate) fn parse(
        self,
        prefix: &str,
        quantity_alone: bool,
        errors: &mut ValidationErrors,
    ) -> Option<AmountChange> {
        let field = |name: &str| format!("{prefix}{name}");
        let given: Vec<&str> = [
            ("servings", self.servings.is_some()),
            ("grams", self.grams.is_some()),
            ("portion_id", self.portion_id.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, given)| given.then_some(name))
        .collect();
        if given.len() > 1 {
            for name in given {
                errors.add(field(name), "only one of servings, grams and portion_id may be given");
            }
            return None;
        }
        let quantity = self.quantity.and_then(|value| errors.check(field("quantity"), QUANTITY.amount(value)));
        if self.quantity.is_some() && self.portion_id.is_none() && !(quantity_alone && given.is_empty()) {
            errors.add(field("quantity"), "is given only with portion_id");
        }
        if let Some(servings) = self.servings {
            let servings = errors.check(field("servings"), SERVINGS.amount(servings))?;
            return Some(AmountChange::To(LogAmount::Servings(servings)));
        }
        if let Some(grams) = self.grams {
            let grams = errors.check(field("grams"), LOGGED_GRAMS.amount(grams))?;
            return Some(AmountChange::To(LogAmount::Grams(grams)));
        }
        if let Some(id) = self.portion_id {
            if self.quantity.is_none() {
                errors.add(field("quantity"), "is required with portion_id");
            }
            return Some(AmountChange::To(LogAmount::Portion { id: PortionId(id), quantity: quantity? }));
        }
        if quantity_alone {
            return quantity.map(AmountChange::Quantity);
        }
        errors.add(field("servings"), "one of servings, grams and portion_id is required");
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn amount(hundredths: i64) -> Amount {
        Amount::from_hundredths(hundredths)
    }

    fn oats() -> (Macros, Vec<Portion>) {
        // 40 g a serving: 150 kcal, 5 g protein, 27 g carbs, 2.5 g fat.
        let per_serving =
            Macros { calories: amount(15000), protein_g: amount(500), carbs_g: amount(2700), fat_g: amount(250) };
        let cup = Portion { id: PortionId(7), name: "1 cup".into(), grams: amount(8100) };
        (per_serving, vec![cup])
    }

    fn measure(amount_: LogAmount, grams_per_serving: Option<Amount>) -> Result<Measured, AmountError> {
        let (per_serving, portions) = oats();
        amount_.measure(Measure { per_serving, grams_per_serving, portions: &portions })
    }

    #[test]
    fn grams_scale_the_serving_and_round_once() {
        // 100 g of a 40 g serving: 2.5 servings, 375 kcal, 6.25 fat.
        let measured = measure(LogAmount::Grams(amount(10000)), Some(amount(4000))).unwrap();
        assert_eq!(measured.servings, amount(250));
        assert_eq!(measured.grams, Some(amount(10000)));
        assert_eq!(measured.macros.calories, amount(37500));
        assert_eq!(measured.macros.fat_g, amount(625));
        // 33.33 g: 0.83325 servings → 0.83; 150 × 33.33 ÷ 40 = 124.9875 → 124.99
        // (not 150 × 0.83 = 124.50: macros come from the grams, not the rounded servings).
        let measured = measure(LogAmount::Grams(amount(3333)), Some(amount(4000))).unwrap();
        assert_eq!(measured.servings, amount(83));
        assert_eq!(measured.macros.calories, amount(12499));
        // 5000 g of a 1 g serving: 5000 servings, beyond the servings bound.
        assert_eq!(measure(LogAmount::Grams(amount(500000)), Some(amount(100))).unwrap().servings, amount(500000));
    }

    #[test]
    fn servings_give_grams_when_the_serving_is_in_grams() {
        let measured = measure(LogAmount::Servings(amount(150)), Some(amount(4000))).unwrap();
        assert_eq!((measured.grams, measured.macros.calories), (Some(amount(6000)), amount(22500)));
        assert_eq!(measure(LogAmount::Servings(amount(150)), None).unwrap().grams, None);
    }

    #[test]
    fn a_portion_is_its_grams_times_the_quantity() {
        let portion = LogAmount::Portion { id: PortionId(7), quantity: amount(50) };
        let measured = measure(portion, Some(amount(4000))).unwrap();
        // Half a cup of 81 g: 40.5 g, 1.01 servings (1.0125), 151.88 kcal (151.875).
        assert_eq!(measured.grams, Some(amount(4050)));
        assert_eq!(measured.servings, amount(101));
        assert_eq!(measured.macros.calories, amount(15188));
        let logged = LoggedPortion { id: PortionId(7), name: "1 cup".into(), quantity: amount(50) };
        assert_eq!(measured.portion, Some((logged, amount(8100))));
        assert_eq!(
            measured,
            measure(LogAmount::Grams(amount(4050)), Some(amount(4000)))
                .map(|m| Measured { portion: measured.portion.clone(), ..m })
                .unwrap()
        );
    }

    #[test]
    fn what_cannot_be_measured_names_its_field() {
        assert_eq!(measure(LogAmount::Grams(amount(100)), None), Err(AmountError::NoGramsPerServing));
        let other = LogAmount::Portion { id: PortionId(8), quantity: amount(100) };
        assert_eq!(measure(other, Some(amount(4000))), Err(AmountError::NotItsPortion));
        let cup = LogAmount::Portion { id: PortionId(7), quantity: amount(100) };
        assert_eq!(measure(cup, None), Err(AmountError::NotItsPortion), "a portion needs grams per serving");
        assert_eq!(AmountError::NoGramsPerServing.field(), "grams");
        assert_eq!(AmountError::NotItsPortion.field(), "portion_id");
        assert_eq!(AmountError::NotByPortion.field(), "quantity");
    }

    fn parse(input: AmountInput, quantity_alone: bool) -> Result<Option<AmountChange>, Vec<String>> {
        let mut errors = ValidationErrors::new();
        let change = input.parse("e.", quantity_alone, &mut errors);
        if errors.is_empty() { Ok(change) } else { Err(errors.errors().iter().map(|e| e.field.clone()).collect()) }
    }

    #[test]
    fn exactly_one_amount_is_given() {
        let none = AmountInput::default();
        assert_eq!(parse(none, false), Err(vec!["e.servings".to_owned()]));
        assert_eq!(parse(none, true), Ok(None));
        let grams = AmountInput { grams: Some(150.004), ..none };
        assert_eq!(parse(grams, false), Ok(Some(AmountChange::To(LogAmount::Grams(amount(15000))))));
        let both = AmountInput { servings: Some(1.0), ..grams };
        assert_eq!(parse(both, false), Err(vec!["e.servings".to_owned(), "e.grams".to_owned()]));
        let portion = AmountInput { portion_id: Some(7), quantity: Some(0.5), ..none };
        let half_cup = LogAmount::Portion { id: PortionId(7), quantity: amount(50) };
        assert_eq!(parse(portion, false), Ok(Some(AmountChange::To(half_cup))));
        assert_eq!(parse(AmountInput { quantity: None, ..portion }, false), Err(vec!["e.quantity".to_owned()]));
        let quantity = AmountInput { quantity: Some(2.0), ..none };
        assert_eq!(parse(quantity, true), Ok(Some(AmountChange::Quantity(amount(200)))));
        assert_eq!(parse(quantity, false), Err(vec!["e.quantity".to_owned(), "e.servings".to_owned()]));
        let with_servings = AmountInput { servings: Some(1.0), quantity: Some(2.0), ..none };
        assert_eq!(parse(with_servings, true), Err(vec!["e.quantity".to_owned()]));
    }

    #[test]
    fn amounts_keep_their_bounds() {
        let none = AmountInput::default();
        for (input, field) in [
            (AmountInput { grams: Some(0.0), ..none }, "e.grams"),
            (AmountInput { grams: Some(0.004), ..none }, "e.grams"),
            (AmountInput { grams: Some(5000.01), ..none }, "e.grams"),
            (AmountInput { grams: Some(f64::NAN), ..none }, "e.grams"),
            (AmountInput { servings: Some(100.01), ..none }, "e.servings"),
            (AmountInput { portion_id: Some(1), quantity: Some(0.0), ..none }, "e.quantity"),
            (AmountInput { portion_id: Some(1), quantity: Some(100.004), ..none }, "e.quantity"),
        ] {
            assert_eq!(parse(input, false), Err(vec![field.to_owned()]), "{input:?}");
        }
        assert!(parse(AmountInput { grams: Some(5000.0), ..none }, false).is_ok());
        assert!(parse(AmountInput { portion_id: Some(1), quantity: Some(100.0), ..none }, false).is_ok());
    }
}
