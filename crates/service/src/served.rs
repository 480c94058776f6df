//! What a cached read tells its client beyond its body: a strong entity tag
//! (a digest of the body's JSON) and how the cache answered each read it is
//! made of (HTTP's `ETag` and `Cache-Status`).

use std::future::Future;

use futures::FutureExt as _;
pub use macrotrack_cache::{Outcome, ReadReport};
use macrotrack_ports::CacheStore;

use crate::Service;

/// A strong entity tag: 32 hex digits of SHA-256 of the body's JSON (cut to
/// 128 bits), so equal bodies have equal tags on every instance, across
/// restarts, and with the cache on or off.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ETag(String);

impl ETag {
    /// The tag of a body, from its bytes.
    pub fn of_json(json: &[u8]) -> ETag {
        ETag::of_digest(&macrotrack_cache::digest(json))
    }

    fn of_digest(digest: &macrotrack_cache::Digest) -> ETag {
        // By hand: `hex::encode` goes through `char`s, a share of the hot read.
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut hex = String::with_capacity(2 * digest.len());
        for byte in digest {
            hex.push(char::from(DIGITS[usize::from(byte >> 4)]));
            hex.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
        }
        ETag(hex)
    }

    /// The tag of `value`'s JSON, as `HttpResponse::json` writes it: for an
    /// answer that is not cached, whose tag no read reports.
    pub fn of_value<T: serde::Serialize>(value: &T) -> ETag {
        ETag::of_json(&serde_json::to_vec(value).unwrap_or_default())
    }

    /// The opaque tag, without quotes.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a write's `If-Match` asks (RFC 9110 13.1.1), parsed by delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    /// `*`: any current state.
    Any,
    /// The opaque strong tags listed (weak ones never match, so delivery
    /// drops them): the state must have one of these.
    OneOf(Vec<String>),
}

impl IfMatch {
    /// Whether a state whose tag is `current` satisfies it.
    pub fn admits(&self, current: &ETag) -> bool {
        match self {
            IfMatch::Any => true,
            IfMatch::OneOf(tags) => tags.iter().any(|tag| tag == current.as_str()),
        }
    }
}

/// How the cache answered the reads behind one answer, in the order they
/// were made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CacheReport {
    /// One per cached read, for the answer's Cache-Status and ETag.
    pub reads: Vec<ReadReport>,
}

impl CacheReport {
    /// The tag of a body that shows each read's value whole: one read's
    /// stored digest is the tag of its JSON, which is the body (no hashing,
    /// no encoding on a hit); several reads' digests are digested together
    /// (a body composed of them changes exactly when one of them does).
    /// `None` when nothing was read.
    pub fn etag(&self) -> Option<ETag> {
        match self.reads.as_slice() {
            [] => None,
            [one] => Some(ETag::of_digest(&one.digest)),
            reads => {
                let all: Vec<u8> = reads.iter().flat_map(|read| read.digest).collect();
                Some(ETag::of_json(&all))
            }
        }
    }
}

impl<S: CacheStore> Service<S> {
    /// Runs `read` (one of the cached use cases) and reports how the cache
    /// answered the reads it made.
    pub fn reported<R, B: Future<Output = R>>(&self, read: B) -> impl Future<Output = (R, CacheReport)> + use<R, B, S> {
        self.cache.reporting(read).map(|(result, reads)| (result, CacheReport { reads }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_is_the_digest_of_the_json_in_hex() {
        let tag = ETag::of_json(b"{\"a\":1}");
        assert_eq!(tag.as_str().len(), 32);
        assert_eq!(tag.as_str(), hex::encode(macrotrack_cache::digest(b"{\"a\":1}")));
        assert_eq!(tag, ETag::of_json(b"{\"a\":1}"));
        assert_ne!(tag, ETag::of_json(b"{\"a\":2}"));
        assert_eq!(ETag::of_value(&serde_json::json!({"a": 1})), tag);
    }

    #[test]
    fn if_match_admits_any_or_a_listed_tag() {
        let tag = ETag::of_json(b"{}");
        assert!(IfMatch::Any.admits(&tag));
        assert!(IfMatch::OneOf(vec!["x".into(), tag.as_str().into()]).admits(&tag));
        assert!(!IfMatch::OneOf(vec!["x".into()]).admits(&tag));
        assert!(!IfMatch::OneOf(Vec::new()).admits(&tag));
    }
}
