//! A person's profile from the browser: display name, bio and avatar in `/settings`, shown on
//! their page and in their `Person`, sent to other servers as `Update{Person}`; uploads that are
//! not small images are refused next to the field; names and bios cannot inject markup.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use copse_entities::person;
use copse_tests::{
    builders::communities::network,
    visitor::{account_with_password, Visitor},
    wait_for, TestInstance,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use std::time::Duration;

const PASSWORD: &str = "a long enough password";
const T: Duration = Duration::from_secs(20);

/// A real 2×2 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x02, 0x08, 0x06, 0x00, 0x00, 0x00, 0x72, 0xb6, 0x0d,
    0x24, 0x00, 0x00, 0x00, 0x11, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0,
    0x1f, 0x84, 0x41, 0x08, 0x0c, 0x01, 0x45, 0xcc, 0x07, 0xf9, 0xca, 0x27, 0x19, 0xcf, 0x00, 0x00,
    0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

/// Signs `name` in on `inst` and sends the settings form with `fields` and `files`.
async fn save_settings<'a>(
    v: &mut Visitor<'a>,
    fields: &[(&str, &str)],
    files: &[(&str, &str, &[u8])],
) -> copse_tests::visitor::Page {
    let form = v.get("/settings").await;
    assert_eq!(form.status, 200, "{}", form.body);
    let csrf = form.csrf();
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(fields);
    v.post_multipart("/settings", &all, files).await
}

async fn signed_in<'a>(inst: &'a TestInstance, name: &str) -> Visitor<'a> {
    account_with_password(inst, name, PASSWORD).await;
    let mut v = Visitor::new(inst);
    v.sign_in(name, PASSWORD).await;
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_profile_change_shows_on_the_page_in_the_person_and_on_another_server() {
    let a = TestInstance::spawn("alpha").await;
    let b = TestInstance::spawn("beta").await;
    let owner = a.create_user("owner").await;
    network(&a, &owner, "en").await;
    let bea = account_with_password(&b, "bea", PASSWORD).await;
    let (s, body) = b
        .api(
            reqwest::Method::POST,
            "/api/v1/follows",
            Some(&bea),
            Some(serde_json::json!({ "community": format!("net@{}", a.domain), "listed": true })),
        )
        .await;
    assert_eq!(s, 202, "{body}");
    wait_for("bea's membership", T, || async {
        b.received("Accept").await.len() == 1
    })
    .await;

    let mut v = Visitor::new(&b);
    v.sign_in("bea", PASSWORD).await;
    let res = save_settings(
        &mut v,
        &[
            ("display_name", "Bea Beekeeper"),
            ("summary", "I keep **bees**."),
        ],
        &[],
    )
    .await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(res.location.as_deref(), Some("/settings?saved=1"));
    let form = v.get("/settings?saved=1").await;
    assert!(form.body.contains("Your profile is saved."));
    assert!(
        form.body.contains("I keep **bees**."),
        "the bio comes back as written"
    );

    let page = Visitor::new(&b).get("/u/bea").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("<h1>Bea Beekeeper</h1>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("<strong>bees</strong>"));
    assert!(page.body.contains("The net"), "her communities are listed");
    let (_, actor) = b.get_ap(&b.url("/u/bea")).await;
    assert_eq!(actor["name"], "Bea Beekeeper");
    assert!(actor["summary"]
        .as_str()
        .unwrap()
        .contains("<strong>bees</strong>"));

    // Alpha, where her community is, hears of it and shows the new name.
    let bea_id = b.url("/u/bea").to_string();
    wait_for("the Update{Person} on alpha", T, || async {
        person::Entity::find()
            .filter(person::Column::ApId.eq(bea_id.as_str()))
            .one(a.db())
            .await
            .unwrap()
            .is_some_and(|p| p.display_name.as_deref() == Some("Bea Beekeeper"))
    })
    .await;
    assert!(a
        .received("Update")
        .await
        .iter()
        .any(|u| u["object"]["type"] == "Person" && u["object"]["name"] == "Bea Beekeeper"));
    let remote = Visitor::new(&a)
        .get(&format!("/people/bea@{}", b.domain))
        .await;
    assert_eq!(remote.status, 200, "{}", remote.body);
    assert!(
        remote.body.contains("<h1>Bea Beekeeper</h1>"),
        "{}",
        remote.body
    );
    assert!(remote.body.contains(&format!("@bea@{}", b.domain)));
}

#[tokio::test]
async fn a_good_png_is_served_with_its_type_nosniff_and_published_as_the_icon() {
    let a = TestInstance::spawn("alpha").await;
    let mut v = signed_in(&a, "ana").await;
    let res = save_settings(
        &mut v,
        &[("display_name", "Ana")],
        &[("avatar", "me.png", PNG)],
    )
    .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let (_, actor) = a.get_ap(&a.url("/u/ana")).await;
    assert_eq!(actor["icon"]["type"], "Image");
    assert_eq!(actor["icon"]["mediaType"], "image/png");
    let url = actor["icon"]["url"].as_str().unwrap().to_string();
    assert!(url.starts_with(&a.url("/media/").to_string()), "{url}");
    let got = a.client.get(&url).send().await.unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(got.headers()["content-type"], "image/png");
    assert_eq!(got.headers()["x-content-type-options"], "nosniff");
    assert_eq!(got.bytes().await.unwrap().as_ref(), PNG);
    let page = Visitor::new(&a).get("/u/ana").await;
    assert!(
        page.body.contains(&format!("src=\"{url}\"")),
        "{}",
        page.body
    );

    // Another extension on the same key is not the image.
    let other = url.replace(".png", ".html");
    assert_eq!(a.client.get(&other).send().await.unwrap().status(), 404);

    // A new avatar replaces the old one, whose address then serves nothing.
    let res = save_settings(&mut v, &[], &[("avatar", "again.png", PNG)]).await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(a.client.get(&url).send().await.unwrap().status(), 404);
}

#[tokio::test]
async fn uploads_that_are_not_small_images_are_refused_next_to_the_field() {
    let a = TestInstance::spawn("alpha").await;
    let mut v = signed_in(&a, "ana").await;
    let mut big = PNG.to_vec();
    big.resize(1024 * 1024 + 10, 0);
    let mut wide = PNG.to_vec();
    wide[16..20].copy_from_slice(&4000u32.to_be_bytes());
    let cases: [(&str, &[u8], &str); 4] = [
        (
            "page.png",
            b"<html><script>alert(1)</script></html>",
            "PNG, JPEG, GIF or WebP",
        ),
        (
            "logo.svg",
            b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>",
            "PNG, JPEG, GIF or WebP",
        ),
        ("big.png", &big, "at most 1 MiB"),
        ("wide.png", &wide, "1600×1600"),
    ];
    for (file, bytes, words) in cases {
        let res = save_settings(
            &mut v,
            &[("display_name", "Ana")],
            &[("avatar", file, bytes)],
        )
        .await;
        assert_eq!(res.status, 422, "{file}: {}", res.body);
        assert!(
            res.body.contains("id=\"avatar-error\"") && res.body.contains(words),
            "{file}: {}",
            res.body
        );
    }
    let ana = copse_server::accounts::local_person(a.db(), "ana")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ana.avatar, None, "nothing was stored");
    assert_eq!(ana.display_name, None, "nor the rest of the form");
}

