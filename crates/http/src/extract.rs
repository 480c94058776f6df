//! Typed extractors: what a handler takes, read from the request with the
//! contract's statuses, so a handler is one line of conversion and one call.
//!
//! Declare `User` first. actix polls a handler's extractors together, so
//! every other extractor here waits for the token's check before it looks
//! at the request: a request with a bad token is 401 whatever else is wrong
//! with it, and the body is read only for a known user. (The two hot reads,
//! `GET /v1/logs` and the day screen, check the token with `auth::as_user`
//! instead: it reads their entries in the credential's store round trip.)

use std::future::{Future, ready};
use std::marker::PhantomData;

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use futures::FutureExt as _;
use futures::future::{LocalBoxFuture, Shared};
use macrotrack_domain::{UserId, ValidationErrors};
use serde_json::{Map, Value};

use crate::auth;
use crate::input;
use crate::problem::Problem;
use crate::state::HttpState;

/// A request body as its use case takes it: every type mistake and broken
/// rule named (422), or the input. Implemented by each body type
/// (`body!`), beside its route.
pub trait FromBody {
    /// What the use case takes.
    type Output;

    /// Reads a JSON object.
    const READ: Read<Self::Output>;
}

/// How a body type reads a JSON object into `T`.
pub type Read<T> = fn(Map<String, Value>) -> Result<T, ValidationErrors>;

/// The user whose bearer token the request carries (401 otherwise).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct User(pub UserId);

/// The configured admin token was presented (401 otherwise; 404 when none
/// is configured).
#[derive(Debug, Clone, Copy)]
pub struct Admin;

/// The route's `{id}` segment (400 when it is not an i64).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PathId(pub i64);

/// The body, read as `T` and validated: 415 not JSON, 413 too large, 400
/// not a JSON object, 422 any field breaking a rule.
pub struct Body<T: FromBody>(pub T::Output);

/// The body of a route that checks something first (that the resource
/// exists) and reads its body only then: `read` as `Body` would.
pub struct LaterBody<T> {
    req: HttpRequest,
    payload: web::Payload,
    body: PhantomData<T>,
}

impl<T: FromBody> LaterBody<T> {
    /// The body, read and validated.
    pub async fn read(self) -> Result<T::Output, Problem> {
        read_body::<T>(&self.req, self.payload).await
    }
}

async fn read_body<T: FromBody>(req: &HttpRequest, payload: web::Payload) -> Result<T::Output, Problem> {
    (T::READ)(input::json_object(req, payload).await?).map_err(Problem::unprocessable)
}

/// The check of the request's token, shared by its extractors. Shared, not
/// run twice: `User` and the extractors that wait for it all await this one.
type TokenCheck = Shared<LocalBoxFuture<'static, Result<UserId, Problem>>>;

/// Where `User` leaves its check for the extractors declared after it.
#[derive(Clone)]
struct PendingCheck(TokenCheck);

fn token_check(req: &HttpRequest) -> TokenCheck {
    if let Some(PendingCheck(check)) = req.extensions().get::<PendingCheck>() {
        return check.clone();
    }
    let state = req.app_data::<web::Data<HttpState>>().cloned();
    // The token, not the request: a request holding a future that holds the
    // request would never be freed.
    let token = crate::bearer::bearer(req).map(str::to_owned);
    let check = async move {
        let state = state.ok_or_else(missing_state)?;
        auth::user(&state, token.as_deref()).await
    }
    .boxed_local()
    .shared();
    req.extensions_mut().insert(PendingCheck(check.clone()));
    check
}

/// `then`, once the token checked out when the handler takes a `User`; an
/// error of the token's is the `User` extractor's to answer, and it answers
/// first (declared first, polled first).
pub(crate) fn after_token<T: 'static>(
    req: &HttpRequest,
    then: impl Future<Output = Result<T, Problem>> + 'static,
) -> LocalBoxFuture<'static, Result<T, Problem>> {
    let check = req.extensions().get::<PendingCheck>().map(|PendingCheck(check)| check.clone());
    async move {
        if let Some(check) = check {
            check.await?;
        }
        then.await
    }
    .boxed_local()
}

/// The request's body stream (taking it cannot fail: actix's own extractor
/// is an immediately ready `Ok`).
fn take_payload(req: &HttpRequest, payload: &mut Payload) -> Result<web::Payload, Problem> {
    web::Payload::from_request(req, payload)
        .into_inner()
        .map_err(|_| Problem::bad_request("the body could not be read"))
}

/// The state is registered by `configure`: only a misbuilt app lacks it.
fn missing_state() -> Problem {
    Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "the server could not answer")
}

impl FromRequest for User {
    type Error = Problem;
    type Future = LocalBoxFuture<'static, Result<Self, Problem>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        token_check(req).map(|checked| checked.map(User)).boxed_local()
    }
}

impl FromRequest for Admin {
    type Error = Problem;
    type Future = std::future::Ready<Result<Self, Problem>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let checked = match req.app_data::<web::Data<HttpState>>() {
            Some(state) => auth::admin(state, req),
            None => Err(missing_state()),
        };
        ready(checked.map(|()| Admin))
    }
}

impl FromRequest for PathId {
    type Error = Problem;
    type Future = LocalBoxFuture<'static, Result<Self, Problem>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        after_token(req, ready(input::id_param(req, "id").map(PathId)))
    }
}

impl<T: FromBody + 'static> FromRequest for Body<T> {
    type Error = Problem;
    type Future = LocalBoxFuture<'static, Result<Self, Problem>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let (owned, payload) = (req.clone(), take_payload(req, payload));
        after_token(req, async move { read_body::<T>(&owned, payload?).await.map(Body) })
    }
}

impl<T: FromBody + 'static> FromRequest for LaterBody<T> {
    type Error = Problem;
    type Future = LocalBoxFuture<'static, Result<Self, Problem>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let (owned, payload) = (req.clone(), take_payload(req, payload));
        after_token(req, async move { Ok(LaterBody { req: owned, payload: payload?, body: PhantomData }) })
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    /// A body whose reading never fails: only the stream's checks can.
    struct Anything;

    impl FromBody for Anything {
        type Output = ();
        const READ: Read<()> = |_| Ok(());
    }

    /// The status `(User, PathId, Body)` answer for a token whose check is
    /// still pending when the others are first polled (as one waiting for
    /// the store or the database is), then ends as `checked`.
    async fn status(checked: Result<UserId, Problem>, id: &'static str) -> Option<StatusCode> {
        let (req, mut payload) = TestRequest::post()
            .uri("/x")
            .param("id", id)
            .insert_header(("content-type", "text/plain"))
            .set_payload("{")
            .to_http_parts();
        let check = async move {
            tokio::task::yield_now().await;
            checked
        };
        req.extensions_mut().insert(PendingCheck(check.boxed_local().shared()));
        let extracted = <(User, PathId, Body<Anything>)>::from_request(&req, &mut payload).await;
        extracted.err().map(|error| error.as_response_error().status_code())
    }

    #[actix_web::test]
    async fn the_token_is_answered_first_then_the_id_then_the_body() {
        assert_eq!(status(Err(Problem::unauthorized()), "x").await, Some(StatusCode::UNAUTHORIZED));
        assert_eq!(status(Ok(UserId(1)), "x").await, Some(StatusCode::BAD_REQUEST));
        assert_eq!(status(Ok(UserId(1)), "1").await, Some(StatusCode::UNSUPPORTED_MEDIA_TYPE));
    }
}
