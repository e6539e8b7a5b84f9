//! The rows of SECURITY.md's checklist that were only partly covered, on the inbox side: each
//! test names its row and asserts the whole expectation (the status, the rows stored or not,
//! and the requests made to the fakes). Delivery-side rows are in `security_rows_outbound.rs`, and
//! those about what members post in `security_rows_content.rs`.

// Tests report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::Utc;
use copse_entities::{community_follower, person, post, received_activity, remote_id, DbUrl};
use copse_federation::{
    fetch::fetch_json,
    signatures::{digest_header, generate_keypair, SigningKey},
};
use copse_tests::{
    fake::{FakeActor, FakeServer},
    TestInstance,
};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::{json, Value};
use url::Url;

const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

/// Rows an accepted inbox request can add.
#[derive(Debug, PartialEq, Eq)]
struct Rows {
    received: u64,
    people: u64,
    followers: u64,
    posts: u64,
}

async fn rows(a: &TestInstance) -> Rows {
    Rows {
        received: received_activity::Entity::find()
            .count(a.db())
            .await
            .unwrap(),
        people: person::Entity::find().count(a.db()).await.unwrap(),
        followers: community_follower::Entity::find()
            .count(a.db())
            .await
            .unwrap(),
        posts: post::Entity::find().count(a.db()).await.unwrap(),
    }
}

fn follow(actor: &Url, id: &str, object: &Url) -> Value {
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": id, "type": "Follow", "actor": actor, "object": object
    })
}

fn mention(group: &Url, text: &str) -> String {
    format!(
        "<p><span class=\"h-card\"><a href=\"{group}\" class=\"u-url mention\">@<span>net</span></a></span> {text}</p>"
    )
}

/// POSTs `sent` to `inbox` with a signature by `key` over `(request-target) host date`, plus
/// `digest` when `signed_digest` is given; `Digest` is sent as `sent_digest`.
async fn post_signed(
    a: &TestInstance,
    key: &SigningKey,
    inbox: &Url,
    sent: &[u8],
    signed_digest: Option<&str>,
    sent_digest: Option<&str>,
) -> u16 {
    let s = key
        .sign_with_digest("POST", inbox, signed_digest, Utc::now())
        .unwrap();
    let mut req = a
        .client
        .post(inbox.as_str())
        .header("Content-Type", "application/activity+json")
        .header("Date", s.date)
        .header("Signature", s.signature);
    if let Some(d) = sent_digest {
        req = req.header("Digest", d);
    }
    req.body(sent.to_vec())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// SECURITY.md T5: a `Digest` that does not bind the body (another body's, unsigned, missing,
/// or by an algorithm other than SHA-256) is refused with 401 before any key is fetched, and
/// stores nothing; the same request with a signed SHA-256 digest is accepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn digests_that_do_not_bind_the_body_are_refused_before_any_fetch() {
    let a = TestInstance::spawn("alpha").await;
    let net = a.create_community("net", "London Networks").await;
    let fake = FakeServer::start().await;
    let vic = fake.actor("victim", "vic");
    let inbox = a.url("/inbox");
    let body =
        serde_json::to_vec(&follow(&vic.id, &format!("{}/f/1", vic.id), &net.ap_id)).unwrap();
    let other =
        serde_json::to_vec(&follow(&vic.id, &format!("{}/f/2", vic.id), &net.ap_id)).unwrap();
    let sha256 = digest_header(&body);
    let sha512 = format!(
        "SHA-512={}",
        openssl::base64::encode_block(&openssl::sha::sha512(&body))
    );
    let undashed = sha256.replacen("SHA-256", "SHA256", 1);
    let with_wrong_sha256 = format!("{sha512},{}", digest_header(&other));
    let before = rows(&a).await;
    // What, the body sent, the digest signed, and the `Digest` header sent.
    type Case<'a> = (&'a str, &'a [u8], Option<&'a str>, Option<&'a str>);
    let cases: [Case; 8] = [
        (
            "digest of another body",
            &body,
            Some(&digest_header(&other)),
            Some(&digest_header(&other)),
        ),
        (
            "body swapped after signing",
            &other,
            Some(&sha256),
            Some(&sha256),
        ),
        ("digest not signed", &body, None, Some(&sha256)),
        ("no digest at all", &body, None, None),
        ("signed digest not sent", &body, Some(&sha256), None),
        ("SHA-512 only", &body, Some(&sha512), Some(&sha512)),
        (
            "SHA-512 with a wrong SHA-256",
            &body,
            Some(&with_wrong_sha256),
            Some(&with_wrong_sha256),
        ),
        (
            "SHA256 without the dash",
            &body,
            Some(&undashed),
            Some(&undashed),
        ),
    ];
    for (what, sent, signed, header) in cases {
        let status = post_signed(&a, &vic.key, &inbox, sent, signed, header).await;
        assert_eq!(status, 401, "{what}");
        assert_eq!(rows(&a).await, before, "{what}: something was stored");
        assert!(
            fake.requests().is_empty(),
            "{what}: fetched {:?}",
            fake.requests()
        );
    }
    // Done right, the same request is accepted: the refusals above were about the digest.
    let status = post_signed(&a, &vic.key, &inbox, &body, Some(&sha256), Some(&sha256)).await;
    assert_eq!(status, 202);
    assert_eq!(rows(&a).await.received, before.received + 1);
}

