//! The HTTP clients: one for fetches (reqwest) and one for deliveries ([`deliver`]). Both follow no
//! redirects, take no proxy from the environment, have timeouts, and resolve names through
//! [`resolve`], which refuses private addresses in production.

pub mod deliver;

use crate::{settings::FederationSettings, Error};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{IpAddr, SocketAddr};
use url::Url;

/// The `User-Agent` both clients send.
pub fn user_agent(settings: &FederationSettings) -> String {
    format!(
        "Copse/{} (+{}://{})",
        env!("CARGO_PKG_VERSION"),
        if settings.debug { "http" } else { "https" },
        settings.domain
    )
}

/// Builds the fetch client for these settings.
pub fn client(settings: &FederationSettings) -> Result<reqwest::Client, Error> {
    let mut builder = reqwest::Client::builder();
    for pem in extra_roots(settings)? {
        let root =
            reqwest::Certificate::from_pem(&pem).map_err(|e| Error::Crypto(e.to_string()))?;
        builder = builder.add_root_certificate(root);
    }
    builder
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(settings.request_timeout)
        .connect_timeout(settings.request_timeout)
        // A fan-out touches thousands of servers: keep one warm connection to each, not
        // dozens, or idle sockets pile up into the file descriptor limit.
        .pool_max_idle_per_host(1)
        .pool_idle_timeout(std::time::Duration::from_secs(30))
        .user_agent(user_agent(settings))
        .dns_resolver(std::sync::Arc::new(Resolver {
            debug: settings.debug,
        }))
        .build()
        .map_err(Error::from)
}

/// The certificates of `extra_roots_file`, each as PEM, or none without one.
pub(crate) fn extra_roots(settings: &FederationSettings) -> Result<Vec<Vec<u8>>, Error> {
    let Some(path) = &settings.extra_roots_file else {
        return Ok(Vec::new());
    };
    let all = std::fs::read(path)
        .map_err(|e| Error::Crypto(format!("extra roots {}: {e}", path.display())))?;
    let certs = openssl::x509::X509::stack_from_pem(&all)
        .map_err(|e| Error::Crypto(format!("extra roots {}: {e}", path.display())))?;
    certs
        .iter()
        .map(|c| c.to_pem().map_err(|e| Error::Crypto(e.to_string())))
        .collect()
}

/// True for addresses that must never be reached from a production server: loopback, private,
/// link-local, shared, documentation, multicast, and IPv6 forms of them.
pub fn is_forbidden_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
                || o[0] == 0
                || o[0] >= 240
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_forbidden_ip(IpAddr::V4(v4));
            }
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                // IPv4-compatible (::a.b.c.d), deprecated by RFC 4291 and never a real peer.
                || s[..6] == [0; 6]
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                // NAT64 (64:ff9b::/96) can reach IPv4 private space.
                || (s[0] == 0x64 && s[1] == 0xff9b)
        }
    }
}

/// Checks a remote URL before any connection: scheme, and (in production) no explicit port
/// and no forbidden IP literal.
pub fn check_remote_url(url: &Url, debug: bool) -> Result<(), Error> {
    match url.scheme() {
        "https" => {}
        "http" if debug => {}
        _ => return Err(Error::Url(format!("scheme not allowed: {url}"))),
    }
    let Some(host) = url.host() else {
        return Err(Error::Url("URL has no host".into()));
    };
    if !debug {
        if url.port().is_some() {
            return Err(Error::Url(
                "explicit ports are allowed only in debug mode".into(),
            ));
        }
        let ip = match host {
            url::Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
            url::Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
            url::Host::Domain(_) => None,
        };
        if ip.is_some_and(is_forbidden_ip) {
            return Err(Error::Url("address not allowed".into()));
        }
    }
    Ok(())
}

