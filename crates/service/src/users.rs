//! Users, authentication and targets.

use bytes::Bytes;
use macrotrack_cache::{Admission, Freshness, Prefetched, Read};
use macrotrack_domain::{Day, Macros, TimeZone, User, UserId, ValidationErrors};
use macrotrack_ports::{CacheStore, Unavailable};

use crate::catalog::{
    DELETE_USER, SET_TARGETS, SET_TIME_ZONE, credential_address, dashboard_addresses, day_logs_address, me_address,
};
use crate::vocabulary::Addressed;
use crate::{AuthError, CacheReport, ChangeError, CreateError, GetError, Service, errors, no_check, tokens};

/// A user's credential as cached: the secret's SHA-256, never the secret.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
struct CachedCredential {
    user: UserId,
    secret_hash: String,
}

/// Reads a request will make once its token is checked, read ahead in the
/// same store round trip as the token's credential (`Service::authenticated`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadAhead {
    /// `day_logs` / `day_logs_json` of that date.
    DayLogs(Day),
    /// `dashboard_on` of that date and today.
    Dashboard {
        /// The day shown.
        date: Day,
        /// The client's today, which the streak counts to; `None`: the
        /// user's, known once their zone is read.
        today: Option<Day>,
    },
}

impl ReadAhead {
    fn addresses(self, user: UserId, utc_today: Day) -> Vec<Addressed> {
        match self {
            ReadAhead::DayLogs(date) => vec![day_logs_address(user, date)],
            ReadAhead::Dashboard { date, today } => dashboard_addresses(user, date, today, utc_today),
        }
    }
}

/// The user id and selector a token claims, and where its credential is
/// cached; `None` for a malformed token.
fn claimed(token: &str) -> Option<(tokens::Presented<'_>, Addressed)> {
    let presented = tokens::split(token)?;
    let selector = u64::from_str_radix(presented.selector, 16).ok()?;
    let address = credential_address(presented.user, selector);
    Some((presented, address))
}

/// A newly created user and the only copy of their token.
#[derive(Debug, Clone)]
pub struct CreatedUser {
    /// The user as stored.
    pub user: User,
    /// Their bearer token: only its hash is stored, so this is the one copy.
    pub token: String,
}

impl<S: CacheStore> Service<S> {
    /// Creates a user and returns their token, which is never stored.
    pub async fn create_user(&self, name: &str) -> Result<CreatedUser, CreateError> {
        let name =
            macrotrack_domain::validation::name(name).map_err(|message| ValidationErrors::single("name", message))?;
        let issued = tokens::issue();
        let user = self.repos.users.create_user(&name, &issued.selector, issued.secret_hash).await?;
        Ok(CreatedUser { token: issued.token(user.id), user })
    }

    /// The user a bearer token belongs to.
    /// Every request asks this, so the credential is cached (tier 2, under
    /// the user's epoch: deleting the user forgets it on every instance).
    /// A token naming no credential (an unknown user or selector) leaves no
    /// entry, guard or lease, so guessing fills no cache.
    pub async fn authenticate(&self, token: &str) -> Result<UserId, AuthError> {
        let (presented, address) = claimed(token).ok_or(AuthError::Unauthenticated)?;
        self.check_claim(presented, &address, None).await
    }

    /// Checks a parsed token against its credential, read through the cache
    /// at `address` (where `claimed` put it), from its snapshot if it was
    /// read ahead.
    async fn check_claim(
        &self,
        presented: tokens::Presented<'_>,
        address: &Addressed,
        prefetched: Option<Prefetched>,
    ) -> Result<UserId, AuthError> {
        let user = presented.user;
        let wanted = presented.selector.to_owned();
        let fetch = {
            let users = self.repos.users.clone();
            move || {
                let (users, wanted) = (users.clone(), wanted.clone());
                async move {
                    match users.credential(&wanted).await {
                        Ok(Some(found)) if found.user == user => {
                            Ok(CachedCredential { user: found.user, secret_hash: hex::encode(found.secret_hash) })
                        }
                        Ok(_) => Err(AuthError::Unauthenticated),
                        Err(unavailable) => Err(AuthError::Unavailable(unavailable)),
                    }
                }
            }
        };
        // Confirmed: a token naming no credential leaves nothing in the store.
        let read = self.read_of(address, self.policies.credential, Freshness::Cached, no_check, fetch).await;
        let read = read.admission(Admission::Confirmed).prefetched(prefetched);
        let credential = self.cache.value(read).await.map_err(|error| match error {
            macrotrack_cache::ReadError::Source(error) => error,
            macrotrack_cache::ReadError::InvalidFresh(_) => AuthError::Unauthenticated,
        })?;
        let mut stored = [0u8; 32];
        hex::decode_to_slice(&credential.secret_hash, &mut stored).map_err(|_| AuthError::Unauthenticated)?;
        if credential.user == user && tokens::matches(presented.secret, &stored) {
            Ok(user)
        } else {
            Err(AuthError::Unauthenticated)
        }
    }

