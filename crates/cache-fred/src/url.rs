//! Turning the configured URL into a fred `Config`.
//!
//! fred spells extra cluster nodes as `?node=host:port` query parameters; the
//! deployment spells them `redis-cluster://h1:p1,h2:p2`. Both are accepted.

use fred::types::config::Config;

const CLUSTER_SCHEME: &str = "redis-cluster://";

/// Parses `redis://host:port[/db]` or `redis-cluster://h1:p1,h2:p2,...`.
pub(crate) fn parse(url: &str) -> Result<Config, String> {
    let url = url.trim();
    // TLS, sentinel and unix sockets would need fred features this build lacks.
    if !url.starts_with("redis://") && !url.starts_with(CLUSTER_SCHEME) {
        return Err("the scheme must be redis:// or redis-cluster://".to_owned());
    }
    Config::from_url(&rewrite_cluster_list(url)).map_err(|error| error.details().to_owned())
}

/// `redis-cluster://[userinfo@]h1:p1,h2:p2[?query]` becomes
/// `redis-cluster://[userinfo@]h1:p1?node=h2:p2[&query]`; anything else is
/// returned unchanged.
fn rewrite_cluster_list(url: &str) -> String {
    let Some(rest) = url.strip_prefix(CLUSTER_SCHEME) else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let (userinfo, hosts) = match authority.rsplit_once('@') {
        Some((userinfo, hosts)) => (Some(userinfo), hosts),
        None => (None, authority),
    };
    let mut hosts = hosts.split(',').map(str::trim).filter(|h| !h.is_empty());
    let Some(first) = hosts.next() else {
        return url.to_owned();
    };
    let others: Vec<String> = hosts.map(|h| format!("node={h}")).collect();
    if others.is_empty() {
        return url.to_owned();
    }
    // A cluster ignores the database path; keep only the query.
    let query = tail.find('?').map(|at| &tail[at + 1..]).filter(|q| !q.is_empty());
    let mut out = String::from(CLUSTER_SCHEME);
    if let Some(userinfo) = userinfo {
        out.push_str(userinfo);
        out.push('@');
    }
    out.push_str(first);
    out.push('?');
    out.push_str(&others.join("&"));
    if let Some(query) = query {
        out.push('&');
        out.push_str(query);
    }
    out
}

/// The URL as errors and logs show it: masked by the one rule
/// (`macrotrack-redact`), after the host list became `?node=` parameters,
/// which the URL parser reads (a comma list is no URL to it).
pub(crate) fn redact(url: &str) -> String {
    macrotrack_redact::redact_url(&rewrite_cluster_list(url.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_comma_list_becomes_node_parameters() {
        assert_eq!(
            rewrite_cluster_list("redis-cluster://u:p@a:7000,b:7001, c:7002"),
            "redis-cluster://u:p@a:7000?node=b:7001&node=c:7002"
        );
        assert_eq!(rewrite_cluster_list("redis-cluster://a:7000"), "redis-cluster://a:7000");
        assert_eq!(rewrite_cluster_list("redis://a:6379/2"), "redis://a:6379/2");
    }

    #[test]
    fn cluster_urls_parse_to_every_node() {
        let config = parse("redis-cluster://a:7000,b:7001,c:7002").unwrap();
        assert!(config.server.is_clustered());
        let mut ports: Vec<u16> = config.server.hosts().iter().map(|s| s.port).collect();
        ports.sort_unstable();
        assert_eq!(ports, [7000, 7001, 7002]);
    }

    #[test]
    fn centralized_urls_keep_their_database() {
        let config = parse("redis://127.0.0.1:6380/3").unwrap();
        assert!(config.server.is_centralized());
        assert_eq!(config.database, Some(3));
    }

    #[test]
    fn garbage_is_refused() {
        assert!(parse("not a url").is_err());
        assert!(parse("http://127.0.0.1:6379").is_err());
        assert!(parse("rediss://127.0.0.1:6379").is_err());
        assert!(parse("redis://host:notaport").is_err());
    }

    #[test]
    fn credentials_are_redacted() {
        assert_eq!(redact("redis://user:secret@h:1/0"), "redis://user:***@h:1/0");
        assert_eq!(redact("redis://h:1"), "redis://h:1");
        assert_eq!(redact("redis-cluster://:pw@a:1,b:2"), "redis-cluster://:***@a:1?node=b:2");
    }
}
