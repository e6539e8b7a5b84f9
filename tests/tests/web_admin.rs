//! The instance admin's pages: closed to everyone else, suspending an account, communities
//! created and handed over, domain blocks that take effect, queue health, and what people
//! typed shown escaped. Spoken over HTTP as a browser would.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use copse_entities::{
    community, community_follower::Role, instance, local_user, local_user::AccountStatus,
    registration_invite, site,
};
use copse_tests::{
    fake::FakeServer,
    visitor::{account_with_password, admin_with_password, Visitor},
    TestInstance,
};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};

const PASSWORD: &str = "a long enough password";

const PAGES: [&str; 7] = [
    "/admin",
    "/admin/accounts",
    "/admin/registration",
    "/admin/invites",
    "/admin/communities",
    "/admin/domains",
    "/admin/queue",
];

/// An admin `ada` signed in.
async fn admin(inst: &TestInstance) -> Visitor<'_> {
    admin_with_password(inst, "ada", PASSWORD).await;
    let mut v = Visitor::new(inst);
    v.sign_in("ada", PASSWORD).await;
    v
}

/// A person `name` with an account, signed in.
async fn person<'a>(inst: &'a TestInstance, name: &str) -> Visitor<'a> {
    account_with_password(inst, name, PASSWORD).await;
    let mut v = Visitor::new(inst);
    v.sign_in(name, PASSWORD).await;
    v
}

async fn status(inst: &TestInstance, name: &str) -> AccountStatus {
    let p = copse_server::accounts::local_person(inst.db(), name)
        .await
        .unwrap()
        .unwrap();
    local_user::Entity::find()
        .filter(local_user::Column::PersonId.eq(p.id))
        .one(inst.db())
        .await
        .unwrap()
        .unwrap()
        .status
}

/// The status of `GET /api/v1/me` with a token.
async fn me(inst: &TestInstance, token: &str) -> u16 {
    inst.api(reqwest::Method::GET, "/api/v1/me", Some(token), None)
        .await
        .0
}

#[tokio::test]
async fn every_admin_page_and_form_is_closed_to_everyone_but_admins() {
    let inst = TestInstance::spawn("alpha").await;
    let mut ada = admin(&inst).await;
    inst.create_community("net", "London Networks").await;
    for page in PAGES {
        let got = ada.get(page).await;
        assert_eq!(got.status, 200, "{page} for the admin: {}", got.body);
    }
    assert!(ada.get("/").await.body.contains("href=\"/admin\""));

    let mut bob = person(&inst, "bob").await;
    assert!(
        !bob.get("/").await.body.contains("href=\"/admin\""),
        "no Admin link for others"
    );
    for page in PAGES {
        let got = bob.get(page).await;
        assert_eq!(got.status, 403, "{page} for a member: {}", got.body);
    }
    let csrf = bob.get("/").await.csrf();
    let posts: [(&str, &[(&str, &str)]); 8] = [
        ("/admin/accounts/ada", &[("decision", "suspend")]),
        (
            "/admin/registration",
            &[("policy", "open"), ("question", "")],
        ),
        ("/admin/invites", &[("note", "mine")]),
        ("/admin/invites/1/revoke", &[]),
        ("/admin/communities", &[("name", "mine"), ("title", "Mine")]),
        ("/admin/communities/net/hand-over", &[("to", "bob")]),
        ("/admin/domains", &[("domain", "evil.example")]),
        ("/admin/domains/unblock", &[("domain", "evil.example")]),
    ];
    for (action, fields) in posts {
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        let got = bob.post(action, &all).await;
        assert_eq!(got.status, 403, "{action} by a member: {}", got.body);
    }
    // None of it happened.
    assert_eq!(status(&inst, "ada").await, AccountStatus::Active);
    let site = site::Entity::find_by_id(1)
        .one(inst.db())
        .await
        .unwrap()
        .unwrap();
    assert_ne!(site.registration, site::Registration::Open);
    assert_eq!(
        registration_invite::Entity::find()
            .count(inst.db())
            .await
            .unwrap(),
        0
    );
    assert!(copse_server::admin::blocked_domains(inst.db())
        .await
        .unwrap()
        .is_empty());
    let net = copse_server::api::lookup::local_community(&inst.data(), "net")
        .await
        .unwrap();
    let bob_id = copse_server::accounts::local_person(inst.db(), "bob")
        .await
        .unwrap()
        .unwrap()
        .id;
    assert_eq!(
        copse_federation::store::members::role_of(inst.db(), net.id, bob_id)
            .await
            .unwrap(),
        None
    );

    // Strangers are sent to sign in, and come back.
    let mut stranger = Visitor::new(&inst);
    let got = stranger.get("/admin/accounts").await;
    assert_eq!(got.status, 303);
    assert_eq!(
        got.location.as_deref(),
        Some("/signin?next=%2Fadmin%2Faccounts")
    );
}

