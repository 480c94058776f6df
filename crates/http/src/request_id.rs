//! The request id: the client's `X-Request-Id` or a new one, answered in
//! that header and named by problem bodies. Its own file because both the
//! request middleware (`observe`) and the problem bodies (`problem`) need
//! it, and the middleware makes problems.

use actix_web::dev::ServiceRequest;
use actix_web::http::header::HeaderValue;
use rand::Rng;
use tokio::task::futures::TaskLocalFuture;

/// The header a request id travels in, both ways.
pub(crate) const REQUEST_ID_HEADER: &str = "x-request-id";

tokio::task_local! {
    /// The request id of the request being answered, for problem bodies.
    // A task-local, not a value passed along: problems are rendered by
    // `ResponseError::error_response`, which actix calls without the request.
    static REQUEST_ID: HeaderValue;
}

/// A new request id: a random UUID (v4) from the thread's generator
/// (getting random bytes from the kernel for each, as uuid's own `v4` does,
/// was a system call per request in profiles).
fn new_request_id() -> HeaderValue {
    let bytes: [u8; 16] = rand::rng().random();
    let uuid = uuid::Builder::from_random_bytes(bytes).into_uuid();
    let mut buffer = uuid::Uuid::encode_buffer();
    HeaderValue::from_str(uuid.hyphenated().encode_lower(&mut buffer)).unwrap_or(HeaderValue::from_static("unknown"))
}

/// The client's `X-Request-Id` when it is 1 to 128 visible ASCII
/// characters, else a new one. Kept as the header value it is answered
/// with: cloning one shares its bytes (a `String` per use cost allocations
/// on the hot read).
pub(crate) fn request_id(req: &ServiceRequest) -> HeaderValue {
    match req.headers().get(REQUEST_ID_HEADER) {
        Some(id) if (1..=128).contains(&id.len()) && id.as_bytes().iter().all(|b| (0x21..=0x7e).contains(b)) => {
            id.clone()
        }
        _ => new_request_id(),
    }
}

/// `answer` run as the request of id `id`: problems it makes name it.
/// The scoped future itself, not one that awaits it (each wrapper copies
/// the request's future once more).
pub(crate) fn scope<F: Future>(id: HeaderValue, answer: F) -> TaskLocalFuture<HeaderValue, F> {
    REQUEST_ID.scope(id, answer)
}

/// The id of the request this task answers, if it is one.
pub(crate) fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(|id| id.to_str().ok().map(str::to_owned)).ok().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_random_uuid_v4_strings() {
        let ids: Vec<String> = (0..200).map(|_| new_request_id().to_str().unwrap().to_owned()).collect();
        for id in &ids {
            let groups: Vec<&str> = id.split('-').collect();
            assert_eq!(groups.iter().map(|g| g.len()).collect::<Vec<_>>(), [8, 4, 4, 4, 12], "{id}");
            assert!(id.bytes().all(|b| b == b'-' || b.is_ascii_digit() || (b'a'..=b'f').contains(&b)), "{id}");
            assert!(groups[2].starts_with('4'), "version 4: {id}");
            assert!(matches!(groups[3].as_bytes()[0], b'8' | b'9' | b'a' | b'b'), "RFC 4122 variant: {id}");
        }
        let mut unique = ids.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), ids.len());
    }
}
