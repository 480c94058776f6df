//! The behaviour every `CacheStore` must show, as functions any store's
//! tests can run (feature `conformance`; the Redis adapter runs them too).
//! Keys carry a `{user:N}` hash tag as real keys do; pass a fresh store or
//! a store with a fresh key prefix.

use std::time::Duration;

use bytes::Bytes;
use macrotrack_ports::{CacheStore, Lease, StoreOutcome};

const TTL: Duration = Duration::from_secs(60);

fn keys(user: u64) -> (String, Vec<String>) {
    let scope = format!("conf:{{user:{user}}}");
    (format!("{scope}:value"), vec![format!("{scope}:gen:a"), format!("{scope}:gen:b")])
}

/// Runs every check in turn; panics on the first broken rule.
pub async fn run_all<S: CacheStore>(store: &S) {
    absent_reads_empty(store).await;
    init_sets_only_absent_guards(store).await;
    conditional_store_and_the_stale_set_race(store).await;
    bump_deletes_and_changes_generations(store).await;
    large_generations_are_exact(store).await;
    delete_removes(store).await;
    leases_are_exclusive_until_they_expire(store).await;
    read_many_answers_as_reads_do(store).await;
    entries_and_guards_expire_after_their_ttl(store).await;
    a_lease_ends_with_its_store_or_its_release_only(store).await;
    a_store_makes_its_guards_live_as_long_as_the_entry(store).await;
    a_lease_is_renewed_by_its_holder_only(store).await;
    a_bump_gives_each_guard_its_own_ttl(store).await;
}

/// `renew` keeps a held lease past its first ttl, but only for the token
/// holding it; a lease that expired is not brought back.
pub async fn a_lease_is_renewed_by_its_holder_only<S: CacheStore>(store: &S) {
    let (key, _) = keys(12);
    let lease = Lease { key: format!("{key}:lease"), token: 51 };
    let short = Duration::from_millis(100);
    let lease_guard = |lease: &Lease| vec![lease.key.clone()];
    assert!(store.lease(&lease, short, &key, &[]).await.expect("lease").0);
    assert!(!store.renew(&Lease { key: lease.key.clone(), token: 52 }, TTL).await.expect("renew"), "not its holder");
    assert!(store.renew(&lease, Duration::from_millis(400)).await.expect("renew"), "its holder");
    tokio::time::sleep(Duration::from_millis(250)).await;
    let read = store.read(&key, &lease_guard(&lease)).await.expect("read");
    assert_eq!(read.guards, vec![Some(51)], "still held past its first ttl");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!store.renew(&lease, TTL).await.expect("renew"), "an expired lease is not brought back");
    assert_eq!(store.read(&key, &lease_guard(&lease)).await.expect("read").guards, vec![None]);
}

/// Each guard of one bump lives as long as it was told (a read family's
/// guards as long as that family's entries), not the longest of the call.
pub async fn a_bump_gives_each_guard_its_own_ttl<S: CacheStore>(store: &S) {
    let (_, guards) = keys(13);
    let bumped = [(guards[0].clone(), 21), (guards[1].clone(), 22)];
    store.bump(&bumped, &[], &[Duration::from_millis(50), TTL]).await.expect("bump");
    // Waits for the short one to go (an event, however slow the machine).
    let mut left = store.read("conf:{user:13}:none", &guards).await.expect("read").guards;
    for _ in 0..200 {
        if left[0].is_none() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
        left = store.read("conf:{user:13}:none", &guards).await.expect("read").guards;
    }
    assert_eq!(left, vec![None, Some(22)], "the short-lived guard went, the other stays");
}

/// A lease reads like a guard while held; the store of its fetch (stored
/// or rejected) and `release` end it, but only while it holds their token.
pub async fn a_lease_ends_with_its_store_or_its_release_only<S: CacheStore>(store: &S) {
    let (key, guards) = keys(10);
    let lease = Lease { key: format!("{key}:lease:1"), token: 41 };
    let with_lease = |guards: &[String]| guards.iter().cloned().chain([lease.key.clone()]).collect::<Vec<_>>();
    let taken = store.init_guards(&guards, &[1, 2], TTL).await.expect("init");
    let take =
        |lease: Lease| async move { store.lease(&lease, TTL, "conf:{user:10}:none", &[]).await.expect("lease").0 };
    assert!(take(lease.clone()).await);
    assert_eq!(store.read(&key, &with_lease(&guards)).await.expect("read").guards[2], Some(41), "held");
    store.store_if_current(&key, Bytes::from_static(b"v"), TTL, &guards, &taken, Some(&lease)).await.expect("store");
    assert_eq!(store.read(&key, &with_lease(&guards)).await.expect("read").guards[2], None, "ended by the store");

    assert!(take(lease.clone()).await);
    store.bump(&[(guards[0].clone(), 3)], &[], &[TTL]).await.expect("bump");
    let rejected = store
        .store_if_current(&key, Bytes::from_static(b"old"), TTL, &guards, &taken, Some(&lease))
        .await
        .expect("store");
    assert_eq!(rejected, StoreOutcome::Rejected);
    assert!(take(Lease { key: lease.key.clone(), token: 42 }).await, "ended by the rejected store too");

    // Token 42 holds it now: the fetch of token 41 cannot end it any more.
    store.release(&lease).await.expect("release");
    store.store_if_current(&key, Bytes::from_static(b"x"), TTL, &guards, &[3, 2], Some(&lease)).await.expect("store");
    assert_eq!(store.read(&key, &with_lease(&guards)).await.expect("read").guards[2], Some(42), "not 41's to end");
    store.release(&Lease { key: lease.key.clone(), token: 42 }).await.expect("release");
    assert_eq!(store.read(&key, &with_lease(&guards)).await.expect("read").guards[2], None, "released by its holder");
}

