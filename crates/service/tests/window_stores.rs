//! The window of cached dates on real stores (in process and Redis), over a
//! real repository: 2,000 dates outside it, read every way a date is read
//! (the hot read, the day screen, schedule, week, summary, streak), leave
//! the store holding exactly the keys it held; reads inside it are still
//! cached and still invalidated; and on Redis every guard expires within
//! its family's entry lifetime.

use std::sync::Arc;
use std::time::Duration;

use fred::clients::Client;
use fred::prelude::{Builder, ClientLike, Config};
use fred::types::{ClusterHash, CustomCommand, Value};
use macrotrack_cache::{Engine, EngineConfig, MemoryStore, Outcome};
use macrotrack_cache_fred::{RedisConfig, RedisStore};
use macrotrack_cache_keys::ReadFamily;
use macrotrack_db_seaorm::{DbConfig, SeaOrmRepository};
use macrotrack_domain::{Amount, Day, FoodId, LogAmount, LogItem, Meal, NewLogEntry};
use macrotrack_ports::{CacheStore, Clock, SystemClock};
use macrotrack_service::{Policies, ReadAhead, Repositories, Service};
use macrotrack_testkit::{redis_url, skip_or_fail, unique_name};

const DATES: i64 = 2000;

async fn service_over<S: CacheStore>(store: S) -> Service<S> {
    let repository = SeaOrmRepository::connect(&DbConfig::new("sqlite::memory:")).await.expect("sqlite");
    repository.migrate().await.expect("migrations");
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let policies = Policies::default();
    let config = EngineConfig { guard_ttls: policies.guard_ttls(), ..EngineConfig::default() };
    Service::new(Repositories::from_one(repository), Engine::new(store, clock.clone(), config), clock, policies)
}

fn lunch(date: Day, food: i64) -> NewLogEntry {
    NewLogEntry {
        date,
        meal: Meal::Lunch,
        item: LogItem::Food(FoodId(food)),
        amount: LogAmount::Servings(Amount::from_hundredths(100)),
    }
}

/// Reads 2,000 dates outside the window every way; answers how many keys
/// the store gained (`keys` counts them). Then reads inside it are shown
/// cached and invalidated.
async fn keys_left_by_dates_outside<S: CacheStore>(service: &Service<S>, keys: impl AsyncFn() -> usize) -> i64 {
    let created = service.create_user("far dates").await.expect("a user");
    let (user, token) = (created.user.id, created.token);
    let today = service.today();
    // What the day screen reads besides its date is cached already.
    service.me(user).await.unwrap();
    service.streak(user, today).await.unwrap();
    service.authenticate(&token).await.unwrap();

    let before = keys().await;
    for n in 0..DATES {
        // As far back as the calendar goes, and as far ahead.
        let date = if n % 2 == 0 {
            Day::new(Day::MIN).unwrap().plus_days(n)
        } else {
            Day::new(Day::MAX).unwrap().plus_days(-n)
        };
        let date = date.unwrap();
        assert!(today.days_until(date).abs() > 400);
        let (day, _) = service.authenticated_day_logs_json(&token, date).await.expect("the token");
        day.expect("the day");
        let ahead = [ReadAhead::Dashboard { date, today: Some(today) }];
        service
            .authenticated(&token, &ahead, async |user| service.dashboard(user, date, today).await)
            .await
            .unwrap()
            .unwrap();
        service.schedule_day(user, date).await.unwrap();
        service.week(user, date.min("2200-12-25".parse().unwrap())).await.unwrap();
        service.summary(user, date, date).await.unwrap();
        service.streak(user, date).await.unwrap();
    }
    let added = keys().await as i64 - before as i64;

    // Inside the window: cached (a second read hits) and invalidated (a
    // write is seen at once).
    let (first, report) = service.reported(service.day_logs(user, today)).await;
    assert!(first.unwrap().entries.is_empty());
    assert_eq!(report.reads[0].outcome, Outcome::Miss);
    let (_, report) = service.reported(service.day_logs(user, today)).await;
    assert_eq!(report.reads[0].outcome, Outcome::Hit, "today's logs are cached");
    assert!(keys().await > before, "today's logs were stored");
    service.create_log_entries(user, vec![lunch(today, 1)]).await.unwrap();
    assert_eq!(service.day_logs(user, today).await.unwrap().entries.len(), 1, "the write is read back");
    added
}

