//! User tokens: `mt_<selector>_<secret>`. The selector finds the row; only
//! the SHA-256 of the secret is stored, compared in constant time.

use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

pub struct IssuedToken {
    pub token: String,
    pub selector: String,
    pub secret_hash: [u8; 32],
}

pub fn issue() -> IssuedToken {
    let mut selector = [0u8; 8];
    let mut secret = [0u8; 32];
    rand::rng().fill_bytes(&mut selector);
    rand::rng().fill_bytes(&mut secret);
    let (selector, secret) = (hex::encode(selector), hex::encode(secret));
    IssuedToken { token: format!("mt_{selector}_{secret}"), secret_hash: hash(&secret), selector }
}

/// Splits a presented token into selector and secret; `None` if malformed.
pub fn split(token: &str) -> Option<(&str, &str)> {
    let (selector, secret) = token.strip_prefix("mt_")?.split_once('_')?;
    let well_formed = selector.len() == 16
        && secret.len() == 64
        && (selector.bytes().chain(secret.bytes())).all(|b| b.is_ascii_hexdigit());
    well_formed.then_some((selector, secret))
}

pub fn hash(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

pub fn matches(secret: &str, stored: &[u8; 32]) -> bool {
    hash(secret).ct_eq(stored).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_tokens_split_and_match_only_their_hash() {
        let issued = issue();
        let (selector, secret) = split(&issued.token).unwrap();
        assert_eq!(selector, issued.selector);
        assert!(matches(secret, &issued.secret_hash));
        assert!(!matches(secret, &issue().secret_hash));
        assert!(!issued.token.contains(&hex::encode(issued.secret_hash)), "the stored hash is not the token");
        for bad in [
            "",
            "mt_",
            "mt_abc_def",
            "xx_0123456789abcdef_",
            &issued.token[..issued.token.len() - 1],
            &format!("{}g", &issued.token[..issued.token.len() - 1]),
        ] {
            assert_eq!(split(bad), None, "{bad}");
        }
    }
}
