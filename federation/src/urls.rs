//! Where our own objects live. One place builds every local URL, so routes and ids agree.

use crate::Error;
use url::Url;

/// Builds local URLs from the instance's base URL.
#[derive(Debug, Clone)]
pub struct Urls {
    base: Url,
}

impl Urls {
    /// `https://domain` (or `http://` in debug mode).
    pub fn new(domain: &str, debug: bool) -> Result<Self, Error> {
        let scheme = if debug { "http" } else { "https" };
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

    /// A new, never reused activity id.
    pub fn new_activity(&self, kind: &str) -> Url {
        self.join(&format!(
            "/activities/{}/{}",
            kind.to_ascii_lowercase(),
            uuid::Uuid::new_v4()
        ))
    }
}
