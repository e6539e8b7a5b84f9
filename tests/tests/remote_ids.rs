//! Remote ids go back out byte for byte: microblog.pub's actor id is its bare origin
//! (`http://mbp.test:18490`, no path), which parsing turns into `http://mbp.test:18490/`. A
//! server that compares ids as strings then takes its own actor for someone else.

// Tests report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use copse_federation::signatures::{generate_keypair, SigningKey};
use copse_tests::{
    fake::{FakeActor, FakeServer},
    wait_for, TestInstance,
};
use serde_json::{json, Value};
use std::time::Duration;
use url::Url;

const T: Duration = Duration::from_secs(20);

/// A microblog.pub-shaped actor: its id is the bare origin of `label`.
fn bare_origin_actor(fake: &FakeServer, label: &str) -> (FakeActor, String) {
    let raw = fake.base(label);
    let (public_pem, private_pem) = generate_keypair().unwrap();
    let key_id = Url::parse(&format!("{raw}#main-key")).unwrap();
    let doc = json!({
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": raw, "type": "Person", "preferredUsername": "dev",
        "inbox": format!("{raw}/inbox"), "outbox": format!("{raw}/outbox"),
        "followers": format!("{raw}/followers"), "following": format!("{raw}/following"),
        "url": raw, "discoverable": true,
        "publicKey": { "id": format!("{raw}#main-key"), "owner": raw, "publicKeyPem": public_pem }
    });
    let id = Url::parse(&raw).unwrap();
    fake.serve(&id, doc);
    let key = SigningKey::from_pem(key_id, &private_pem).unwrap();
    (
        FakeActor {
            id,
            key,
            public_pem,
        },
        raw,
    )
}

/// Every string in a document.
fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(o) => o.values().for_each(|x| strings(x, out)),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_actor_id_without_a_path_comes_back_as_it_was_sent() {
    let a = TestInstance::spawn("alpha").await;
    let ana = a.create_user("ana").await;
    a.community_with(
        &ana,
        "net",
        json!({ "membership_policy": "open", "welcome_template": "Welcome to the network!" }),
    )
    .await;
    let group = a.url("/c/net");
    let fake = FakeServer::start().await;
    let (mbp, raw) = bare_origin_actor(&fake, "mbp");
    let slashed = format!("{raw}/");
    assert_eq!(mbp.id.as_str(), slashed, "the url crate adds the slash");

    let follow = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{raw}/follows/1"), "type": "Follow", "actor": raw, "object": group
    });
    let inbox = a.url("/c/net/inbox");
    assert_eq!(mbp.deliver(&a.client, &inbox, &follow).await, 202);
    wait_for("the Accept", T, || async {
        fake.posted("mbp").iter().any(|v| v["type"] == "Accept")
    })
    .await;
    let posted = fake.posted("mbp");
    let accept = posted.iter().find(|v| v["type"] == "Accept").unwrap();
    // microblog.pub matches the embedded Follow's actor against its own id as a string.
    assert_eq!(accept["object"]["actor"], raw.as_str(), "{accept}");
    assert_eq!(accept["object"]["id"], format!("{raw}/follows/1"));

    // The public welcome mentions the newcomer as they wrote their id.
    wait_for("the welcome at mbp", T, || async {
        fake.posted("mbp")
            .iter()
            .any(|v| v["type"] == "Create" && v["object"]["type"] == "Note")
    })
    .await;
    let posted = fake.posted("mbp");
    let welcome = posted
        .iter()
        .find(|v| v["type"] == "Create" && v["object"]["type"] == "Note")
        .unwrap();
    let note = &welcome["object"];
    assert!(
        note["tag"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["type"] == "Mention" && t["href"] == raw.as_str()),
        "{note}"
    );
    let addressed = [&welcome["cc"], &welcome["to"]];
    assert!(
        addressed.iter().any(|l| l
            .as_array()
            .is_some_and(|l| l.iter().any(|u| u == raw.as_str()))),
        "{welcome}"
    );

    // Nothing sent to it, and nothing served about it, writes its id with the slash.
    let mut all = Vec::new();
    for v in fake.posted("mbp") {
        strings(&v, &mut all);
    }
    let (_, members) = a.get_ap(&a.url("/c/net/members")).await;
    assert!(
        members["orderedItems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m == raw.as_str()),
        "{members}"
    );
    strings(&members, &mut all);
    let (_, outbox) = a.get_ap(&a.url("/c/net/outbox")).await;
    strings(&outbox, &mut all);
    let (_, served) = a
        .get_ap(&Url::parse(accept["id"].as_str().unwrap()).unwrap())
        .await;
    assert_eq!(served["object"]["actor"], raw.as_str(), "{served}");
    strings(&served, &mut all);
    assert!(
        !all.contains(&slashed),
        "{slashed} was sent or served: {all:?}"
    );
    assert!(all.contains(&raw));
}