#[tokio::test]
async fn dates_outside_the_window_leave_no_key_in_process() {
    let store = MemoryStore::new(64 << 20);
    let counted = store.clone();
    let service = service_over(store).await;
    let added = keys_left_by_dates_outside(&service, async || counted.len()).await;
    assert_eq!(added, 0, "keys added by {DATES} dates outside the window");
}

/// A client of the test's own, for KEYS and PTTL under its prefix.
async fn raw_redis() -> Client {
    let raw = Builder::from_config(Config::from_url(&redis_url()).expect("url")).build().expect("a client");
    raw.init().await.expect("a raw connection");
    raw
}

async fn keys_under(raw: &Client, prefix: &str) -> Vec<String> {
    let command = CustomCommand::new_static("KEYS", ClusterHash::Random, false);
    let found: Value = raw.custom(command, vec![format!("{prefix}*")]).await.expect("KEYS");
    found.into_array().into_iter().filter_map(|key| key.into_string()).collect()
}

async fn redis_service(name: &str) -> Option<(Service<RedisStore>, Client, String)> {
    let prefix = format!("{}:", unique_name(name));
    let config = RedisConfig { key_prefix: prefix.clone(), ..RedisConfig::new(redis_url()) };
    let store = match RedisStore::connect(config).await {
        Ok(store) => store,
        Err(error) => {
            skip_or_fail("Redis", error);
            return None;
        }
    };
    Some((service_over(store).await, raw_redis().await, prefix))
}

#[tokio::test]
async fn dates_outside_the_window_leave_no_key_on_redis() {
    let Some((service, raw, prefix)) = redis_service("window_keys").await else { return };
    let added = keys_left_by_dates_outside(&service, async || keys_under(&raw, &prefix).await.len()).await;
    assert_eq!(added, 0, "keys added by {DATES} dates outside the window");
}

/// Every guard a read or a write made lives at most as long as its
/// family's entries can (the user's epoch: the longest); none is left for
/// hours by a family whose entries live minutes.
#[tokio::test]
async fn guards_on_redis_expire_with_their_familys_entries() {
    let Some((service, raw, prefix)) = redis_service("window_guards").await else { return };
    let user = service.create_user("guards").await.expect("a user").user.id;
    let today = service.today();
    service.dashboard(user, today, today).await.unwrap();
    service.week(user, today).await.unwrap();
    service.summary(user, today, today).await.unwrap();
    service.frequent_foods(user, None).await.unwrap();
    service.create_log_entries(user, vec![lunch(today, 1)]).await.unwrap();
    service.complete_day(user, today).await.unwrap();

    let policies = Policies::default();
    let mut families = Vec::new();
    for key in keys_under(&raw, &prefix).await {
        let family = match key.split(":gen:").nth(1) {
            Some(rest) => {
                let label = rest.split(':').next().unwrap_or_default();
                Some(ReadFamily::ALL.into_iter().find(|family| family.label() == label).expect("a family"))
            }
            None if key.ends_with(":epoch") => None,
            None => continue, // an entry
        };
        // An epoch is made by the first read that finds it absent, to live as
        // long as that read's entries (here the day screen's, 5 h); entries
        // that live longer (the catalogue's) are fetched again once it is
        // gone, as a remade guard never holds an old generation.
        let epoch_made_by_reads = policies.of(ReadFamily::Me).lifetime();
        let lifetime = family.map_or(epoch_made_by_reads, |family| policies.of(family).lifetime());
        let command = CustomCommand::new_static("PTTL", ClusterHash::FirstKey, false);
        let left: Value = raw.custom(command, vec![key.clone()]).await.expect("PTTL");
        let left = Duration::from_millis(u64::try_from(left.as_i64().expect("a number")).expect("a ttl"));
        assert!(left <= lifetime, "{key} lives {left:?} more, its entries at most {lifetime:?}");
        assert!(left + Duration::from_secs(60) > lifetime, "{key} lives {left:?} more, far less than {lifetime:?}");
        families.extend(family);
    }
    for family in [ReadFamily::Logs, ReadFamily::Me, ReadFamily::Schedule, ReadFamily::Week, ReadFamily::Summary] {
        assert!(families.contains(&family), "no guard of {family:?} was found");
    }
    assert!(families.contains(&ReadFamily::Streak) && families.contains(&ReadFamily::FrequentFoods));
}
