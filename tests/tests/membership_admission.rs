//! Admission to communities that do not let everyone in, one behaviour per test: approval
//! (asking why, approving, declining) and invitations (who may invite, who is refused, direct
//! welcomes, the last coordinator, leaving and removal), all federated and recorded.

// Tests report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use copse_tests::{
    builders::{
        activities::{activity, wait_received},
        communities::{accepted_follows, member_id},
        T,
    },
    fake::{FakeActor, FakeServer},
    wait_for, TestInstance,
};
use reqwest::Method;
use serde_json::{json, Value};
use url::Url;

/// Alpha's "circle", where ana approves who joins; mia (who lets directories list her) and
/// leo, on a Mastodon-like server, have asked to join and been sent the direct note.
struct Circle {
    a: TestInstance,
    ana: String,
    fake: FakeServer,
    mia: FakeActor,
    leo: FakeActor,
}

impl Circle {
    async fn new() -> Self {
        let (a, ana) = circle().await;
        let fake = FakeServer::start().await;
        let mia = fake.actor("masto", "mia");
        let leo = fake.actor("masto", "leo");
        // Mia lets her account be listed in directories, as Mastodon publishes it.
        let mut doc: Value = a
            .client
            .get(mia.id.as_str())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        doc["discoverable"] = json!(true);
        fake.serve(&mia.id, doc);
        let group_id = a.url("/c/circle");
        for (who, n) in [(&mia, 1), (&leo, 2)] {
            let id = format!("{}/follows/{n}", fake.base("masto"));
            let follow = activity(id, "Follow", &who.id, json!(group_id));
            assert_eq!(
                who.deliver(&a.client, &a.url("/c/circle/inbox"), &follow)
                    .await,
                202
            );
        }
        wait_for("the direct notes", T, || async {
            !fake.inbox_of("masto", "mia").is_empty() && !fake.inbox_of("masto", "leo").is_empty()
        })
        .await;
        Self {
            a,
            ana,
            fake,
            mia,
            leo,
        }
    }

    /// Mia replies to her note directly, as Mastodon would (a mention of the group, not
    /// public); waits until her reason is on her request.
    async fn mia_gives_her_reason(&self) {
        let (fake, group_id) = (&self.fake, self.a.url("/c/circle"));
        let dm = &fake.inbox_of("masto", "mia")[0];
        let reply = json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{}/statuses/9/activity", fake.base("masto")), "type": "Create", "actor": self.mia.id,
            "to": [group_id], "cc": [],
            "object": {
                "id": format!("{}/statuses/9", fake.base("masto")), "type": "Note", "attributedTo": self.mia.id,
                "to": [group_id], "cc": [], "inReplyTo": dm["object"]["id"],
                "content": "<p><span class=\"h-card\"><a href=\"x\" class=\"u-url mention\">@<span>circle</span></a></span> I coordinate a network of youth workers.</p>",
                "tag": [{ "type": "Mention", "href": group_id }]
            }
        });
        let inbox = self.a.url("/c/circle/inbox");
        assert_eq!(self.mia.deliver(&self.a.client, &inbox, &reply).await, 202);
        wait_for("the reason on the request", T, || async {
            self.requests().await["items"].as_array().is_some_and(|i| {
                i.iter()
                    .any(|r| r["reason"] == "I coordinate a network of youth workers.")
            })
        })
        .await;
    }

    /// The requests waiting, as ana sees them.
    async fn requests(&self) -> Value {
        let path = "/api/v1/communities/circle/requests";
        self.a.api(Method::GET, path, Some(&self.ana), None).await.1
    }

    /// The local id of `who`'s request.
    async fn request_of(&self, who: &Url) -> i64 {
        self.requests().await["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["person"]["id"] == who.as_str())
            .unwrap()["person"]["local_id"]
            .as_i64()
            .unwrap()
    }

    /// The circle's decision log.
    async fn log(&self) -> Vec<Value> {
        let path = "/api/v1/communities/circle/log";
        let (_, log) = self.a.api(Method::GET, path, Some(&self.ana), None).await;
        log["items"].as_array().unwrap().clone()
    }
}

