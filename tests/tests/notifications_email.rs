//! Notification mail through an SMTP server on loopback, one behaviour per test: one mail per
//! notification for "each", one digest once the day has turned for "digest", none for "none";
//! mail that could not be sent is sent after a restart, once; the mail is plain text that
//! links to the page; and the settings page where each person chooses.

// Tests report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::Duration as Days;
use copse_entities::{
    local_user::{self, EmailChoice},
    notification,
};
use copse_tests::{
    builders::{communities::network, T},
    smtp::SmtpServer,
    visitor::{account_with_password, Visitor},
    wait_for, TestInstance,
};
use reqwest::Method;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;

const PASSWORD: &str = "correct horse battery";

/// Alpha sending mail through `port` on loopback, with "net" coordinated by ana.
async fn alpha(port: u16) -> (TestInstance, String) {
    let a = TestInstance::spawn_with("alpha", |s| {
        s.mail.host = "127.0.0.1".into();
        s.mail.port = port;
        s.mail.tls = copse_server::settings::TlsMode::None;
        s.mail.from = "copse@alpha.test".into();
        s.mail.poll_interval_ms = 50;
        s.mail.timeout_seconds = 5;
    })
    .await;
    let ana = account_with_password(&a, "ana", PASSWORD).await;
    network(&a, &ana, "en").await;
    (a, ana)
}

/// A person `name` who signs in and chooses `choice` for `email` on the settings page; their
/// token.
async fn person_choosing(a: &TestInstance, name: &str, email: &str, choice: &str) -> String {
    let token = account_with_password(a, name, PASSWORD).await;
    choose(a, name, email, choice).await;
    token
}