/// SECURITY.md T6: an activity validly signed by evil whose id, or whose embedded object's id,
/// is on the victim's origin is refused with 400 and stores nothing; in particular the
/// activity id is not recorded as seen, so the victim's own activity with that id is accepted
/// afterwards, and no remote id of the victim's is remembered as evil wrote it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ids_on_another_origin_than_the_signer_are_refused_and_not_recorded() {
    let a = TestInstance::spawn("alpha").await;
    let net = a.create_community("net", "London Networks").await;
    let group = net.ap_id.0.clone();
    let fake = FakeServer::start().await;
    let evil = fake.actor("evil", "eve");
    let vic = fake.actor("victim", "vic");
    let on_victim = |path: &str| format!("http://VICTIM.localhost:{}/{path}", fake.port);
    let on_evil = |n: u32| format!("{}/a/{n}", fake.base("evil"));
    let note = |id: String| {
        json!({ "id": id, "type": "Note", "attributedTo": evil.id, "to": [PUBLIC],
                "cc": [group], "content": mention(&group, "forged") })
    };
    let event = json!({
        "id": on_victim("events/1"), "type": "Event", "name": "Forged", "attributedTo": evil.id,
        "startTime": "2090-06-15T18:00:00Z", "to": [PUBLIC], "cc": [group]
    });
    let activities = [
        follow(&evil.id, &on_victim("activities/1"), &group),
        json!({ "id": on_victim("activities/2"), "type": "Like", "actor": evil.id,
                "object": format!("{group}/x") }),
        json!({ "id": on_evil(3), "type": "Create", "actor": evil.id, "to": [PUBLIC],
                "object": note(on_victim("notes/1")) }),
        json!({ "id": on_evil(4), "type": "Update", "actor": evil.id, "to": [PUBLIC],
                "object": note(on_victim("notes/1")) }),
        json!({ "id": on_evil(5), "type": "Create", "actor": evil.id, "to": [PUBLIC],
                "object": event }),
        json!({ "id": on_evil(6), "type": "Undo", "actor": evil.id,
                "object": follow(&vic.id, &on_victim("activities/7"), &group) }),
    ];
    let before = rows(&a).await;
    for mut activity in activities {
        activity["@context"] = json!("https://www.w3.org/ns/activitystreams");
        let status = evil.deliver(&a.client, &a.url("/inbox"), &activity).await;
        assert_eq!(status, 400, "{activity}");
        assert_eq!(rows(&a).await, before, "{activity}");
    }
    let victim_ids = remote_id::Entity::find()
        .all(a.db())
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.parsed.contains("victim.localhost"))
        .count();
    assert_eq!(victim_ids, 0, "victim ids remembered as evil wrote them");
    assert!(
        fake.requests_to("victim").is_empty(),
        "{:?}",
        fake.requests_to("victim")
    );

    // The victim's own Follow under the id evil used is new to us: stored, and applied.
    let real = follow(
        &vic.id,
        &format!("{}/activities/1", fake.base("victim")),
        &group,
    );
    assert_eq!(vic.deliver(&a.client, &a.url("/inbox"), &real).await, 202);
    a.settled().await;
    let after = rows(&a).await;
    assert_eq!(after.received, before.received + 1);
    assert_eq!(after.followers, before.followers + 1);
}

