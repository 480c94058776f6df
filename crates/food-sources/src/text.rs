//! Small text rules shared by the readers.

use std::collections::HashMap;

/// A decimal as written, without trailing zeros after its point (`1.00` →
/// `1`, `0.50` → `0.5`, `10` stays): portion names show amounts so.
pub(crate) fn without_trailing_zeros(number: &str) -> &str {
    if !number.contains('.') {
        return number;
    }
    number.trim_end_matches('0').trim_end_matches('.')
}

/// Equal strings stored once: brand owners and household servings repeat
/// across hundreds of thousands of branded foods (a few tens of thousands
/// of distinct values), so each food holds a 4-byte index instead.
#[derive(Default)]
pub(crate) struct Interner {
    ids: HashMap<Box<str>, u32>,
    texts: Vec<Box<str>>,
}

impl Interner {
    /// The index of `text`, stored on its first use.
    pub(crate) fn intern(&mut self, text: &str) -> u32 {
        if let Some(&id) = self.ids.get(text) {
            return id;
        }
        let id = u32::try_from(self.texts.len()).unwrap_or(u32::MAX);
        self.texts.push(text.into());
        self.ids.insert(text.into(), id);
        id
    }

    /// The text of an index `intern` answered.
    pub(crate) fn get(&self, id: u32) -> &str {
        self.texts.get(id as usize).map_or("", |text| text)
    }

    /// Frees the lookup table once no text will be added.
    pub(crate) fn freeze(&mut self) {
        self.ids = HashMap::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_zeros_go_after_a_point_only() {
        let cases = [("1.0", "1"), ("1.000", "1"), ("0.50", "0.5"), ("10", "10"), ("100.0", "100"), ("2.25", "2.25")];
        for (written, shown) in cases {
            assert_eq!(without_trailing_zeros(written), shown, "{written}");
        }
    }

    #[test]
    fn equal_texts_share_an_index() {
        let mut interner = Interner::default();
        let a = interner.intern("Acme");
        let b = interner.intern("Bravo");
        assert_eq!(interner.intern("Acme"), a);
        interner.freeze();
        assert_eq!((interner.get(a), interner.get(b)), ("Acme", "Bravo"));
    }
}
