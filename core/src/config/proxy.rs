//! `openapi-server-proxy-uri`: where clients reach the API when a proxy sits in front of it
//! (port of PostgREST's `Config.Proxy` and `proxyUri`). It gives the document's `schemes`,
//! `host` and `basePath`; without it they come from `server-host`/`server-port`.

use super::Config;

/// The parts of an accepted proxy URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyUri {
    /// lowercase `http` or `https`
    pub scheme: String,
    pub host: String,
    pub port: u16,
    /// `/` when the URI has no path
    pub path: String,
}

impl ProxyUri {
    /// PostgREST's `isMalformedProxyUri` and `pickProxy` in one: an absolute http(s) URI
    /// with a host, an optional port in 1..65535, and neither user info, query nor fragment.
    pub fn parse(uri: &str) -> Option<ProxyUri> {
        let (scheme, rest) = uri.split_once("://")?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return None;
        }
        // a fragment makes the URI not absolute; a query is refused explicitly
        if rest.contains('#') || rest.contains('?') {
            return None;
        }
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        if authority.contains('@') {
            return None;
        }
        // the port follows the last ':' that is not inside an IPv6 literal
        let (host, port) = match authority.rfind(':') {
            Some(i) if !authority[i..].contains(']') => (&authority[..i], Some(&authority[i + 1..])),
            _ => (authority, None),
        };
        if host.is_empty() {
            return None;
        }
        let port = match port {
            None if scheme == "https" => 443,
            None => 80,
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => match p.parse::<u32>() {
                Ok(n) if (1..65536).contains(&n) => n as u16,
                _ => return None,
            },
            _ => return None,
        };
        let path = if path.is_empty() { "/".to_string() } else { path.to_string() };
        Some(ProxyUri { scheme, host: host.to_string(), port, path })
    }

    /// PostgREST's `proxyUri`: the configured proxy, else `http://server-host:server-port/`.
    /// The host goes through `escapeHostName` either way.
    pub fn of_config(config: &Config) -> ProxyUri {
        let uri = config.openapi_server_proxy_uri.clone();
        let mut uri = uri.unwrap_or_else(|| ProxyUri {
            scheme: "http".into(),
            host: config.server_host.clone(),
            port: config.server_port,
            path: "/".into(),
        });
        if matches!(uri.host.as_str(), "*" | "*4" | "!4" | "*6" | "!6") {
            uri.host = "0.0.0.0".into();
        }
        uri
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_http_and_https_with_and_without_port() {
        assert_eq!(
            ProxyUri::parse("https://postgrest.com:8080/openapi.json"),
            Some(ProxyUri { scheme: "https".into(), host: "postgrest.com".into(), port: 8080, path: "/openapi.json".into() })
        );
        assert_eq!(
            ProxyUri::parse("HTTP://example.com"),
            Some(ProxyUri { scheme: "http".into(), host: "example.com".into(), port: 80, path: "/".into() })
        );
        assert_eq!(ProxyUri::parse("https://example.com/api").map(|u| u.port), Some(443));
        assert_eq!(ProxyUri::parse("http://[::1]:3000/").map(|u| (u.host, u.port)), Some(("[::1]".into(), 3000)));
    }

    #[test]
    fn refuses_malformed_uris() {
        for bad in [
            "ftp://example.com",
            "example.com",
            "http://",
            "http://user@example.com",
            "http://example.com?x=1",
            "http://example.com#x",
            "http://example.com:0",
            "http://example.com:65536",
            "http://example.com:",
            "http://example.com:8a",
        ] {
            assert_eq!(ProxyUri::parse(bad), None, "{bad}");
        }
    }
}
