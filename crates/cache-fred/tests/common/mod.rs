//! Shared by the test binaries: a store on the test Redis with a key prefix
//! of its own, and a raw fred client for what the port cannot do.

#![allow(dead_code)] // each test binary uses a different part

use std::time::Duration;

use fred::prelude::{Builder, Client, ClientLike, Config};
use macrotrack_cache_fred::{RedisConfig, RedisStore};
use macrotrack_testkit::{redis_url, skip_or_fail, unique_name};

pub const TTL: Duration = Duration::from_secs(60);

/// A config for `url` with a fresh key prefix.
pub fn config(url: &str) -> RedisConfig {
    let mut config = RedisConfig::new(url);
    config.key_prefix = format!("{}:", unique_name("cachefred"));
    config
}

/// A store on the shared test Redis; `None` (after `skip_or_fail`) when it
/// does not answer.
pub async fn store() -> Option<RedisStore> {
    connect(config(&redis_url())).await
}

pub async fn connect(config: RedisConfig) -> Option<RedisStore> {
    match RedisStore::connect(config).await {
        Ok(store) => Some(store),
        Err(error) => {
            skip_or_fail("Redis", error);
            None
        }
    }
}

/// A plain fred client, for SCRIPT FLUSH and looking at raw keys.
pub async fn raw_client(url: &str) -> Client {
    let client = Builder::from_config(Config::from_url(url).expect("url")).build().expect("client");
    client.init().await.expect("raw client connects");
    client
}

/// A user's entry key and guard keys, shaped like the real ones.
pub fn keys(user: u64) -> (String, Vec<String>) {
    let scope = format!("macro:{{user:{user}}}");
    (
        format!("{scope}:logs:2026-11-24"),
        vec![format!("{scope}:gen:logs:2026-11-24"), format!("{scope}:tag:user_{user}")],
    )
}
