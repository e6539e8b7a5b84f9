//! Where our own objects live. One place builds every local URL, so routes and ids agree.

use crate::Error;
use url::Url;

/// True when `host[:port]` names this machine: `localhost`, `*.localhost` or a loopback address.
pub fn is_loopback_domain(domain: &str) -> bool {
    let Ok(url) = Url::parse(&format!("http://{domain}/")) else {
        return false;
    };
    match url.host() {
        Some(url::Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost")
        }
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Builds local URLs from the instance's base URL.
#[derive(Debug, Clone)]
pub struct Urls {
    base: Url,
}

impl Urls {
    /// `https://domain`, or `http://` in debug mode and for a domain on this machine
    /// (`localhost`, `*.localhost`, a loopback address), which no TLS proxy stands in front of.
    pub fn new(domain: &str, debug: bool) -> Result<Self, Error> {
        let scheme = if debug || is_loopback_domain(domain) {
            "http"
        } else {
            "https"
        };
        Ok(Self {
            base: Url::parse(&format!("{scheme}://{domain}/"))?,
        })
    }

    fn join(&self, path: &str) -> Url {
        let mut url = self.base.clone();
        url.set_path(path);
        url
    }

    /// The base URL.
    pub fn base(&self) -> &Url {
        &self.base
    }

    /// True when a URL is on this instance (same origin).
    pub fn is_local(&self, url: &Url) -> bool {
        crate::protocol::same_origin(url, &self.base)
    }

    /// A community's actor id.
    pub fn community(&self, name: &str) -> Url {
        self.join(&format!("/c/{name}"))
    }

    /// A community's collection or inbox: `/c/{name}/{what}`.
    pub fn community_part(&self, name: &str, what: &str) -> Url {
        self.join(&format!("/c/{name}/{what}"))
    }

    /// A person's actor id.
    pub fn person(&self, name: &str) -> Url {
        self.join(&format!("/u/{name}"))
    }

    /// A person's inbox or outbox: `/u/{name}/{what}`.
    pub fn person_part(&self, name: &str, what: &str) -> Url {
        self.join(&format!("/u/{name}/{what}"))
    }

    /// The key id of a local actor.
    pub fn key_id(actor: &Url) -> Url {
        let mut k = actor.clone();
        k.set_fragment(Some("main-key"));
        k
    }

    /// The instance actor.
    pub fn instance_actor(&self) -> Url {
        self.join("/actor")
    }

    /// A collection of the instance actor: `/actor/{what}`.
    pub fn instance_actor_part(&self, what: &str) -> Url {
        self.join(&format!("/actor/{what}"))
    }

    /// The instance actor's key id.
    pub fn instance_key_id(&self) -> Url {
        Self::key_id(&self.instance_actor())
    }

    /// The shared inbox.
    pub fn shared_inbox(&self) -> Url {
        self.join("/inbox")
    }

    /// A post.
    pub fn post(&self, id: i64) -> Url {
        self.join(&format!("/post/{id}"))
    }

    /// An uploaded image, by its file name (`{key}.{ext}`).
    pub fn media(&self, file: &str) -> Url {
        self.join(&format!("/media/{file}"))
    }

    /// A new, never reused activity id.
    pub fn new_activity(&self, kind: &str) -> Url {
        self.join(&format!(
            "/activities/{}/{}",
            kind.to_ascii_lowercase(),
            uuid::Uuid::new_v4()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_domain_on_this_machine_is_served_over_http() {
        for local in [
            "localhost:8080",
            "localhost",
            "alpha.localhost:3000",
            "127.0.0.1:8080",
            "[::1]:8080",
        ] {
            assert!(is_loopback_domain(local), "{local}");
            let urls = Urls::new(local, false).unwrap();
            assert_eq!(urls.base().scheme(), "http", "{local}");
        }
        for public in [
            "copse.example.org",
            "localhost.example.org",
            "10.0.0.1",
            "example.org:8443",
        ] {
            assert!(!is_loopback_domain(public), "{public}");
            assert_eq!(Urls::new(public, false).unwrap().base().scheme(), "https");
        }
        assert_eq!(
            Urls::new("localhost:8080", false)
                .unwrap()
                .community("net")
                .as_str(),
            "http://localhost:8080/c/net"
        );
        assert_eq!(
            Urls::new("copse.example.org", true)
                .unwrap()
                .base()
                .scheme(),
            "http"
        );
    }
}
