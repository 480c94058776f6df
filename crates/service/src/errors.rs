//! Errors of the use cases: each operation fails in exactly the ways its
//! type names, and says which (`Failure::KINDS`), so delivery documents and
//! maps them from the type: `Invalid` 422, `NotFound` 404, `Conflict` 409,
//! `PreconditionFailed` 412, `Unauthenticated` 401, `Unavailable` 503.

use macrotrack_domain::ValidationErrors;
use macrotrack_ports::Unavailable;

/// A kind of failure, whatever the operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ErrorKind {
    /// The input breaks a rule (every field named).
    Invalid,
    /// No valid credential came with the request.
    Unauthenticated,
    /// No such resource of the user (another user's is as absent).
    NotFound,
    /// The request is fine but the state refuses it (a global food is
    /// read-only; a plan's days overlap another).
    Conflict,
    /// The resource is not in the state the request was conditional on
    /// (an `If-Match` naming another tag).
    PreconditionFailed,
    /// A backing service did not answer.
    Unavailable,
}

/// An operation's error: the kinds it can be, and which one it is.
pub trait Failure: std::error::Error {
    /// Every kind this operation can fail with.
    const KINDS: &'static [ErrorKind];

    /// Which kind this one is: what delivery maps to a status.
    fn kind(&self) -> ErrorKind;

    /// The broken rules, when the kind is `Invalid`.
    fn invalid(&self) -> Option<&ValidationErrors> {
        None
    }
}

/// `Failure` for an enum whose variants are named after their kinds.
macro_rules! failure {
    ($name:ident: $($variant:ident),+) => {
        impl Failure for $name {
            const KINDS: &'static [ErrorKind] = &[$(ErrorKind::$variant),+];

            fn kind(&self) -> ErrorKind {
                match self {
                    $($name::$variant { .. } => ErrorKind::$variant),+
                }
            }

            fn invalid(&self) -> Option<&ValidationErrors> {
                failure!(@invalid self, $name, $($variant),+)
            }
        }
    };
    (@invalid $self:ident, $name:ident, Invalid $(, $rest:ident)*) => {
        match $self {
            $name::Invalid(errors) => Some(errors),
            _ => None,
        }
    };
    (@invalid $self:ident, $name:ident, $first:ident $(, $rest:ident)*) => {
        failure!(@invalid $self, $name $(, $rest)*)
    };
    (@invalid $self:ident, $name:ident) => {
        None
    };
}

impl Failure for Unavailable {
    const KINDS: &'static [ErrorKind] = &[ErrorKind::Unavailable];

    fn kind(&self) -> ErrorKind {
        ErrorKind::Unavailable
    }
}

/// A credential did not identify a user.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// 401: the token is malformed, names no credential, or does not match it.
    #[error("missing or unknown token")]
    Unauthenticated,
    /// 503: a backing service did not answer; retrying may work.
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
}
failure!(AuthError: Unauthenticated, Unavailable);

/// A read of one resource by id (or of the user).
#[derive(Debug, thiserror::Error)]
pub enum GetError {
    /// 404: no such resource of the user (another user's is as absent).
    #[error("not found")]
    NotFound,
    /// 503: a backing service did not answer; retrying may work.
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
}
failure!(GetError: NotFound, Unavailable);

/// A read whose query may break a rule (a range, a limit).
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// 422: the query breaks a rule, every field named.
    #[error("invalid query: {0}")]
    Invalid(ValidationErrors),
    /// 503: a backing service did not answer; retrying may work.
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
}
failure!(ReadError: Invalid, Unavailable);

/// Creating something from a body: a rule or an unknown reference.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    /// 422: the input breaks a rule, every field named.
    #[error("invalid input: {0}")]
    Invalid(ValidationErrors),
    /// 503: a backing service did not answer; retrying may work.
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
}
failure!(CreateError: Invalid, Unavailable);

impl From<ValidationErrors> for CreateError {
    fn from(errors: ValidationErrors) -> Self {
        CreateError::Invalid(errors)
    }
}

