//! URLs and messages with their secrets taken out, for errors and logs:
//! the one rule every adapter shows a configured URL by (the database's and
//! Redis's alike), built on the `url` crate's parser rather than by hand.
//!
//! The rule: a URL's password (in its userinfo, or a `password` query
//! parameter) is shown as `***`; everything else, the user name included,
//! is kept so a person can tell which server was meant. A URL that does not
//! parse is not shown at all, since its secret could be anywhere in it.

#![warn(missing_docs)]

use url::Url;

/// What stands for a secret.
pub const MASK: &str = "***";

/// Shown instead of a URL the parser refuses.
pub const UNPARSABLE: &str = "<unparsable URL>";

/// Query parameters that carry a password (compared case-insensitively).
const SECRET_PARAMETERS: [&str; 2] = ["password", "passwd"];

fn is_secret_parameter(name: &str) -> bool {
    SECRET_PARAMETERS.iter().any(|secret| name.eq_ignore_ascii_case(secret))
}

/// `url` with its password masked: `postgres://app:s3cret@db/macro` is
/// shown as `postgres://app:***@db/macro`, `?password=s3cret` as
/// `?password=***`. A URL without a secret is returned as written.
pub fn redact_url(url: &str) -> String {
    let Ok(mut parsed) = Url::parse(url.trim()) else {
        return UNPARSABLE.to_owned();
    };
    let mut changed = false;
    if parsed.password().is_some() {
        // Fails only for URLs that cannot have a userinfo, which then have no password.
        changed |= parsed.set_password(Some(MASK)).is_ok();
    }
    if parsed.query_pairs().any(|(name, _)| is_secret_parameter(&name)) {
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(name, value)| {
                let value = if is_secret_parameter(&name) { MASK.to_owned() } else { value.into_owned() };
                (name.into_owned(), value)
            })
            .collect();
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
        changed = true;
    }
    if changed { parsed.into() } else { url.trim().to_owned() }
}

/// The secrets of `url` as they may appear in a driver's message: each as
/// written in the URL and percent-decoded. Empty when the URL has none or
/// does not parse.
pub fn secrets(url: &str) -> Vec<String> {
    let Ok(parsed) = Url::parse(url.trim()) else {
        return Vec::new();
    };
    let mut found: Vec<String> = Vec::new();
    if let Some(password) = parsed.password() {
        found.push(password.to_owned());
        if let Ok(decoded) = percent_encoding::percent_decode_str(password).decode_utf8() {
            found.push(decoded.into_owned());
        }
    }
    for (name, value) in parsed.query_pairs() {
        if is_secret_parameter(&name) {
            found.push(value.into_owned());
        }
    }
    found.retain(|secret| !secret.is_empty());
    // Longest first, so a secret that contains another is masked whole.
    found.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    found.dedup();
    found
}

/// `text` (say, a driver's error message) with every secret of `url`
/// replaced by `***`, even if the driver echoed it.
pub fn scrub(text: &str, url: &str) -> String {
    secrets(url).iter().fold(text.to_owned(), |text, secret| text.replace(secret.as_str(), MASK))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_masked_and_the_rest_is_kept() {
        let cases = [
            ("postgres://app:s3cr%40t@db.example:5432/macro", "postgres://app:***@db.example:5432/macro"),
            ("postgres://app@localhost/macro", "postgres://app@localhost/macro"),
            (
                "postgres://localhost/macro?user=app&password=hunter2&sslmode=require",
                "postgres://localhost/macro?user=app&password=***&sslmode=require",
            ),
            ("postgresql://a:b@h", "postgresql://a:***@h"),
            ("redis://:secret@h:1/0", "redis://:***@h:1/0"),
            ("redis://user:secret@h:1/0", "redis://user:***@h:1/0"),
            ("redis://h:1", "redis://h:1"),
            ("redis-cluster://:pw@a:1?node=b:2", "redis-cluster://:***@a:1?node=b:2"),
            ("sqlite://data/macrotrack.db?mode=rwc", "sqlite://data/macrotrack.db?mode=rwc"),
            ("sqlite::memory:", "sqlite::memory:"),
        ];
        for (url, shown) in cases {
            assert_eq!(redact_url(url), shown, "{url}");
        }
    }

    #[test]
    fn what_does_not_parse_is_not_shown() {
        // A host list is no URL to the parser: its password must not leak either.
        assert_eq!(redact_url("redis-cluster://:pw@a:1,b:2"), UNPARSABLE);
        assert_eq!(redact_url("not a url with hunter2"), UNPARSABLE);
    }

    #[test]
    fn messages_lose_the_secrets_in_both_spellings() {
        let url = "postgres://app:s3cr%40t@db/macro?password=other";
        assert_eq!(secrets(url), ["s3cr%40t", "s3cr@t", "other"]);
        assert_eq!(scrub("auth failed for s3cr@t (and s3cr%40t, other)", url), "auth failed for *** (and ***, ***)");
        assert_eq!(scrub("no secret here", "postgres://app@db/macro"), "no secret here");
        assert!(secrets("not a url").is_empty());
    }
}