#[tokio::test]
async fn a_suspended_person_loses_their_session_and_token_at_once() {
    let inst = TestInstance::spawn("alpha").await;
    let mut ada = admin(&inst).await;
    let token = account_with_password(&inst, "bob", PASSWORD).await;
    let mut bob = Visitor::new(&inst);
    bob.sign_in("bob", PASSWORD).await;
    assert_eq!(me(&inst, &token).await, 200);

    let res = ada
        .submit(
            "/admin/accounts",
            "/admin/accounts/bob",
            &[("decision", "suspend")],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(status(&inst, "bob").await, AccountStatus::Suspended);
    let home = bob.get("/").await;
    assert!(
        home.body.contains("href=\"/signin\"") && !home.body.contains("Sign out"),
        "the session no longer works: {}",
        home.body
    );
    assert_eq!(me(&inst, &token).await, 401, "the token is refused");
    let again = bob
        .submit(
            "/signin",
            "/signin",
            &[("name", "bob"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(again.status, 403);
    assert!(again.body.contains("suspended"), "{}", again.body);
    let list = ada.get("/admin/accounts").await;
    assert!(list.body.contains("Lift the suspension of bob"));

    // Lifted: bob signs in again, and the token works again.
    let res = ada
        .submit(
            "/admin/accounts",
            "/admin/accounts/bob",
            &[("decision", "unsuspend")],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(me(&inst, &token).await, 200);
    bob.sign_in("bob", PASSWORD).await;
}

#[tokio::test]
async fn an_admin_cannot_suspend_themselves() {
    let inst = TestInstance::spawn("alpha").await;
    let mut ada = admin(&inst).await;
    let page = ada.get("/admin/accounts").await;
    assert!(!page.body.contains("Suspend ada"), "no button for oneself");
    let res = ada
        .submit(
            "/admin/accounts",
            "/admin/accounts/ada",
            &[("decision", "suspend")],
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.body);
    assert!(res.body.contains("you cannot suspend yourself"));
    assert_eq!(status(&inst, "ada").await, AccountStatus::Active);
    assert!(ada.get("/").await.body.contains("Sign out"));
}

#[tokio::test]
async fn an_admin_creates_a_community_and_hands_it_over() {
    let inst = TestInstance::spawn("alpha").await;
    let mut ada = admin(&inst).await;
    account_with_password(&inst, "cleo", PASSWORD).await;

    // The API's checks, in the API's words, next to the field.
    let bad = ada
        .submit(
            "/admin/communities",
            "/admin/communities",
            &[("name", "Not A Name"), ("title", "Garden")],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("id=\"name-error\""), "{}", bad.body);
    assert!(bad
        .body
        .contains("use 1 to 30 lower-case letters, digits or _"));

    let res = ada
        .submit(
            "/admin/communities",
            "/admin/communities",
            &[
                ("name", "garden"),
                ("title", "Community Garden"),
                ("summary", ""),
            ],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let c = community::Entity::find()
        .filter(community::Column::Name.eq("garden"))
        .one(inst.db())
        .await
        .unwrap()
        .expect("created");
    let list = ada.get("/admin/communities").await;
    assert!(list.body.contains("Community Garden"));
    let taken = ada
        .submit(
            "/admin/communities",
            "/admin/communities",
            &[("name", "garden"), ("title", "Again")],
        )
        .await;
    assert_eq!(taken.status, 422);
    assert!(taken.body.contains("the name garden is taken"));

    let nobody = ada
        .submit(
            "/admin/communities",
            "/admin/communities/garden/hand-over",
            &[("to", "nobody")],
        )
        .await;
    assert_eq!(nobody.status, 422);
    assert!(nobody.body.contains("no local account named nobody"));

    let res = ada
        .submit(
            "/admin/communities",
            "/admin/communities/garden/hand-over",
            &[("to", "cleo")],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let cleo = copse_server::accounts::local_person(inst.db(), "cleo")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        copse_federation::store::members::role_of(inst.db(), c.id, cleo.id)
            .await
            .unwrap(),
        Some(Role::Coordinator)
    );
    let mut cleo_v = Visitor::new(&inst);
    cleo_v.sign_in("cleo", PASSWORD).await;
    assert_eq!(cleo_v.get("/c/garden/desk").await.status, 200);
    let list = ada.get("/admin/communities").await;
    assert!(
        list.body.contains("coordinators: ada, cleo"),
        "{}",
        list.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_domain_blocked_on_the_page_is_listed_and_refused_at_the_inbox() {
    let inst = TestInstance::spawn_with("alpha", |s| {
        s.federation.inbox_workers = 0;
    })
    .await;
    let net = inst.create_community("net", "London Networks").await;
    let fake = FakeServer::start().await;
    let evil = fake.actor("evil", "mallory");
    let inbox = inst.url("/inbox");
    let mut ada = admin(&inst).await;

    let bad = ada
        .submit(
            "/admin/domains",
            "/admin/domains",
            &[("domain", "ana@evil")],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("id=\"domain-error\""), "{}", bad.body);

    // Given as a URL with capitals, kept as the command line keeps it.
    let given = format!("HTTP://Evil.localhost:{}/users/mallory", fake.port);
    let res = ada
        .submit("/admin/domains", "/admin/domains", &[("domain", &given)])
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let domain = format!("evil.localhost:{}", fake.port);
    assert!(
        res.body
            .contains(&format!("<span class=\"domain\">{domain}</span>")),
        "{}",
        res.body
    );
    let (_, create) = evil.status(&fake, 1, &net.ap_id.0, "<p>hello</p>", None);
    assert_eq!(evil.deliver(&inst.client, &inbox, &create).await, 403);

    let res = ada
        .submit(
            "/admin/domains",
            "/admin/domains/unblock",
            &[("domain", &domain)],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert!(!ada.get("/admin/domains").await.body.contains(&domain));
    assert_eq!(evil.deliver(&inst.client, &inbox, &create).await, 202);
}

#[tokio::test]
async fn queue_health_shows_paused_instances_and_the_backlog() {
    let inst = TestInstance::spawn_with("alpha", |s| {
        s.federation.delivery_workers = 0;
        s.federation.inbox_workers = 0;
    })
    .await;
    inst.create_community("net", "London Networks").await;
    let mut ada = admin(&inst).await;
    let page = ada.get("/admin/queue").await;
    assert!(page.body.contains("No instance is paused"), "{}", page.body);

    let now = chrono::Utc::now();
    instance::Entity::insert(instance::ActiveModel {
        domain: Set("dead.example".into()),
        blocked: Set(false),
        failure_count: Set(7),
        failing_since: Set(Some(now - chrono::Duration::days(3))),
        paused_until: Set(Some(now + chrono::Duration::hours(5))),
        ..Default::default()
    })
    .exec(inst.db())
    .await
    .unwrap();
    let ctx: &copse_federation::FederationContext = &inst.instance().config;
    let activity = copse_federation::protocol::WithContext::new(serde_json::json!({
        "id": ctx.urls.new_activity("Announce"), "type": "Announce",
        "actor": ctx.urls.community("net"), "object": "http://example.localhost/x"
    }));
    let inboxes = ["http://dead.example/inbox", "http://other.example/inbox"]
        .map(|u| url::Url::parse(u).unwrap());
    copse_federation::queue::enqueue(inst.db(), &ctx.urls, &activity, None, true, inboxes)
        .await
        .unwrap();

    let page = ada.get("/admin/queue").await;
    assert_eq!(page.status, 200);
    let paused = &page.body[page.body.find("class=\"paused\"").expect("a paused row")..];
    assert!(paused.contains("dead.example"), "{}", page.body);
    assert!(
        paused.contains("3 days ago"),
        "failing since: {}",
        page.body
    );
    assert!(paused.contains("in 5 hours"), "paused until: {}", page.body);
    let outbox = &page.body[page.body.find("id=\"queue-outbox\"").unwrap()..];
    let outbox = &outbox[..outbox.find("</tr>").unwrap()];
    assert!(
        outbox.contains("<td>2</td>"),
        "two deliveries waiting: {outbox}"
    );
    assert!(outbox.contains("just now"), "{outbox}");
}

/// `raw` is on the page only as text: escaped, never as markup.
fn assert_escaped(body: &str, raw: &str) {
    assert!(!body.contains(raw), "unescaped {raw} in:\n{body}");
    let escaped = raw.replace('<', "&#60;").replace('>', "&#62;");
    assert!(body.contains(&escaped), "{escaped} not shown in:\n{body}");
}

#[tokio::test]
async fn sign_up_answers_and_community_titles_are_shown_escaped() {
    let inst = TestInstance::spawn("alpha").await;
    let mut ada = admin(&inst).await;
    let res = ada
        .submit(
            "/admin/registration",
            "/admin/registration",
            &[("policy", "approval"), ("question", "<b>Why</b>?")],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let mut v = Visitor::new(&inst);
    let form = v.get("/signup").await;
    assert_escaped(&form.body, "<b>Why</b>?");
    let res = v
        .submit(
            "/signup",
            "/signup",
            &[
                ("name", "mal"),
                ("password", PASSWORD),
                ("answer", "<script>alert(document.cookie)</script>"),
            ],
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let list = ada.get("/admin/accounts").await;
    assert_escaped(&list.body, "<script>alert(document.cookie)</script>");

    let res = ada
        .submit(
            "/admin/communities",
            "/admin/communities",
            &[("name", "xss"), ("title", "<img src=x onerror=alert(1)>")],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let list = ada.get("/admin/communities").await;
    assert_escaped(&list.body, "<img src=x onerror=alert(1)>");
}
