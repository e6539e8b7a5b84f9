//! The desk's settings, locked and pinned topics, and decision log in the browser: the settings
//! form changes the community and federates as the API does, an empty title is named beside
//! its field and changes nothing, topics are locked, pinned, unlocked and removed with the
//! buttons, and the log comes in pages.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use copse_entities::{
    community::{self, MembershipPolicy},
    moderation_log, post, DbUrl,
};
use copse_tests::{
    builders::{activities::wait_received, communities::accepted_follows, posts::local_topic, T},
    visitor::{account_with_password, Visitor},
    wait_for, TestInstance,
};
use sea_orm::{ActiveValue::NotSet, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;

const PASSWORD: &str = "a long enough password";

/// Alpha's open "net" coordinated by `coord`; coord signed in, and coord's token.
async fn desk(a: &TestInstance) -> (Visitor<'_>, String) {
    let token = account_with_password(a, "coord", PASSWORD).await;
    a.community_with(
        &token,
        "net",
        json!({ "membership_policy": "open", "topic_policy": "anyone", "reply_policy": "anyone" }),
    )
    .await;
    let mut coord = Visitor::new(a);
    coord.sign_in("coord", PASSWORD).await;
    (coord, token)
}

async fn net(a: &TestInstance) -> community::Model {
    community::Entity::find()
        .filter(community::Column::Name.eq("net"))
        .one(a.db())
        .await
        .unwrap()
        .unwrap()
}

/// The settings form as the page shows it, with `changes` made.
async fn settings_form(v: &mut Visitor<'_>, changes: &[(&str, &str)]) -> Vec<(String, String)> {
    let page = v.get("/c/net/desk/settings").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let c = page.body.clone();
    let value_of = |name: &str| -> String {
        let input = format!("name=\"{name}\"");
        let at = c.find(&input).unwrap_or_else(|| panic!("no {name} field"));
        let rest = &c[at..];
        if let Some(v) = rest
            .find("value=\"")
            .filter(|v| *v < rest.find('>').unwrap())
        {
            let r = &rest[v + 7..];
            return r[..r.find('"').unwrap()].to_string();
        }
        String::new()
    };
    let mut fields: Vec<(String, String)> = vec![
        ("title".into(), value_of("title")),
        ("languages".into(), value_of("languages")),
        ("membership_policy".into(), "open".into()),
        ("require_rules_agreement".into(), "false".into()),
        ("welcome_mode".into(), "public".into()),
        ("topic_policy".into(), "anyone".into()),
        ("reply_policy".into(), "anyone".into()),
    ];
    for (k, v) in changes {
        fields.retain(|(f, _)| f != k);
        fields.push((k.to_string(), v.to_string()));
    }
    fields
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_saved_at_the_desk_change_the_community_and_federate() {
    let a = TestInstance::spawn("alpha").await;
    let b = TestInstance::spawn("beta").await;
    let (mut coord, _) = desk(&a).await;
    let bob = b.create_user("bob").await;
    let (s, _) = b.follow(&bob, &format!("net@{}", a.domain)).await;
    assert_eq!(s, 202);
    wait_for("bob accepted", T, || async {
        accepted_follows(&b).await == 1
    })
    .await;
    let fields = settings_form(
        &mut coord,
        &[
            ("title", "London Networks"),
            ("summary", "We map **food** networks."),
            ("membership_policy", "approval"),
            ("languages", "en, cy"),
        ],
    )
    .await;
    let csrf = coord.get("/c/net/desk/settings").await.csrf();
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend(fields.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let res = coord.post("/c/net/desk/settings", &all).await;
    assert_eq!(res.status, 303, "{}", res.body);
    let c = net(&a).await;
    assert_eq!(c.title, "London Networks");
    assert_eq!(c.membership_policy, MembershipPolicy::Approval);
    assert!(c.summary.unwrap().contains("<strong>food</strong>"));
    assert_eq!(c.languages.as_deref(), Some("en, cy"));
    wait_received(&b, "the announced Update{Group}", |v| {
        v["type"] == "Announce"
            && v["object"]["type"] == "Update"
            && v["object"]["object"]["name"] == "London Networks"
    })
    .await;
    let page = coord.get("/c/net/desk/settings?saved=1").await;
    assert!(
        page.body.contains("value=\"London Networks\""),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn an_empty_title_is_named_beside_its_field_and_changes_nothing() {
    let a = TestInstance::spawn("alpha").await;
    let (mut coord, _) = desk(&a).await;
    let before = net(&a).await;
    let fields = settings_form(
        &mut coord,
        &[("title", "  "), ("membership_policy", "invite")],
    )
    .await;
    let csrf = coord.get("/c/net/desk/settings").await.csrf();
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend(fields.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let res = coord.post("/c/net/desk/settings", &all).await;
    assert_eq!(res.status, 422, "{}", res.body);
    let at = res
        .body
        .find("id=\"title-error\"")
        .expect("error beside title");
    assert!(
        res.body[at..].contains("title must be 1 to 100 characters"),
        "the API's words: {}",
        res.body
    );
    let after = net(&a).await;
    assert_eq!(after.title, before.title);
    assert_eq!(after.membership_policy, MembershipPolicy::Open);
}

#[tokio::test]
async fn topics_locked_and_pinned_from_the_thread_are_listed_and_unlocked_at_the_desk() {
    let a = TestInstance::spawn("alpha").await;
    let (mut coord, token) = desk(&a).await;
    let topic = local_topic(&a, &token, "Agenda <b>draft</b>").await;
    let id = topic["local_id"].as_i64().or(topic["id"].as_i64()).unwrap();
    let thread = coord.get(&format!("/post/{id}")).await;
    assert!(thread.body.contains("value=\"lock\""), "{}", thread.body);
    for action in ["lock", "pin"] {
        let res = coord
            .submit(
                &format!("/post/{id}"),
                &format!("/post/{id}/moderate"),
                &[("action", action)],
            )
            .await;
        assert_eq!(res.status, 303, "{}", res.body);
    }
    let row = post::Entity::find_by_id(id)
        .one(a.db())
        .await
        .unwrap()
        .unwrap();
    assert!(row.locked && row.pinned);
    let list = coord.get("/c/net/desk/topics").await;
    assert!(
        list.body.contains("Agenda &#60;b&#62;draft&#60;/b&#62;"),
        "{}",
        list.body
    );
    let res = coord
        .submit(
            "/c/net/desk/topics",
            &format!("/post/{id}/moderate"),
            &[("action", "unlock"), ("back", "desk")],
        )
        .await;
    assert_eq!(res.status, 303);
    assert_eq!(res.location.as_deref(), Some("/c/net/desk/topics"));
    let row = post::Entity::find_by_id(id)
        .one(a.db())
        .await
        .unwrap()
        .unwrap();
    assert!(!row.locked && row.pinned);
}

#[tokio::test]
async fn a_member_sees_no_moderation_buttons_and_cannot_use_them() {
    let a = TestInstance::spawn("alpha").await;
    let (_, token) = desk(&a).await;
    let topic = local_topic(&a, &token, "Agenda").await;
    let id = topic["local_id"].as_i64().or(topic["id"].as_i64()).unwrap();
    let max = account_with_password(&a, "max", PASSWORD).await;
    a.follow(&max, &"net").await;
    let mut v = Visitor::new(&a);
    v.sign_in("max", PASSWORD).await;
    let thread = v.get(&format!("/post/{id}")).await;
    assert!(!thread.body.contains("/moderate"), "{}", thread.body);
    let csrf = thread.csrf();
    let res = v
        .post(
            &format!("/post/{id}/moderate"),
            &[("csrf", &csrf), ("action", "remove")],
        )
        .await;
    assert_eq!(res.status, 403);
    let row = post::Entity::find_by_id(id)
        .one(a.db())
        .await
        .unwrap()
        .unwrap();
    assert!(!row.removed);
}

#[tokio::test]
async fn a_post_removed_from_the_thread_is_removed_with_its_reason_logged() {
    let a = TestInstance::spawn("alpha").await;
    let (mut coord, token) = desk(&a).await;
    let topic = local_topic(&a, &token, "Buy now").await;
    let id = topic["local_id"].as_i64().or(topic["id"].as_i64()).unwrap();
    let res = coord
        .submit(
            &format!("/post/{id}"),
            &format!("/post/{id}/moderate"),
            &[("action", "remove"), ("reason", "advertising")],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let row = post::Entity::find_by_id(id)
        .one(a.db())
        .await
        .unwrap()
        .unwrap();
    assert!(row.removed);
    let log = coord.get("/c/net/desk/log").await;
    assert!(log.body.contains("advertising"), "{}", log.body);
}

#[tokio::test]
async fn the_decision_log_comes_fifty_to_a_page_newest_first() {
    let a = TestInstance::spawn("alpha").await;
    let (mut coord, _) = desk(&a).await;
    let c = net(&a).await;
    let before = moderation_log::Entity::find()
        .filter(moderation_log::Column::CommunityId.eq(c.id))
        .all(a.db())
        .await
        .unwrap()
        .len();
    for n in 0..55 {
        moderation_log::Entity::insert(moderation_log::ActiveModel {
            id: NotSet,
            community_id: Set(c.id),
            moderator: Set(DbUrl(a.url("/u/coord"))),
            action: Set("remove".into()),
            target: Set(DbUrl(a.url(&format!("/post/{n}")))),
            reason: Set(Some(format!("decision number {n}."))),
            created_at: Set(chrono::Utc::now()),
        })
        .exec(a.db())
        .await
        .unwrap();
    }
    let first = coord.get("/c/net/desk/log").await;
    assert_eq!(first.status, 200);
    assert!(first.body.contains("decision number 54."), "newest first");
    assert!(!first.body.contains("decision number 4."));
    assert!(first.body.contains("/c/net/desk/log?page=2"));
    let second = coord.get("/c/net/desk/log?page=2").await;
    assert!(
        second.body.contains("decision number 4."),
        "{}",
        second.body
    );
    assert!(second.body.contains("decision number 0."));
    assert!(!second.body.contains("decision number 5."));
    let rows = 55 + before;
    assert_eq!(
        second.body.matches("<tr>").count(),
        rows - 50 + 1,
        "the rest, and the heading row"
    );
}
