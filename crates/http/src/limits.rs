//! What bounds one client's hold on the server, answered before anything is
//! read or looked up: a budget of requests per user, a budget of failed
//! authentications per client address, and the deadline of a request's body.
//!
//! The user is the one the token names (`mt_<user>_...`), unchecked: checking
//! it is a lookup, which is what the budget protects. A made-up token naming
//! someone spends that user's budget; once its address is over its failure
//! budget, its tokens are answered 429 before that, so a stranger can take at
//! most the failure rate (20 a second) from a user's budget.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, ResponseError};
use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::problem::Problem;

/// Failed authentications an address may make a second, and at once.
const FAILURES_PER_SECOND: u32 = 20;
const FAILURE_BURST: u32 = 100;

/// Tokens remembered as good, so a user sharing an address with a client
/// that spends its failure budget (a NAT, an office) is still served; past
/// this many, the least used must authenticate again to be remembered.
const TRUSTED_TOKENS: usize = 100_000;

/// How long an address that ran out of failures has its tokens charged
/// before they are looked up: the time its budget takes to refill.
const PENALTY: Duration = Duration::from_secs((FAILURE_BURST / FAILURES_PER_SECOND) as u64);

/// How often the keyed stores are pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(1);

/// Where a request's client address is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAddress {
    /// The TCP peer: right when clients connect directly.
    Peer,
    /// The last address of `X-Forwarded-For`, the one a proxy in front of
    /// the server appended (the peer when the header is absent). Only behind
    /// such a proxy: otherwise every client picks its own address.
    LastForwardedFor,
}

/// The bounds every request is held to; shared by every worker.
#[derive(Clone)]
pub struct Bounds {
    /// `None`: no rate limits (`MACROTRACK_RATE_LIMIT=0`).
    pub rate: Option<Arc<RateLimits>>,
    /// How long after its headers a request's body may take to arrive (408).
    pub body_timeout: Duration,
}

impl Default for Bounds {
    /// No rate limits; the contract's default body deadline (10 s).
    fn default() -> Self {
        Bounds { rate: None, body_timeout: Duration::from_secs(10) }
    }
}

/// When a request's body must have arrived, set as it comes in.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyDeadline {
    pub(crate) at: Instant,
    pub(crate) seconds: u64,
}

/// The two budgets and what they remember.
///
/// Memory: governor's keyed stores keep a key until `retain_recent` finds
/// its state back to that of a fresh key, which happens at most burst ÷
/// rate after its last request (2 s for a user, 5 s for an address). They
/// are pruned every second, so they hold only the keys of the last few
/// seconds, however many tokens a flood makes up. The penalties are pruned
/// with them once over, and the trusted tokens are a bounded cache.
pub struct RateLimits {
    per_user: DefaultKeyedRateLimiter<i64>,
    failures: DefaultKeyedRateLimiter<IpAddr>,
    /// Addresses over their failure budget, and until when.
    penalties: Mutex<HashMap<IpAddr, Instant>>,
    /// Fingerprints of tokens that authenticated lately.
    trusted: quick_cache::sync::Cache<u64, ()>,
    /// Keyed per process, so fingerprints cannot be aimed at.
    fingerprints: std::collections::hash_map::RandomState,
    client_address: ClientAddress,
    started: Instant,
    /// Milliseconds after `started` when the stores are next pruned.
    next_prune: AtomicU64,
}

impl RateLimits {
    /// `per_second` requests per second per user (burst twice that); `None`
    /// when it is 0, which turns every rate limit off.
    pub fn new(per_second: u32, client_address: ClientAddress) -> Option<Arc<Self>> {
        let per_second = NonZeroU32::new(per_second)?;
        let burst = per_second.saturating_mul(NonZeroU32::new(2)?);
        let failures =
            Quota::per_second(NonZeroU32::new(FAILURES_PER_SECOND)?).allow_burst(NonZeroU32::new(FAILURE_BURST)?);
        Some(Arc::new(RateLimits {
            per_user: RateLimiter::dashmap(Quota::per_second(per_second).allow_burst(burst)),
            failures: RateLimiter::dashmap(failures),
            penalties: Mutex::default(),
            trusted: quick_cache::sync::Cache::new(TRUSTED_TOKENS),
            fingerprints: std::collections::hash_map::RandomState::new(),
            client_address,
            started: Instant::now(),
            next_prune: AtomicU64::new(0),
        }))
    }

    /// Remembers a token that just authenticated.
    pub(crate) fn authenticated(&self, token: &str) {
        let fingerprint = self.fingerprints.hash_one(token);
        if self.trusted.get(&fingerprint).is_none() {
            self.trusted.insert(fingerprint, ());
        }
    }

    fn trusts(&self, token: &str) -> bool {
        self.trusted.get(&self.fingerprints.hash_one(token)).is_some()
    }

    fn client(&self, req: &ServiceRequest) -> Option<IpAddr> {
        if self.client_address == ClientAddress::LastForwardedFor {
            let forwarded = req.headers().get_all("x-forwarded-for").last().and_then(|value| value.to_str().ok());
            let last = forwarded.and_then(|value| value.rsplit(',').next()?.trim().parse().ok());
            if last.is_some() {
                return last;
            }
        }
        req.peer_addr().map(|peer| peer.ip())
    }

    /// Whether `address` ran out of its failure budget lately.
    fn penalised(&self, address: IpAddr, now: Instant) -> bool {
        let penalties = self.penalties.lock().unwrap_or_else(PoisonError::into_inner);
        penalties.get(&address).is_some_and(|until| *until > now)
    }