    /// Authenticates `token`, then runs `body` as its user. The credential
    /// and the entries of `ahead` (of the user the token claims) are read in
    /// one store round trip, so a warm `GET /v1/logs` costs one in all.
    /// Nothing read ahead is answered unless the token checks out: a token
    /// claiming another user's id only warms a snapshot that is dropped.
    pub async fn authenticated<R>(
        &self,
        token: &str,
        ahead: &[ReadAhead],
        body: impl AsyncFnOnce(UserId) -> R,
    ) -> Result<R, AuthError> {
        let (presented, credential) = claimed(token).ok_or(AuthError::Unauthenticated)?;
        let utc_today = self.today();
        let entries: Vec<Addressed> = ahead.iter().flat_map(|read| read.addresses(presented.user, utc_today)).collect();
        let read_ahead = self.ahead_of(std::iter::once(&credential).chain(&entries));
        self.cache
            .prefetch(&read_ahead, async {
                // The token was parsed once, above: not again on the hot path.
                let user = self.check_claim(presented, &credential, None).await?;
                Ok(body(user).await)
            })
            .await
    }

    /// The hot read, `GET /v1/logs`, as one call: `authenticated` with
    /// `ReadAhead::DayLogs(date)` around `reported(day_logs_json)`, with
    /// each address computed once and each snapshot read ahead handed to
    /// its read, rather than found again by key inside a scope. The day's
    /// read is answered only once the token checks out.
    pub async fn authenticated_day_logs_json(
        &self,
        token: &str,
        date: Day,
    ) -> Result<(Result<Bytes, Unavailable>, CacheReport), AuthError> {
        let (presented, credential) = claimed(token).ok_or(AuthError::Unauthenticated)?;
        let day = day_logs_address(presented.user, date);
        let mut ahead = self.cache.read_ahead(&self.ahead_of([&credential, &day])).await;
        let user = self.check_claim(presented, &credential, ahead.take(&credential.entry)).await?;
        Ok(self.day_logs_json_at(&day, user, date, ahead.take(&day.entry)).await)
    }

    /// The user, their targets and time zone (tier 2, `ME`).
    pub async fn me(&self, user: UserId) -> Result<User, GetError> {
        self.user_row(user).await?.ok_or(GetError::NotFound)
    }

    /// The user's row through the cache (`ME`). It is addressed by no date,
    /// so always in the window: read without asking the window, which asks
    /// the user's today, which is read here.
    pub(crate) async fn user_row(&self, user: UserId) -> Result<Option<User>, Unavailable> {
        let address = me_address(user);
        let users = self.repos.users.clone();
        let fetch = move || {
            let users = users.clone();
            async move { users.user(user).await }
        };
        let read = Read::new(&address.entry, self.policies.me, no_check, fetch).freshness(Freshness::Cached);
        self.cache.value(read).await.map_err(errors::from_cache)
    }

    /// Sets the user's time zone, then forgets what shows it (and so what
    /// their default today is taken from).
    pub async fn set_timezone(&self, user: UserId, zone: TimeZone) -> Result<TimeZone, ChangeError> {
        let committed = self.repos.users.set_timezone(user, zone).await?.ok_or(ChangeError::NotFound)?;
        self.forget(&SET_TIME_ZONE, user, &zone, Some(committed.outbox)).await;
        Ok(zone)
    }

    /// Sets the user's daily targets, then forgets what shows them.
    pub async fn set_targets(&self, user: UserId, targets: Macros) -> Result<Macros, ChangeError> {
        let committed = self.repos.users.set_targets(user, targets).await?.ok_or(ChangeError::NotFound)?;
        self.forget(&SET_TARGETS, user, &targets, Some(committed.outbox)).await;
        Ok(targets)
    }

    /// Deletes the user, all their data and every cached copy of it.
    pub async fn delete_user(&self, user: UserId) -> Result<(), ChangeError> {
        let committed = self.repos.users.delete_user(user).await?.ok_or(ChangeError::NotFound)?;
        self.forget(&DELETE_USER, user, &(), Some(committed.outbox)).await;
        Ok(())
    }
}
