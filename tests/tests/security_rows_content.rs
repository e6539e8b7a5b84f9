//! The rows of SECURITY.md's checklist about what members post, that were only partly
//! covered: a banned member's activities (T18) and mutation XSS (T25). Each test names its row
//! and asserts the status, the rows stored and what is announced or served.

// Tests report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use copse_entities::{community_follower, person, post, reaction, DbUrl};
use copse_tests::{
    fake::{FakeActor, FakeServer},
    wait_for, TestInstance,
};
use reqwest::Method;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{json, Value};
use std::time::Duration;
use url::Url;

const T: Duration = Duration::from_secs(20);
const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

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

/// The reactions stored on a post.
async fn reactions_on(a: &TestInstance, post_id: i64) -> u64 {
    reaction::Entity::find()
        .filter(reaction::Column::PostId.eq(post_id))
        .count(a.db())
        .await
        .unwrap()
}

async fn stored(a: &TestInstance, ap_id: &str) -> Option<post::Model> {
    post::Entity::find()
        .filter(post::Column::ApId.eq(ap_id))
        .one(a.db())
        .await
        .unwrap()
}

/// SECURITY.md T18: a banned member's new topic, reply, `Like`, edit of an earlier post and
/// `Follow` change nothing and are not announced; the `Follow` is answered with a `Reject`.
/// What they posted before stays unless the ban removes it, which a second ban does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_banned_members_activities_are_refused_and_never_announced() {
    let a = TestInstance::spawn("alpha").await;
    let ana = a.create_user("ana").await;
    a.community_with(&ana, "net", json!({ "membership_policy": "open" }))
        .await;
    let group = a.url("/c/net");
    let fake = FakeServer::start().await;
    let mia = fake.actor("masto", "mia");
    let leo = fake.actor("masto", "leo");
    let reader = fake.actor("reader", "rita");
    for who in [&mia, &leo] {
        a.follow_as(&fake, who, "masto", &group).await;
    }
    a.follow_as(&fake, &reader, "reader", &group).await;
    let inbox = a.url("/c/net/inbox");
    let topic_by = |who: &FakeActor, n: u32, text: &str| {
        let (note, create) = who.status(&fake, n, &group, &mention(&group, text), None);
        (note["id"].as_str().unwrap().to_string(), note, create)
    };
    let (mia_topic, mia_note, create) = topic_by(&mia, 1, "Our first topic");
    assert_eq!(mia.deliver(&a.client, &inbox, &create).await, 202);
    let (leo_topic, _, create) = topic_by(&leo, 1, "Leo's topic");
    assert_eq!(leo.deliver(&a.client, &inbox, &create).await, 202);
    a.settled().await;
    let topic = stored(&a, &mia_topic).await.expect("mia's topic");
    let ban = |handle: String, remove: bool| {
        let a = &a;
        let ana = &ana;
        async move {
            let (s, body) = a
                .api(
                    Method::POST,
                    "/api/v1/communities/net/bans",
                    Some(ana),
                    Some(json!({ "handle": handle, "reason": "spam", "remove_content": remove })),
                )
                .await;
            assert_eq!(s, 201, "{body}");
        }
    };
    ban(format!("mia@masto.localhost:{}", fake.port), false).await;

    // Everything mia sends from now on.
    let (new_topic, _, create) = topic_by(&mia, 2, "Buy my course");
    let (reply_note, reply) = mia.status(&fake, 3, &group, "<p>Still here</p>", Some(&mia_topic));
    let like = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/likes/1", mia.id), "type": "Like", "actor": mia.id, "object": mia_topic
    });
    let mut edited = mia_note.clone();
    edited["content"] = json!(mention(&group, "Edited into spam"));
    edited["updated"] = json!("2026-11-23T10:00:00Z");
    let update = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{mia_topic}#updates/1"), "type": "Update", "actor": mia.id,
        "to": [PUBLIC], "cc": [group], "object": edited
    });
    let refollow = follow(&mia.id, &format!("{}/follows/again", mia.id), &group);
    for activity in [&create, &reply, &like, &update, &refollow] {
        assert_eq!(mia.deliver(&a.client, &inbox, activity).await, 202);
    }
    // Leo, a member in good standing, likes the same topic: that is announced.
    let leo_like = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/likes/1", leo.id), "type": "Like", "actor": leo.id, "object": mia_topic
    });
    assert_eq!(leo.deliver(&a.client, &inbox, &leo_like).await, 202);
    a.settled().await;
    wait_for("leo's Like at the reader", T, || async {
        fake.shared_inbox("reader")
            .iter()
            .any(|v| v["object"]["id"] == leo_like["id"])
    })
    .await;
    wait_for("the outbox to empty", T, || async {
        a.queued_deliveries().await == 0
    })
    .await;

    assert!(stored(&a, &new_topic).await.is_none());
    assert!(stored(&a, reply_note["id"].as_str().unwrap())
        .await
        .is_none());
    assert_eq!(reactions_on(&a, topic.id).await, 1, "leo's like only");
    let kept = stored(&a, &mia_topic).await.unwrap();
    assert_eq!(
        kept.content, topic.content,
        "the banned member's edit was applied"
    );
    assert!(kept.visible(), "a ban without removal keeps earlier posts");
    let mia_row = person::Entity::find()
        .filter(person::Column::ApId.eq(DbUrl(mia.id.clone())))
        .one(a.db())
        .await
        .unwrap()
        .unwrap();
    let memberships = community_follower::Entity::find()
        .filter(community_follower::Column::PersonId.eq(mia_row.id))
        .count(a.db())
        .await
        .unwrap();
    assert_eq!(memberships, 0);
    let rejected = fake.posted("masto").iter().any(|v| {
        v["type"] == "Reject"
            && (v["object"]["id"] == refollow["id"] || v["object"] == refollow["id"])
    });
    assert!(rejected, "no Reject of the new Follow");
    let mia_ids = [
        new_topic.as_str(),
        reply_note["id"].as_str().unwrap(),
        like["id"].as_str().unwrap(),
        update["id"].as_str().unwrap(),
        "Edited into spam",
    ];
    for v in fake.shared_inbox("reader") {
        let s = v.to_string();
        assert!(
            !mia_ids.iter().any(|id| s.contains(id)),
            "announced for a banned member: {s}"
        );
    }

    // A ban that removes content takes leo's topic out.
    ban(format!("leo@masto.localhost:{}", fake.port), true).await;
    let removed = stored(&a, &leo_topic).await.unwrap();
    assert!(!removed.visible(), "{removed:?}");
}

