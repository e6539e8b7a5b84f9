//! Accounts in the browser: the first admin's one-time link, sign-up by each registration
//! policy, sign-in with its limits, sessions and CSRF. Spoken over HTTP as a browser would;
//! the headless-browser tests click through the same pages.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use copse_entities::{
    local_user::{self, AccountStatus},
    site::{self, Registration},
};
use copse_tests::{
    visitor::{account_with_password, Visitor},
    TestInstance,
};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

const PASSWORD: &str = "a long enough password";

async fn set_registration(inst: &TestInstance, policy: Registration, question: Option<&str>) {
    let site = site::Entity::find_by_id(1)
        .one(inst.db())
        .await
        .unwrap()
        .unwrap();
    let mut row: site::ActiveModel = site.into();
    row.registration = Set(policy);
    row.registration_question = Set(question.map(String::from));
    row.update(inst.db()).await.unwrap();
}

async fn account(inst: &TestInstance, name: &str) -> Option<local_user::Model> {
    let p = copse_server::accounts::local_person(inst.db(), name)
        .await
        .unwrap()?;
    local_user::Entity::find()
        .filter(local_user::Column::PersonId.eq(p.id))
        .one(inst.db())
        .await
        .unwrap()
}

#[tokio::test]
async fn the_setup_link_creates_the_first_admin_once() {
    let inst = TestInstance::spawn("alpha").await;
    let link = copse_server::web::account::issue_setup_link(&inst.instance().config)
        .await
        .unwrap()
        .expect("a fresh instance offers a setup link");
    let path = link.path().to_string();
    let mut admin = Visitor::new(&inst);
    let res = admin
        .submit(&path, &path, &[("name", "ada"), ("password", PASSWORD)])
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert!(admin.cookie("copse_session").is_some(), "signed in at once");
    assert!(account(&inst, "ada").await.unwrap().admin);
    let home = admin.get("/").await;
    assert!(
        home.body.contains("Admin"),
        "the header offers the admin pages"
    );

    // The link is spent, and no new one is offered once there is an admin.
    let mut other = Visitor::new(&inst);
    assert_eq!(other.get(&path).await.status, 404);
    let again = copse_server::web::account::issue_setup_link(&inst.instance().config)
        .await
        .unwrap();
    assert!(again.is_none());
}

#[tokio::test]
async fn a_wrong_or_old_setup_link_claims_nothing() {
    let inst = TestInstance::spawn("alpha").await;
    let config = &inst.instance().config;
    let first = copse_server::web::account::issue_setup_link(config)
        .await
        .unwrap()
        .unwrap();
    let _second = copse_server::web::account::issue_setup_link(config)
        .await
        .unwrap()
        .unwrap();
    let mut v = Visitor::new(&inst);
    assert_eq!(
        v.get(first.path()).await.status,
        404,
        "an earlier link stops working"
    );
    assert_eq!(v.get("/setup/0000").await.status, 404);
}

