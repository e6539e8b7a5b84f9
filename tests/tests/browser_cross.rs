//! Taking part across servers, in a real headless Chromium: a visitor on alpha's community page
//! types their handle on beta into "Follow from your own server", signs in on beta, joins the
//! community from beta's page for it, starts a topic there and replies to a topic written on
//! alpha; both arrive in the community on alpha and show on its pages.

// Tests report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use copse_entities::post;
use copse_tests::{
    browser::Browser,
    builders::{communities::open_community, posts::local_topic},
    visitor::account_with_password,
    wait_for, TestInstance,
};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use std::time::Duration;

const PASSWORD: &str = "a long enough password";
const POST_LABEL: &str =
    "Text (Markdown: **bold**, _italic_, [links](https://…), @name@server mentions, #hashtags)";
const T: Duration = Duration::from_secs(20);

/// Reloads `url` until its page shows `needle`: what it waits for arrives from another server.
async fn reload_until(b: &Browser, url: &url::Url, needle: &str) {
    let end = tokio::time::Instant::now() + T;
    loop {
        b.goto(url).await;
        if b.text().await.contains(needle) {
            return;
        }
        if tokio::time::Instant::now() > end {
            panic!(
                "{url} never showed {needle:?}; it shows:\n{}",
                b.text().await
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn posts_titled(inst: &TestInstance, title: &str) -> u64 {
    post::Entity::find()
        .filter(post::Column::Title.eq(title))
        .count(inst.db())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_signed_in_on_beta_follows_and_posts_into_a_community_on_alpha() {
    let Some(br) =
        Browser::start("a_member_signed_in_on_beta_follows_and_posts_into_a_community_on_alpha")
            .await
    else {
        return;
    };
    let a = TestInstance::spawn("alpha").await;
    let b = TestInstance::spawn("beta").await;
    let coco = account_with_password(&a, "coco", PASSWORD).await;
    open_community(&a, &coco, "net").await;
    account_with_password(&b, "bob", PASSWORD).await;

    // On alpha's page, not signed in anywhere, the visitor names their account on beta.
    br.goto(&a.url("/c/net")).await;
    br.fill(
        "Follow from your own server (Mastodon, Lemmy, Friendica…): your handle",
        &format!("@bob@{}", b.domain),
    )
    .await;
    br.click("Follow from my server").await;

    // Beta asks them to sign in, then opens its own page for the community.
    br.wait_for_text("Password").await;
    br.fill("Name", "bob").await;
    br.fill("Password", &format!("{PASSWORD}\u{e007}")).await;
    br.wait_for_text(&format!("@net@{}", a.domain)).await;
    let here = br.url().await;
    assert_eq!(here.host_str(), Some(b.domain.split(':').next().unwrap()));
    assert_eq!(here.path(), format!("/c/net@{}", a.domain));
    br.click("Join").await;
    reload_until(&br, &here, "You are a member").await;

    // A topic started on beta's page arrives on alpha.
    br.click("New topic").await;
    br.fill("Title", "Mapping the boroughs").await;
    br.fill(POST_LABEL, "Who keeps a **list**?").await;
    br.click("Publish").await;
    br.wait_for_text("Who keeps a list?").await;
    wait_for("the topic reaches alpha", T, || async {
        posts_titled(&a, "Mapping the boroughs").await == 1
    })
    .await;

    // A topic written on alpha reaches beta; bob answers it from beta's topic page.
    local_topic(&a, &coco, "Venues that cost nothing").await;
    wait_for("alpha's topic reaches beta", T, || async {
        posts_titled(&b, "Venues that cost nothing").await == 1
    })
    .await;
    reload_until(&br, &here, "Venues that cost nothing").await;
    br.click("Venues that cost nothing").await;
    br.click("Reply").await;
    br.fill("Your reply (Markdown)", "The library on Mare Street.")
        .await;
    br.click("Send reply").await;
    br.wait_for_text("The library on Mare Street.").await;

    // Alpha's own pages show both, with bob as their author.
    reload_until(&br, &a.url("/c/net"), "Mapping the boroughs").await;
    br.click("Venues that cost nothing").await;
    reload_until(&br, &br.url().await, "The library on Mare Street.").await;
    let text = br.text().await;
    assert!(text.contains(&format!("bob @bob@{}", b.domain)), "{text}");
}
