//! The digest of a value's JSON: the HTTP entity tag of what a read served.

use sha2::{Digest as _, Sha256};

/// SHA-256 of a value's JSON, cut to 128 bits: equal for equal JSON on
/// every instance and across restarts, whether the value came from the
/// store or the source.
pub type Digest = [u8; 16];

/// The digest of `json`, so clients' tags match whichever path served it.
pub fn digest(json: &[u8]) -> Digest {
    let full = Sha256::digest(json);
    let mut out = [0u8; 16];
    out.copy_from_slice(&full[..16]);
    out
}