/// SECURITY.md T10: an actor served as `text/html`, `application/json` or bare
/// `application/ld+json` is not an actor: the request it signed is refused (401) after one
/// fetch, and nothing is stored; an object served so is not stored either. Served with an
/// ActivityPub type, both are accepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_served_without_an_activitypub_type_are_not_read() {
    let a = TestInstance::spawn("alpha").await;
    let ana = a.create_user("ana").await;
    let net = a.create_community("net", "London Networks").await;
    let fake = FakeServer::start().await;
    let rosa = fake.actor("remote", "rosa");
    let (_, doc) = a.get_ap(&rosa.id).await;
    let read_here = actor_gets(&fake, "remote", "/users/rosa");
    let inbox = a.url("/inbox");
    let before = rows(&a).await;
    for (n, content_type) in [
        "text/html",
        "text/html; charset=utf-8",
        "application/json",
        "application/ld+json",
    ]
    .into_iter()
    .enumerate()
    {
        fake.serve_as(&rosa.id, content_type, doc.clone());
        let f = follow(&rosa.id, &format!("{}/f/{n}", rosa.id), &net.ap_id);
        assert_eq!(
            rosa.deliver(&a.client, &inbox, &f).await,
            401,
            "{content_type}"
        );
        assert_eq!(rows(&a).await, before, "{content_type}");
        let gets = actor_gets(&fake, "remote", "/users/rosa") - read_here;
        assert_eq!(gets, n + 1, "{content_type}: one fetch per request");
    }
    fake.serve_as(
        &rosa.id,
        "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"",
        doc,
    );
    let f = follow(&rosa.id, &format!("{}/f/ok", rosa.id), &net.ap_id);
    assert_eq!(rosa.deliver(&a.client, &inbox, &f).await, 202);

    // An object: announced by a community ana follows, fetched from its origin.
    let g = fake.group("lemmy", "cooking");
    a.follow_fake_group(&ana, &fake, &g).await;
    let bob = fake.actor("victim", "bob");
    let page_id = Url::parse(&format!("{}/posts/1", bob.id)).unwrap();
    let page = json!({
        "id": page_id, "type": "Page", "attributedTo": bob.id, "audience": g.id,
        "to": [g.id, PUBLIC], "name": "Stock", "content": "<p>Bones first.</p>",
        "published": "2026-11-22T10:00:00Z"
    });
    let announce = |n: u32| {
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{}/announces/{n}", g.id), "type": "Announce", "actor": g.id,
            "to": [PUBLIC], "object": page
        })
    };
    let posts = || async { post::Entity::find().count(a.db()).await.unwrap() };
    let data = a.data();
    for (n, content_type) in ["text/html", "application/json"].into_iter().enumerate() {
        fake.serve_as(&page_id, content_type, page.clone());
        assert!(fetch_json(&data, &page_id).await.is_err(), "{content_type}");
        let status = g
            .deliver(&a.client, &a.url("/inbox"), &announce(n as u32))
            .await;
        assert_eq!(status, 202);
        a.settled().await;
        assert_eq!(posts().await, 0, "{content_type}");
    }
    fake.serve(&page_id, page.clone());
    assert_eq!(
        g.deliver(&a.client, &a.url("/inbox"), &announce(9)).await,
        202
    );
    a.settled().await;
    assert_eq!(posts().await, 1);
}