    /// Counts a failed authentication of `address` after the fact; past the
    /// budget the address is penalised.
    fn failed(&self, address: IpAddr, now: Instant) {
        if self.failures.check_key(&address).is_err() {
            self.penalise(address, now);
        }
    }

    /// For a penalised address: spends a failure before the lookup, so that
    /// however many requests it has in flight, only as many as the budget
    /// refills are looked up. `Err`: how long until the next may be.
    fn charge_before(&self, address: IpAddr, now: Instant) -> Result<(), Duration> {
        self.failures.check_key(&address).map_err(|not_until| {
            self.penalise(address, now);
            not_until.wait_time_from(self.failures.clock().now())
        })
    }

    /// Keeps `address` penalised until its budget could be whole again.
    fn penalise(&self, address: IpAddr, now: Instant) {
        let mut penalties = self.penalties.lock().unwrap_or_else(PoisonError::into_inner);
        penalties.insert(address, now + PENALTY);
    }

    /// Drops what no longer limits anyone, at most once per `PRUNE_EVERY`
    /// (one request pays for it; the others see the time not yet come).
    fn prune(&self, now: Instant) {
        let elapsed = u64::try_from(now.duration_since(self.started).as_millis()).unwrap_or(u64::MAX);
        let due = self.next_prune.load(Ordering::Relaxed);
        let next = elapsed.saturating_add(PRUNE_EVERY.as_millis() as u64);
        if elapsed < due || self.next_prune.compare_exchange(due, next, Ordering::Relaxed, Ordering::Relaxed).is_err() {
            return;
        }
        self.per_user.retain_recent();
        self.per_user.shrink_to_fit();
        self.failures.retain_recent();
        self.failures.shrink_to_fit();
        self.penalties.lock().unwrap_or_else(PoisonError::into_inner).retain(|_, until| *until > now);
    }
}

/// The middleware: sets the body's deadline, then, for `/v1/` requests
/// (every one of them authenticates), answers 429 to an address over its
/// failure budget (unless its token authenticated lately) or to a user over
/// theirs, before any lookup; counts the 401s it lets through.
pub(crate) async fn admit(
    bounds: Bounds,
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let now = Instant::now();
    let seconds = bounds.body_timeout.as_secs();
    req.extensions_mut().insert(BodyDeadline { at: now + bounds.body_timeout, seconds });
    let Some(limits) = bounds.rate.filter(|_| req.path().starts_with("/v1/")) else {
        return next.call(req).await.map(ServiceResponse::map_into_left_body);
    };
    limits.prune(now);
    let token = crate::bearer::bearer(req.request());
    let address = limits.client(&req);
    // Outside a penalty failures are counted once answered (a user's own
    // requests cost nothing); inside one, before the lookup.
    let mut charged = false;
    if let (Some(token), Some(address)) = (token, address)
        && limits.penalised(address, now)
        && !limits.trusts(token)
    {
        if let Err(wait) = limits.charge_before(address, now) {
            metrics::counter!(RATE_LIMITED_TOTAL, "budget" => "address").increment(1);
            let problem = Problem::too_many_requests(wait, "too many failed authentications from this address");
            return Ok(req.into_response(problem.error_response()).map_into_right_body());
        }
        charged = true;
    }
    if let Some(user) = token.and_then(macrotrack_service::claimed_user)
        && let Err(not_until) = limits.per_user.check_key(&user.0)
    {
        metrics::counter!(RATE_LIMITED_TOTAL, "budget" => "user").increment(1);
        let wait = not_until.wait_time_from(limits.per_user.clock().now());
        let problem = Problem::too_many_requests(wait, "too many requests for this user");
        return Ok(req.into_response(problem.error_response()).map_into_right_body());
    }
    let carried_token = token.is_some();
    let response = next.call(req).await?;
    if carried_token
        && !charged
        && response.status() == StatusCode::UNAUTHORIZED
        && let Some(address) = address
    {
        limits.failed(address, now);
    }
    Ok(response.map_into_left_body())
}

/// Requests answered 429, by the budget they were over (`user`, `address`).
pub const RATE_LIMITED_TOTAL: &str = "macrotrack_http_rate_limited_total";

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn retry_after_is_whole_seconds_rounded_up_and_at_least_one() {
        let cases = [(0, "1"), (50, "1"), (1000, "1"), (1001, "2"), (4999, "5")];
        for (millis, expected) in cases {
            let response = Problem::too_many_requests(Duration::from_millis(millis), "slow down").error_response();
            assert_eq!(response.headers().get("retry-after").unwrap(), expected, "{millis} ms");
        }
    }

    #[test]
    fn the_client_is_the_peer_unless_the_proxy_s_forwarded_for_is_trusted() {
        let peer: std::net::SocketAddr = "10.0.0.1:5000".parse().unwrap();
        let forwarded = || {
            TestRequest::default()
                .peer_addr(peer)
                .insert_header(("x-forwarded-for", "1.2.3.4, 192.168.0.9"))
                .to_srv_request()
        };
        let direct = TestRequest::default().peer_addr(peer).to_srv_request();
        let (untrusting, trusting) = (
            RateLimits::new(1, ClientAddress::Peer).unwrap(),
            RateLimits::new(1, ClientAddress::LastForwardedFor).unwrap(),
        );
        assert_eq!(untrusting.client(&forwarded()), Some(peer.ip()), "a client writes the header");
        // The last entry is the one the proxy appended; earlier ones are the client's.
        assert_eq!(trusting.client(&forwarded()), Some("192.168.0.9".parse().unwrap()));
        assert_eq!(trusting.client(&direct), Some(peer.ip()));
        assert!(RateLimits::new(0, ClientAddress::Peer).is_none(), "0 turns the limits off");
    }
}