/// Whether stored or served HTML is safe: every tag is one ammonia allows by default, no
/// attribute is an event handler or a style, and no link or source is a script or data URL.
fn assert_safe(html: &str, what: &str) {
    const TAGS: &[&str] = &[
        "a",
        "abbr",
        "acronym",
        "area",
        "article",
        "aside",
        "b",
        "bdi",
        "bdo",
        "blockquote",
        "br",
        "caption",
        "center",
        "cite",
        "code",
        "col",
        "colgroup",
        "data",
        "dd",
        "del",
        "details",
        "dfn",
        "div",
        "dl",
        "dt",
        "em",
        "figcaption",
        "figure",
        "footer",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hgroup",
        "hr",
        "i",
        "img",
        "ins",
        "kbd",
        "li",
        "map",
        "mark",
        "nav",
        "ol",
        "p",
        "pre",
        "q",
        "rp",
        "rt",
        "rtc",
        "ruby",
        "s",
        "samp",
        "small",
        "span",
        "strike",
        "strong",
        "sub",
        "summary",
        "sup",
        "table",
        "tbody",
        "td",
        "th",
        "thead",
        "time",
        "tr",
        "tt",
        "u",
        "ul",
        "var",
        "wbr",
    ];
    let lower = html.to_ascii_lowercase();
    for (i, _) in lower.match_indices('<') {
        let rest = &lower[i + 1..];
        let rest = rest.strip_prefix('/').unwrap_or(rest);
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        assert!(TAGS.contains(&name.as_str()), "{what}: <{name}> in {html}");
        let tag = &rest[..rest.find('>').unwrap_or(rest.len())];
        // Attribute values are quoted with `"` and never contain one: split on them.
        for (n, part) in tag.split('"').enumerate() {
            if n % 2 == 1 {
                let value: String = part.chars().filter(|c| !c.is_whitespace()).collect();
                assert!(
                    !value.starts_with("javascript:")
                        && !value.starts_with("data:")
                        && !value.starts_with("vbscript:"),
                    "{what}: a script URL in {html}"
                );
                continue;
            }
            for attr in part.split_whitespace().filter_map(|w| w.strip_suffix('=')) {
                assert!(
                    !attr.starts_with("on") && attr != "style" && attr != "srcdoc",
                    "{what}: attribute {attr} in {html}"
                );
            }
        }
    }
}

