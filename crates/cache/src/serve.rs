//! The read path up to a miss: the cache off or bypassed, force-fresh, the
//! entry's snapshot (read ahead or read now), classified as fresh, stale,
//! invalid or absent; then the plan of the miss (`miss.rs`).

use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use futures::FutureExt as _;
use macrotrack_cache_keys::EntryAddress;
use macrotrack_ports::{CacheStore, Snapshot};
use serde::de::DeserializeOwned;

use crate::ahead::take_prefetched;
use crate::answer::{Answer, Classified, Trace, Want};
use crate::config::{Admission, Check, Freshness, Policy, ReadError};
use crate::engine::Engine;
use crate::envelope::{Envelope, fingerprint};
use crate::flight::Plan;
use crate::outcome::Outcome;
use crate::read::{Cacheable, Fetch, Prefetched, Read};
use crate::report::{self, ReadReport};

impl<S: CacheStore> Engine<S> {
    /// Reads through the cache: the value at `address`, or `fetch`'s.
    pub async fn read<T: Cacheable, E: Send + 'static, F: Fetch<T, E>>(
        &self,
        address: &EntryAddress,
        policy: Policy,
        freshness: Freshness,
        check: Check<T>,
        fetch: F,
    ) -> Result<T, ReadError<E>> {
        self.value(Read::new(address, policy, check, fetch).freshness(freshness)).await
    }

    /// Like `read`, for a key a client names and the source may not know
    /// (a token's credential): a miss writes nothing to the store until
    /// the source has answered a value (`Admission::Confirmed`), so a key
    /// naming nothing leaves no entry, guard or lease behind.
    pub async fn read_confirmed<T: Cacheable, E: Send + 'static, F: Fetch<T, E>>(
        &self,
        address: &EntryAddress,
        policy: Policy,
        check: Check<T>,
        fetch: F,
    ) -> Result<T, ReadError<E>> {
        self.value(Read::new(address, policy, check, fetch).admission(Admission::Confirmed)).await
    }

    /// Like `read`, but answers the value's JSON. A hit hands over the stored
    /// bytes without re-encoding them; check-value still runs on every
    /// stored value before it is served, once per stored value per instance
    /// (the verified envelopes are remembered by key, age and checksum).
    pub async fn read_json<T: Cacheable, E: Send + 'static, F: Fetch<T, E>>(
        &self,
        address: &EntryAddress,
        policy: Policy,
        freshness: Freshness,
        check: Check<T>,
        fetch: F,
    ) -> Result<Bytes, ReadError<E>> {
        self.json(Read::new(address, policy, check, fetch).freshness(freshness)).await
    }

    /// The value `read` describes.
    pub async fn value<T: Cacheable, E: Send + 'static, F: Fetch<T, E>>(
        &self,
        read: Read<'_, T, F>,
    ) -> Result<T, ReadError<E>> {
        into_value(self.answer(read, Want::Value).await?)
    }

    /// The JSON of the value `read` describes (see `read_json`).
    pub async fn json<T: Cacheable, E: Send + 'static, F: Fetch<T, E>>(
        &self,
        read: Read<'_, T, F>,
    ) -> Result<Bytes, ReadError<E>> {
        into_json(self.answer(read, Want::Json).await?)
    }

    /// Like `json`, with how the read was answered handed back rather than
    /// collected by an enclosing `reporting`: for a caller that holds the
    /// read itself. `None` only when there is no value to report.
    pub async fn json_reported<T: Cacheable, E: Send + 'static, F: Fetch<T, E>>(
        &self,
        read: Read<'_, T, F>,
    ) -> Result<(Bytes, Option<ReadReport>), ReadError<E>> {
        let address = read.address;
        let (answer, trace) = self.serve(read, Want::Json).await;
        let answer = answer?;
        let report = report::report_of(address, &answer, trace);
        Ok((into_json(answer)?, report))
    }

    /// The one internal entry of the reads: `serve`, with the read added to
    /// the enclosing `reporting`'s reports. Not an `async fn`, so the read's
    /// future is held once (see `prefetch`).
    fn answer<'a, T: Cacheable, E: Send + 'static, F: Fetch<T, E>>(
        &'a self,
        read: Read<'a, T, F>,
        want: Want,
    ) -> impl Future<Output = Result<Answer<T>, ReadError<E>>> + 'a {
        let address = read.address;
        self.serve(read, want).map(move |(answer, trace)| {
            if let Ok(answer) = &answer {
                report::finish(address, answer, trace);
            }
            answer
        })
    }

    /// Counts `outcome` and remembers it as the read's.
    fn note(&self, trace: &mut Trace, address: &EntryAddress, outcome: Outcome) {
        self.record(address, outcome);
        trace.outcome = Some(outcome);
    }

    /// The read path; answers, with the result, how the read went (its
    /// trace, kept here rather than looked up by the read's identity).
    async fn serve<T: Cacheable, E: Send + 'static, F: Fetch<T, E>>(
        &self,
        mut read: Read<'_, T, F>,
        want: Want,
    ) -> (Result<Answer<T>, ReadError<E>>, Trace) {
        let mut trace = Trace::default();
        let address = read.address;
        if !self.inner.config.enabled {
            return (self.fetch_checked(&read).await.map(Answer::value), trace);
        }
        if read.freshness == Freshness::Bypass || !self.store_usable(address.user).await {
            self.note(&mut trace, address, Outcome::Bypass);
            return (self.fetch_checked(&read).await.map(Answer::value), trace);
        }
        if read.freshness == Freshness::Force {
            self.note(&mut trace, address, Outcome::Refresh);
            let answer = match self.current_guards(address, read.policy, None).await {
                Some(guards) => self.fetch_and_store(&read, &guards, None).await,
                None => self.fetch_checked(&read).await.map(Answer::value),
            };
            return (answer, trace);
        }
        let (found, mark) = match read.prefetched.take().or_else(|| take_prefetched(address)) {
            Some(Prefetched { snapshot, mark }) => (Some(snapshot), mark),
            None => {
                let mark = self.own_bumps_mark();
                (self.answered(self.inner.store.read(&address.key, &address.guards)).await, mark)
            }
        };
        let Some(snapshot) = found else {
            self.note(&mut trace, address, Outcome::Error);
            return (self.fetch_checked(&read).await.map(Answer::value), trace);
        };
        if !self.agrees_with_own_bumps(address, &snapshot.guards, mark) {
            self.note(&mut trace, address, Outcome::Bypass);
            return (self.fetch_checked(&read).await.map(Answer::value), trace);
        }
        match self.classify(address, &snapshot, read.check, want) {
            Classified::Fresh(answer) => {
                self.note(&mut trace, address, Outcome::Hit);
                return (Ok(answer), trace);
            }
            Classified::Stale(answer, guards) => {
                self.note(&mut trace, address, Outcome::Stale);
                self.spawn_refresh(read, guards);
                return (Ok(answer), trace);
            }
            Classified::Invalid => {
                self.note(&mut trace, address, Outcome::Invalid);
                self.answered(self.inner.store.delete(&address.key)).await;
            }
            Classified::Absent { stored } => {
                trace.absent = !stored;
                self.note(&mut trace, address, Outcome::Miss);
            }
        }
        let known: Option<Vec<u64>> = snapshot.guards.iter().copied().collect();
        let plan = match (read.admission, known) {
            (admission, Some(guards)) => Plan::Store { guards, leased: admission == Admission::Eager },
            (Admission::Eager, None) => match self.current_guards(address, read.policy, Some(snapshot.guards)).await {
                Some(guards) => Plan::Store { guards, leased: true },
                None => return (self.fetch_checked(&read).await.map(Answer::value), trace),
            },
            // Guards are made only once the source knows the key: fetch
            // first (shared by concurrent callers), then make them.
            (Admission::Confirmed, None) => Plan::Confirm { seen: snapshot.guards },
        };
        (self.single_flight(&read, plan).await, trace)
    }

    pub(crate) fn classify<T: Cacheable>(
        &self,
        address: &EntryAddress,
        snapshot: &Snapshot,
        check: Check<T>,
        want: Want,
    ) -> Classified<T> {
        let Some(bytes) = &snapshot.value else { return Classified::Absent { stored: false } };
        // Decoding the envelope verifies the payload's checksum.
        let Some(envelope) = Envelope::decode(bytes) else { return Classified::Invalid };
        if envelope.fingerprint != fingerprint::<T>() {
            return Classified::Invalid;
        }
        let current: Option<Vec<u64>> = snapshot.guards.iter().copied().collect();
        if current.as_ref() != Some(&envelope.guards) {
            // Invalidated since it was stored, or a guard expired: a miss.
            return Classified::Absent { stored: true };
        }
        // Clocks of two instances may disagree a little: never a negative age.
        let age = u64::try_from(self.now_ms() - envelope.created_ms).unwrap_or(0);
        if age >= envelope.ttl_ms.saturating_add(envelope.swr_ms) {
            return Classified::Absent { stored: true };
        }
        let fresh_for = envelope.ttl_ms.checked_sub(age).filter(|left| *left > 0).map(Duration::from_millis);
        let digest = Some(envelope.digest);
        let answer = match want {
            Want::Json => {
                if !self.checked_before(address, &envelope, check) {
                    return Classified::Invalid;
                }
                Answer { value: None, json: Some(envelope.payload), digest, fresh_for, stored: false }
            }
            Want::Value | Want::Both => {
                let Some(value) = decode_checked(&envelope.payload, check) else { return Classified::Invalid };
                let json = (want == Want::Both).then_some(envelope.payload);
                Answer { value: Some(value), json, digest, fresh_for, stored: false }
            }
        };
        if age < envelope.ttl_ms { Classified::Fresh(answer) } else { Classified::Stale(answer, envelope.guards) }
    }

    /// Whether `envelope`'s value passes check-value, decoding it only the
    /// first time this instance sees that stored value: what identifies
    /// one is its key, when it was made and the checksum of its JSON.
    fn checked_before<T: DeserializeOwned>(
        &self,
        address: &EntryAddress,
        envelope: &Envelope,
        check: Check<T>,
    ) -> bool {
        let mut identity = std::hash::DefaultHasher::new();
        std::hash::Hash::hash(&(&address.key, envelope.created_ms, envelope.checksum), &mut identity);
        let identity = std::hash::Hasher::finish(&identity);
        if self.inner.verified.get(&identity).is_some() {
            return true;
        }
        let passed = decode_checked(&envelope.payload, check).is_some();
        if passed {
            self.inner.verified.insert(identity, ());
        }
        passed
    }

    /// The generations to fetch under: those of the snapshot when all are
    /// present, else initialised in the store, living as long as an entry
    /// of `policy` can (storing it makes them live as long as it does).
    /// `None` when the store failed.
    pub(crate) async fn current_guards(
        &self,
        address: &EntryAddress,
        policy: Policy,
        known: Option<Vec<Option<u64>>>,
    ) -> Option<Vec<u64>> {
        if let Some(all) = known.and_then(|guards| guards.into_iter().collect::<Option<Vec<u64>>>()) {
            return Some(all);
        }
        let fresh: Vec<u64> = address.guards.iter().map(|_| self.inner.generations.next(self.now_ms())).collect();
        self.answered(self.inner.store.init_guards(&address.guards, &fresh, policy.lifetime())).await
    }
}

/// The value in `payload`, if it decodes and passes check-value.
fn decode_checked<T: DeserializeOwned>(payload: &[u8], check: Check<T>) -> Option<T> {
    serde_json::from_slice::<T>(payload).ok().filter(|value| check(value).is_ok())
}

fn into_value<T: DeserializeOwned, E>(answer: Answer<T>) -> Result<T, ReadError<E>> {
    match (answer.value, answer.json) {
        (Some(value), _) => Ok(value),
        // Unreachable in practice: a value is decoded whenever one is wanted.
        (None, Some(json)) => serde_json::from_slice(&json).map_err(|e| ReadError::InvalidFresh(e.to_string())),
        (None, None) => Err(ReadError::InvalidFresh("no value".into())),
    }
}

fn into_json<T: serde::Serialize, E>(answer: Answer<T>) -> Result<Bytes, ReadError<E>> {
    match (answer.json, answer.value) {
        (Some(json), _) => Ok(json),
        (None, Some(value)) => {
            serde_json::to_vec(&value).map(Bytes::from).map_err(|e| ReadError::InvalidFresh(e.to_string()))
        }
        (None, None) => Err(ReadError::InvalidFresh("no value".into())),
    }
}