async fn choose(a: &TestInstance, name: &str, email: &str, choice: &str) {
    let mut v = Visitor::new(a);
    v.sign_in(name, PASSWORD).await;
    let res = v
        .submit(
            "/settings/notifications",
            "/settings/notifications",
            &[("email", email), ("choice", choice)],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
}

/// A topic in net by the account with `token` that mentions `names`.
async fn mention(a: &TestInstance, token: &str, title: &str, names: &[&str]) {
    let text: Vec<String> = names.iter().map(|n| format!("@{n}")).collect();
    let (s, body) = a
        .api(
            Method::POST,
            "/api/v1/communities/net/posts",
            Some(token),
            Some(json!({ "title": title, "content": format!("What do you think, {}?", text.join(" ")) })),
        )
        .await;
    assert_eq!(s, 201, "{body}");
}

/// Notifications not yet mailed (nor passed over).
async fn unmailed(a: &TestInstance) -> u64 {
    notification::Entity::find()
        .filter(notification::Column::MailedAt.is_null())
        .count(a.db())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_notification_is_one_mail_and_none_means_none() {
    let smtp = SmtpServer::start().await;
    let (a, ana) = alpha(smtp.port).await;
    person_choosing(&a, "bob", "bob@mail.test", "each").await;
    person_choosing(&a, "cat", "cat@mail.test", "none").await;
    mention(&a, &ana, "Rotas", &["bob", "cat"]).await;
    mention(&a, &ana, "Budgets", &["bob", "cat"]).await;
    wait_for("bob's two mails", T, || async {
        smtp.to("bob@mail.test").len() == 2
    })
    .await;
    wait_for("nothing left to mail", T, || async {
        unmailed(&a).await == 0
    })
    .await;
    assert_eq!(smtp.to("bob@mail.test").len(), 2);
    assert!(smtp.to("cat@mail.test").is_empty());
    let subjects: Vec<String> = smtp
        .to("bob@mail.test")
        .iter()
        .map(|m| m.header("Subject").unwrap())
        .collect();
    assert!(
        subjects.iter().all(|s| s.starts_with("=?utf-8?b?")),
        "{subjects:?}"
    );
    assert_eq!(smtp.messages()[0].from, "copse@alpha.test");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_digest_goes_once_when_the_day_has_turned() {
    let smtp = SmtpServer::start().await;
    let (a, ana) = alpha(smtp.port).await;
    person_choosing(&a, "bob", "bob@mail.test", "each").await;
    person_choosing(&a, "dot", "dot@mail.test", "digest").await;
    mention(&a, &ana, "Rotas", &["dot"]).await;
    mention(&a, &ana, "Budgets", &["bob", "dot"]).await;
    // bob's mail comes from a pass of the mailer that saw dot's two and sent no digest.
    wait_for("bob's mail", T, || async {
        smtp.to("bob@mail.test").len() == 1
    })
    .await;
    assert!(smtp.to("dot@mail.test").is_empty());
    let clock = a.data().clock.clone();
    clock.set(chrono::Utc::now() + Days::days(1));
    wait_for("dot's digest", T, || async {
        smtp.to("dot@mail.test").len() == 1
    })
    .await;
    wait_for("nothing left to mail", T, || async {
        unmailed(&a).await == 0
    })
    .await;
    let digest = &smtp.to("dot@mail.test")[0];
    let body = digest.body();
    assert!(body.contains("ana mentioned you in “Rotas”"), "{body}");
    assert!(body.contains("ana mentioned you in “Budgets”"), "{body}");
    assert!(body.contains(&format!("http://{}/notifications", a.domain)));
    // Nothing is due any more: another pass sends nothing.
    let sent = copse_server::mail::send_due(&a.data(), &a.settings.mail)
        .await
        .unwrap();
    assert_eq!(sent, 0);
    assert_eq!(smtp.to("dot@mail.test").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_that_could_not_go_is_sent_once_after_a_restart() {
    // A port with nothing listening yet.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (mut a, ana) = alpha(port).await;
    person_choosing(&a, "bob", "bob@mail.test", "each").await;
    mention(&a, &ana, "Rotas", &["bob"]).await;
    assert_eq!(unmailed(&a).await, 1);
    a.restart().await;
    let smtp = SmtpServer::start_on(port).await;
    wait_for("bob's mail after the restart", T, || async {
        smtp.to("bob@mail.test").len() == 1
    })
    .await;
    wait_for("the row marked", T, || async { unmailed(&a).await == 0 }).await;
    assert_eq!(smtp.to("bob@mail.test").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mail_is_plain_text_that_links_to_the_page() {
    let smtp = SmtpServer::start().await;
    let (a, ana) = alpha(smtp.port).await;
    person_choosing(&a, "bob", "bob@mail.test", "each").await;
    mention(
        &a,
        &ana,
        "Budgets <script>alert(1)</script> & plans",
        &["bob"],
    )
    .await;
    wait_for("bob's mail", T, || async {
        !smtp.to("bob@mail.test").is_empty()
    })
    .await;
    let m = &smtp.to("bob@mail.test")[0];
    assert_eq!(
        m.header("Content-Type").unwrap(),
        "text/plain; charset=utf-8"
    );
    let body = m.body();
    // Plain text: the title as written, neither escaped nor turned into markup.
    assert!(
        body.contains("ana mentioned you in “Budgets <script>alert(1)</script> & plans”"),
        "{body}"
    );
    assert!(!body.contains("&lt;") && !body.contains("<a "));
    assert!(body.contains(&format!("http://{}/post/", a.domain)));
    assert!(body.contains(&format!("http://{}/notifications", a.domain)));
    assert!(body.contains(&format!("http://{}/settings/notifications", a.domain)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_settings_page_keeps_the_choice_and_names_the_field_at_fault() {
    let smtp = SmtpServer::start().await;
    let (a, _) = alpha(smtp.port).await;
    let mut v = Visitor::new(&a);
    v.sign_in("ana", PASSWORD).await;
    let form = v.get("/settings/notifications").await;
    assert_eq!(form.status, 200);
    for label in [
        "<label for=\"email\">",
        "<label for=\"choice-each\">",
        "<label for=\"choice-digest\">",
        "<label for=\"choice-none\">",
    ] {
        assert!(form.body.contains(label), "{label}");
    }
    assert!(form.body.contains("value=\"none\" checked"));
    let res = v
        .submit(
            "/settings/notifications",
            "/settings/notifications",
            &[("email", ""), ("choice", "each")],
        )
        .await;
    assert_eq!(res.status, 422);
    assert!(res
        .body
        .contains("id=\"email-error\" role=\"alert\">give an email address to be sent mail"));
    let res = v
        .submit(
            "/settings/notifications",
            "/settings/notifications",
            &[
                ("email", "ana@x.test\r\nBcc: all@x.test"),
                ("choice", "digest"),
            ],
        )
        .await;
    assert_eq!(res.status, 422);
    assert!(res.body.contains("this is not an email address"));
    // A choice the form does not offer is named next to the choices, as the API names it.
    let res = v
        .submit(
            "/settings/notifications",
            "/settings/notifications",
            &[("email", "ana@x.test"), ("choice", "weekly")],
        )
        .await;
    assert_eq!(res.status, 422);
    assert!(
        res.body
            .contains("id=\"choice-error\" role=\"alert\">choose each, digest or none"),
        "{}",
        res.body
    );
    let refused = v
        .post(
            "/settings/notifications",
            &[
                ("csrf", "wrong"),
                ("email", "ana@x.test"),
                ("choice", "each"),
            ],
        )
        .await;
    assert_eq!(refused.status, 403);
    let user = || async {
        local_user::Entity::find()
            .one(a.db())
            .await
            .unwrap()
            .unwrap()
    };
    assert_eq!(user().await.email_notifications, EmailChoice::None);
    let res = v
        .submit(
            "/settings/notifications",
            "/settings/notifications",
            &[("email", "ana@x.test"), ("choice", "digest")],
        )
        .await;
    assert_eq!(res.status, 303);
    let u = user().await;
    assert_eq!(u.email.as_deref(), Some("ana@x.test"));
    assert_eq!(u.email_notifications, EmailChoice::Digest);
    let form = v.get("/settings/notifications?saved=1").await;
    assert!(form.body.contains("value=\"digest\" checked"));
    assert!(form.body.contains("value=\"ana@x.test\""));
    assert!(form.body.contains("Saved."));
}
