//! HTTP caching for clients of the cached reads: a strong `ETag`,
//! `Cache-Control: private, no-cache` (a client keeps the body but asks
//! again each time), `Cache-Status` (RFC 9211) saying how the server's cache
//! answered, and `304 Not Modified` for an `If-None-Match` that names the
//! current tag (RFC 9110: weak comparison, `*`, lists).

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder};
use macrotrack_service::{CacheReport, ETag, IfMatch, Outcome, ReadReport};

/// RFC 9211's header: how the server's cache answered.
pub const CACHE_STATUS: &str = "cache-status";
/// Clients keep the body but ask again each time (with `If-None-Match`).
pub const CACHE_CONTROL_VALUE: &str = "private, no-cache";

/// How the parts of an answer are named in `Cache-Status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Members {
    /// One member, `macrotrack`, for the whole answer (the least cached of
    /// its reads speaks for it).
    One,
    /// One member per part of the day screen: `macrotrack-logs`,
    /// `macrotrack-targets`, `macrotrack-schedule`, `macrotrack-streak`.
    PerPart,
}

/// What a cached answer's tag is the digest of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagOf {
    /// The reads' stored digests: for a body that shows each read's value
    /// whole (one read, or the day screen), so a 304 needs no encoding.
    Reads,
    /// The encoded body: for a body that shows part of what it read (a
    /// summary or a week shows some days of the months or ISO weeks it
    /// read), so the tag changes exactly when the body does.
    Body,
}

/// The JSON answer to a cached read of `value`, or 304 (see `answer`).
pub fn json<T: serde::Serialize>(
    req: &HttpRequest,
    report: &CacheReport,
    members: Members,
    tag_of: TagOf,
    value: &T,
) -> HttpResponse {
    let encode = || serde_json::to_vec(value).unwrap_or_default();
    let (etag, body) = match (tag_of, report.etag()) {
        (TagOf::Reads, Some(etag)) => (etag, None),
        _ => {
            let body = encode();
            (ETag::of_json(&body), Some(body))
        }
    };
    answer(req, &etag, report, members, |mut ok| {
        ok.insert_header(header::ContentType::json()).body(body.unwrap_or_else(encode))
    })
}

/// The answer to a cached read whose value is known: 304 when the client
/// holds the current `etag`, else `ok` (the 200); either way with the
/// caching headers.
pub fn answer(
    req: &HttpRequest,
    etag: &ETag,
    report: &CacheReport,
    members: Members,
    ok: impl FnOnce(HttpResponseBuilder) -> HttpResponse,
) -> HttpResponse {
    let quoted = quoted(etag);
    let status = cache_status(report, members);
    let unchanged = not_modified(req, &quoted);
    let mut builder = if unchanged { HttpResponse::build(StatusCode::NOT_MODIFIED) } else { HttpResponse::Ok() };
    builder.insert_header((header::ETAG, quoted)).insert_header((header::CACHE_CONTROL, CACHE_CONTROL_VALUE));
    if let Ok(value) = HeaderValue::try_from(status) {
        builder.insert_header((CACHE_STATUS, value));
    }
    if unchanged {
        return builder.finish();
    }
    ok(builder)
}

/// Whether `If-None-Match` names `current` (a quoted strong tag): `*`, or
/// any listed tag equal to it under the weak comparison (RFC 9110 13.1.2:
/// `W/"x"` matches `"x"`). A malformed header matches nothing.
pub fn not_modified(req: &HttpRequest, current: &str) -> bool {
    listed(req, &header::IF_NONE_MATCH).any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == current)
}

/// Every tag of every `name` header, as written (quotes, `W/` and all).
fn listed<'r>(req: &'r HttpRequest, name: &header::HeaderName) -> impl Iterator<Item = &'r str> {
    req.headers()
        .get_all(name)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(',').map(str::trim))
}

/// The request's `If-Match` (RFC 9110 13.1.1), or `None` without one: `*`,
/// or the opaque strong tags it lists. A weak tag never matches under the
/// strong comparison, nor does a malformed one, so both are dropped (a
/// header of only those matches nothing: 412).
pub fn if_match(req: &HttpRequest) -> Option<IfMatch> {
    if !req.headers().contains_key(header::IF_MATCH) {
        return None;
    }
    if listed(req, &header::IF_MATCH).any(|tag| tag == "*") {
        return Some(IfMatch::Any);
    }
    let strong = listed(req, &header::IF_MATCH)
        .filter_map(|tag| tag.strip_prefix('"')?.strip_suffix('"'))
        .filter(|opaque| !opaque.contains('"'))
        .map(str::to_owned);
    Some(IfMatch::OneOf(strong.collect()))
}

/// The `ETag` header's value for `etag`: the opaque tag in quotes.
pub fn quoted(etag: &ETag) -> String {
    let mut quoted = String::with_capacity(etag.as_str().len() + 2);
    quoted.push('"');
    quoted.push_str(etag.as_str());
    quoted.push('"');
    quoted
}