/// SECURITY.md T21: a block written `EVIL.localhost.:PORT` applies to every spelling of the
/// host: inbox requests are refused with 403 before any fetch, fetches are refused without a
/// request, and queued deliveries are given up unsent, while the good host gets its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_block_covers_every_spelling_of_the_domain() {
    use copse_entities::delivery::{self, DeliveryStatus};
    use copse_federation::{queue, FederationContext};
    let a = TestInstance::spawn_with("alpha", |s| {
        s.federation.delivery_workers = 0;
        s.federation.inbox_workers = 0;
    })
    .await;
    let net = a.create_community("net", "London Networks").await;
    let fake = FakeServer::start().await;
    let report =
        copse_server::admin::block_domain(a.db(), &format!("EVIL.localhost.:{}", fake.port))
            .await
            .unwrap();
    assert!(report.newly_blocked);
    assert_eq!(
        copse_server::admin::blocked_domains(a.db()).await.unwrap(),
        [format!("evil.localhost:{}", fake.port)]
    );

    // Inbox: the plain and the dotted spelling, refused before the key is fetched.
    let eve = fake.actor("evil", "eve");
    let dotted = Url::parse(&format!("http://evil.localhost.:{}/users/eve", fake.port)).unwrap();
    let dotted_eve = FakeActor {
        key: SigningKey::from_pem(
            Url::parse(&format!("{dotted}#main-key")).unwrap(),
            &generate_keypair().unwrap().1,
        )
        .unwrap(),
        id: dotted.clone(),
        public_pem: String::new(),
    };
    let before = rows(&a).await;
    for (n, who) in [&eve, &dotted_eve].into_iter().enumerate() {
        let mut f = follow(&who.id, &format!("{}/f/{n}", who.id), &net.ap_id);
        f["actor"] = json!(who.id.as_str().replace("evil", "EVIL"));
        assert_eq!(who.deliver(&a.client, &a.url("/inbox"), &f).await, 403);
    }
    assert_eq!(rows(&a).await, before);
    assert!(fake.requests().is_empty(), "{:?}", fake.requests());

    // Fetches, in either spelling, make no request.
    let data = a.data();
    for url in [
        format!("http://EVIL.localhost.:{}/users/eve", fake.port),
        format!("http://evil.localhost:{}/notes/1", fake.port),
    ] {
        let got = fetch_json(&data, &Url::parse(&url).unwrap()).await;
        assert!(
            matches!(got, Err(copse_federation::Error::Forbidden(_))),
            "{url}: {got:?}"
        );
    }
    assert!(fake.requests().is_empty(), "{:?}", fake.requests());

    // Deliveries: queued to both spellings and to a good host; only the good host is sent to.
    let ctx: &FederationContext = &a.instance().config;
    let activity = copse_federation::protocol::WithContext::new(json!({
        "id": ctx.urls.new_activity("Announce"), "type": "Announce",
        "actor": ctx.urls.community("net"), "object": "http://example.localhost/x"
    }));
    let inboxes = [
        format!("http://EVIL.localhost.:{}/inbox", fake.port),
        format!("http://evil.localhost:{}/users/eve/inbox", fake.port),
        format!("{}/inbox", fake.base("good")),
    ]
    .map(|u| Url::parse(&u).unwrap());
    queue::enqueue(a.db(), &ctx.urls, &activity, None, true, inboxes)
        .await
        .unwrap();
    for _ in 0..10 {
        if queue::delivery::work_once(ctx).await.unwrap() == 0 {
            break;
        }
    }
    assert_eq!(fake.posted("good").len(), 1);
    let sent_to_evil: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.host.to_ascii_lowercase().starts_with("evil"))
        .collect();
    assert!(sent_to_evil.is_empty(), "{sent_to_evil:?}");
    let pending = delivery::Entity::find()
        .filter(delivery::Column::Status.eq(DeliveryStatus::Pending))
        .count(a.db())
        .await
        .unwrap();
    assert_eq!(pending, 0);
}

/// The stored key of a remote person.
async fn stored_key(a: &TestInstance, id: &Url) -> String {
    person::Entity::find()
        .filter(person::Column::ApId.eq(DbUrl(id.clone())))
        .one(a.db())
        .await
        .unwrap()
        .unwrap()
        .public_key_pem
}

/// GETs of one actor's document at the fake.
fn actor_gets(fake: &FakeServer, label: &str, path: &str) -> usize {
    fake.requests_to(label)
        .iter()
        .filter(|r| r.method == "GET" && r.path == path)
        .count()
}

