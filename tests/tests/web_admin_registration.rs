//! Registration as the admin sets it on the admin pages: approving a sign-up, the policy and
//! its question, and invitation links (valid, used up, expired, revoked, unknown).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use copse_entities::{
    local_user::{self, AccountStatus},
    registration_invite,
};
use copse_tests::{
    visitor::{admin_with_password, Visitor},
    TestInstance,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

const PASSWORD: &str = "a long enough password";

/// An admin `ada` signed in.
async fn admin(inst: &TestInstance) -> Visitor<'_> {
    admin_with_password(inst, "ada", PASSWORD).await;
    let mut v = Visitor::new(inst);
    v.sign_in("ada", PASSWORD).await;
    v
}

async fn set_policy(ada: &mut Visitor<'_>, policy: &str, question: &str) {
    let res = ada
        .submit(
            "/admin/registration",
            "/admin/registration",
            &[("policy", policy), ("question", question)],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
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

/// Makes an invitation link on the page and returns its code.
async fn invite(ada: &mut Visitor<'_>, days: &str, max_uses: &str) -> String {
    let res = ada
        .submit(
            "/admin/invites",
            "/admin/invites",
            &[
                ("note", "for a friend"),
                ("days", days),
                ("max_uses", max_uses),
            ],
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let at = res.body.find("?invite=").expect("the new link is shown") + "?invite=".len();
    res.body[at..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect()
}

/// Posts the sign-up form with an invitation code as `name`, in a new browser (the token
/// comes from the sign-in page, since a refused link's page has no form).
async fn sign_up_with(inst: &TestInstance, code: &str, name: &str) -> copse_tests::visitor::Page {
    let mut v = Visitor::new(inst);
    let csrf = v.get("/signin").await.csrf();
    v.post(
        "/signup",
        &[
            ("csrf", &csrf),
            ("name", name),
            ("password", PASSWORD),
            ("invite", code),
        ],
    )
    .await
}

#[tokio::test]
async fn an_approved_sign_up_can_sign_in() {
    let inst = TestInstance::spawn("alpha").await;
    let mut ada = admin(&inst).await;
    set_policy(&mut ada, "approval", "Which network are you part of?").await;
    let mut dev = Visitor::new(&inst);
    assert!(dev
        .get("/signup")
        .await
        .body
        .contains("Which network are you part of?"));
    let res = dev
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
    let list = ada.get("/admin/accounts").await;
    assert!(list.body.contains("Leeds food network"), "{}", list.body);
    assert!(list.body.contains("Approve dev"));
    let refused = dev
        .submit(
            "/signin",
            "/signin",
            &[("name", "dev"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(refused.status, 403);

    let res = ada
        .submit(
            "/admin/accounts",
            "/admin/accounts/dev",
            &[("decision", "approve")],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(
        account(&inst, "dev").await.unwrap().status,
        AccountStatus::Active
    );
    dev.sign_in("dev", PASSWORD).await;
    let again = ada
        .submit(
            "/admin/accounts",
            "/admin/accounts/dev",
            &[("decision", "approve")],
        )
        .await;
    assert_eq!(again.status, 422);
    assert!(again.body.contains("dev is not waiting for approval"));
}

#[tokio::test]
async fn the_registration_form_refuses_an_unknown_policy_next_to_the_field() {
    let inst = TestInstance::spawn("alpha").await;
    let mut ada = admin(&inst).await;
    let res = ada
        .submit(
            "/admin/registration",
            "/admin/registration",
            &[("policy", "everyone"), ("question", "")],
        )
        .await;
    assert_eq!(res.status, 422);
    assert!(res.body.contains("id=\"policy-error\""), "{}", res.body);
    assert!(res.body.contains("choose open, approval, invite or closed"));
    let long = "x".repeat(501);
    let res = ada
        .submit(
            "/admin/registration",
            "/admin/registration",
            &[("policy", "approval"), ("question", &long)],
        )
        .await;
    assert_eq!(res.status, 422);
    assert!(res.body.contains("id=\"question-error\""), "{}", res.body);
}

#[tokio::test]
async fn closed_registration_refuses_sign_up_even_with_an_invitation() {
    let inst = TestInstance::spawn("alpha").await;
    let mut ada = admin(&inst).await;
    let code = invite(&mut ada, "", "").await;
    set_policy(&mut ada, "closed", "").await;
    let mut v = Visitor::new(&inst);
    let page = v.get("/signup").await;
    assert!(
        page.body.contains("not taking new accounts"),
        "{}",
        page.body
    );
    let csrf = v.get("/signin").await.csrf();
    let res = v
        .post(
            "/signup",
            &[("csrf", &csrf), ("name", "eve"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(res.status, 403);
    let res = sign_up_with(&inst, &code, "eve").await;
    assert_eq!(res.status, 403, "{}", res.body);
    assert!(account(&inst, "eve").await.is_none());
}

#[tokio::test]
async fn an_invitation_link_makes_accounts_until_it_is_used_up() {
    let inst = TestInstance::spawn("alpha").await;
    let mut ada = admin(&inst).await;
    set_policy(&mut ada, "invite", "").await;
    let code = invite(&mut ada, "7", "1").await;
    assert_eq!(code.len(), 64);

    let mut stranger = Visitor::new(&inst);
    assert!(stranger
        .get("/signup")
        .await
        .body
        .contains("Accounts here are by invitation"));
    let mut fay = Visitor::new(&inst);
    let form = fay.get(&format!("/signup?invite={code}")).await;
    assert!(form.body.contains("Create my account"), "{}", form.body);
    let res = fay
        .submit(
            &format!("/signup?invite={code}"),
            "/signup",
            &[("name", "fay"), ("password", PASSWORD), ("invite", &code)],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert!(fay.get("/").await.body.contains("Sign out"));
    assert_eq!(
        account(&inst, "fay").await.unwrap().status,
        AccountStatus::Active
    );

    let mut gus = Visitor::new(&inst);
    let page = gus.get(&format!("/signup?invite={code}")).await;
    assert!(page.body.contains("has been used already"), "{}", page.body);
    let res = sign_up_with(&inst, &code, "gus").await;
    assert_eq!(res.status, 403, "{}", res.body);
    assert!(account(&inst, "gus").await.is_none());
    let list = ada.get("/admin/invites").await;
    assert!(
        list.body.contains("used up") && list.body.contains("1 of 1"),
        "{}",
        list.body
    );
}

#[tokio::test]
async fn an_invitation_without_a_limit_makes_several_accounts() {
    let inst = TestInstance::spawn("alpha").await;
    let mut ada = admin(&inst).await;
    set_policy(&mut ada, "invite", "").await;
    let code = invite(&mut ada, "", "").await;
    for name in ["hal", "ivy", "jo"] {
        let res = sign_up_with(&inst, &code, name).await;
        assert_eq!(res.status, 303, "{name}: {}", res.body);
    }
    let list = ada.get("/admin/invites").await;
    assert!(list.body.contains("3 (no limit)"), "{}", list.body);
    assert!(list.body.contains("never"), "no expiry: {}", list.body);
}

#[tokio::test]
async fn an_expired_invitation_is_refused() {
    let inst = TestInstance::spawn("alpha").await;
    let mut ada = admin(&inst).await;
    set_policy(&mut ada, "invite", "").await;
    let code = invite(&mut ada, "1", "").await;
    registration_invite::Entity::update_many()
        .col_expr(
            registration_invite::Column::ExpiresAt,
            sea_orm::sea_query::Expr::value(Some(
                chrono::Utc::now() - chrono::Duration::minutes(1),
            )),
        )
        .exec(inst.db())
        .await
        .unwrap();
    let mut v = Visitor::new(&inst);
    let page = v.get(&format!("/signup?invite={code}")).await;
    assert!(page.body.contains("has expired"), "{}", page.body);
    let res = sign_up_with(&inst, &code, "kit").await;
    assert_eq!(res.status, 403, "{}", res.body);
    assert!(account(&inst, "kit").await.is_none());
}

#[tokio::test]
async fn a_revoked_invitation_is_refused() {
    let inst = TestInstance::spawn("alpha").await;
    let mut ada = admin(&inst).await;
    set_policy(&mut ada, "invite", "").await;
    let code = invite(&mut ada, "", "5").await;
    let id = registration_invite::Entity::find()
        .one(inst.db())
        .await
        .unwrap()
        .unwrap()
        .id;
    let res = ada
        .submit(
            "/admin/invites",
            &format!("/admin/invites/{id}/revoke"),
            &[],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let mut v = Visitor::new(&inst);
    let page = v.get(&format!("/signup?invite={code}")).await;
    assert!(page.body.contains("has been withdrawn"), "{}", page.body);
    let res = sign_up_with(&inst, &code, "lou").await;
    assert_eq!(res.status, 403, "{}", res.body);
    assert!(account(&inst, "lou").await.is_none());
    assert!(ada.get("/admin/invites").await.body.contains("revoked"));
}

#[tokio::test]
async fn an_unknown_invitation_code_is_refused() {
    let inst = TestInstance::spawn("alpha").await;
    let mut ada = admin(&inst).await;
    set_policy(&mut ada, "invite", "").await;
    let mut v = Visitor::new(&inst);
    let page = v.get("/signup?invite=0123abcd").await;
    assert!(page.body.contains("is not valid"), "{}", page.body);
    let res = sign_up_with(&inst, "0123abcd", "max").await;
    assert_eq!(res.status, 403, "{}", res.body);
    assert!(account(&inst, "max").await.is_none());
}

#[tokio::test]
async fn invitation_form_errors_are_shown_next_to_their_field() {
    let inst = TestInstance::spawn("alpha").await;
    let mut ada = admin(&inst).await;
    for (field, days, uses) in [
        ("days", "0", ""),
        ("days", "soon", ""),
        ("max_uses", "", "0"),
    ] {
        let res = ada
            .submit(
                "/admin/invites",
                "/admin/invites",
                &[("note", ""), ("days", days), ("max_uses", uses)],
            )
            .await;
        assert_eq!(res.status, 422, "{field}");
        assert!(
            res.body.contains(&format!("id=\"{field}-error\"")),
            "{field}: {}",
            res.body
        );
    }
    assert!(registration_invite::Entity::find()
        .one(inst.db())
        .await
        .unwrap()
        .is_none());
}
