//! Connection diagnostics: a first PostgreSQL connection that reports why it
//! failed, and one-line reasons without the password (masked by
//! `macrotrack-redact`, the one rule URLs are shown by).

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
    macrotrack_redact::scrub(&one_line(reason), url)
}

pub(crate) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_one_line_and_scrubbed() {
        let url = "postgres://app:hunter2@db/macro";
        assert_eq!(scrub("bad\n  password hunter2\tfor app", url), "bad password *** for app");
        let refused = sqlx::Error::Io(std::io::Error::from(ErrorKind::ConnectionRefused));
        assert_eq!(sqlx_reason(&refused, url), "connection refused");
    }
}
