//! The writer every hot key is rendered with: `push_str` and `itoa`, not
//! `format!`. A warm read renders its credential key, its entry key, and
//! each entry's guard keys (callgrind: `format!` and the padded integer
//! formatter were about 14% of the hot read's instructions).

use macrotrack_domain::{Day, UserId};

pub(crate) struct KeyText(String);

impl KeyText {
    /// `macro:{user:ID}`: every key of one user starts so (its Redis
    /// Cluster hash tag).
    pub(crate) fn of(user: UserId) -> Self {
        let mut text = String::with_capacity(64);
        if user == crate::CATALOGUE {
            text.push_str("macro:{catalogue}");
            return KeyText(text);
        }
        text.push_str("macro:{user:");
        text.push_str(itoa::Buffer::new().format(user.0));
        text.push('}');
        KeyText(text)
    }

    pub(crate) fn str(mut self, part: &str) -> Self {
        self.0.push_str(part);
        self
    }

    pub(crate) fn day(self, day: Day) -> Self {
        self.str(&day.iso())
    }

    pub(crate) fn number(mut self, number: impl itoa::Integer) -> Self {
        self.0.push_str(itoa::Buffer::new().format(number));
        self
    }

    /// At least two digits (a month, an ISO week).
    pub(crate) fn two_digits(self, number: u32) -> Self {
        let padded = if number < 10 { self.str("0") } else { self };
        padded.number(number)
    }

    /// 16 lowercase hex digits.
    pub(crate) fn hex16(mut self, number: u64) -> Self {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        for shift in (0..16).rev() {
            let nibble = (number >> (4 * shift)) & 0xf;
            self.0.push(char::from(DIGITS[usize::try_from(nibble).unwrap_or(0)]));
        }
        self
    }

    /// 32 lowercase hex digits.
    pub(crate) fn hex32(self, number: u128) -> Self {
        self.hex16((number >> 64) as u64).hex16(number as u64)
    }

    pub(crate) fn done(self) -> String {
        self.0
    }
}
