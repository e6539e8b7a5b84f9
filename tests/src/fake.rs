//! A fake remote server: serves actor documents whose keys the test holds, records every request
//! it receives, and signs requests as its actors would.

use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, Method, StatusCode, Uri},
    response::{IntoResponse, Response},
    Router,
};
use copse_federation::signatures::{generate_keypair, SigningKey};
use serde_json::{json, Value};
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};
use url::Url;

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// Method.
    pub method: String,
    /// `Host` header.
    pub host: String,
    /// Path.
    pub path: String,
    /// Body.
    pub body: Vec<u8>,
}

#[derive(Default)]
struct Inner {
    docs: HashMap<String, Value>,
    /// Content types other than `application/activity+json`, by URL.
    types: HashMap<String, String>,
    gone: std::collections::HashSet<String>,
    log: Vec<Recorded>,
    status: Option<StatusCode>,
}

/// A fake server answering for any `NAME.localhost:PORT` on one port.
#[derive(Clone)]
pub struct FakeServer {
    /// Its port.
    pub port: u16,
    inner: Arc<Mutex<Inner>>,
    _task: Arc<tokio::task::JoinHandle<()>>,
}

/// A fake actor with its keys.
#[derive(Clone, Debug)]
pub struct FakeActor {
    /// Actor id.
    pub id: Url,
    /// Its signing key.
    pub key: SigningKey,
    /// Its public key PEM.
    pub public_pem: String,
}

async fn handle(
    State(inner): State<Arc<Mutex<Inner>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let mut g = inner.lock().expect("lock");
    g.log.push(Recorded {
        method: method.to_string(),
        host: host.clone(),
        path: uri.path().to_string(),
        body: body.to_vec(),
    });
    if let Some(status) = g.status {
        return status.into_response();
    }
    if method == Method::POST {
        return StatusCode::ACCEPTED.into_response();
    }
    let key = format!("http://{host}{}", uri.path());
    if g.gone.contains(&key) {
        return StatusCode::GONE.into_response();
    }
    let content_type = g
        .types
        .get(&key)
        .map_or("application/activity+json", String::as_str);
    match g.docs.get(&key) {
        Some(doc) => (
            [("content-type", content_type.to_string())],
            serde_json::to_vec(doc).unwrap_or_default(),
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

impl FakeServer {
    /// Starts a fake on a free loopback port.
    pub async fn start() -> Self {
        let listener =
            copse_server::listen(std::net::SocketAddr::from(([127, 0, 0, 1], 0))).expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = Router::new().fallback(handle).with_state(inner.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            port,
            inner,
            _task: Arc::new(task),
        }
    }

    /// The base URL for a hostname label: `http://LABEL.localhost:PORT`.
    pub fn base(&self, label: &str) -> String {
        format!("http://{label}.localhost:{}", self.port)
    }

    /// Creates a `Person` actor `http://LABEL.localhost:PORT/users/NAME` served by this fake.
    pub fn actor(&self, label: &str, name: &str) -> FakeActor {
        let (public_pem, private_pem) = generate_keypair().expect("keys");
        self.actor_with_key(label, name, &public_pem, &private_pem)
    }

    /// Like `actor`, with a given key pair (key generation is the slow part of a big set-up).
    pub fn actor_with_key(
        &self,
        label: &str,
        name: &str,
        public_pem: &str,
        private_pem: &str,
    ) -> FakeActor {
        let public_pem = public_pem.to_string();
        let id = Url::parse(&format!("{}/users/{name}", self.base(label))).expect("url");
        let key_id = Url::parse(&format!("{id}#main-key")).expect("url");
        let key = SigningKey::from_pem(key_id.clone(), private_pem).expect("key");
        let doc = json!({
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": id, "type": "Person", "preferredUsername": name,
            "inbox": format!("{id}/inbox"),
            "icon": { "type": "Image", "url": format!("{}/avatars/{name}.png", self.base(label)) },
            "endpoints": { "sharedInbox": format!("{}/inbox", self.base(label)) },
            "publicKey": { "id": key_id, "owner": id, "publicKeyPem": public_pem }
        });
        self.serve(&id, doc);
        FakeActor {
            id,
            key,
            public_pem,
        }
    }

    /// Serves a document at a URL.
    pub fn serve(&self, url: &Url, doc: Value) {
        let mut g = self.inner.lock().expect("lock");
        g.types.remove(url.as_str());
        g.docs.insert(url.to_string(), doc);
    }

    /// Serves a document at a URL with this `Content-Type` (a misconfigured or hostile server).
    pub fn serve_as(&self, url: &Url, content_type: &str, doc: Value) {
        let mut g = self.inner.lock().expect("lock");
        g.types.insert(url.to_string(), content_type.to_string());
        g.docs.insert(url.to_string(), doc);
    }

    /// Answers GETs of a URL with 410 Gone from now on, as Mastodon answers for a deleted
    /// account.
    pub fn gone(&self, url: &Url) {
        self.inner
            .lock()
            .expect("lock")
            .gone
            .insert(url.to_string());
    }

    /// Answers every request with this status (or normally again with `None`).
    pub fn set_status(&self, status: Option<StatusCode>) {
        self.inner.lock().expect("lock").status = status;
    }

    /// Everything received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.inner.lock().expect("lock").log.clone()
    }

    /// Requests whose Host starts with `label.`.
    pub fn requests_to(&self, label: &str) -> Vec<Recorded> {
        let prefix = format!("{label}.localhost");
        self.requests()
            .into_iter()
            .filter(|r| r.host.starts_with(&prefix))
            .collect()
    }
}

impl FakeActor {
    /// Signs and POSTs an activity to an inbox, as its server would. Returns the status.
    pub async fn deliver(&self, client: &reqwest::Client, inbox: &Url, activity: &Value) -> u16 {
        let body = serde_json::to_vec(activity).expect("json");
        let signed = self
            .key
            .sign("POST", inbox, Some(&body), chrono::Utc::now())
            .expect("sign");
        client
            .post(inbox.as_str())
            .header("Content-Type", "application/activity+json")
            .header("Date", signed.date)
            .header("Digest", signed.digest.unwrap_or_default())
            .header("Signature", signed.signature)
            .body(body)
            .send()
            .await
            .expect("deliver")
            .status()
            .as_u16()
    }
}

impl FakeActor {
    /// A Mastodon-shaped public status number `n` mentioning `group` (served by `fake`), and
    /// its `Create`, as Mastodon sends them.
    pub fn status(
        &self,
        fake: &FakeServer,
        n: u32,
        group: &Url,
        html: &str,
        reply_to: Option<&str>,
    ) -> (Value, Value) {
        let id = format!("{}/statuses/{n}", self.id);
        let note = json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": id, "type": "Note", "attributedTo": self.id,
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "cc": [format!("{}/followers", self.id), group],
            "inReplyTo": reply_to,
            "published": "2026-11-22T10:00:00Z",
            "content": html,
            "tag": [{ "type": "Mention", "href": group, "name": "@net@alpha" }]
        });
        fake.serve(&Url::parse(&id).expect("status url"), note.clone());
        let mut object = note.clone();
        if let Some(o) = object.as_object_mut() {
            o.remove("@context");
        }
        let create = json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{id}/activity"), "type": "Create", "actor": self.id,
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "cc": [format!("{}/followers", self.id), group],
            "object": object
        });
        (note, create)
    }
}

