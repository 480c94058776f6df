//! `Idempotency-Key`: the client's name for one request it may retry.

use std::fmt;

/// The longest key the contract allows.
pub const MAX_IDEMPOTENCY_KEY: usize = 255;

/// How long a kept answer is replayed: a repeat after this runs again.
pub const IDEMPOTENCY_KEPT_FOR: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// A key as the contract bounds it: 1 to 255 visible ASCII characters
/// (`!` to `~`), so it is stored and compared as plain bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

/// Why a header is not a key (400).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} visible ASCII characters")]
pub struct IdempotencyKeyError;

impl IdempotencyKey {
    /// The key, or why it is not one.
    pub fn parse(text: &str) -> Result<Self, IdempotencyKeyError> {
        let visible = |byte: &u8| (b'!'..=b'~').contains(byte);
        if text.is_empty() || text.len() > MAX_IDEMPOTENCY_KEY || !text.as_bytes().iter().all(visible) {
            return Err(IdempotencyKeyError);
        }
        Ok(IdempotencyKey(text.to_owned()))
    }

    /// The key as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_one_to_255_visible_ascii_characters() {
        assert!(IdempotencyKey::parse("a").is_ok());
        assert!(IdempotencyKey::parse(&"k".repeat(255)).is_ok());
        assert!(IdempotencyKey::parse("!~0aZ-_.:").is_ok());
        for bad in ["", " ", "a b", "é", "tab\there", "\u{7f}"] {
            assert_eq!(IdempotencyKey::parse(bad), Err(IdempotencyKeyError), "{bad:?}");
        }
        assert_eq!(IdempotencyKey::parse(&"k".repeat(256)), Err(IdempotencyKeyError));
    }
}
