//! The Markdown preview under post and reply boxes: `POST /preview` renders as a post will
//! show, for people signed in and with the page's token only; the script that calls it is an
//! enhancement the forms do without.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use copse_tests::{
    browser::Browser,
    builders::{communities::open_community, posts::local_topic},
    visitor::{account_with_password, Visitor},
    TestInstance,
};

const PASSWORD: &str = "a long enough password";

#[tokio::test]
async fn the_preview_renders_and_sanitises_for_people_signed_in_with_the_token() {
    let a = TestInstance::spawn("alpha").await;
    account_with_password(&a, "ana", PASSWORD).await;
    let mut stranger = Visitor::new(&a);
    let res = stranger.post("/preview", &[("content", "**bold**")]).await;
    assert_eq!(res.status, 303, "signed out: sent to sign in");
    assert!(!res.body.contains("<strong>"));

    let mut ana = Visitor::new(&a);
    ana.sign_in("ana", PASSWORD).await;
    let res = ana.post("/preview", &[("content", "**bold**")]).await;
    assert_eq!(res.status, 403, "no token: {}", res.body);

    let page = ana.get("/").await;
    let csrf = page.csrf();
    let res = ana
        .post(
            "/preview",
            &[
                ("csrf", &csrf),
                (
                    "content",
                    "**bold** <script>alert(1)</script><img src=x onerror=alert(2)>",
                ),
            ],
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert!(res.body.contains("<strong>bold</strong>"), "{}", res.body);
    assert!(!res.body.contains("<script"), "{}", res.body);
    assert!(!res.body.contains("onerror"), "{}", res.body);

    let res = ana
        .post("/preview", &[("csrf", &csrf), ("content", "  ")])
        .await;
    assert_eq!(res.status, 422, "{}", res.body);
}

#[tokio::test]
async fn the_script_is_served_and_every_page_loads_it() {
    let a = TestInstance::spawn("alpha").await;
    let res = a
        .client
        .get(a.url("/static/copse.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    assert!(res.text().await.unwrap().contains("data-preview"));
    let res = a.client.get(a.url("/")).send().await.unwrap();
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    let scripts = csp
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with("script-src"))
        .unwrap_or_else(|| panic!("no script-src in {csp}"));
    assert_eq!(
        scripts, "script-src 'self'",
        "no inline script may run: {csp}"
    );
    let mut v = Visitor::new(&a);
    let home = v.get("/").await;
    assert!(home
        .body
        .contains("<script src=\"/static/copse.js\" defer>"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_is_previewed_before_it_is_sent() {
    let Some(browser) = Browser::start("a_reply_is_previewed_before_it_is_sent").await else {
        return;
    };
    let a = TestInstance::spawn("alpha").await;
    let owner = a.create_user("owner").await;
    open_community(&a, &owner, "net").await;
    let topic = local_topic(&a, &owner, "Sharing budgets").await;
    let id = topic["local_id"].as_i64().unwrap();
    let ana = account_with_password(&a, "ana", PASSWORD).await;
    let (status, body) = a.follow(&ana, "net").await;
    assert!(status < 300, "{body}");

    browser.goto(&a.url("/signin")).await;
    browser.fill("Name", "ana").await;
    // Enter in the password field sends the form (the header has a "Sign in" link too).
    browser
        .fill("Password", &format!("{PASSWORD}\u{e007}"))
        .await;
    browser.wait_for_text("Sign out").await;
    browser.goto(&a.url(&format!("/post/{id}"))).await;
    browser.click("Reply").await;
    browser
        .fill("Your reply (Markdown)", "We publish **every quarter**.")
        .await;
    browser.click("Preview").await;
    browser.wait_for_text("every quarter").await;
    let html = browser.html_of(".preview").await;
    assert!(html.contains("<strong>every quarter</strong>"), "{html}");
}
