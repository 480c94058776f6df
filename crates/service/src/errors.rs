//! Errors of the use cases, one enum per operation family. Delivery maps
//! them to status codes: `Invalid` 422, `NotFound` 404, `Unauthenticated`
//! 401, `Unavailable` 503.

use macrotrack_domain::ValidationErrors;
use macrotrack_ports::Unavailable;

/// A credential did not identify a user.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("missing or unknown token")]
    Unauthenticated,
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
}

/// A read of one resource.
#[derive(Debug, thiserror::Error)]
pub enum GetError {
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
}

/// A mutation that validates its input against the data.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("invalid input: {0}")]
    Invalid(ValidationErrors),
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
}

impl From<ValidationErrors> for WriteError {
    fn from(errors: ValidationErrors) -> Self {
        WriteError::Invalid(errors)
    }
}

/// A read through the cache: only the source can fail it.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
}

impl From<macrotrack_cache::ReadError<Unavailable>> for ReadError {
    fn from(error: macrotrack_cache::ReadError<Unavailable>) -> Self {
        match error {
            macrotrack_cache::ReadError::Source(unavailable) => ReadError::Unavailable(unavailable),
            // The database returned data that breaks its own invariants:
            // nothing the client can fix, reported like an outage.
            macrotrack_cache::ReadError::InvalidFresh(reason) => {
                ReadError::Unavailable(Unavailable(anyhow::anyhow!("inconsistent data: {reason}")))
            }
        }
    }
}
