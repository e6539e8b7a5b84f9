//! Real answers of a running instance, each checked against the schema the document gives for
//! its operation and status: accounts and tokens, communities and discussions, events,
//! membership, notifications and refusals.

use super::checker::Garden;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn account_community_and_discussion_answers_match_their_schemas() {
    let g = Garden::new().await;
    let (ana, max) = (Some(g.ana.as_str()), Some(g.max.as_str()));
    g.call(Method::GET, "/api/v1/me", "/api/v1/me", ana, None)
        .await;
    let body = json!({ "display_name": "Ana", "summary": "I *grow* things" });
    g.call(Method::PUT, "/api/v1/me", "/api/v1/me", ana, Some(body))
        .await;
    let tokens = "/api/v1/me/tokens";
    let phone = json!({ "name": "phone" });
    let made = g.call(Method::POST, tokens, tokens, ana, Some(phone)).await;
    assert_eq!(made["name"], "phone");
    assert!(made["token"].is_string() && made["id"].is_i64());
    let list = g.call(Method::GET, tokens, tokens, ana, None).await;
    assert_eq!(list["items"][0]["id"], made["id"]);
    // The token just made signs requests in.
    let phone = made["token"].as_str();
    g.call(Method::GET, tokens, tokens, phone, None).await;
    let c = "/api/v1/communities/{name}";
    g.call(Method::GET, c, "/api/v1/communities/garden", None, None)
        .await;
    let topics = "/api/v1/communities/{name}/topics";
    let list = g
        .call(
            Method::GET,
            topics,
            "/api/v1/communities/garden/topics?sort=new",
            None,
            None,
        )
        .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let posts = "/api/v1/communities/{name}/posts";
    g.call(
        Method::GET,
        posts,
        "/api/v1/communities/garden/posts",
        None,
        None,
    )
    .await;
    let thread = format!("/api/v1/posts/{}", g.reply);
    let t = g
        .call(Method::GET, "/api/v1/posts/{id}", &thread, None, None)
        .await;
    assert_eq!(t["replies"][0]["local_id"], g.reply);
    let edit = json!({ "content": "Beans and peas." });
    g.call(
        Method::PATCH,
        "/api/v1/posts/{id}",
        &thread,
        max,
        Some(edit),
    )
    .await;
    let person = "/api/v1/people/{handle}/posts";
    g.call(Method::GET, person, "/api/v1/people/max/posts", None, None)
        .await;
    let react = format!("/api/v1/posts/{}/reactions", g.topic);
    let emoji = json!({ "emoji": "🌱" });
    g.call(
        Method::POST,
        "/api/v1/posts/{id}/reactions",
        &react,
        max,
        Some(emoji),
    )
    .await;
    let report = format!("/api/v1/posts/{}/reports", g.reply);
    let why = json!({ "reason": "off topic" });
    g.call(
        Method::POST,
        "/api/v1/posts/{id}/reports",
        &report,
        ana,
        Some(why),
    )
    .await;
    let reports = "/api/v1/communities/{name}/reports";
    let r = g
        .call(
            Method::GET,
            reports,
            "/api/v1/communities/garden/reports",
            ana,
            None,
        )
        .await;
    assert_eq!(r["items"][0]["post"]["local_id"], g.reply);
    let lock = format!("/api/v1/posts/{}/lock", g.topic);
    let locked = json!({ "locked": true });
    g.call(
        Method::PUT,
        "/api/v1/posts/{id}/lock",
        &lock,
        ana,
        Some(locked),
    )
    .await;
}