impl FakeServer {
    /// JSON bodies POSTed anywhere under `label`.
    pub fn posted(&self, label: &str) -> Vec<Value> {
        self.requests_to(label)
            .into_iter()
            .filter(|r| r.method == "POST")
            .filter_map(|r| serde_json::from_slice(&r.body).ok())
            .collect()
    }

    /// JSON bodies POSTed to the shared inbox (`/inbox`) under `label`.
    pub fn shared_inbox(&self, label: &str) -> Vec<Value> {
        self.requests_to(label)
            .into_iter()
            .filter(|r| r.method == "POST" && r.path == "/inbox")
            .filter_map(|r| serde_json::from_slice(&r.body).ok())
            .collect()
    }

    /// JSON bodies POSTed to one actor's inbox (`/users/NAME/inbox` under `label`).
    pub fn inbox_of(&self, label: &str, name: &str) -> Vec<Value> {
        self.requests_to(label)
            .into_iter()
            .filter(|r| r.method == "POST" && r.path == format!("/users/{name}/inbox"))
            .filter_map(|r| serde_json::from_slice(&r.body).ok())
            .collect()
    }
}

impl FakeServer {
    /// A Lemmy-shaped community `name` served under `label`, found by WebFinger.
    pub fn group(&self, label: &str, name: &str) -> FakeActor {
        let g = self.actor(label, name);
        let base = self.base(label);
        self.serve(
            &g.id,
            json!({
                "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
                "id": g.id, "type": "Group", "preferredUsername": name, "name": format!("The {name}"),
                "inbox": format!("{}/inbox", g.id), "outbox": format!("{}/outbox", g.id),
                "followers": format!("{}/followers", g.id),
                "featured": format!("{}/featured", g.id),
                "attributedTo": format!("{}/moderators", g.id),
                "endpoints": { "sharedInbox": format!("{base}/inbox") },
                "publicKey": { "id": format!("{}#main-key", g.id), "owner": g.id, "publicKeyPem": g.public_pem }
            }),
        );
        self.serve(
            &Url::parse(&format!("{base}/.well-known/webfinger")).expect("url"),
            json!({
                "subject": format!("acct:{name}@{label}.localhost:{}", self.port),
                "links": [{ "rel": "self", "type": "application/activity+json", "href": g.id }]
            }),
        );
        g
    }

    /// Answers NodeInfo for `label` as a server running `software` does.
    pub fn serve_nodeinfo(&self, label: &str, software: &str) {
        let base = self.base(label);
        self.serve(
            &Url::parse(&format!("{base}/.well-known/nodeinfo")).expect("url"),
            json!({ "links": [{
                "rel": "http://nodeinfo.diaspora.software/ns/schema/2.0",
                "href": format!("{base}/nodeinfo/2.0")
            }] }),
        );
        self.serve(
            &Url::parse(&format!("{base}/nodeinfo/2.0")).expect("url"),
            json!({ "version": "2.0", "software": { "name": software, "version": "1.0" } }),
        );
    }
}