/// A guard created with a short life is extended by an entry stored under
/// it, so the entry is not lost before its own ttl.
pub async fn a_store_makes_its_guards_live_as_long_as_the_entry<S: CacheStore>(store: &S) {
    let (key, guards) = keys(11);
    let taken = store.init_guards(&guards, &[1, 2], Duration::from_millis(100)).await.expect("init");
    store.store_if_current(&key, Bytes::from_static(b"v"), TTL, &guards, &taken, None).await.expect("store");
    tokio::time::sleep(Duration::from_millis(250)).await;
    let snapshot = store.read(&key, &guards).await.expect("read");
    assert_eq!((snapshot.value.as_deref(), snapshot.guards), (Some(&b"v"[..]), vec![Some(1), Some(2)]));
}

/// Entries and guards live as long as they were told to, no longer.
pub async fn entries_and_guards_expire_after_their_ttl<S: CacheStore>(store: &S) {
    let (key, guards) = keys(9);
    let short = Duration::from_millis(100);
    let taken = store.init_guards(&guards, &[5, 6], short).await.expect("init");
    store.store_if_current(&key, Bytes::from_static(b"nine"), short, &guards, &taken, None).await.expect("store");
    let before = store.read(&key, &guards).await.expect("read");
    assert_eq!((before.value.as_deref(), before.guards), (Some(&b"nine"[..]), vec![Some(5), Some(6)]));
    tokio::time::sleep(Duration::from_millis(250)).await;
    let after = store.read(&key, &guards).await.expect("read");
    assert_eq!((after.value, after.guards), (None, vec![None, None]), "gone after their ttl");
    assert_eq!(store.init_guards(&guards, &[7, 8], TTL).await.expect("init"), vec![7, 8], "expired guards are absent");
}

/// `read_many` answers as one `read` per pair would.
pub async fn read_many_answers_as_reads_do<S: CacheStore>(store: &S) {
    let (key, guards) = keys(8);
    let taken = store.init_guards(&guards, &[3, 4], TTL).await.expect("init");
    store.store_if_current(&key, Bytes::from_static(b"eight"), TTL, &guards, &taken, None).await.expect("store");
    // Another entry of the same user: one call reads one user's keys (one slot).
    let (absent_key, absent_guards) = ("conf:{user:8}:other".to_owned(), vec!["conf:{user:8}:gen:other".to_owned()]);
    let reads = vec![(key.clone(), guards.clone()), (absent_key.clone(), absent_guards.clone()), (key.clone(), vec![])];
    let many = store.read_many(&reads).await.expect("read_many");
    assert_eq!(many.len(), 3);
    assert_eq!(many[0], store.read(&key, &guards).await.expect("read"));
    assert_eq!(many[1], store.read(&absent_key, &absent_guards).await.expect("read"));
    assert_eq!(many[2].value.as_deref(), Some(&b"eight"[..]));
    assert!(many[2].guards.is_empty());
}

/// A lease is taken by one caller until it expires, and whoever asks for
/// it reads the entry and its guards in the same step.
pub async fn leases_are_exclusive_until_they_expire<S: CacheStore>(store: &S) {
    let (key, guards) = keys(7);
    let lease = |token: u64| Lease { key: format!("{key}:lease"), token };
    let hold = Duration::from_millis(100);
    let (first, empty) = store.lease(&lease(1), hold, &key, &guards).await.expect("lease");
    assert!(first, "the first caller gets it");
    assert_eq!((empty.value, empty.guards), (None, vec![None, None]));
    let taken = store.init_guards(&guards, &[3, 4], TTL).await.expect("init");
    store.store_if_current(&key, Bytes::from_static(b"seven"), TTL, &guards, &taken, None).await.expect("store");
    let (second, found) = store.lease(&lease(2), hold, &key, &guards).await.expect("lease");
    assert!(!second, "the second does not");
    assert_eq!((found.value.as_deref(), found.guards), (Some(&b"seven"[..]), vec![Some(3), Some(4)]), "read with it");
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert!(store.lease(&lease(3), hold, &key, &guards).await.expect("lease").0, "free again once it expired");
}