#[tokio::test]
async fn event_answers_match_their_schemas() {
    let g = Garden::new().await;
    let (ana, max) = (Some(g.ana.as_str()), Some(g.max.as_str()));
    let form = json!({
        "title": "Seed swap", "description": "Bring *seeds*",
        "start": "2030-05-01T10:00", "end": "2030-05-01T12:00", "timezone": "Europe/London",
        "place": { "name": "The shed", "locality": "Leeds", "latitude": 53.8, "longitude": -1.55 },
        "capacity": 1,
    });
    let events = "/api/v1/communities/{name}/events";
    let real = "/api/v1/communities/garden/events";
    let e = g.call(Method::POST, events, real, ana, Some(form)).await;
    let id = e["id"].as_i64().unwrap();
    g.call(Method::GET, events, real, None, None).await;
    g.call(Method::GET, events, &format!("{real}?past=true"), max, None)
        .await;
    let one = format!("/api/v1/events/{id}");
    g.call(Method::GET, "/api/v1/events/{id}", &one, None, None)
        .await;
    let rsvp = format!("/api/v1/events/{id}/rsvp");
    let going = json!({ "going": true });
    let o = g
        .call(
            Method::POST,
            "/api/v1/events/{id}/rsvp",
            &rsvp,
            max,
            Some(going.clone()),
        )
        .await;
    assert_eq!(o["status"], "going");
    // The only place is taken: ana waits, and the answer carries her position.
    let o = g
        .call(
            Method::POST,
            "/api/v1/events/{id}/rsvp",
            &rsvp,
            ana,
            Some(going),
        )
        .await;
    assert_eq!(
        (o["status"].as_str(), o["position"].as_u64()),
        (Some("waiting"), Some(1))
    );
    let who = format!("/api/v1/events/{id}/participants");
    let p = g
        .call(
            Method::GET,
            "/api/v1/events/{id}/participants",
            &who,
            ana,
            None,
        )
        .await;
    assert_eq!(p["items"].as_array().unwrap().len(), 2);
    let cancel = format!("/api/v1/events/{id}/cancel");
    g.call(
        Method::POST,
        "/api/v1/events/{id}/cancel",
        &cancel,
        ana,
        None,
    )
    .await;
}