/// SECURITY.md T36: a key that changed on a plain refetch is not taken (the stored key stays,
/// and still verifies); a request signed by the new key makes us fetch the actor once and
/// accept it, after which the old key fails; a `Delete` from an actor never seen is accepted
/// with no fetch and nothing stored; a known actor's self-`Delete`, once its server answers
/// 410, ends its membership.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_change_only_when_a_signature_needs_it() {
    let a = TestInstance::spawn("alpha").await;
    let net = a.create_community("net", "London Networks").await;
    let fake = FakeServer::start().await;
    let old = fake.actor("remote", "rosa");
    let inbox = a.url("/inbox");
    let n = std::sync::atomic::AtomicU32::new(0);
    let next = |who: &FakeActor| {
        let i = n.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        follow(&who.id, &format!("{}/f/{i}", who.id), &net.ap_id)
    };
    assert_eq!(old.deliver(&a.client, &inbox, &next(&old)).await, 202);
    assert_eq!(actor_gets(&fake, "remote", "/users/rosa"), 1);

    // Its server now serves another key, and our copy is due for a refresh.
    let (public, private) = generate_keypair().unwrap();
    let new = fake.actor_with_key("remote", "rosa", &public, &private);
    let row = person::Entity::find()
        .filter(person::Column::ApId.eq(DbUrl(old.id.clone())))
        .one(a.db())
        .await
        .unwrap()
        .unwrap();
    person::ActiveModel {
        fetched_at: Set(Utc::now() - chrono::Duration::days(2)),
        ..row.into()
    }
    .update(a.db())
    .await
    .unwrap();
    copse_federation::fetch::resolve_actor(&a.data(), &old.id)
        .await
        .unwrap();
    assert_eq!(actor_gets(&fake, "remote", "/users/rosa"), 2, "refreshed");
    assert_eq!(
        stored_key(&a, &old.id).await,
        old.public_pem,
        "a key swapped on a plain refetch was taken"
    );
    assert_eq!(old.deliver(&a.client, &inbox, &next(&old)).await, 202);
    assert_eq!(actor_gets(&fake, "remote", "/users/rosa"), 2);

    // Signed by the new key: one fetch, accepted, and from then on the new key is the key.
    assert_eq!(new.deliver(&a.client, &inbox, &next(&new)).await, 202);
    assert_eq!(actor_gets(&fake, "remote", "/users/rosa"), 3);
    assert_eq!(stored_key(&a, &old.id).await, new.public_pem);
    assert_eq!(new.deliver(&a.client, &inbox, &next(&new)).await, 202);
    assert_eq!(actor_gets(&fake, "remote", "/users/rosa"), 3);
    assert_eq!(old.deliver(&a.client, &inbox, &next(&old)).await, 401);
    assert_eq!(actor_gets(&fake, "remote", "/users/rosa"), 4);
    a.settled().await;

    // A Delete from an actor we never knew: accepted, nothing fetched, nothing stored.
    let ghost = fake.actor("ghost", "gus");
    let before = rows(&a).await;
    let delete = |who: &FakeActor, n: u32| {
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{}#delete-{n}", who.id), "type": "Delete", "actor": who.id,
            "to": [PUBLIC], "object": who.id
        })
    };
    assert_eq!(
        ghost.deliver(&a.client, &inbox, &delete(&ghost, 1)).await,
        202
    );
    assert!(fake.requests_to("ghost").is_empty());
    assert_eq!(rows(&a).await, before);

    // Rosa's account is deleted: her server answers 410, and her Delete ends her membership.
    let rosa = person::Entity::find()
        .filter(person::Column::ApId.eq(DbUrl(old.id.clone())))
        .one(a.db())
        .await
        .unwrap()
        .unwrap();
    let memberships = || async {
        community_follower::Entity::find()
            .filter(community_follower::Column::PersonId.eq(rosa.id))
            .count(a.db())
            .await
            .unwrap()
    };
    assert_eq!(memberships().await, 1);
    fake.gone(&old.id);
    assert_eq!(new.deliver(&a.client, &inbox, &delete(&new, 2)).await, 202);
    a.settled().await;
    assert_eq!(memberships().await, 0);
}
