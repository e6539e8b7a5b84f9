//! What happens to people's places: a ban applies to taking part in the community's events
//! (places are refused and pass to the waiting list, which passes over banned people), and a
//! deleted account (Mastodon's `Delete` of the actor, then 410 for it) leaves its communities
//! and events, and its posts become tombstones.

// Tests report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use copse_entities::{
    community, community_ban, community_follower, event_participant, person, post,
    received_activity,
};
use copse_tests::{
    fake::{FakeActor, FakeServer},
    wait_for, TestInstance,
};
use reqwest::Method;
use sea_orm::{ActiveValue::NotSet, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::{json, Value};
use std::time::Duration;
use url::Url;

const T: Duration = Duration::from_secs(20);

/// An open community "net" on `a` with an event of one place; returns the event's id and
/// local id.
async fn one_place_event(a: &TestInstance, ana: &str) -> (String, i64) {
    a.community_with(ana, "net", json!({ "welcome_mode": "off" }))
        .await;
    let (s, e) = a
        .api(
            Method::POST,
            "/api/v1/communities/net/events",
            Some(ana),
            Some(json!({
                "title": "Mapping workshop",
                "description": "Bring a map.",
                "start": "2027-06-15T18:00",
                "end": "2027-06-15T20:00",
                "timezone": "Europe/London",
                "capacity": 1,
                "join_mode": "free"
            })),
        )
        .await;
    assert_eq!(s, 201, "{e}");
    (
        e["ap_id"].as_str().unwrap().to_string(),
        e["id"].as_i64().unwrap(),
    )
}

fn join_of(fake: &FakeServer, label: &str, who: &FakeActor, event: &str) -> Value {
    let name = who.id.path().rsplit('/').next().unwrap().to_string();
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/joins/{name}", fake.base(label)),
        "type": "Join", "actor": who.id, "object": event
    })
}

fn answered(fake: &FakeServer, label: &str, kind: &str, join: &Value) -> bool {
    fake.posted(label)
        .iter()
        .any(|v| v["type"] == kind && v["object"]["id"] == join["id"])
}

async fn waiting_count(a: &TestInstance, event: i64) -> i64 {
    let (_, e) = a
        .api(Method::GET, &format!("/api/v1/events/{event}"), None, None)
        .await;
    e["waiting_count"].as_i64().unwrap()
}

async fn person_row(a: &TestInstance, id: &Url) -> person::Model {
    person::Entity::find()
        .filter(person::Column::ApId.eq(id.as_str()))
        .one(a.db())
        .await
        .unwrap()
        .unwrap()
}

/// Three remote people answer a one-place event: zoe gets the place, kai and lia wait.
struct Queue {
    fake: FakeServer,
    zoe: FakeActor,
    kai: FakeActor,
    joins: [Value; 3],
}

async fn queue_up(a: &TestInstance, event: &str, event_id: i64) -> Queue {
    let group = a.url("/c/net");
    let fake = FakeServer::start().await;
    let zoe = fake.actor("mobi", "zoe");
    let kai = fake.actor("fri", "kai");
    let lia = fake.actor("gts", "lia");
    let inbox = a.url("/inbox");
    let mut joins = Vec::new();
    for (who, label) in [(&zoe, "mobi"), (&kai, "fri"), (&lia, "gts")] {
        a.follow_as(&fake, who, label, &group).await;
        let join = join_of(&fake, label, who, event);
        assert_eq!(who.deliver(&a.client, &inbox, &join).await, 202);
        joins.push(join);
        // One at a time, so that the waiting list is in this order.
        let n = joins.len() as i64;
        wait_for("the answer", T, || async {
            if n == 1 {
                answered(&fake, "mobi", "Accept", &joins[0])
            } else {
                waiting_count(a, event_id).await == n - 1
            }
        })
        .await;
    }
    Queue {
        fake,
        zoe,
        kai,
        joins: joins.try_into().unwrap(),
    }
}