/// The `Cache-Status` field value.
pub fn cache_status(report: &CacheReport, members: Members) -> String {
    match members {
        Members::One => match least_cached(&report.reads) {
            Some(read) => member("macrotrack", read, min_fresh(&report.reads)),
            None => "macrotrack; fwd=bypass".to_owned(),
        },
        Members::PerPart => report
            .reads
            .iter()
            .map(|read| member(&format!("macrotrack-{}", part_name(read.family)), read, read.fresh_for))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

fn part_name(family: &str) -> &str {
    match family {
        // The day screen shows the user's targets from `me`.
        "me" => "targets",
        other => other,
    }
}

/// How far from a hit an outcome is: the answer's member is its worst read's.
fn rank(outcome: Outcome) -> u8 {
    match outcome {
        Outcome::Hit => 0,
        Outcome::Stale => 1,
        Outcome::Miss | Outcome::Invalid | Outcome::Refresh | Outcome::RejectedStore => 2,
        Outcome::Bypass | Outcome::Error => 3,
    }
}

fn least_cached(reads: &[ReadReport]) -> Option<&ReadReport> {
    reads.iter().max_by_key(|read| rank(read.outcome))
}

/// The shortest freshness left among hits: the whole is fresh that long.
fn min_fresh(reads: &[ReadReport]) -> Option<std::time::Duration> {
    reads.iter().filter_map(|read| read.fresh_for).min()
}

/// One member: `NAME; hit; ttl=N`, or `NAME; fwd=...` with `stored` when
/// the fetched value was stored and a `detail` where RFC 9211 has no word.
fn member(name: &str, read: &ReadReport, fresh_for: Option<std::time::Duration>) -> String {
    let forward = match read.outcome {
        Outcome::Hit => return format!("{name}; hit; ttl={}", fresh_for.map_or(0, |left| left.as_secs())),
        Outcome::Stale => "fwd=stale",
        Outcome::Miss if read.absent => "fwd=uri-miss",
        Outcome::Miss | Outcome::RejectedStore => "fwd=miss",
        Outcome::Invalid => "fwd=miss; detail=invalid",
        Outcome::Refresh => "fwd=request",
        Outcome::Bypass => "fwd=bypass",
        Outcome::Error => "fwd=bypass; detail=store-error",
    };
    let stored = if read.stored { "; stored" } else { "" };
    format!("{name}; {forward}{stored}")
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use actix_web::test::TestRequest;

    use super::*;

    fn read(family: &'static str, outcome: Outcome) -> ReadReport {
        ReadReport { family, outcome, absent: false, stored: false, fresh_for: None, digest: [7; 16] }
    }

    #[test]
    fn if_none_match_follows_rfc_9110() {
        let current = "\"abc\"";
        let with = |value: &str| TestRequest::default().insert_header((header::IF_NONE_MATCH, value)).to_http_request();
        for matching in ["\"abc\"", "*", "W/\"abc\"", "\"x\", \"abc\"", "\"x\",W/\"abc\" , \"y\""] {
            assert!(not_modified(&with(matching), current), "{matching}");
        }
        for other in ["\"abd\"", "abc", "\"ABC\"", "", "W/ \"abc\"", "\"abc"] {
            assert!(!not_modified(&with(other), current), "{other}");
        }
        assert!(!not_modified(&TestRequest::default().to_http_request(), current));
    }

    #[test]
    fn if_match_uses_the_strong_comparison() {
        let with = |value: &str| TestRequest::default().insert_header((header::IF_MATCH, value)).to_http_request();
        let tags = |names: &[&str]| Some(IfMatch::OneOf(names.iter().map(|name| (*name).to_owned()).collect()));
        assert_eq!(if_match(&TestRequest::default().to_http_request()), None);
        assert_eq!(if_match(&with("*")), Some(IfMatch::Any));
        assert_eq!(if_match(&with("\"abc\"")), tags(&["abc"]));
        assert_eq!(if_match(&with("\"x\", W/\"abc\" ,\"y\"")), tags(&["x", "y"]));
        for nothing in ["W/\"abc\"", "abc", "\"abc", "", "\"a\"b\""] {
            assert_eq!(if_match(&with(nothing)), tags(&[]), "{nothing}");
        }
    }

    #[test]
    fn cache_status_members() {
        let hit = ReadReport { fresh_for: Some(Duration::from_millis(273_400)), ..read("logs", Outcome::Hit) };
        let report = CacheReport { reads: vec![hit.clone()] };
        assert_eq!(cache_status(&report, Members::One), "macrotrack; hit; ttl=273");
        let miss = ReadReport { absent: true, stored: true, ..read("logs", Outcome::Miss) };
        assert_eq!(cache_status(&CacheReport { reads: vec![miss] }, Members::One), "macrotrack; fwd=uri-miss; stored");
        let outdated = ReadReport { stored: true, ..read("me", Outcome::Miss) };
        let day = CacheReport {
            reads: vec![hit.clone(), outdated, read("schedule", Outcome::Stale), read("streak", Outcome::Bypass)],
        };
        assert_eq!(
            cache_status(&day, Members::PerPart),
            "macrotrack-logs; hit; ttl=273, macrotrack-targets; fwd=miss; stored, macrotrack-schedule; fwd=stale, \
             macrotrack-streak; fwd=bypass"
        );
        // Several reads as one member: the least cached speaks for all.
        assert_eq!(cache_status(&day, Members::One), "macrotrack; fwd=bypass");
        let hits = CacheReport {
            reads: vec![hit, ReadReport { fresh_for: Some(Duration::from_secs(9)), ..read("week", Outcome::Hit) }],
        };
        assert_eq!(cache_status(&hits, Members::One), "macrotrack; hit; ttl=9");
    }
}