#[tokio::test]
async fn a_display_name_too_long_is_named_in_the_form_as_in_the_api() {
    let a = TestInstance::spawn("alpha").await;
    let mut v = signed_in(&a, "ana").await;
    let long = "n".repeat(101);
    let res = save_settings(&mut v, &[("display_name", &long)], &[]).await;
    assert_eq!(res.status, 422);
    assert!(res
        .body
        .contains("display_name must be at most 100 characters"));
    assert!(res.body.contains("id=\"display_name-error\""));
}

#[tokio::test]
async fn markup_in_a_name_or_bio_is_escaped_or_sanitised_on_every_page() {
    let a = TestInstance::spawn("alpha").await;
    let owner = a.create_user("owner").await;
    network(&a, &owner, "en").await;
    let mut v = signed_in(&a, "eve").await;
    let res = v
        .submit("/c/net", "/c/net/join", &[("listed", "yes")])
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let name = "<script>alert(1)</script><img src=x onerror=alert(2)>";
    let bio =
        "hi <script>alert(3)</script> <a href=\"javascript:alert(4)\" onclick=\"alert(5)\">x</a>";
    let res = save_settings(
        &mut v,
        &[
            ("display_name", name),
            ("summary", bio),
            ("discoverable", "yes"),
        ],
        &[],
    )
    .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let res = v
        .submit(
            "/c/net/new",
            "/c/net/new",
            &[("title", "Hello"), ("url", ""), ("content", "A topic.")],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let topic = res.location.unwrap();

    let mut reader = Visitor::new(&a);
    for path in ["/u/eve", "/c/net/members", topic.as_str(), "/c/net"] {
        let page = reader.get(path).await;
        assert_eq!(page.status, 200, "{path}");
        assert!(
            page.body
                .contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
            "{path} shows the name as text: {}",
            page.body
        );
        for raw in [
            "<script>alert",
            "<img src=x",
            "href=\"javascript:",
            "onclick=\"",
        ] {
            assert!(
                !page.body.contains(raw),
                "{path} carries {raw}: {}",
                page.body
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_person_updates_only_their_own_profile() {
    use copse_tests::{builders::communities::fake_follower, fake::FakeServer};
    let a = TestInstance::spawn("alpha").await;
    let owner = a.create_user("owner").await;
    let group = network(&a, &owner, "en").await;
    let fake = FakeServer::start().await;
    let mia = fake_follower(&a, &fake, "masto", "mia", &group).await;
    let bob = fake_follower(&a, &fake, "masto", "bob", &group).await;
    let doc = |who: &copse_tests::fake::FakeActor, name: &str, display: &str| {
        serde_json::json!({
            "id": who.id, "type": "Person", "preferredUsername": name, "name": display,
            "inbox": format!("{}/inbox", who.id),
            "publicKey": { "id": format!("{}#main-key", who.id), "owner": who.id, "publicKeyPem": who.public_pem }
        })
    };
    let update = |n: u32, object: serde_json::Value| {
        serde_json::json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{}/updates/{n}", mia.id), "type": "Update", "actor": mia.id,
            "to": ["https://www.w3.org/ns/activitystreams#Public"], "object": object
        })
    };
    let display_name = |id: String| {
        let db = a.db().clone();
        async move {
            person::Entity::find()
                .filter(person::Column::ApId.eq(id))
                .one(&db)
                .await
                .unwrap()
                .unwrap()
                .display_name
        }
    };
    let inbox = a.url("/inbox");
    assert_eq!(
        mia.deliver(&a.client, &inbox, &update(1, doc(&bob, "bob", "Hacked")))
            .await,
        202
    );
    assert_eq!(
        mia.deliver(&a.client, &inbox, &update(2, doc(&mia, "mia", "Mia Anew")))
            .await,
        202
    );
    a.settled().await;
    assert_eq!(
        display_name(mia.id.to_string()).await.as_deref(),
        Some("Mia Anew")
    );
    assert_eq!(
        display_name(bob.id.to_string()).await,
        None,
        "not someone else's"
    );
    let page = Visitor::new(&a).get("/c/net/members").await;
    assert!(!page.body.contains("Hacked"));
}
