//! `Idempotency-Key` on a user's `POST`: a repeat of the same request
//! (same key, path and body bytes, within 24 hours) answers the first
//! answer again with `Idempotent-Replayed: true` and writes nothing.
//!
//! The delivery only frames it: the key's bound (400), the fingerprint of
//! the request, and the answers' bytes. Claiming the key, keeping the
//! answer in the write's own transaction and the fencing of claims are the
//! service's and the database's (`ports::idempotency`).
//!
//! A request refused before its handler runs (its token, its body) claims
//! no key: the same bytes are refused alike when they come again.

use std::future::{Future, ready};

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse};
use futures::future::LocalBoxFuture;
use macrotrack_domain::{IdempotencyKey, UserId, ValidationErrors};
use macrotrack_ports::{Claim, Claimed, Fingerprint, Keep, KeptAnswer};
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use crate::extract::after_token;
use crate::input::{BodyDigest, IDEMPOTENCY_KEY};
use crate::problem::{PROBLEM_JSON, Problem};
use crate::state::{AppService, HttpState};

/// The answer header marking a replay.
pub const REPLAYED: &str = "idempotent-replayed";

/// The request's `Idempotency-Key`, if it has one (400 when it breaks its
/// bound), and what makes a repeat the same request.
pub struct Idempotency {
    key: Option<IdempotencyKey>,
    req: HttpRequest,
}

impl FromRequest for Idempotency {
    type Error = Problem;
    type Future = LocalBoxFuture<'static, Result<Self, Problem>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let key = match req.headers().get(IDEMPOTENCY_KEY) {
            None => Ok(None),
            Some(value) => {
                value.to_str().ok().and_then(|text| IdempotencyKey::parse(text).ok()).map(Some).ok_or_else(|| {
                    let error = macrotrack_domain::IdempotencyKeyError;
                    Problem::bad_parameters(ValidationErrors::single("Idempotency-Key", error.to_string()))
                })
            }
        };
        let req = req.clone();
        let owned = req.clone();
        after_token(&req, ready(key.map(|key| Idempotency { key, req: owned })))
    }
}

/// A JSON answer as it is sent and kept.
pub(crate) fn json_answer(status: StatusCode, location: Option<String>, body: &impl Serialize) -> KeptAnswer {
    KeptAnswer {
        status: status.as_u16(),
        content_type: "application/json".to_owned(),
        location,
        // Serializing the wire types cannot fail (no maps with non-string keys).
        body: serde_json::to_vec(body).unwrap_or_default(),
    }
}

fn respond(answer: KeptAnswer) -> HttpResponse {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = HttpResponse::build(status);
    if let Ok(content_type) = HeaderValue::from_str(&answer.content_type) {
        response.insert_header((header::CONTENT_TYPE, content_type));
    }
    if let Some(location) = answer.location.and_then(|location| HeaderValue::from_str(&location).ok()) {
        response.insert_header((header::LOCATION, location));
    }
    response.body(answer.body)
}

fn replay(answer: KeptAnswer) -> HttpResponse {
    let mut response = respond(answer);
    response.headers_mut().insert(header::HeaderName::from_static(REPLAYED), HeaderValue::from_static("true"));
    response
}

fn fingerprint(req: &HttpRequest) -> Fingerprint {
    let body = req.extensions().get::<BodyDigest>().map(|digest| digest.0).unwrap_or_default();
    let path = req.uri().path_and_query().map(|path| path.as_str()).unwrap_or_default();
    fingerprint_of(req.method().as_str(), path, &body)
}

/// What makes two requests the same one: SHA-256 of the method, the path
/// with its query, and the SHA-256 of the body's bytes (`body_digest`).
pub fn fingerprint_of(method: &str, path_and_query: &str, body_digest: &[u8; 32]) -> Fingerprint {
    let mut hasher = Sha256::new();
    hasher.update(method);
    hasher.update([0]);
    hasher.update(path_and_query);
    hasher.update([0]);
    hasher.update(body_digest);
    Fingerprint(hasher.finalize().into())
}

/// `fingerprint_of` a request with this body.
pub fn request_fingerprint(method: &str, path_and_query: &str, body: &[u8]) -> Fingerprint {
    fingerprint_of(method, path_and_query, &Sha256::digest(body).into())
}

/// Gives the key back unless disarmed: a request dropped midway (its
/// client went away) must not hold the key until it is abandoned. Safe
/// whenever it runs: only an unanswered claim with its token is deleted,
/// and a write that still commits after it fails its fence.
struct ReleaseUnlessKept {
    armed: Option<(AppService, Claim)>,
}

impl ReleaseUnlessKept {
    fn disarm(&mut self) {
        self.armed = None;
    }
}

impl Drop for ReleaseUnlessKept {
    fn drop(&mut self) {
        if let Some((service, claim)) = self.armed.take() {
            tokio::spawn(async move {
                if let Err(error) = service.release_idempotency_key(&claim).await {
                    tracing::warn!(%error, "could not give back an idempotency key; it is free again after a minute");
                }
            });
        }
    }
}

impl Idempotency {
    /// Answers `write`'s outcome (`render` for its value, the problem for
    /// its error), once per key: a repeat replays the kept answer.
    pub async fn run<T, E, F, Fut>(
        self,
        state: &HttpState,
        user: UserId,
        render: fn(&T) -> KeptAnswer,
        write: F,
    ) -> Result<HttpResponse, Problem>
    where
        T: 'static,
        F: FnOnce(Option<Keep<T>>) -> Fut,
        Fut: Future<Output = Result<T, E>>,
        Problem: From<E>,
    {
        let Some(key) = self.key else {
            return Ok(respond(render(&write(None).await?)));
        };
        let claimed = state
            .service
            .claim_idempotency_key(user, &key, fingerprint(&self.req))
            .await
            .map_err(|error| Problem::unavailable(&error))?;
        let claim = match claimed {
            Claimed::Run(claim) => claim,
            Claimed::Replay(answer) => return Ok(replay(answer)),
            Claimed::Running => {
                return Err(Problem::new(
                    StatusCode::CONFLICT,
                    "a request with this Idempotency-Key is still running: retry once it is answered",
                ));
            }
            Claimed::OtherRequest => {
                return Err(Problem::unprocessable(ValidationErrors::single(
                    "Idempotency-Key",
                    "was used for another request (another path or body)",
                )));
            }
        };
        let mut release = ReleaseUnlessKept { armed: Some((state.service.clone(), claim.clone())) };
        let problem = match write(Some(Keep::new(claim.clone(), render))).await {
            Ok(value) => {
                release.disarm();
                return Ok(respond(render(&value)));
            }
            Err(error) => Problem::from(error),
        };
        // A 5xx is not kept: the repeat runs again (the guard gives the key
        // back). Any other refusal wrote nothing, so it is kept on its own.
        if !problem.status().is_server_error() {
            let answer = KeptAnswer {
                status: problem.status().as_u16(),
                content_type: PROBLEM_JSON.to_owned(),
                location: None,
                body: problem.to_json(),
            };
            if state.service.keep_idempotent_answer(&claim, &answer).await.is_ok() {
                release.disarm();
            }
        }
        Err(problem)
    }
}
