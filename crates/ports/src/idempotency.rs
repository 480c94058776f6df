//! Idempotency keys: a user's `POST` whose answer is kept, so that a retry
//! with the same key replays it instead of writing again.
//!
//! A request first claims its key (`IdempotencyRepository::claim`). The
//! write it then runs stores the answer in the write's own transaction
//! (`Keep`, taken by each keeping write of the repositories), so a replay
//! can never disagree with what was committed: a claim without an answer
//! means nothing was committed under it. A request that writes nothing
//! (refused by a rule) keeps its answer on its own (`keep`); one that
//! failed for the server's reasons gives the key back (`release`).

use std::fmt;

use async_trait::async_trait;
use macrotrack_domain::{IdempotencyKey, Timestamp, UserId};

use crate::Unavailable;

/// SHA-256 of what makes two requests the same: method, path and body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint(pub [u8; 32]);

/// An answer as it was sent, to send again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptAnswer {
    /// Its HTTP status.
    pub status: u16,
    /// Its `Content-Type`.
    pub content_type: String,
    /// Its `Location`, for a create.
    pub location: Option<String>,
    /// Its body, as bytes.
    pub body: Vec<u8>,
}

/// A key held by one running request. `token` fences it: a write under a
/// claim that was since taken over (or given back) MUST NOT commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// Whose key.
    pub user: UserId,
    /// The key.
    pub key: IdempotencyKey,
    /// Which claim of that key this is.
    pub token: i64,
}

/// What a claim found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claimed {
    /// The key is this request's now: run it.
    Run(Claim),
    /// The same request was answered: send its answer again.
    Replay(KeptAnswer),
    /// The same key is held by a request still running (409).
    Running,
    /// The key was used for another path or body (422).
    OtherRequest,
}

/// A write's answer to keep under `claim`, rendered from what the write
/// returns, inside its transaction.
pub struct Keep<T> {
    claim: Claim,
    render: Box<dyn FnOnce(&T) -> KeptAnswer + Send>,
}

impl<T> Keep<T> {
    /// Keeps `render(&value)` under `claim`.
    pub fn new(claim: Claim, render: impl FnOnce(&T) -> KeptAnswer + Send + 'static) -> Self {
        Keep { claim, render: Box::new(render) }
    }

    /// The claim and the answer for `value`.
    pub fn answer(self, value: &T) -> (Claim, KeptAnswer) {
        let answer = (self.render)(value);
        (self.claim, answer)
    }

    /// The claim it keeps under.
    pub fn claim(&self) -> &Claim {
        &self.claim
    }
}

impl<T> fmt::Debug for Keep<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keep").field("claim", &self.claim).finish_non_exhaustive()
    }
}

/// When a claim is made, and how long what it finds lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimTerms {
    /// The claim's time.
    pub now: Timestamp,
    /// An answer is replayed this long after its claim.
    pub kept_for: std::time::Duration,
    /// An unanswered claim this old is abandoned.
    pub abandoned_after: std::time::Duration,
}

/// Stores idempotency keys and their answers.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait IdempotencyRepository: Send + Sync + 'static {
    /// MUST, atomically against concurrent claims of the same user and key,
    /// as of `terms.now`: with no record, or one whose answer is older than
    /// `terms.kept_for`, or one still unanswered claimed more than
    /// `terms.abandoned_after` ago (its request
    /// died: a committed write would have answered it), write a fresh claim
    /// under `token` (the caller's, random) and `Run` it; else `OtherRequest` when the
    /// fingerprint differs, `Replay` when it is answered, `Running` when not.
    async fn claim(
        &self,
        user: UserId,
        key: &IdempotencyKey,
        fingerprint: Fingerprint,
        token: i64,
        terms: ClaimTerms,
    ) -> Result<Claimed, Unavailable>;

    /// MUST store `answer` under `claim` if the claim is still held (same
    /// token, unanswered), and fail otherwise, changing nothing.
    async fn keep(&self, claim: &Claim, answer: &KeptAnswer) -> Result<(), Unavailable>;

    /// MUST delete the claim if it is still held and unanswered (the key
    /// may then be used again at once), and do nothing otherwise.
    async fn release(&self, claim: &Claim) -> Result<(), Unavailable>;

    /// MUST delete every record claimed before `before`; returns how many.
    async fn sweep(&self, before: Timestamp) -> Result<u64, Unavailable>;
}
