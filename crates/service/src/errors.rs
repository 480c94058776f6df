//! Errors of the use cases, one enum per kind of operation. Delivery maps
//! them to status codes: `Invalid` 422, `NotFound` 404, `Conflict` 409,
//! `Unauthenticated` 401, `Unavailable` 503.

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

/// A read of one resource by id.
#[derive(Debug, thiserror::Error)]
pub enum GetError {
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
}

/// A mutation.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("invalid input: {0}")]
    Invalid(ValidationErrors),
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
}

impl From<ValidationErrors> for WriteError {
    fn from(errors: ValidationErrors) -> Self {
        WriteError::Invalid(errors)
    }
}

/// A read through the cache: a query may break a rule; only the source can
/// fail it otherwise (the cache never does).
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("invalid query: {0}")]
    Invalid(ValidationErrors),
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

impl From<ReadError> for GetError {
    fn from(error: ReadError) -> Self {
        match error {
            ReadError::Unavailable(unavailable) => GetError::Unavailable(unavailable),
            ReadError::Invalid(_) => GetError::NotFound,
        }
    }
}
