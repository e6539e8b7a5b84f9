//! The inbox refuses bad requests with the status SECURITY.md names and stores nothing, and
//! fetches nothing before the checks that need no network have passed.

// Tests report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{Duration as ChronoDuration, Utc};
use copse_entities::{community_follower, instance, person, received_activity};
use copse_tests::{
    fake::{FakeActor, FakeServer},
    wait_for, TestInstance,
};
use sea_orm::{ActiveValue::NotSet, EntityTrait, PaginatorTrait, Set};
use serde_json::json;
use std::time::Duration;
use url::Url;

struct Counts {
    received: u64,
    people: u64,
    followers: u64,
}

async fn counts(a: &TestInstance) -> Counts {
    Counts {
        received: received_activity::Entity::find()
            .count(a.db())
            .await
            .unwrap(),
        people: person::Entity::find().count(a.db()).await.unwrap(),
        followers: community_follower::Entity::find()
            .count(a.db())
            .await
            .unwrap(),
    }
}

/// Sends a POST to alpha's shared inbox, signed by `signer` for `signed_url` at `at`, with the
/// body `sent` (the signature covers `signed_body`).
struct Post<'a> {
    signer: Option<&'a FakeActor>,
    signed_body: &'a [u8],
    sent: Vec<u8>,
    at: chrono::DateTime<Utc>,
    host: Option<String>,
    tamper_signature: bool,
}

impl<'a> Post<'a> {
    fn new(signer: &'a FakeActor, body: &'a [u8]) -> Self {
        Self {
            signer: Some(signer),
            signed_body: body,
            sent: body.to_vec(),
            at: Utc::now(),
            host: None,
            tamper_signature: false,
        }
    }

    async fn send(self, a: &TestInstance) -> u16 {
        let url = a.url("/inbox");
        let mut req = a
            .client
            .post(url.as_str())
            .header("Content-Type", "application/activity+json");
        if let Some(signer) = self.signer {
            let mut signed_url = url.clone();
            if let Some(h) = &self.host {
                signed_url = Url::parse(&format!("http://{h}/inbox")).unwrap();
            }
            let s = signer
                .key
                .sign("POST", &signed_url, Some(self.signed_body), self.at)
                .unwrap();
            let mut signature = s.signature.clone();
            if self.tamper_signature {
                // Flip one base64 character of the signature value.
                let i = signature.rfind("signature=\"").unwrap() + 15;
                let c = if &signature[i..i + 1] == "A" {
                    "B"
                } else {
                    "A"
                };
                signature.replace_range(i..i + 1, c);
            }
            req = req
                .header("Date", s.date)
                .header("Digest", s.digest.unwrap())
                .header("Signature", signature);
        }
        if let Some(h) = &self.host {
            req = req.header("Host", h.as_str());
        }
        req.body(self.sent).send().await.unwrap().status().as_u16()
    }
}

