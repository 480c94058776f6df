//! GS1 barcodes (GTIN-8, UPC-A, EAN-13, GTIN-14), kept as the GTIN-14.
//!
//! Every length is stored left-padded to 14 digits so one indexed column
//! answers a lookup by any of them: the zeros change neither the number
//! nor its check digit (GS1 weighs digits from the right).

use std::fmt;

/// A barcode with a valid GS1 check digit, as its 14 digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Gtin([u8; 14]);

/// Why a text is not a GTIN. The two differ for clients: a code of the wrong
/// shape is a malformed request (400), a misread digit a refused one (422).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum GtinError {
    /// Not 8, 12, 13 or 14 ASCII digits.
    #[error("a barcode is 8, 12, 13 or 14 digits")]
    Malformed,
    /// The right shape, but its last digit is not the GS1 check digit of
    /// the others.
    #[error("the barcode's check digit is wrong")]
    CheckDigit,
}

impl Gtin {
    /// Parses `code` exactly as given (no trimming: the path of a request
    /// holds nothing else).
    pub fn parse(code: &str) -> Result<Gtin, GtinError> {
        let bytes = code.as_bytes();
        if !matches!(bytes.len(), 8 | 12 | 13 | 14) || !bytes.iter().all(u8::is_ascii_digit) {
            return Err(GtinError::Malformed);
        }
        let mut digits = [b'0'; 14];
        digits[14 - bytes.len()..].copy_from_slice(bytes);
        if check_digit(&digits[..13]) != digits[13] - b'0' {
            return Err(GtinError::CheckDigit);
        }
        Ok(Gtin(digits))
    }

    /// The 14 digits, left-padded with zeros.
    pub fn as_str(&self) -> &str {
        // Only ASCII digits are ever stored.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

/// GS1's mod-10 check digit of `digits` (the code without its last digit):
/// from the right, weights 3, 1, 3, ...
fn check_digit(digits: &[u8]) -> u8 {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(position, digit)| u32::from(digit - b'0') * if position % 2 == 0 { 3 } else { 1 })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

impl fmt::Display for Gtin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_barcodes_of_every_length_are_padded_to_fourteen_digits() {
        let cases = [
            ("4006381333931", "04006381333931"),  // EAN-13 (Stabilo pen, GS1's example)
            ("036000291452", "00036000291452"),   // UPC-A (Kleenex)
            ("96385074", "00000096385074"),       // GTIN-8
            ("5449000000996", "05449000000996"),  // EAN-13 (Coca-Cola 330 ml)
            ("10012345678902", "10012345678902"), // GTIN-14 (a case of trade items)
            ("00000000000000", "00000000000000"), // all zeros: check digit 0
        ];
        for (code, gtin14) in cases {
            assert_eq!(Gtin::parse(code).map(|gtin| gtin.to_string()), Ok(gtin14.to_owned()), "{code}");
        }
    }

    #[test]
    fn the_same_product_in_any_length_is_the_same_gtin() {
        let upc = Gtin::parse("036000291452").unwrap();
        assert_eq!(Gtin::parse("0036000291452"), Ok(upc));
        assert_eq!(Gtin::parse("00036000291452"), Ok(upc));
    }

    #[test]
    fn a_wrong_check_digit_is_told_apart_from_a_wrong_shape() {
        for code in ["4006381333932", "036000291453", "96385075", "10012345678901", "4006381333930"] {
            assert_eq!(Gtin::parse(code), Err(GtinError::CheckDigit), "{code}");
        }
        for code in ["", "1234567", "123456789", "1234567890", "12345678901", "123456789012345", "40063813339a1"] {
            assert_eq!(Gtin::parse(code), Err(GtinError::Malformed), "{code:?}");
        }
        // Not trimmed, and only ASCII digits count (a full-width "４" is a digit to Unicode).
        assert_eq!(Gtin::parse(" 96385074"), Err(GtinError::Malformed));
        assert_eq!(Gtin::parse("９6385074"), Err(GtinError::Malformed));
        assert_eq!(Gtin::parse("+6385074"), Err(GtinError::Malformed));
    }

    #[test]
    fn every_single_digit_error_is_caught() {
        // GS1's mod 10 catches any one wrong digit: try each position with each other digit.
        let good = *b"4006381333931";
        for position in 0..good.len() {
            for digit in b'0'..=b'9' {
                if digit == good[position] {
                    continue;
                }
                let mut bad = good;
                bad[position] = digit;
                let code = std::str::from_utf8(&bad).unwrap();
                assert_eq!(Gtin::parse(code), Err(GtinError::CheckDigit), "{code}");
            }
        }
    }
}