#[tokio::test]
async fn membership_answers_match_their_schemas() {
    let g = Garden::new().await;
    let ana = Some(g.ana.as_str());
    let settings = "/api/v1/communities/{name}/settings";
    let policy = json!({ "membership_policy": "approval", "purpose": "To grow" });
    let real = "/api/v1/communities/garden/settings";
    g.call(Method::PUT, settings, real, ana, Some(policy)).await;
    let cy = g.a.create_user("cy").await;
    let ask = json!({ "community": "garden", "reason": "I have a plot" });
    g.call(
        Method::POST,
        "/api/v1/follows",
        "/api/v1/follows",
        Some(&cy),
        Some(ask),
    )
    .await;
    let requests = "/api/v1/communities/{name}/requests";
    let r = g
        .call(
            Method::GET,
            requests,
            "/api/v1/communities/garden/requests",
            ana,
            None,
        )
        .await;
    assert_eq!(r["items"][0]["reason"], "I have a plot");
    let members = "/api/v1/communities/{name}/members";
    let m = g
        .call(
            Method::GET,
            members,
            "/api/v1/communities/garden/members",
            None,
            None,
        )
        .await;
    assert_eq!(m["listed"], 1);
    g.a.create_user("dee").await;
    let invites = "/api/v1/communities/{name}/invites";
    let real = "/api/v1/communities/garden/invites";
    let dee = json!({ "handle": "dee" });
    let invited = g.call(Method::POST, invites, real, ana, Some(dee)).await;
    let i = g.call(Method::GET, invites, real, ana, None).await;
    assert_eq!(i["items"][0]["invitee"], invited["invitee"]);
    let mine = "/api/v1/communities/{name}/membership";
    let listed = json!({ "listed": false });
    let max = Some(g.max.as_str());
    g.call(
        Method::PATCH,
        mine,
        "/api/v1/communities/garden/membership",
        max,
        Some(listed),
    )
    .await;
    let bans = "/api/v1/communities/{name}/bans";
    let ban = json!({ "handle": "max", "reason": "spam" });
    g.call(
        Method::POST,
        bans,
        "/api/v1/communities/garden/bans",
        ana,
        Some(ban),
    )
    .await;
    let b = g
        .call(
            Method::GET,
            bans,
            "/api/v1/communities/garden/bans",
            ana,
            None,
        )
        .await;
    assert_eq!(b["items"][0]["reason"], "spam");
    let log = "/api/v1/communities/{name}/log";
    let l = g
        .call(
            Method::GET,
            log,
            "/api/v1/communities/garden/log",
            ana,
            None,
        )
        .await;
    assert!(!l["items"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn notification_answers_match_their_schemas() {
    let g = Garden::new().await;
    let ana = Some(g.ana.as_str());
    // Max's reply to ana's topic is a notification for her.
    let list = "/api/v1/notifications";
    let n = g.call(Method::GET, list, list, ana, None).await;
    assert_eq!(n["items"][0]["post_id"], g.reply);
    assert_eq!(n["items"][0]["actor"]["name"], "max");
    let unread = format!("{list}?unread=true&limit=5");
    g.call(Method::GET, list, &unread, ana, None).await;
    let read = "/api/v1/notifications/read";
    let up_to = json!({ "up_to": n["items"][0]["id"] });
    let m = g.call(Method::POST, read, read, ana, Some(up_to)).await;
    assert_eq!(m["unread_count"], 0);
    let n = g.call(Method::GET, list, list, ana, None).await;
    assert!(n["items"][0]["read_at"].is_string());
    let settings = "/api/v1/me/notification-settings";
    g.call(Method::GET, settings, settings, ana, None).await;
    let digest = json!({ "email": "ana@x.test", "email_notifications": "digest" });
    let s = g
        .call(Method::PUT, settings, settings, ana, Some(digest))
        .await;
    assert_eq!(s["email_notifications"], "digest");
    let weekly = json!({ "email_notifications": "weekly" });
    let e = g
        .call(Method::PUT, settings, settings, ana, Some(weekly))
        .await;
    assert_eq!(e["field"], "email_notifications");
    let e = g.call(Method::GET, list, list, None, None).await;
    assert!(e["field"].is_null());
}

#[tokio::test]
async fn error_answers_match_the_error_shape() {
    let g = Garden::new().await;
    let c = "/api/v1/communities/{name}";
    let e = g
        .call(Method::GET, c, "/api/v1/communities/nowhere", None, None)
        .await;
    assert_eq!(e["error"], "community not found");
    let topics = "/api/v1/communities/{name}/topics";
    let e = g
        .call(
            Method::GET,
            topics,
            "/api/v1/communities/garden/topics?limit=1000",
            None,
            None,
        )
        .await;
    assert_eq!(e["field"], "limit");
    let e = g
        .call(Method::GET, "/api/v1/me", "/api/v1/me", None, None)
        .await;
    assert!(e["field"].is_null());
    let e = g
        .call(
            Method::GET,
            "/api/v1/posts/{id}",
            "/api/v1/posts/abc",
            None,
            None,
        )
        .await;
    assert_eq!(e["field"], "id");
    let long = json!({ "title": "", "content": "x" });
    let posts = "/api/v1/communities/{name}/posts";
    let e = g
        .call(
            Method::POST,
            posts,
            "/api/v1/communities/garden/posts",
            Some(&g.ana),
            Some(long),
        )
        .await;
    assert_eq!(e["field"], "title");
}

#[tokio::test]
async fn an_answer_that_breaks_its_schema_is_refused() {
    let g = Garden::new().await;
    let (status, good) =
        g.a.api(Method::GET, "/api/v1/communities/garden", None, None)
            .await;
    let c = "/api/v1/communities/{name}";
    assert!(g.check.errors("get", c, status, &good).is_empty());
    let mut missing = good.clone();
    missing.as_object_mut().unwrap().remove("handle");
    assert!(!g.check.errors("get", c, status, &missing).is_empty());
    let mut extra = good.clone();
    extra["undocumented"] = json!(1);
    assert!(!g.check.errors("get", c, status, &extra).is_empty());
    let mut wrong = good;
    wrong["membership_policy"] = json!("anyone at all");
    assert!(!g.check.errors("get", c, status, &wrong).is_empty());
    let thread = format!("/api/v1/posts/{}", g.topic);
    let (status, mut t) = g.a.api(Method::GET, &thread, None, None).await;
    t["replies"][0]["reaction_count"] = json!("many");
    assert!(!g
        .check
        .errors("get", "/api/v1/posts/{id}", status, &t)
        .is_empty());
}
