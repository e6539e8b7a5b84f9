//! Answers to events, one behaviour per test: Join and Leave from Copse, Mobilizon- and
//! Friendica-shaped servers, replies from Mastodon ("Going!"), capacity and the waiting list,
//! approval, invitations and external registration.

// Tests report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use copse_entities::event_participant;
use copse_tests::{
    builders::{
        activities::activity,
        communities::{copse_member, fake_follower, network},
        events::{
            answered, event_json, join_of, leave_of, notes_to, schedule, wait_count, wait_event,
            workshop, workshop_with,
        },
        posts::{mention, stored},
        T,
    },
    fake::{FakeActor, FakeServer},
    wait_for, TestInstance,
};
use reqwest::Method;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{json, Value};
use url::Url;

/// Alpha with "net" (English and Welsh), ana's workshop (room for two, free to join) and fake
/// actors who follow the group, so that they are known here.
struct World {
    a: TestInstance,
    ana: String,
    group: Url,
    fake: FakeServer,
    /// The workshop's ActivityPub id.
    id: String,
    /// Its local id.
    local_id: i64,
    inbox: Url,
}

impl World {
    /// The world with one follower per `(label, name)`, in that order.
    async fn new(followers: &[(&str, &str)]) -> (Self, Vec<FakeActor>) {
        Self::build(followers, None).await
    }

    /// The world where bob on `b` is also a member (joined before the workshop is scheduled,
    /// so that beta is sent it); bob's token.
    async fn with_bob(
        followers: &[(&str, &str)],
        b: &TestInstance,
    ) -> (Self, Vec<FakeActor>, String) {
        let mut bob = String::new();
        let (w, actors) = Self::build(followers, Some((b, &mut bob))).await;
        (w, actors, bob)
    }

    async fn build(
        followers: &[(&str, &str)],
        beta: Option<(&TestInstance, &mut String)>,
    ) -> (Self, Vec<FakeActor>) {
        let a = TestInstance::spawn("alpha").await;
        let ana = a.create_user("ana").await;
        let group = network(&a, &ana, "en, cy").await;
        if let Some((b, bob)) = beta {
            *bob = copse_member(&a, b, "bob", "net").await;
        }
        let fake = FakeServer::start().await;
        let mut actors = Vec::new();
        for (label, name) in followers {
            actors.push(fake_follower(&a, &fake, label, name, &group).await);
        }
        let created = schedule(&a, &ana, workshop()).await;
        let world = Self {
            id: created["ap_id"].as_str().unwrap().to_string(),
            local_id: created["id"].as_i64().unwrap(),
            inbox: a.url("/inbox"),
            a,
            ana,
            group,
            fake,
        };
        (world, actors)
    }

    /// `who` sends `activity` to alpha's shared inbox.
    async fn send(&self, who: &FakeActor, activity: &Value) {
        assert_eq!(
            who.deliver(&self.a.client, &self.inbox, activity).await,
            202
        );
    }

    /// `who` replies `text` to the workshop as status number `n`; the status.
    async fn reply(&self, who: &FakeActor, n: u32, text: &str) -> Value {
        let html = mention(&self.group, text);
        let (status, create) = who.status(&self.fake, n, &self.group, &html, Some(&self.id));
        self.send(who, &create).await;
        status
    }

    /// Schedules another workshop with `patch`; its JSON.
    async fn another(&self, patch: Value) -> Value {
        schedule(&self.a, &self.ana, workshop_with(patch)).await
    }
}

/// bob answers on beta through his own API; the status and the answer's JSON.
async fn rsvp(b: &TestInstance, bob: &str, local_id: i64, going: bool) -> (u16, Value) {
    b.api(
        Method::POST,
        &format!("/api/v1/events/{local_id}/rsvp"),
        Some(bob),
        Some(json!({ "going": going })),
    )
    .await
}

/// Waits until bob's participation on beta is `status`.
async fn wait_bob(b: &TestInstance, local_id: i64, status: event_participant::ParticipantStatus) {
    wait_for("bob's participation", T, || async {
        event_participant::Entity::find()
            .filter(event_participant::Column::EventId.eq(local_id))
            .one(b.db())
            .await
            .unwrap()
            .is_some_and(|r| r.status == status)
    })
    .await;
}