/// Mutation XSS payloads: markup that a sanitiser and a browser may parse differently, through
/// foreign content (svg, math, annotation-xml), raw-text elements (style, noscript, xmp,
/// textarea, template) and comments.
const MXSS: &[&str] = &[
    r#"<svg><p><style><a id="</style><img src=1 onerror=alert(1)>">"#,
    r#"<svg></p><style><a id="</style><img src=1 onerror=alert(1)>">"#,
    r#"<math><mtext><table><mglyph><style><!--</style><img title="--&gt;&lt;img src=1 onerror=alert(1)&gt;">"#,
    r#"<math><annotation-xml encoding="text/html"><style><img src=x onerror=alert(1)></style></annotation-xml></math>"#,
    r#"<math><annotation-xml encoding="application/xhtml+xml"><svg><style><img src=x onerror=alert(1)>"#,
    r#"<noscript><p title="</noscript><img src=x onerror=alert(1)>">"#,
    r#"<form><math><mtext></form><form><mglyph><style></math><img src onerror=alert(1)>"#,
    r#"<math><mi><mglyph><svg><mtext><textarea><path id="</textarea><img onerror=alert(1) src=1>">"#,
    r#"<svg><foreignObject><p><iframe src="javascript:alert(1)"></iframe></foreignObject></svg>"#,
    r#"<template><style></template><img src=x onerror=alert(1)></style></template>"#,
    r#"<select><template><style><!--</style><a rel="--></style></template></select><img src=x onerror=alert(1)>">"#,
    r#"<xmp><p title="</xmp><img src=x onerror=alert(1)>">"#,
    r#"<textarea><img title="</textarea><img src=x onerror=alert(1)>">"#,
    r#"<svg><![CDATA[><img src=x onerror=alert(1)>]]></svg>"#,
    r#"<!--<img src="--><img src=x onerror=alert(1)//">"#,
    r#"<table><td><svg><style><img src=x onerror=alert(1)></style></svg></td></table>"#,
    r#"<div><math><mi><mglyph><style><img src=x onerror=alert(1)></style></mglyph></mi></math></div>"#,
    r#"<a href="jav&#x09;ascript:alert(1)">tab</a><a href="&#106;avascript:alert(1)">entity</a>"#,
    r#"<a href="  JaVaScRiPt:alert(1)">case</a><a href="data:text/html,<script>alert(1)</script>">data</a>"#,
    r#"<iframe srcdoc="<script>alert(1)</script>"></iframe><object data="javascript:alert(1)"></object>"#,
    r#"<base href="javascript:/"><meta http-equiv="refresh" content="0;url=javascript:alert(1)"><link rel="stylesheet" href="https://evil.example/x.css">"#,
    r#"<p>text<svg><title><style><img src=x onerror=alert(1)></style></title></svg></p>"#,
    r#"<img src="x` `<script>alert(1)</script>"` `>"#,
    r#"<a title="a&quot;onmouseover=alert(1)&quot;">quote</a>"#,
];

/// SECURITY.md T25: every payload of the mXSS corpus cleans to safe HTML that cleaning again
/// leaves as it is (clean, parse, clean gives the same DOM), both as the sanitiser returns it
/// and as it is stored from a remote post and served on the post's page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutation_xss_cleans_to_html_that_reparses_the_same() {
    for payload in MXSS {
        let clean = copse_federation::html::sanitize_html(payload);
        assert_eq!(
            copse_federation::html::sanitize_html(&clean),
            clean,
            "not idempotent: {payload}"
        );
        assert_safe(&clean, payload);
    }

    let a = TestInstance::spawn("alpha").await;
    let ana = a.create_user("ana").await;
    a.community_with(
        &ana,
        "net",
        json!({ "topic_policy": "anyone", "reply_policy": "anyone" }),
    )
    .await;
    let group = a.url("/c/net");
    let fake = FakeServer::start().await;
    let mia = fake.actor("masto", "mia");
    let mut ids = Vec::new();
    for (n, payload) in MXSS.iter().enumerate() {
        let html = format!(
            "{}<p>{payload}</p>",
            mention(&group, &format!("Payload {n}"))
        );
        let (note, create) = mia.status(&fake, n as u32, &group, &html, None);
        assert_eq!(mia.deliver(&a.client, &a.url("/inbox"), &create).await, 202);
        ids.push(note["id"].as_str().unwrap().to_string());
    }
    a.settled().await;
    for (id, payload) in ids.iter().zip(MXSS) {
        let p = stored(&a, id).await.expect("stored");
        assert_eq!(
            copse_federation::html::sanitize_html(&p.content),
            p.content,
            "stored HTML changes when cleaned again: {payload}"
        );
        assert_safe(&p.content, payload);
        let page = a
            .client
            .get(a.url(&format!("/post/{}", p.id)))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let body = page.split("<body>").nth(1).unwrap().to_ascii_lowercase();
        for bad in ["<svg", "<math", "<style", "<noscript", "<iframe", "<script"] {
            assert!(!body.contains(bad), "{bad} on the page of {payload}");
        }
        // Text is escaped, so every `<` left opens a tag of the page or of the post.
        for tag in body
            .split('<')
            .skip(1)
            .map(|t| t.split('>').next().unwrap())
        {
            let handler = tag
                .split(|c: char| c.is_whitespace() || c == '"')
                .any(|w| w.starts_with("on") && w.contains('='));
            assert!(!handler, "<{tag}> on the page of {payload}");
        }
    }
}