/// Alpha with "circle", approval needed, coordinated by ana.
async fn circle() -> (TestInstance, String) {
    let a = TestInstance::spawn("alpha").await;
    let ana = a.create_user("ana").await;
    a.community_with(
        &ana,
        "circle",
        json!({ "membership_policy": "approval", "rules": "Be kind." }),
    )
    .await;
    (a, ana)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_community_that_approves_members_shows_a_lock() {
    let (a, _) = circle().await;
    let (_, group) = a.get_ap(&a.url("/c/circle")).await;
    assert_eq!(
        group["manuallyApprovesFollowers"], true,
        "Mastodon shows a lock"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_applicant_gets_a_direct_note_with_the_code_of_conduct() {
    let c = Circle::new().await;
    let dm = &c.fake.inbox_of("masto", "mia")[0];
    assert_eq!(dm["type"], "Create");
    assert_eq!(dm["object"]["to"], json!([c.mia.id]));
    assert!(dm["object"]["content"]
        .as_str()
        .unwrap()
        .contains("/c/circle/rules"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approved_applicant_is_accepted_and_listed_with_their_own_profile() {
    let c = Circle::new().await;
    c.mia_gives_her_reason().await;
    let mia_id = c.request_of(&c.mia.id).await;
    let path = format!("/api/v1/communities/circle/requests/{mia_id}/approve");
    let (s, _) = c.a.api(Method::POST, &path, Some(&c.ana), None).await;
    assert_eq!(s, 204);
    wait_for("mia's Accept", T, || async {
        c.fake
            .inbox_of("masto", "mia")
            .iter()
            .any(|v| v["type"] == "Accept")
    })
    .await;
    member_id(&c.a, "circle", c.mia.id.as_str()).await;
    // The directory shows the profile her own server publishes.
    let path = "/api/v1/communities/circle/members";
    let (_, dir) = c.a.api(Method::GET, path, None, None).await;
    let entry = dir["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["person"]["id"] == c.mia.id.as_str())
        .unwrap()
        .clone();
    assert_eq!(entry["person"]["name"], "mia");
    assert_eq!(
        entry["person"]["avatar"],
        format!("{}/avatars/mia.png", c.fake.base("masto"))
    );
    assert_eq!(entry["role"], "member");
    let log = c.log().await;
    let approve = log.iter().find(|l| l["action"] == "approve").unwrap();
    assert_eq!(
        approve["reason"],
        "I coordinate a network of youth workers."
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declined_applicant_gets_a_reject_and_the_message() {
    let c = Circle::new().await;
    let leo_id = c.request_of(&c.leo.id).await;
    let (s, _) =
        c.a.api(
            Method::POST,
            &format!("/api/v1/communities/circle/requests/{leo_id}/decline"),
            Some(&c.ana),
            Some(json!({ "message": "We are full this term." })),
        )
        .await;
    assert_eq!(s, 204);
    wait_for("leo's Reject and note", T, || async {
        let inbox = c.fake.inbox_of("masto", "leo");
        inbox
            .iter()
            .any(|v| v["type"] == "Reject" && v["object"]["actor"] == c.leo.id.as_str())
            && inbox.iter().any(|v| {
                v["type"] == "Create"
                    && v["object"]["content"]
                        .as_str()
                        .unwrap_or_default()
                        .contains("We are full")
            })
    })
    .await;
    assert!(c
        .log()
        .await
        .iter()
        .any(|l| l["action"] == "decline" && l["reason"] == "We are full this term."));
}

/// Alpha's "inner", by invitation only with direct welcomes, coordinated by ana; max is a
/// local account and bob one on beta, neither invited yet.
struct Inner {
    a: TestInstance,
    b: TestInstance,
    ana: String,
    max: String,
    bob: String,
    /// `inner@alpha...`, to join by.
    handle: String,
}

impl Inner {
    async fn new() -> Self {
        let a = TestInstance::spawn("alpha").await;
        let b = TestInstance::spawn("beta").await;
        let ana = a.create_user("ana").await;
        let max = a.create_user("max").await;
        let bob = b.create_user("bob").await;
        a.community_with(
            &ana,
            "inner",
            json!({ "membership_policy": "invite", "welcome_mode": "direct" }),
        )
        .await;
        let handle = format!("inner@{}", a.domain);
        Self {
            a,
            b,
            ana,
            max,
            bob,
            handle,
        }
    }

    /// The account with `token` invites `handle`; the status.
    async fn invite(&self, token: &str, handle: &str) -> (u16, Value) {
        self.a
            .api(
                Method::POST,
                "/api/v1/communities/inner/invites",
                Some(token),
                Some(json!({ "handle": handle })),
            )
            .await
    }

    /// Ana invites bob, who joins; waits until beta has the Accept.
    async fn bob_joins(&self) {
        let (s, e) = self
            .invite(&self.ana, &format!("bob@{}", self.b.domain))
            .await;
        assert_eq!(s, 201, "{e}");
        wait_received(&self.b, "the Invite", |v| v["type"] == "Invite").await;
        let (s, _) = self.b.follow(&self.bob, &self.handle).await;
        assert_eq!(s, 202);
        wait_for("bob accepted", T, || async {
            accepted_follows(&self.b).await == 1
        })
        .await;
    }

    /// Max joins without an invitation (refused), then with one.
    async fn max_joins(&self) {
        let (s, _) = self.a.follow(&self.max, &"inner").await;
        assert_eq!(s, 403);
        let (s, _) = self.invite(&self.ana, "max").await;
        assert_eq!(s, 201);
        let (s, j) = self.a.follow(&self.max, &"inner").await;
        assert_eq!((s, j["status"].as_str()), (202, Some("joined")));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_coordinators_invite_and_the_invited_get_an_invite_and_a_note() {
    let i = Inner::new().await;
    let bob_handle = format!("bob@{}", i.b.domain);
    let (s, _) = i.invite(&i.max, &bob_handle).await;
    assert_eq!(s, 403, "members cannot invite");
    let (s, e) = i.invite(&i.ana, &bob_handle).await;
    assert_eq!(s, 201, "{e}");
    let invite = wait_received(&i.b, "the Invite", |v| v["type"] == "Invite").await;
    assert_eq!(invite["target"], i.b.url("/u/bob").as_str());
    wait_received(&i.b, "the invitation note", |v| {
        v["type"] == "Create" && v["object"]["content"].as_str().unwrap().contains("invited")
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invited_member_joins_and_is_welcomed_directly() {
    let i = Inner::new().await;
    i.bob_joins().await;
    let welcome = wait_received(&i.b, "the direct welcome", |v| {
        v["type"] == "Create"
            && v["object"]["content"]
                .as_str()
                .unwrap()
                .contains("Welcome to")
    })
    .await;
    assert_eq!(welcome["object"]["to"], json!([i.b.url("/u/bob").as_str()]));
}

/// eve, on another server, asks to join "inner" uninvited; waits for the Reject.
async fn eve_is_refused(a: &TestInstance) {
    let fake = FakeServer::start().await;
    let eve = fake.actor("else", "eve");
    let id = format!("{}/follows/1", fake.base("else"));
    let follow = activity(id, "Follow", &eve.id, json!(a.url("/c/inner")));
    assert_eq!(eve.deliver(&a.client, &a.url("/inbox"), &follow).await, 202);
    wait_for("eve's Reject", T, || async {
        fake.inbox_of("else", "eve")
            .iter()
            .any(|v| v["type"] == "Reject")
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn someone_uninvited_is_refused() {
    let i = Inner::new().await;
    eve_is_refused(&i.a).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_account_joins_only_once_invited() {
    let i = Inner::new().await;
    i.max_joins().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_coordinator_cannot_leave_or_step_down() {
    let i = Inner::new().await;
    let ana_local = member_id(&i.a, "inner", i.a.url("/u/ana").as_str()).await;
    let path = format!("/api/v1/communities/inner/members/{ana_local}");
    let (s, e) = i.a.api(Method::DELETE, &path, Some(&i.ana), None).await;
    assert_eq!(s, 409, "{e}");
    let role = Some(json!({ "role": "member" }));
    let (s, e) =
        i.a.api(Method::PUT, &format!("{path}/role"), Some(&i.ana), role)
            .await;
    assert_eq!(s, 409, "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_leave_or_are_removed_and_every_decision_is_recorded() {
    let i = Inner::new().await;
    let (a, b) = (&i.a, &i.b);
    i.bob_joins().await;
    eve_is_refused(a).await;
    i.max_joins().await;
    let max_local = member_id(a, "inner", a.url("/u/max").as_str()).await;
    let path = format!("/api/v1/communities/inner/members/{max_local}");
    assert_eq!(
        a.api(Method::DELETE, &path, Some(&i.ana), None).await.0,
        204
    );
    let path = format!("/api/v1/follows?community={}", i.handle);
    assert_eq!(
        b.api(Method::DELETE, &path, Some(&i.bob), None).await.0,
        204
    );
    wait_for("bob gone from alpha", T, || async {
        let (_, m) = a
            .api(Method::GET, "/api/v1/communities/inner/members", None, None)
            .await;
        m["total"] == 1
    })
    .await;
    let (_, log) = a
        .api(
            Method::GET,
            "/api/v1/communities/inner/log",
            Some(&i.ana),
            None,
        )
        .await;
    let actions: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["action"].as_str().unwrap())
        .collect();
    for action in ["invite", "join", "refuse", "remove", "leave"] {
        assert!(
            actions.contains(&action),
            "{action} missing from {actions:?}"
        );
    }
}