fn follow(actor: &Url, id: &str, object: &Url) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": id, "type": "Follow", "actor": actor, "object": object
    }))
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbox_rejects_bad_requests_and_stores_nothing() {
    // A small body limit: the oversized request then fits in the socket buffers, so the client
    // has finished sending when the server answers 413 and closes (a 2 MB body could be cut
    // off mid-send and surface as a connection error instead of the status).
    let a = TestInstance::spawn_with("alpha", |s| s.federation.max_body_bytes = 64 * 1024).await;
    let net = a.create_community("net", "London Networks").await;
    let fake = FakeServer::start().await;
    let victim = fake.actor("victim", "vic");
    let evil = fake.actor("evil", "eve");
    let good = follow(
        &victim.id,
        &format!("{}/activities/1", fake.base("victim")),
        &net.ap_id,
    );
    let before = counts(&a).await;
    let unchanged = |label: &'static str| {
        let a = &a;
        let before = &before;
        async move {
            let now = counts(a).await;
            assert_eq!(
                now.received, before.received,
                "{label}: an activity was stored"
            );
            assert_eq!(now.people, before.people, "{label}: an actor was stored");
            assert_eq!(
                now.followers, before.followers,
                "{label}: a follower was stored"
            );
        }
    };

    // T1: unsigned, naming the victim: 401 and not a single request to the victim's server.
    let status = a
        .client
        .post(a.url("/inbox").as_str())
        .header("Content-Type", "application/activity+json")
        .body(good.clone())
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 401);
    unchanged("unsigned").await;
    assert!(
        fake.requests().is_empty(),
        "unsigned POST made us fetch {:?}",
        fake.requests()
    );

    // T2: a bad signature.
    let mut p = Post::new(&victim, &good);
    p.tamper_signature = true;
    assert_eq!(p.send(&a).await, 401);
    unchanged("bad signature").await;

    // T3: signed by the evil actor's key while claiming to be the victim.
    assert_eq!(Post::new(&evil, &good).send(&a).await, 401);
    unchanged("another actor's key").await;
    // ...and with a keyId on the victim's origin but evil's private key.
    let forged = FakeActor {
        id: victim.id.clone(),
        key: copse_federation::signatures::SigningKey::from_pem(
            victim.key.key_id().clone(),
            &copse_federation::signatures::generate_keypair().unwrap().1,
        )
        .unwrap(),
        public_pem: String::new(),
    };
    assert_eq!(Post::new(&forged, &good).send(&a).await, 401);
    unchanged("forged key").await;

    // T4: stale and future dates.
    for shift in [ChronoDuration::hours(-2), ChronoDuration::hours(2)] {
        let mut p = Post::new(&victim, &good);
        p.at = Utc::now() + shift;
        assert_eq!(p.send(&a).await, 401, "date shifted by {shift}");
    }
    unchanged("time window").await;

    // T5: the digest covers another body.
    let mut p = Post::new(&victim, &good);
    p.sent = follow(
        &victim.id,
        &format!("{}/activities/2", fake.base("victim")),
        &net.ap_id,
    );
    assert_eq!(p.send(&a).await, 401);
    unchanged("digest mismatch").await;

    // T6: validly signed by evil, but the activity id is on the victim's origin.
    let spoof = follow(
        &evil.id,
        &format!("{}/activities/3", fake.base("victim")),
        &net.ap_id,
    );
    assert_eq!(Post::new(&evil, &spoof).send(&a).await, 400);
    unchanged("origin mismatch").await;

    // T37: an activity id on our own domain.
    let ours = follow(&evil.id, a.url("/activities/follow/x").as_str(), &net.ap_id);
    assert_eq!(Post::new(&evil, &ours).send(&a).await, 400);
    unchanged("our own id").await;

    // T12: a request signed for another host.
    let mut p = Post::new(&victim, &good);
    p.host = Some(format!("other.localhost:{}", fake.port));
    assert_eq!(p.send(&a).await, 401);
    unchanged("wrong host").await;

    // T13: oversized body.
    let big = vec![b' '; 128 * 1024];
    let mut p = Post::new(&victim, &big);
    p.sent = big.clone();
    assert_eq!(p.send(&a).await, 413);
    unchanged("oversized").await;

    // T14: malformed JSON, wrong shapes and deep nesting, all properly signed.
    let nested = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    for body in [
        b"{not json".to_vec(),
        br#"{"type": "Follow"}"#.to_vec(),
        nested.into_bytes(),
    ] {
        assert_eq!(Post::new(&victim, &body).send(&a).await, 400);
    }
    unchanged("malformed").await;

    // T21: a blocked domain is refused before any key fetch.
    instance::Entity::insert(instance::ActiveModel {
        id: NotSet,
        domain: Set(format!("evil.localhost:{}", fake.port)),
        blocked: Set(true),
        failure_count: Set(0),
        failing_since: Set(None),
        paused_until: Set(None),
        last_success_at: Set(None),
        ..Default::default()
    })
    .exec(a.db())
    .await
    .unwrap();
    let fetches_before = fake.requests_to("evil").len();
    let evil_follow = follow(
        &evil.id,
        &format!("{}/activities/4", fake.base("evil")),
        &net.ap_id,
    );
    assert_eq!(Post::new(&evil, &evil_follow).send(&a).await, 403);
    assert_eq!(fake.requests_to("evil").len(), fetches_before);
    unchanged("blocked domain").await;

    // The valid request is accepted, and a replay of it changes nothing more (T11).
    assert_eq!(Post::new(&victim, &good).send(&a).await, 202);
    assert_eq!(Post::new(&victim, &good).send(&a).await, 202);
    assert_eq!(
        received_activity::Entity::find()
            .count(a.db())
            .await
            .unwrap(),
        before.received + 1
    );
    wait_for("the follower", Duration::from_secs(10), || async {
        community_follower::Entity::find()
            .count(a.db())
            .await
            .unwrap()
            == before.followers + 1
    })
    .await;
    // The Accept went to the victim's inbox, signed by the community.
    wait_for("the Accept", Duration::from_secs(10), || async {
        fake.requests_to("victim")
            .iter()
            .any(|r| r.method == "POST" && r.path.ends_with("/inbox"))
    })
    .await;
}

/// GETs of actor documents (a follower's NodeInfo is read too, once).
fn key_fetches(fake: &FakeServer) -> usize {
    fake.requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path.starts_with("/users/"))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_key_is_fetched_again_once() {
    let a = TestInstance::spawn("alpha").await;
    let net = a.create_community("net", "London Networks").await;
    let fake = FakeServer::start().await;
    let old = fake.actor("remote", "rosa");
    let first = follow(
        &old.id,
        &format!("{}/activities/1", fake.base("remote")),
        &net.ap_id,
    );
    assert_eq!(Post::new(&old, &first).send(&a).await, 202);
    let fetches = key_fetches(&fake);
    assert_eq!(fetches, 1, "the key is fetched once");
    // A second activity with the cached key needs no fetch.
    let second = follow(
        &old.id,
        &format!("{}/activities/2", fake.base("remote")),
        &net.ap_id,
    );
    assert_eq!(Post::new(&old, &second).send(&a).await, 202);
    assert_eq!(key_fetches(&fake), 1);
    // The actor rotates its key: the cached key fails, the actor is fetched once more, and the
    // activity is accepted.
    let new = fake.actor("remote", "rosa");
    let third = follow(
        &new.id,
        &format!("{}/activities/3", fake.base("remote")),
        &net.ap_id,
    );
    assert_eq!(Post::new(&new, &third).send(&a).await, 202);
    assert_eq!(key_fetches(&fake), 2);
    // The old key no longer works.
    let fourth = follow(
        &old.id,
        &format!("{}/activities/4", fake.base("remote")),
        &net.ap_id,
    );
    assert_eq!(Post::new(&old, &fourth).send(&a).await, 401);
    let stored = received_activity::Entity::find()
        .count(a.db())
        .await
        .unwrap();
    assert_eq!(stored, 3);
}