/// Zoe leaves, freeing the place.
async fn zoe_leaves(a: &TestInstance, q: &Queue, event: &str) {
    let leave = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/leaves/1", q.fake.base("mobi")),
        "type": "Leave", "actor": q.zoe.id, "object": event
    });
    assert_eq!(
        q.zoe.deliver(&a.client, &a.url("/inbox"), &leave).await,
        202
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ban_refuses_the_banned_places_in_the_communitys_events() {
    let a = TestInstance::spawn("alpha").await;
    let ana = a.create_user("ana").await;
    let (event, event_id) = one_place_event(&a, &ana).await;
    let q = queue_up(&a, &event, event_id).await;

    // Kai, waiting, is banned: his Join is refused, and he is off the waiting list.
    let handle = format!("kai@{}", q.kai.id.host_str().unwrap());
    let handle = format!("{handle}:{}", q.kai.id.port().unwrap());
    let (s, body) = a
        .api(
            Method::POST,
            "/api/v1/communities/net/bans",
            Some(&ana),
            Some(json!({ "handle": handle, "reason": "spam" })),
        )
        .await;
    assert_eq!(s, 201, "{body}");
    wait_for("kai's Reject", T, || async {
        answered(&q.fake, "fri", "Reject", &q.joins[1])
    })
    .await;
    assert_eq!(waiting_count(&a, event_id).await, 1);

    // The place Zoe frees goes to Lia, next in line.
    zoe_leaves(&a, &q, &event).await;
    wait_for("lia's Accept", T, || async {
        answered(&q.fake, "gts", "Accept", &q.joins[2])
    })
    .await;
    assert!(!answered(&q.fake, "fri", "Accept", &q.joins[1]));

    // Kai cannot answer again, by Join or by a reply saying he is going.
    let mut again = q.joins[1].clone();
    again["id"] = json!(format!("{}/joins/kai-again", q.fake.base("fri")));
    assert_eq!(
        q.kai.deliver(&a.client, &a.url("/inbox"), &again).await,
        202
    );
    wait_for("the second Reject", T, || async {
        answered(&q.fake, "fri", "Reject", &again)
    })
    .await;
    let group = a.url("/c/net");
    let (_, going) = q
        .kai
        .status(&q.fake, 1, &group, "<p>Going!</p>", Some(&event));
    assert_eq!(
        q.kai.deliver(&a.client, &a.url("/inbox"), &going).await,
        202
    );
    wait_for("the note saying why", T, || async {
        q.fake.posted("fri").iter().any(|v| {
            v["type"] == "Create"
                && v["object"]["content"]
                    .as_str()
                    .is_some_and(|c| c.contains("You are banned from The net."))
        })
    })
    .await;

    // A banned local person cannot answer through the API either.
    let max = a.create_user("max").await;
    let (s, _) = a
        .api(
            Method::POST,
            "/api/v1/communities/net/bans",
            Some(&ana),
            Some(json!({ "handle": "max" })),
        )
        .await;
    assert_eq!(s, 201);
    let (s, answer) = a
        .api(
            Method::POST,
            &format!("/api/v1/events/{event_id}/rsvp"),
            Some(&max),
            Some(json!({ "going": true })),
        )
        .await;
    assert_eq!(
        (s, answer["status"].as_str()),
        (200, Some("rejected")),
        "{answer}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_waiting_list_passes_over_people_banned_while_waiting() {
    let a = TestInstance::spawn("alpha").await;
    let ana = a.create_user("ana").await;
    let (event, event_id) = one_place_event(&a, &ana).await;
    let q = queue_up(&a, &event, event_id).await;

    // Kai's ban is on record (made, say, before bans reached events), but he is still waiting.
    let c = community::Entity::find()
        .filter(community::Column::Name.eq("net"))
        .one(a.db())
        .await
        .unwrap()
        .unwrap();
    let kai = person_row(&a, &q.kai.id).await;
    let ana_row = person_row(&a, &a.url("/u/ana")).await;
    community_ban::Entity::insert(community_ban::ActiveModel {
        id: NotSet,
        community_id: Set(c.id),
        person_id: Set(kai.id),
        reason: Set(None),
        expires_at: Set(None),
        banned_by: Set(ana_row.id),
        block_id: Set(a.url("/activities/block/1").to_string().parse().unwrap()),
        created_at: Set(chrono::Utc::now()),
    })
    .exec(a.db())
    .await
    .unwrap();
    assert_eq!(waiting_count(&a, event_id).await, 2);

    zoe_leaves(&a, &q, &event).await;
    wait_for("lia's Accept", T, || async {
        answered(&q.fake, "gts", "Accept", &q.joins[2])
    })
    .await;
    assert!(!answered(&q.fake, "fri", "Accept", &q.joins[1]));
    let kai_status = event_participant::Entity::find()
        .filter(event_participant::Column::PersonId.eq(kai.id))
        .one(a.db())
        .await
        .unwrap()
        .unwrap()
        .status;
    assert_eq!(kai_status, event_participant::ParticipantStatus::Waiting);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_account_leaves_its_communities_and_events() {
    let a = TestInstance::spawn("alpha").await;
    let ana = a.create_user("ana").await;
    let (event, event_id) = one_place_event(&a, &ana).await;
    let group = a.url("/c/net");
    let fake = FakeServer::start().await;
    let mia = fake.actor("masto", "mia");
    let kai = fake.actor("fri", "kai");
    a.follow_as(&fake, &mia, "masto", &group).await;
    a.follow_as(&fake, &kai, "fri", &group).await;
    let inbox = a.url("/inbox");

    // Mia (Mastodon) starts a topic and takes the one place by replying; Kai waits.
    let (topic, create) = mia.status(
        &fake,
        1,
        &group,
        "<p>@net Budgets<br>How do you share yours?</p>",
        None,
    );
    assert_eq!(mia.deliver(&a.client, &inbox, &create).await, 202);
    let (_, going) = mia.status(&fake, 2, &group, "<p>Going!</p>", Some(&event));
    assert_eq!(mia.deliver(&a.client, &inbox, &going).await, 202);
    wait_for("mia going", T, || async {
        let (_, e) = a
            .api(
                Method::GET,
                &format!("/api/v1/events/{event_id}"),
                None,
                None,
            )
            .await;
        e["participant_count"] == 1
    })
    .await;
    let kai_join = join_of(&fake, "fri", &kai, &event);
    assert_eq!(kai.deliver(&a.client, &inbox, &kai_join).await, 202);
    wait_for("kai waiting", T, || async {
        waiting_count(&a, event_id).await == 1
    })
    .await;
    let stored = |id: Value| {
        let a = &a;
        async move {
            post::Entity::find()
                .filter(post::Column::ApId.eq(id.as_str().unwrap()))
                .one(a.db())
                .await
                .unwrap()
        }
    };
    assert!(stored(topic["id"].clone())
        .await
        .is_some_and(|p| p.visible()));

    // A Delete of the account while the account still answers is not believed.
    let delete = |n: u32| {
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{}#delete-{n}", mia.id), "type": "Delete", "actor": mia.id,
            "to": ["https://www.w3.org/ns/activitystreams#Public"], "object": mia.id
        })
    };
    let early = delete(1);
    assert_eq!(mia.deliver(&a.client, &inbox, &early).await, 202);
    wait_for("the early Delete read", T, || async {
        received_activity::Entity::find()
            .filter(received_activity::Column::ApId.eq(early["id"].as_str().unwrap()))
            .one(a.db())
            .await
            .unwrap()
            .is_some_and(|r| r.status != received_activity::InboxStatus::Pending)
    })
    .await;
    let mia_row = person_row(&a, &mia.id).await;
    assert!(mia_row.deleted_at.is_none());
    let memberships = || async {
        community_follower::Entity::find()
            .filter(community_follower::Column::PersonId.eq(mia_row.id))
            .count(a.db())
            .await
            .unwrap()
    };
    assert_eq!(memberships().await, 1);

    // Her server now answers 410 Gone for her: the Delete is applied.
    fake.gone(&mia.id);
    assert_eq!(mia.deliver(&a.client, &inbox, &delete(2)).await, 202);
    wait_for("kai's Accept for the freed place", T, || async {
        answered(&fake, "fri", "Accept", &kai_join)
    })
    .await;
    assert_eq!(memberships().await, 0);
    assert!(person_row(&a, &mia.id).await.deleted_at.is_some());
    let topic_row = stored(topic["id"].clone()).await.unwrap();
    assert!(
        topic_row.deleted && topic_row.content.is_empty(),
        "{topic_row:?}"
    );
    let answers = event_participant::Entity::find()
        .filter(event_participant::Column::PersonId.eq(mia_row.id))
        .count(a.db())
        .await
        .unwrap();
    assert_eq!(answers, 0);
    // The followers hear that she left.
    wait_for("Remove{mia} from the members", T, || async {
        fake.posted("fri")
            .iter()
            .any(|v| v["type"] == "Remove" && v["object"] == mia.id.as_str())
    })
    .await;
    let (_, members) = a.get_ap(&a.url("/c/net/members")).await;
    assert_eq!(members["totalItems"], 2, "ana and kai: {members}");
}
