//! User tokens: `mt_<user id>_<selector>_<secret>`. The selector finds the
//! row; only the SHA-256 of the secret is stored, compared in constant time.
//! The user id lets the credential be cached under its user's keys, so
//! deleting the user (an epoch bump) forgets it everywhere.

use macrotrack_domain::UserId;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A new credential; the token is known once the user's id is.
pub struct IssuedToken {
    pub selector: String,
    pub secret: String,
    pub secret_hash: [u8; 32],
}

impl IssuedToken {
    pub fn token(&self, user: UserId) -> String {
        format!("mt_{user}_{}_{}", self.selector, self.secret)
    }
}

pub fn issue() -> IssuedToken {
    let mut selector = [0u8; 8];
    let mut secret = [0u8; 32];
    rand::rng().fill_bytes(&mut selector);
    rand::rng().fill_bytes(&mut secret);
    let (selector, secret) = (hex::encode(selector), hex::encode(secret));
    IssuedToken { secret_hash: hash(&secret), selector, secret }
}

/// A presented token's parts.
#[derive(Debug, PartialEq, Eq)]
pub struct Presented<'a> {
    pub user: UserId,
    pub selector: &'a str,
    pub secret: &'a str,
}

/// Splits a presented token; `None` if malformed.
pub fn split(token: &str) -> Option<Presented<'_>> {
    let mut parts = token.strip_prefix("mt_")?.splitn(3, '_');
    let (user, selector, secret) = (parts.next()?, parts.next()?, parts.next()?);
    let user: i64 = user.parse().ok().filter(|id: &i64| *id > 0 && id.to_string() == user)?;
    let well_formed = selector.len() == 16
        && secret.len() == 64
        && (selector.bytes().chain(secret.bytes())).all(|b| b.is_ascii_hexdigit());
    well_formed.then_some(Presented { user: UserId(user), selector, secret })
}

/// The user a token names, unchecked: what rate limits key a request by
/// before anything is looked up. `None` for a malformed token.
pub fn claimed_user(token: &str) -> Option<UserId> {
    split(token).map(|presented| presented.user)
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
        let token = issued.token(UserId(42));
        let presented = split(&token).unwrap();
        assert_eq!((presented.user, presented.selector), (UserId(42), issued.selector.as_str()));
        assert!(matches(presented.secret, &issued.secret_hash));
        assert!(!matches(presented.secret, &issue().secret_hash));
        assert!(!token.contains(&hex::encode(issued.secret_hash)), "the stored hash is not the token");
        let token = issued.token(UserId(7));
        let rest = &token["mt_7_".len()..];
        for bad in [
            "",
            "mt_",
            "mt_abc_def",
            "xx_0123456789abcdef_",
            &token[..token.len() - 1],
            &format!("{}g", &token[..token.len() - 1]),
            &format!("mt_{rest}"),
            &format!("mt_07_{rest}"),
            &format!("mt_0_{rest}"),
            &format!("mt_-7_{rest}"),
        ] {
            assert_eq!(split(bad), None, "{bad}");
        }
    }
}
