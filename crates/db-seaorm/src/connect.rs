//! Connection diagnostics: a first PostgreSQL connection that reports why it
//! failed, one-line reasons, and URLs with their passwords removed.

use std::io::ErrorKind;
use std::time::Duration;

use sea_orm::sqlx::postgres::{PgConnectOptions, PgConnection};
use sea_orm::sqlx::{self, Connection};
use sea_orm::{DbErr, RuntimeErr};
use tokio::time::{Instant, sleep, timeout_at};

/// Opens and closes one PostgreSQL connection within `within`. The pool
/// retries a refused connection until its deadline and then reports only
/// "timed out"; this does the same retrying (the server may be starting)
/// but remembers the cause, so `connect` can say "connection refused".
pub(crate) async fn probe_postgres(url: &str, within: Duration) -> Result<(), String> {
    let options: PgConnectOptions = url.parse().map_err(|error| sqlx_reason(&error, url))?;
    let deadline = Instant::now() + within;
    let mut backoff = Duration::from_millis(50);
    loop {
        match timeout_at(deadline, PgConnection::connect_with(&options)).await {
            Ok(Ok(connection)) => {
                let _ = connection.close().await;
                return Ok(());
            }
            Ok(Err(sqlx::Error::Io(error)))
                if error.kind() == ErrorKind::ConnectionRefused && Instant::now() + backoff < deadline =>
            {
                sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(1));
            }
            Ok(Err(error)) => return Err(sqlx_reason(&error, url)),
            Err(_) => return Err(format!("timed out after {within:?}")),
        }
    }
}

/// Why the pool could not be built.
pub(crate) fn db_reason(error: &DbErr, url: &str) -> String {
    match error {
        DbErr::Conn(RuntimeErr::SqlxError(error)) => sqlx_reason(error, url),
        other => scrub(&other.to_string(), url),
    }
}

/// The part of a driver error a person can act on, on one line and without
/// the password even if a driver echoed it.
fn sqlx_reason(error: &sqlx::Error, url: &str) -> String {
    let reason = match error {
        // "Connection refused (os error 111)" reads as "connection refused".
        sqlx::Error::Io(io) => {
            let text = io.to_string();
            let text = text.split(" (os error").next().unwrap_or_default();
            let mut chars = text.chars();
            chars.next().map(|first| first.to_lowercase().chain(chars).collect()).unwrap_or_default()
        }
        sqlx::Error::Database(database) => database.message().to_owned(),
        sqlx::Error::PoolTimedOut => "timed out".to_owned(),
        other => other.to_string(),
    };
    scrub(&reason, url)
}

fn scrub(reason: &str, url: &str) -> String {
    let reason = one_line(reason);
    match password(url) {
        Some(secret) if !secret.is_empty() => reason.replace(secret, "***"),
        _ => reason,
    }
}

pub(crate) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The userinfo password of a URL, if any.
fn password(url: &str) -> Option<&str> {
    let (_, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let (userinfo, _) = authority.rsplit_once('@')?;
    userinfo.split_once(':').map(|(_, password)| password)
}

/// The URL without its password: `postgres://user:secret@host/db` becomes
/// `postgres://user@host/db`, and a `password=` query parameter is dropped.
pub(crate) fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
            format!("{user}@{host}")
        }
        None => authority.to_owned(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let kept: Vec<&str> =
                query.split('&').filter(|pair| !pair.to_ascii_lowercase().starts_with("password=")).collect();
            if kept.is_empty() { path.to_owned() } else { format!("{path}?{}", kept.join("&")) }
        }
        None => tail.to_owned(),
    };
    format!("{scheme}://{authority}{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords_only() {
        let cases = [
            ("postgres://app:s3cr%40t@db.example:5432/macro", "postgres://app@db.example:5432/macro"),
            ("postgres://app@localhost/macro", "postgres://app@localhost/macro"),
            (
                "postgres://localhost/macro?user=app&password=hunter2&sslmode=require",
                "postgres://localhost/macro?user=app&sslmode=require",
            ),
            ("postgresql://a:b@h", "postgresql://a@h"),
            ("sqlite://data/macrotrack.db?mode=rwc", "sqlite://data/macrotrack.db?mode=rwc"),
            ("sqlite::memory:", "sqlite::memory:"),
        ];
        for (url, shown) in cases {
            assert_eq!(redact_url(url), shown, "{url}");
        }
        assert_eq!(password("postgres://app:s3cr%40t@db/macro"), Some("s3cr%40t"));
        assert_eq!(password("postgres://app@db/macro"), None);
    }

    #[test]
    fn reasons_are_one_line_and_scrubbed() {
        let url = "postgres://app:hunter2@db/macro";
        assert_eq!(scrub("bad\n  password hunter2\tfor app", url), "bad password *** for app");
        let refused = sqlx::Error::Io(std::io::Error::from(ErrorKind::ConnectionRefused));
        assert_eq!(sqlx_reason(&refused, url), "connection refused");
    }
}
