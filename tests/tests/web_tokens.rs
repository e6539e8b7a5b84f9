//! API tokens from the settings page: made with a name and shown once, usable with the API at
//! once, listed, and refused the moment they are revoked; nobody revokes another's token.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use copse_entities::api_token;
use copse_tests::{
    visitor::{account_with_password, Page, Visitor},
    TestInstance,
};
use reqwest::Method;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

const PASSWORD: &str = "a long enough password";

/// The token shown once on the page after it was made.
fn shown_token(page: &Page) -> String {
    let at = page
        .body
        .find("<code class=\"token\">")
        .unwrap_or_else(|| panic!("no token shown: {}", page.body));
    let rest = &page.body[at + "<code class=\"token\">".len()..];
    rest[..rest.find('<').unwrap()].to_string()
}

async fn token_ids(inst: &TestInstance, name: &str) -> Vec<i64> {
    api_token::Entity::find()
        .filter(api_token::Column::Name.eq(name))
        .all(inst.db())
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.id)
        .collect()
}

#[tokio::test]
async fn a_token_is_made_used_listed_and_refused_once_revoked() {
    let inst = TestInstance::spawn("alpha").await;
    account_with_password(&inst, "ana", PASSWORD).await;
    let mut v = Visitor::new(&inst);
    v.sign_in("ana", PASSWORD).await;

    let made = v
        .submit("/settings/tokens", "/settings/tokens", &[("name", "phone")])
        .await;
    assert_eq!(made.status, 200, "{}", made.body);
    let token = shown_token(&made);
    assert_eq!(token.len(), 64);
    assert!(made.body.contains("<td>phone</td>"), "{}", made.body);

    let (s, me) = inst
        .api(
            Method::PUT,
            "/api/v1/me",
            Some(&token),
            Some(serde_json::json!({ "display_name": "Ana from her phone" })),
        )
        .await;
    assert_eq!(s, 200, "{me}");
    assert_eq!(me["name"], "ana");

    // Listed with when it was last used, and never shown again.
    let list = v.get("/settings/tokens").await;
    assert!(list.body.contains("<td>phone</td>"));
    assert!(!list.body.contains(&token), "the token is shown only once");
    assert!(
        !list.body.contains(">never<"),
        "its use is recorded: {}",
        list.body
    );

    let id = token_ids(&inst, "phone").await[0];
    let res = v
        .submit(
            "/settings/tokens",
            &format!("/settings/tokens/{id}/revoke"),
            &[],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let (s, _) = inst
        .api(
            Method::PUT,
            "/api/v1/me",
            Some(&token),
            Some(serde_json::json!({})),
        )
        .await;
    assert_eq!(s, 401, "a revoked token is refused at once");
    assert!(!v
        .get("/settings/tokens")
        .await
        .body
        .contains("<td>phone</td>"));
}

#[tokio::test]
async fn a_token_needs_a_name_said_next_to_the_field() {
    let inst = TestInstance::spawn("alpha").await;
    account_with_password(&inst, "ana", PASSWORD).await;
    let mut v = Visitor::new(&inst);
    v.sign_in("ana", PASSWORD).await;
    let res = v
        .submit("/settings/tokens", "/settings/tokens", &[("name", "  ")])
        .await;
    assert_eq!(res.status, 422, "{}", res.body);
    assert!(res.body.contains("id=\"name-error\"") && res.body.contains("name is required"));
    assert!(!res.body.contains("<code class=\"token\">"));
}

#[tokio::test]
async fn nobody_revokes_another_persons_token() {
    let inst = TestInstance::spawn("alpha").await;
    account_with_password(&inst, "ana", PASSWORD).await;
    account_with_password(&inst, "max", PASSWORD).await;
    let mut ana = Visitor::new(&inst);
    ana.sign_in("ana", PASSWORD).await;
    let token = shown_token(
        &ana.submit(
            "/settings/tokens",
            "/settings/tokens",
            &[("name", "laptop")],
        )
        .await,
    );
    let id = token_ids(&inst, "laptop").await[0];

    let mut max = Visitor::new(&inst);
    max.sign_in("max", PASSWORD).await;
    let res = max
        .submit(
            "/settings/tokens",
            &format!("/settings/tokens/{id}/revoke"),
            &[],
        )
        .await;
    assert_eq!(res.status, 404, "{}", res.body);
    assert!(!max.get("/settings/tokens").await.body.contains("laptop"));
    let (s, _) = inst
        .api(
            Method::DELETE,
            &format!("/api/v1/me/tokens/{id}"),
            Some(&inst.create_user("zed").await),
            None,
        )
        .await;
    assert_eq!(s, 404);

    // Without the form's token, not even the owner revokes it.
    let res = ana
        .post(
            &format!("/settings/tokens/{id}/revoke"),
            &[("csrf", "wrong")],
        )
        .await;
    assert_eq!(res.status, 403);
    let (s, _) = inst
        .api(Method::GET, "/api/v1/me/tokens", Some(&token), None)
        .await;
    assert_eq!(s, 200, "still valid");
}

#[tokio::test]
async fn the_api_makes_lists_and_revokes_tokens() {
    let inst = TestInstance::spawn("alpha").await;
    let cli = inst.create_user("ana").await;
    let (s, made) = inst
        .api(
            Method::POST,
            "/api/v1/me/tokens",
            Some(&cli),
            Some(serde_json::json!({ "name": "script" })),
        )
        .await;
    assert_eq!(s, 201, "{made}");
    let token = made["token"].as_str().unwrap().to_string();
    let (s, list) = inst
        .api(Method::GET, "/api/v1/me/tokens", Some(&token), None)
        .await;
    assert_eq!(s, 200);
    assert_eq!(list["items"][0]["name"], "script");
    assert!(list["items"][0].get("token").is_none());
    let id = made["id"].as_i64().unwrap();
    let (s, _) = inst
        .api(
            Method::DELETE,
            &format!("/api/v1/me/tokens/{id}"),
            Some(&cli),
            None,
        )
        .await;
    assert_eq!(s, 204);
    let (s, _) = inst
        .api(Method::GET, "/api/v1/me/tokens", Some(&token), None)
        .await;
    assert_eq!(s, 401);
    let (s, _) = inst
        .api(Method::GET, "/api/v1/me/tokens", Some(&cli), None)
        .await;
    assert_eq!(s, 200, "the command-line token stays");
}