/// Creating one of the user's own foods, recipes or meal plans, of which
/// one may own only so many (the domain's bounds).
#[derive(Debug, thiserror::Error)]
pub enum CreateOwnedError {
    /// 422: the input breaks a rule, every field named.
    #[error("invalid input: {0}")]
    Invalid(ValidationErrors),
    /// 409: the user owns as many as one may.
    #[error("{0}")]
    Conflict(String),
    /// 503: a backing service did not answer; retrying may work.
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
}
failure!(CreateOwnedError: Invalid, Conflict, Unavailable);

impl From<ValidationErrors> for CreateOwnedError {
    fn from(errors: ValidationErrors) -> Self {
        CreateOwnedError::Invalid(errors)
    }
}

/// Changing a log entry: moving it may find its new date full.
#[derive(Debug, thiserror::Error)]
pub enum EditLogError {
    /// 404: no such entry of the user (another user's is as absent).
    #[error("not found")]
    NotFound,
    /// 422: the new date holds as many entries as a day may.
    #[error("invalid input: {0}")]
    Invalid(ValidationErrors),
    /// 503: a backing service did not answer; retrying may work.
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
}
failure!(EditLogError: NotFound, Invalid, Unavailable);

/// Changing or deleting one of the user's resources (or the user).
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    /// 404: no such resource of the user (another user's is as absent).
    #[error("not found")]
    NotFound,
    /// 503: a backing service did not answer; retrying may work.
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
}
failure!(ChangeError: NotFound, Unavailable);

/// Editing one of the user's foods.
#[derive(Debug, thiserror::Error)]
pub enum EditFoodError {
    /// 404: no such resource of the user (another user's is as absent).
    #[error("not found")]
    NotFound,
    /// A global food: read-only.
    #[error("global foods are read-only")]
    Conflict,
    /// 412: the food is not in the state the edit was conditional on.
    #[error("the food has changed since the ETag in If-Match")]
    PreconditionFailed,
    /// 422: the input breaks a rule, every field named.
    #[error("invalid input: {0}")]
    Invalid(ValidationErrors),
    /// 503: a backing service did not answer; retrying may work.
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
}
failure!(EditFoodError: NotFound, Conflict, PreconditionFailed, Invalid, Unavailable);

/// Placing a meal plan on the calendar.
#[derive(Debug, thiserror::Error)]
pub enum SchedulePlanError {
    /// 404: no such resource of the user (another user's is as absent).
    #[error("not found")]
    NotFound,
    /// Its days overlap another scheduled plan of the user.
    #[error("the plan's days overlap scheduled plan {0}")]
    Conflict(String),
    /// 422: the input breaks a rule, every field named.
    #[error("invalid input: {0}")]
    Invalid(ValidationErrors),
    /// 503: a backing service did not answer; retrying may work.
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
}
failure!(SchedulePlanError: NotFound, Conflict, Invalid, Unavailable);

/// What a read through the cache failed with: only the source can fail it
/// (the cache never does).
pub(crate) fn from_cache(error: macrotrack_cache::ReadError<Unavailable>) -> Unavailable {
    match error {
        macrotrack_cache::ReadError::Source(unavailable) => unavailable,
        // The database returned data that breaks its own invariants:
        // nothing the client can fix, reported like an outage.
        macrotrack_cache::ReadError::InvalidFresh(reason) => {
            Unavailable(anyhow::anyhow!("inconsistent data: {reason}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_knows_its_kinds_and_its_rules() {
        assert_eq!(EditFoodError::KINDS.len(), 5);
        assert_eq!(EditFoodError::PreconditionFailed.kind(), ErrorKind::PreconditionFailed);
        assert_eq!(EditFoodError::Conflict.kind(), ErrorKind::Conflict);
        let rules = ValidationErrors::single("name", "is required");
        assert_eq!(CreateError::Invalid(rules.clone()).invalid(), Some(&rules));
        assert_eq!(ChangeError::NotFound.invalid(), None);
        assert_eq!(ChangeError::KINDS, [ErrorKind::NotFound, ErrorKind::Unavailable]);
        assert_eq!(Unavailable::KINDS, [ErrorKind::Unavailable]);
    }
}
