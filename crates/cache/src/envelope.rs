//! The stored form of an entry: metadata in a fixed binary header, then the
//! value's JSON. Keeping the header binary makes hits cheap to classify
//! without touching the JSON.
//!
//! Layout (little endian): magic `MTC3`, created (ms since epoch, i64),
//! ttl (ms, u64), swr (ms, u64), schema fingerprint (u64), CRC-32 of the
//! payload (u32), the payload's digest (16 bytes), guard count (u8), each
//! guard's generation (u64), then the JSON payload. The checksum lets a hit
//! hand the stored JSON straight to HTTP without decoding it: damaged bytes
//! never pass for a valid value. The digest (SHA-256 of the JSON, cut to
//! 128 bits) is computed once when the value is stored: it is the value's
//! HTTP ETag, so a revalidation needs no hashing and no encoding.

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::{LazyLock, RwLock};

use bytes::{BufMut, Bytes, BytesMut};
use schemars::JsonSchema;
use sha2::{Digest as _, Sha256};

use crate::digest::{Digest, digest};

const MAGIC: &[u8; 4] = b"MTC3";
const FIXED: usize = 4 + 8 + 8 + 8 + 8 + 4 + 16 + 1;
const COUNT_AT: usize = FIXED - 1;

/// The fingerprint of `T`'s JSON schema: entries written by a build whose
/// type differs are invalid by construction.
pub(crate) fn fingerprint<T: JsonSchema + 'static>() -> u64 {
    static KNOWN: LazyLock<RwLock<HashMap<TypeId, u64>>> = LazyLock::new(Default::default);
    if let Some(known) = KNOWN.read().unwrap_or_else(|e| e.into_inner()).get(&TypeId::of::<T>()) {
        return *known;
    }
    let schema = serde_json::to_vec(&schemars::schema_for!(T)).unwrap_or_default();
    let digest = Sha256::digest(&schema);
    let value = u64::from_le_bytes(digest[..8].try_into().unwrap_or_default());
    KNOWN.write().unwrap_or_else(|e| e.into_inner()).insert(TypeId::of::<T>(), value);
    value
}

/// An entry as stored, decoded (see the layout above).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Envelope {
    pub(crate) created_ms: i64,
    pub(crate) ttl_ms: u64,
    pub(crate) swr_ms: u64,
    pub(crate) fingerprint: u64,
    pub(crate) guards: Vec<u64>,
    pub(crate) payload: Bytes,
    /// CRC-32 of `payload`: computed once by `new`, read back by `decode`.
    pub(crate) checksum: u32,
    /// `crate::digest::digest` of `payload`, likewise.
    pub(crate) digest: Digest,
}

impl Envelope {
    pub(crate) fn new(
        created_ms: i64,
        ttl_ms: u64,
        swr_ms: u64,
        fingerprint: u64,
        guards: Vec<u64>,
        payload: Bytes,
    ) -> Self {
        let checksum = crc32fast::hash(&payload);
        let digest = digest(&payload);
        Envelope { created_ms, ttl_ms, swr_ms, fingerprint, guards, payload, checksum, digest }
    }

    pub(crate) fn encode(&self) -> Bytes {
        let mut out = BytesMut::with_capacity(FIXED + 8 * self.guards.len() + self.payload.len());
        out.put_slice(MAGIC);
        out.put_i64_le(self.created_ms);
        out.put_u64_le(self.ttl_ms);
        out.put_u64_le(self.swr_ms);
        out.put_u64_le(self.fingerprint);
        out.put_u32_le(self.checksum);
        out.put_slice(&self.digest);
        out.put_u8(u8::try_from(self.guards.len()).unwrap_or(u8::MAX));
        for guard in &self.guards {
            out.put_u64_le(*guard);
        }
        out.put_slice(&self.payload);
        out.freeze()
    }

    /// `None` when the bytes are not an envelope of this version (truncated,
    /// corrupt, written by something else, or a payload that does not match
    /// its checksum): the entry is invalid.
    pub(crate) fn decode(bytes: &Bytes) -> Option<Envelope> {
        if bytes.len() < FIXED || &bytes[..4] != MAGIC {
            return None;
        }
        let word = |at: usize| -> [u8; 8] { bytes[at..at + 8].try_into().unwrap_or_default() };
        let count = usize::from(bytes[COUNT_AT]);
        let payload_at = FIXED + 8 * count;
        if bytes.len() < payload_at {
            return None;
        }
        let checksum = u32::from_le_bytes(bytes[36..40].try_into().unwrap_or_default());
        if crc32fast::hash(&bytes[payload_at..]) != checksum {
            return None;
        }
        let digest: Digest = bytes[40..56].try_into().unwrap_or_default();
        Some(Envelope {
            digest,
            created_ms: i64::from_le_bytes(word(4)),
            ttl_ms: u64::from_le_bytes(word(12)),
            swr_ms: u64::from_le_bytes(word(20)),
            fingerprint: u64::from_le_bytes(word(28)),
            guards: (0..count).map(|i| u64::from_le_bytes(word(FIXED + 8 * i))).collect(),
            payload: bytes.slice(payload_at..),
            checksum,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_damage() {
        let envelope = Envelope::new(
            1_764_000_000_000,
            300_000,
            900_000,
            u64::MAX - 7,
            vec![1, u64::MAX],
            Bytes::from_static(b"{\"a\":1}"),
        );
        let bytes = envelope.encode();
        assert_eq!(Envelope::decode(&bytes), Some(envelope.clone()));
        assert_eq!(Envelope::decode(&bytes.slice(..FIXED + 4)), None, "truncated inside the guards");
        assert_eq!(envelope.digest, crate::digest::digest(b"{\"a\":1}"));
        assert_eq!(Envelope::decode(&bytes.slice(..bytes.len() - 1)), None, "truncated payload");
        let mut flipped = bytes.to_vec();
        *flipped.last_mut().unwrap() ^= 1;
        assert_eq!(Envelope::decode(&Bytes::from(flipped)), None, "a flipped payload bit");
        assert_eq!(Envelope::decode(&Bytes::from_static(b"{\"a\":1}")), None, "plain JSON");
        let mut corrupt = bytes.to_vec();
        corrupt[0] = b'X';
        assert_eq!(Envelope::decode(&Bytes::from(corrupt)), None);
    }
}