#[tokio::test]
async fn open_registration_signs_the_new_person_in() {
    let inst = TestInstance::spawn("alpha").await;
    set_registration(&inst, Registration::Open, None).await;
    let mut v = Visitor::new(&inst);
    let res = v
        .submit(
            "/signup",
            "/signup",
            &[("name", "bea"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let home = v.get("/").await;
    assert!(home.body.contains("Sign out"), "{}", home.body);
    assert_eq!(
        account(&inst, "bea").await.unwrap().status,
        AccountStatus::Active
    );
}

#[tokio::test]
async fn sign_up_errors_are_shown_next_to_their_field() {
    let inst = TestInstance::spawn("alpha").await;
    set_registration(&inst, Registration::Open, None).await;
    let mut v = Visitor::new(&inst);
    let res = v
        .submit(
            "/signup",
            "/signup",
            &[("name", "Bad Name!"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(res.status, 422);
    assert!(res.body.contains("id=\"name-error\""), "{}", res.body);
    let res = v
        .submit(
            "/signup",
            "/signup",
            &[("name", "bea"), ("password", "short")],
        )
        .await;
    assert_eq!(res.status, 422);
    assert!(res.body.contains("id=\"password-error\""), "{}", res.body);
    assert!(res.body.contains("value=\"bea\""), "what was typed is kept");
    account_with_password(&inst, "cai", PASSWORD).await;
    let res = v
        .submit(
            "/signup",
            "/signup",
            &[("name", "cai"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(res.status, 422);
    assert!(res.body.contains("is taken"), "{}", res.body);
}

#[tokio::test]
async fn approval_registration_waits_for_an_admin_with_the_answer() {
    let inst = TestInstance::spawn("alpha").await;
    set_registration(
        &inst,
        Registration::Approval,
        Some("Which network are you part of?"),
    )
    .await;
    let mut v = Visitor::new(&inst);
    let form = v.get("/signup").await;
    assert!(form.body.contains("Which network are you part of?"));
    let res = v
        .submit(
            "/signup",
            "/signup",
            &[("name", "dev"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(res.status, 422, "an answer is needed");
    assert!(res.body.contains("id=\"answer-error\""));
    let res = v
        .submit(
            "/signup",
            "/signup",
            &[
                ("name", "dev"),
                ("password", PASSWORD),
                ("answer", "Leeds food network"),
            ],
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert!(v.cookie("copse_session").is_none(), "not signed in yet");
    let user = account(&inst, "dev").await.unwrap();
    assert_eq!(user.status, AccountStatus::Pending);
    assert_eq!(user.sign_up_answer.as_deref(), Some("Leeds food network"));
    let res = v
        .submit(
            "/signin",
            "/signin",
            &[("name", "dev"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(res.status, 403);
    assert!(res.body.contains("waiting for an admin"), "{}", res.body);
}

#[tokio::test]
async fn closed_and_invite_only_registration_refuse_strangers() {
    let inst = TestInstance::spawn("alpha").await;
    set_registration(&inst, Registration::Closed, None).await;
    let mut v = Visitor::new(&inst);
    let page = v.get("/signup").await;
    assert!(page.body.contains("not taking new accounts"));
    // A form posted anyway is refused too.
    let csrf = v.get("/signin").await.csrf();
    let res = v
        .post(
            "/signup",
            &[("csrf", &csrf), ("name", "eve"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(res.status, 403);
    set_registration(&inst, Registration::Invite, None).await;
    let res = v
        .post(
            "/signup",
            &[("csrf", &csrf), ("name", "eve"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(res.status, 403);
    assert!(account(&inst, "eve").await.is_none());
}

#[tokio::test]
async fn a_wrong_password_is_refused_without_saying_which_part_was_wrong() {
    let inst = TestInstance::spawn("alpha").await;
    account_with_password(&inst, "fay", PASSWORD).await;
    let mut v = Visitor::new(&inst);
    let wrong = v
        .submit(
            "/signin",
            "/signin",
            &[("name", "fay"), ("password", "not the password")],
        )
        .await;
    let unknown = v
        .submit(
            "/signin",
            "/signin",
            &[("name", "nobody"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(wrong.status, 401);
    assert_eq!(unknown.status, 401);
    assert!(wrong.body.contains("do not match an account"));
    assert!(unknown.body.contains("do not match an account"));
    assert!(v.cookie("copse_session").is_none());
}

#[tokio::test]
async fn sign_in_is_limited_per_account_even_with_the_right_password() {
    let inst = TestInstance::spawn("alpha").await;
    account_with_password(&inst, "gus", PASSWORD).await;
    let mut v = Visitor::new(&inst);
    for _ in 0..copse_server::web::passwords::PER_ACCOUNT {
        let res = v
            .submit(
                "/signin",
                "/signin",
                &[("name", "gus"), ("password", "guess guess")],
            )
            .await;
        assert_eq!(res.status, 401);
    }
    let res = v
        .submit(
            "/signin",
            "/signin",
            &[("name", "gus"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(res.status, 429, "{}", res.body);
    assert!(res.body.contains("too many failed sign-ins"));
    // Another account from the same address is not held back by gus's failures.
    account_with_password(&inst, "hal", PASSWORD).await;
    let mut other = Visitor::new(&inst);
    other.sign_in("hal", PASSWORD).await;
}

#[tokio::test]
async fn sign_in_is_limited_per_address_across_accounts() {
    let inst = TestInstance::spawn("alpha").await;
    let mut v = Visitor::new(&inst);
    for i in 0..copse_server::web::passwords::PER_ADDRESS {
        let name = format!("guess{i}");
        let res = v
            .submit(
                "/signin",
                "/signin",
                &[("name", &name), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(res.status, 401);
    }
    account_with_password(&inst, "ida", PASSWORD).await;
    let res = v
        .submit(
            "/signin",
            "/signin",
            &[("name", "ida"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(res.status, 429);
}

#[tokio::test]
async fn forms_without_their_token_are_refused() {
    let inst = TestInstance::spawn("alpha").await;
    set_registration(&inst, Registration::Open, None).await;
    account_with_password(&inst, "jo", PASSWORD).await;
    let mut v = Visitor::new(&inst);
    let res = v
        .post("/signin", &[("name", "jo"), ("password", PASSWORD)])
        .await;
    assert_eq!(res.status, 403, "sign-in without a token");
    let res = v
        .post("/signup", &[("name", "kit"), ("password", PASSWORD)])
        .await;
    assert_eq!(res.status, 403, "sign-up without a token");
    assert!(account(&inst, "kit").await.is_none());
    // A token from another browser does not do either.
    let mut other = Visitor::new(&inst);
    let theirs = other.get("/signin").await.csrf();
    let res = v
        .post(
            "/signin",
            &[("csrf", &theirs), ("name", "jo"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(res.status, 403);

    v.sign_in("jo", PASSWORD).await;
    let res = v.post("/signout", &[]).await;
    assert_eq!(res.status, 403, "sign-out without the session's token");
    assert!(
        v.get("/").await.body.contains("Sign out"),
        "still signed in"
    );
}

#[tokio::test]
async fn signing_in_starts_a_new_session_and_signing_out_ends_it() {
    let inst = TestInstance::spawn("alpha").await;
    account_with_password(&inst, "lee", PASSWORD).await;
    let mut v = Visitor::new(&inst);
    // A session cookie planted before sign-in (fixation) is replaced, not adopted.
    v.plant_cookie("copse_session", "planted");
    v.sign_in("lee", PASSWORD).await;
    let session = v.cookie("copse_session").unwrap().to_string();
    assert_ne!(session, "planted");
    let home = v.get("/").await;
    let csrf = home.csrf();
    let res = v.post("/signout", &[("csrf", &csrf)]).await;
    assert_eq!(res.status, 303);
    assert!(v.cookie("copse_session").is_none());
    // The old cookie no longer signs anyone in.
    let mut replay = Visitor::new(&inst);
    replay.plant_cookie("copse_session", &session);
    assert!(replay.get("/").await.body.contains("Sign in"));
}

#[tokio::test]
async fn session_cookies_are_http_only_and_same_site() {
    let inst = TestInstance::spawn("alpha").await;
    account_with_password(&inst, "mo", PASSWORD).await;
    let mut v = Visitor::new(&inst);
    let csrf = v.get("/signin").await.csrf();
    let res = v
        .post(
            "/signin",
            &[("csrf", &csrf), ("name", "mo"), ("password", PASSWORD)],
        )
        .await;
    let session = res
        .set_cookies
        .iter()
        .find(|c| c.starts_with("copse_session="))
        .expect("a session cookie");
    assert!(session.contains("HttpOnly"), "{session}");
    assert!(session.contains("SameSite=Lax"), "{session}");
    assert!(session.contains("Path=/"), "{session}");
    // Served over plain http on loopback: Secure would stop the browser sending it back.
    assert!(!session.contains("Secure"), "{session}");
}

#[tokio::test]
async fn sign_in_goes_back_only_to_pages_of_this_site() {
    let inst = TestInstance::spawn("alpha").await;
    account_with_password(&inst, "ned", PASSWORD).await;
    for (next, to) in [
        ("/c/anything", "/c/anything"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
    ] {
        let mut v = Visitor::new(&inst);
        let res = v
            .submit(
                "/signin",
                "/signin",
                &[("name", "ned"), ("password", PASSWORD), ("next", next)],
            )
            .await;
        assert_eq!(res.location.as_deref(), Some(to), "{next}");
    }
}

#[tokio::test]
async fn a_suspended_account_cannot_sign_in_and_its_sessions_stop() {
    let inst = TestInstance::spawn("alpha").await;
    let token = account_with_password(&inst, "oz", PASSWORD).await;
    let mut v = Visitor::new(&inst);
    v.sign_in("oz", PASSWORD).await;
    let mut row: local_user::ActiveModel = account(&inst, "oz").await.unwrap().into();
    row.status = Set(AccountStatus::Suspended);
    row.update(inst.db()).await.unwrap();
    assert!(
        v.get("/").await.body.contains("Sign in"),
        "the session no longer works"
    );
    let res = v
        .submit(
            "/signin",
            "/signin",
            &[("name", "oz"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(res.status, 403);
    assert!(res.body.contains("suspended"));
    let (status, _) = inst
        .api(reqwest::Method::GET, "/api/v1/me", Some(&token), None)
        .await;
    assert_eq!(status, 401, "nor does its token");
}