/// A key and guards never written read as absent.
pub async fn absent_reads_empty<S: CacheStore>(store: &S) {
    let (key, guards) = keys(1);
    let snapshot = store.read(&key, &guards).await.expect("read");
    assert_eq!(snapshot.value, None);
    assert_eq!(snapshot.guards, vec![None, None]);
}

/// `init_guards` leaves present guards alone.
pub async fn init_sets_only_absent_guards<S: CacheStore>(store: &S) {
    let (_, guards) = keys(2);
    store.bump(&[(guards[0].clone(), 7)], &[], &[TTL]).await.expect("bump");
    let current = store.init_guards(&guards, &[100, 200], TTL).await.expect("init");
    assert_eq!(current, vec![7, 200], "a present guard is kept, an absent one set");
    let again = store.init_guards(&guards, &[300, 400], TTL).await.expect("init");
    assert_eq!(again, vec![7, 200], "init never overwrites");
}

/// A store under old generations is refused (the stale-set race).
pub async fn conditional_store_and_the_stale_set_race<S: CacheStore>(store: &S) {
    let (key, guards) = keys(3);
    let taken = store.init_guards(&guards, &[1, 2], TTL).await.expect("init");
    let stored =
        store.store_if_current(&key, Bytes::from_static(b"v1"), TTL, &guards, &taken, None).await.expect("store");
    assert_eq!(stored, StoreOutcome::Stored);
    assert_eq!(store.read(&key, &guards).await.expect("read").value.as_deref(), Some(&b"v1"[..]));
    // A writer invalidates after a reader took the generations...
    store.bump(&[(guards[1].clone(), 99)], std::slice::from_ref(&key), &[TTL]).await.expect("bump");
    // ...so the reader's late store of its older value is refused.
    let late =
        store.store_if_current(&key, Bytes::from_static(b"old"), TTL, &guards, &taken, None).await.expect("store");
    assert_eq!(late, StoreOutcome::Rejected);
    let snapshot = store.read(&key, &guards).await.expect("read");
    assert_eq!(snapshot.value, None, "the rejected value was not written");
    assert_eq!(snapshot.guards, vec![Some(1), Some(99)]);
}

/// A bump changes the generations and deletes the keys it names.
pub async fn bump_deletes_and_changes_generations<S: CacheStore>(store: &S) {
    let (key, guards) = keys(4);
    let taken = store.init_guards(&guards, &[5, 6], TTL).await.expect("init");
    store.store_if_current(&key, Bytes::from_static(b"x"), TTL, &guards, &taken, None).await.expect("store");
    store
        .bump(&[(guards[0].clone(), 55), (guards[1].clone(), 66)], std::slice::from_ref(&key), &[TTL, TTL])
        .await
        .expect("bump");
    let snapshot = store.read(&key, &guards).await.expect("read");
    assert_eq!(snapshot.value, None);
    assert_eq!(snapshot.guards, vec![Some(55), Some(66)]);
}

/// Generations round-trip exactly, up to `u64::MAX`.
pub async fn large_generations_are_exact<S: CacheStore>(store: &S) {
    let (key, guards) = keys(5);
    // Above 2^53 a float comparison would confuse these two.
    let (high, neighbour) = (u64::MAX - 1, u64::MAX - 2);
    store.bump(&[(guards[0].clone(), high), (guards[1].clone(), high)], &[], &[TTL, TTL]).await.expect("bump");
    let refused = store
        .store_if_current(&key, Bytes::from_static(b"x"), TTL, &guards, &[high, neighbour], None)
        .await
        .expect("store");
    assert_eq!(refused, StoreOutcome::Rejected);
    let stored =
        store.store_if_current(&key, Bytes::from_static(b"y"), TTL, &guards, &[high, high], None).await.expect("store");
    assert_eq!(stored, StoreOutcome::Stored);
    assert_eq!(store.read(&key, &guards).await.expect("read").guards, vec![Some(high), Some(high)]);
}

/// `delete` removes the entry.
pub async fn delete_removes<S: CacheStore>(store: &S) {
    let (key, guards) = keys(6);
    let taken = store.init_guards(&guards, &[1, 1], TTL).await.expect("init");
    store.store_if_current(&key, Bytes::from_static(b"x"), TTL, &guards, &taken, None).await.expect("store");
    store.delete(&key).await.expect("delete");
    assert_eq!(store.read(&key, &guards).await.expect("read").value, None);
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn memory_store_conforms() {
        super::run_all(&crate::MemoryStore::new(1 << 20)).await;
    }
}