/// The workshop full, with two waiting: bob (from beta) and zoe (Mobilizon) going, then mia
/// (Mastodon, by reply) and kai (Friendica) waiting.
struct FullHouse {
    w: World,
    b: TestInstance,
    /// bob's token on beta.
    bob: String,
    /// The workshop's local id on beta.
    bob_event: i64,
    zoe: FakeActor,
    kai_join: Value,
}

/// Builds the full house, waiting for each answer in turn.
async fn full_house() -> FullHouse {
    let b = TestInstance::spawn("beta").await;
    let followers = [("mobi", "zoe"), ("fri", "kai"), ("masto", "mia")];
    let (w, actors, bob) = World::with_bob(&followers, &b).await;
    let [zoe, kai, mia] = <[FakeActor; 3]>::try_from(actors).unwrap();
    let (bp, _) = wait_event(&b, &w.id).await;
    assert_eq!(rsvp(&b, &bob, bp.id, true).await.0, 200);
    wait_bob(&b, bp.id, event_participant::ParticipantStatus::Going).await;
    let zoe_join = join_of(&w.fake, &zoe, "mobi", 1, &w.id);
    w.send(&zoe, &zoe_join).await;
    wait_for("zoe's Accept", T, || async {
        answered(&w.fake, "mobi", "Accept", &zoe_join)
    })
    .await;
    w.reply(&mia, 1, "Going!").await;
    wait_count(&w.a, w.local_id, "waiting_count", 1).await;
    let kai_join = join_of(&w.fake, &kai, "fri", 1, &w.id);
    w.send(&kai, &kai_join).await;
    wait_count(&w.a, w.local_id, "waiting_count", 2).await;
    FullHouse {
        w,
        b,
        bob,
        bob_event: bp.id,
        zoe,
        kai_join,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copse_member_answers_through_their_own_api_and_is_accepted() {
    let b = TestInstance::spawn("beta").await;
    let (w, _, bob) = World::with_bob(&[], &b).await;
    let (bp, _) = wait_event(&b, &w.id).await;
    let (s, answer) = rsvp(&b, &bob, bp.id, true).await;
    assert_eq!(
        (s, answer["status"].as_str()),
        (200, Some("pending")),
        "{answer}"
    );
    wait_bob(&b, bp.id, event_participant::ParticipantStatus::Going).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_join_from_mobilizon_takes_a_place_and_is_accepted_by_the_group() {
    let (w, actors) = World::new(&[("mobi", "zoe")]).await;
    let zoe_join = join_of(&w.fake, &actors[0], "mobi", 1, &w.id);
    w.send(&actors[0], &zoe_join).await;
    wait_for("zoe's Accept", T, || async {
        w.fake.posted("mobi").iter().any(|v| {
            v["type"] == "Accept"
                && v["object"]["id"] == zoe_join["id"]
                && v["actor"] == w.group.as_str()
        })
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_going_reply_to_a_full_event_joins_the_waiting_list_and_is_told() {
    let (w, actors) = World::new(&[("mobi", "zoe"), ("fri", "kai"), ("masto", "mia")]).await;
    w.send(&actors[0], &join_of(&w.fake, &actors[0], "mobi", 1, &w.id))
        .await;
    w.send(&actors[1], &join_of(&w.fake, &actors[1], "fri", 1, &w.id))
        .await;
    wait_count(&w.a, w.local_id, "participant_count", 2).await;
    let going = w.reply(&actors[2], 1, "Going!").await;
    wait_for("mia's place on the waiting list", T, || async {
        notes_to(&w.fake, "masto").iter().any(|n| {
            n["inReplyTo"] == going["id"]
                && n["content"]
                    .as_str()
                    .unwrap()
                    .contains("number 1 on the waiting list")
        })
    })
    .await;
    assert!(
        stored(&w.a, going["id"].as_str().unwrap()).await.is_none(),
        "an answer is not a comment"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_join_to_a_full_event_waits_in_line_without_an_answer() {
    let h = full_house().await;
    let ev = event_json(&h.w.a, h.w.local_id).await;
    assert_eq!(ev["waiting_count"], 2);
    assert_eq!(
        (ev["participant_count"].as_i64(), ev["remaining"].as_i64()),
        (Some(2), Some(0))
    );
    assert!(!answered(&h.w.fake, "fri", "Accept", &h.kai_join));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coordinators_see_who_is_coming_and_members_do_not() {
    let h = full_house().await;
    let (a, url) = (
        &h.w.a,
        format!("/api/v1/events/{}/participants", h.w.local_id),
    );
    let (s, list) = a.api(Method::GET, &url, Some(&h.w.ana), None).await;
    assert_eq!(s, 200, "{list}");
    let statuses: Vec<(&str, &str)> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["person"]["name"].as_str().unwrap(),
                i["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [
            ("bob", "going"),
            ("zoe", "going"),
            ("mia", "waiting"),
            ("kai", "waiting")
        ]
    );
    assert!(list["items"][1]["message"]
        .as_str()
        .unwrap()
        .contains("Exeter network"));
    let cy = a.create_user("cy").await;
    assert!(matches!(a.follow(&cy, "net").await.0, 200..=202));
    assert_eq!(a.api(Method::GET, &url, Some(&cy), None).await.0, 403);
}

/// zoe leaves the full house; waits until mia, first in line, is told she has the place.
async fn zoe_leaves(h: &FullHouse) {
    h.w.send(&h.zoe, &leave_of(&h.w.fake, &h.zoe, "mobi", 1, &h.w.id))
        .await;
    wait_for("mia's place", T, || async {
        notes_to(&h.w.fake, "masto")
            .iter()
            .any(|n| n["content"].as_str().unwrap().contains("You are going to"))
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leave_gives_the_place_to_the_first_in_line_who_is_told() {
    let h = full_house().await;
    zoe_leaves(&h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_withdrawal_on_copse_accepts_the_next_join_in_line() {
    let h = full_house().await;
    zoe_leaves(&h).await;
    // Bob withdraws on beta: a Leave; kai is next and gets the Accept of his own Join.
    let (s, answer) = rsvp(&h.b, &h.bob, h.bob_event, false).await;
    assert_eq!((s, answer["status"].as_str()), (200, Some("not_going")));
    wait_for("kai's Accept", T, || async {
        answered(&h.w.fake, "fri", "Accept", &h.kai_join)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_not_going_reply_frees_the_place() {
    let (w, actors) = World::new(&[("mobi", "zoe"), ("masto", "mia")]).await;
    w.send(&actors[0], &join_of(&w.fake, &actors[0], "mobi", 1, &w.id))
        .await;
    w.reply(&actors[1], 1, "Going!").await;
    wait_count(&w.a, w.local_id, "participant_count", 2).await;
    // Mia can't make it after all: the place is freed, and she is told.
    w.reply(&actors[1], 2, "Sorry, not going.").await;
    wait_count(&w.a, w.local_id, "participant_count", 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_in_one_of_the_communitys_languages_is_an_answer() {
    let (w, actors) = World::new(&[("masto", "dai")]).await;
    w.reply(&actors[0], 1, "Dw i’n dod!").await;
    wait_count(&w.a, w.local_id, "participant_count", 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_longer_reply_is_a_comment_in_the_events_thread() {
    let (w, actors) = World::new(&[("masto", "dai")]).await;
    let comment = w
        .reply(&actors[0], 2, "Will the slides be shared afterwards?")
        .await;
    wait_for("the comment", T, || async {
        stored(&w.a, comment["id"].as_str().unwrap())
            .await
            .is_some_and(|p| p.topic_id == Some(w.local_id))
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approval_requests_wait_for_a_coordinator_who_accepts_or_declines() {
    let (w, actors) = World::new(&[("mobi", "zoe"), ("fri", "kai")]).await;
    let (zoe, kai) = (&actors[0], &actors[1]);
    let circle = w
        .another(json!({ "title": "Peer review circle", "join_mode": "approval" }))
        .await;
    let circle_id = circle["ap_id"].as_str().unwrap().to_string();
    let zoe_ask = join_of(&w.fake, zoe, "mobi", 2, &circle_id);
    let kai_ask = join_of(&w.fake, kai, "fri", 2, &circle_id);
    w.send(zoe, &zoe_ask).await;
    w.send(kai, &kai_ask).await;
    let curl = format!("/api/v1/events/{}/participants", circle["id"]);
    wait_for("two pending requests", T, || async {
        let (_, l) = w.a.api(Method::GET, &curl, Some(&w.ana), None).await;
        l["items"]
            .as_array()
            .is_some_and(|i| i.len() == 2 && i.iter().all(|x| x["status"] == "pending"))
    })
    .await;
    let decide = |handle: String, decision: &'static str| {
        let (a, url, ana) = (&w.a, format!("{curl}/{handle}"), w.ana.clone());
        async move {
            a.api(
                Method::POST,
                &url,
                Some(&ana),
                Some(json!({ "decision": decision })),
            )
            .await
        }
    };
    let zoe_handle = format!("zoe@mobi.localhost:{}", w.fake.port);
    let kai_handle = format!("kai@fri.localhost:{}", w.fake.port);
    let (s, d) = decide(zoe_handle, "accept").await;
    assert_eq!((s, d["status"].as_str()), (200, Some("going")), "{d}");
    let (s, d) = decide(kai_handle.clone(), "maybe").await;
    assert_eq!((s, d["field"].as_str()), (422, Some("decision")));
    assert_eq!(decide(kai_handle, "reject").await.0, 200);
    wait_for("the Accept and the Reject", T, || async {
        answered(&w.fake, "mobi", "Accept", &zoe_ask)
            && answered(&w.fake, "fri", "Reject", &kai_ask)
    })
    .await;
}

/// kai's Join to an invitation-only event, refused, then accepted once ana invites him:
/// the world, the event's JSON, kai and his accepted Join.
async fn invited() -> (World, Value, FakeActor, Value) {
    let (w, mut actors) = World::new(&[("fri", "kai")]).await;
    let kai = actors.remove(0);
    let table = w
        .another(json!({ "title": "Funders' round table", "join_mode": "invite" }))
        .await;
    let table_id = table["ap_id"].as_str().unwrap().to_string();
    let first = join_of(&w.fake, &kai, "fri", 3, &table_id);
    w.send(&kai, &first).await;
    wait_for("the Reject of an uninvited join", T, || async {
        answered(&w.fake, "fri", "Reject", &first)
    })
    .await;
    let kai_handle = format!("kai@fri.localhost:{}", w.fake.port);
    let (s, _) =
        w.a.api(
            Method::POST,
            &format!("/api/v1/events/{}/invites", table["id"]),
            Some(&w.ana),
            Some(json!({ "handle": kai_handle })),
        )
        .await;
    assert_eq!(s, 204);
    let second = join_of(&w.fake, &kai, "fri", 4, &table_id);
    w.send(&kai, &second).await;
    wait_for("the Accept of an invited join", T, || async {
        answered(&w.fake, "fri", "Accept", &second)
    })
    .await;
    (w, table, kai, second)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invitation_only_events_refuse_joins_until_invited() {
    invited().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_undo_of_a_join_withdraws_it() {
    let (w, table, kai, second) = invited().await;
    // As some servers do instead of Leave.
    let undo = activity(
        format!("{}/undos/1", w.fake.base("fri")),
        "Undo",
        &kai.id,
        second,
    );
    w.send(&kai, &undo).await;
    let turl = format!("/api/v1/events/{}/participants", table["id"]);
    wait_for("kai withdrawn", T, || async {
        let (_, l) = w.a.api(Method::GET, &turl, Some(&w.ana), None).await;
        l["items"].as_array().is_some_and(Vec::is_empty)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_join_to_an_externally_registered_event_is_refused() {
    let (w, actors) = World::new(&[("mobi", "zoe")]).await;
    let conf = w
        .another(json!({
            "title": "Regional conference", "join_mode": "external",
            "external_url": "https://tickets.example/conf"
        }))
        .await;
    let conf_join = join_of(
        &w.fake,
        &actors[0],
        "mobi",
        3,
        conf["ap_id"].as_str().unwrap(),
    );
    w.send(&actors[0], &conf_join).await;
    wait_for("the Reject of an external event", T, || async {
        answered(&w.fake, "mobi", "Reject", &conf_join)
    })
    .await;
}