/// How long a `Retry-After` header asks to wait, at most a day: a number of seconds, or an
/// HTTP date (RFC 9110 allows both; a date in the past asks for no wait).
pub fn retry_after(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<std::time::Duration> {
    const DAY: u64 = 24 * 3600;
    let value = value.trim();
    let seconds = match value.parse::<u64>() {
        Ok(s) => s,
        Err(_) => {
            let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
            u64::try_from((at.with_timezone(&chrono::Utc) - now).num_seconds()).unwrap_or(0)
        }
    };
    Some(std::time::Duration::from_secs(seconds.min(DAY)))
}

/// Why a name gave no address to connect to.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// Every address of the name is one we refuse (loopback, private...): a permanent refusal,
    /// like an IP literal of such an address.
    #[error("{0} resolves to no allowed address")]
    Refused(String),
    /// The lookup itself failed, which may pass.
    #[error("{0}")]
    Lookup(String),
}

/// The addresses of `host`. In debug mode `localhost` and `*.localhost` are loopback (RFC 6761),
/// which gives each test instance its own hostname without touching /etc/hosts; in production
/// forbidden addresses are dropped, and a name with none left is refused.
pub async fn resolve(host: &str, debug: bool) -> Result<Vec<IpAddr>, ResolveError> {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if debug && (host == "localhost" || host.ends_with(".localhost")) {
        return Ok(vec![IpAddr::from([127, 0, 0, 1])]);
    }
    let found: Vec<IpAddr> = tokio::net::lookup_host((host.as_str(), 0))
        .await
        .map_err(|e| ResolveError::Lookup(format!("{host}: {e}")))?
        .map(|a| a.ip())
        .filter(|ip| debug || !is_forbidden_ip(*ip))
        .collect();
    if found.is_empty() {
        return Err(ResolveError::Refused(host));
    }
    Ok(found)
}

/// True when `e`, or an error it was caused by, is a refusal by [`resolve`].
pub fn is_refused_address(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(e);
    while let Some(e) = cause {
        if matches!(
            e.downcast_ref::<ResolveError>(),
            Some(ResolveError::Refused(_))
        ) {
            return true;
        }
        cause = e.source();
    }
    false
}

// Here rather than in error.rs, beside the resolver whose refusals it recognises.
impl From<reqwest::Error> for Error {
    fn from(e: reqwest::Error) -> Self {
        // A name that resolves only to refused addresses is refused for good, as an IP literal
        // of one is; any other failure to reach a server may pass.
        if is_refused_address(&e) {
            return Error::Url(format!("address not allowed: {e}"));
        }
        Error::Http(e.to_string())
    }
}

struct Resolver {
    debug: bool,
}

impl Resolve for Resolver {
    fn resolve(&self, name: Name) -> Resolving {
        let debug = self.debug;
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Addrs = Box::new(
                resolve(&host, debug)
                    .await?
                    .into_iter()
                    .map(|ip| SocketAddr::new(ip, 0)),
            );
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_special_addresses_are_forbidden() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "::ffff:127.0.0.1",
            "64:ff9b::7f00:1",
            "::127.0.0.1",
            "::10.0.0.1",
            "fd00::1",
            "fe80::1",
        ] {
            assert!(is_forbidden_ip(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "2606:2800:220:1::1"] {
            assert!(!is_forbidden_ip(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn retry_after_is_seconds_or_a_date() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-22T10:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        let secs = |v: &str| retry_after(v, now).map(|d| d.as_secs());
        assert_eq!(secs("120"), Some(120));
        assert_eq!(secs(" 5 "), Some(5));
        assert_eq!(secs("Sun, 22 Nov 2026 10:02:00 GMT"), Some(120));
        assert_eq!(secs("Sun, 22 Nov 2026 09:00:00 GMT"), Some(0));
        assert_eq!(secs("9999999"), Some(24 * 3600));
        assert_eq!(secs("soon"), None);
        assert_eq!(secs("-3"), None);
    }

    #[test]
    fn production_urls_need_https_no_port_no_private_literal() {
        let ok = |s: &str, debug| check_remote_url(&Url::parse(s).unwrap(), debug).is_ok();
        assert!(ok("https://example.org/u/a", false));
        assert!(!ok("http://example.org/u/a", false));
        assert!(!ok("https://example.org:8443/u/a", false));
        assert!(!ok("https://127.0.0.1/u/a", false));
        assert!(!ok("https://[::1]/u/a", false));
        assert!(ok("http://alpha.localhost:8080/u/a", true));
        assert!(!ok("ftp://example.org/", true));
    }
}
