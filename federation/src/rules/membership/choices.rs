//! What members choose when they join, and later: to be listed in the member directory, and
//! (where a community asks for it) to agree to its code of conduct, and, where coordinators
//! approve members, why they want to join.
//!
//! A local member chooses through the API. A remote member is listed when their actor is
//! `discoverable` (Mastodon publishes it), and agrees by replying to the note that points them
//! to the rules.

use crate::{html::escape_html, Data, Error};
use chrono::Utc;
use copse_entities::{
    community::{self},
    community_follower, person,
};
use sea_orm::{sea_query::Expr, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

/// What a person asks for when they join.
#[derive(Debug, Clone, Default)]
pub struct JoinChoices {
    /// Why they want to join (communities that approve members read it).
    pub reason: Option<String>,
    /// Shown in the member directory; a local member's choice (remote members follow their
    /// actor's `discoverable`). `None` keeps what they chose before, or unlisted.
    pub listed: Option<bool>,
    /// They agree to the code of conduct (communities that ask for it need it).
    pub agree_to_rules: bool,
}

/// The version of a community's rules that members agree to: the SHA-256 of their text.
pub fn rules_version(c: &community::Model) -> String {
    openssl::sha::sha256(c.rules.as_deref().unwrap_or_default().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// True when the member agreed to the rules as they are now, or the community does not ask.
pub fn has_agreed(c: &community::Model, m: &community_follower::Model) -> bool {
    !c.require_rules_agreement
        || (m.rules_agreed_at.is_some() && m.rules_version.as_deref() == Some(&rules_version(c)))
}

/// Records that a person agreed to the community's rules as they are now.
pub async fn record_agreement(
    db: &impl ConnectionTrait,
    c: &community::Model,
    person_id: i64,
) -> Result<(), Error> {
    community_follower::Entity::update_many()
        .col_expr(
            community_follower::Column::RulesAgreedAt,
            Expr::value(Some(Utc::now())),
        )
        .col_expr(
            community_follower::Column::RulesVersion,
            Expr::value(Some(rules_version(c))),
        )
        .filter(community_follower::Column::CommunityId.eq(c.id))
        .filter(community_follower::Column::PersonId.eq(person_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Lists or unlists a member in the directory.
pub async fn set_listed(
    db: &impl ConnectionTrait,
    community_id: i64,
    person_id: i64,
    listed: bool,
) -> Result<bool, Error> {
    let res = community_follower::Entity::update_many()
        .col_expr(community_follower::Column::Listed, Expr::value(listed))
        .filter(community_follower::Column::CommunityId.eq(community_id))
        .filter(community_follower::Column::PersonId.eq(person_id))
        .exec(db)
        .await?;
    Ok(res.rows_affected > 0)
}

/// Applies a joining person's listing: a local person's choice when they made one, a remote
/// person's `discoverable`.
pub async fn apply_listing(
    db: &impl ConnectionTrait,
    community_id: i64,
    person: &person::Model,
    choice: Option<bool>,
) -> Result<(), Error> {
    let listed = if person.local {
        choice
    } else {
        Some(person.discoverable)
    };
    if let Some(listed) = listed {
        set_listed(db, community_id, person.id, listed).await?;
    }
    Ok(())
}

/// The note a remote applicant gets: where the code of conduct is, and what to reply (why they
/// want to join, that they agree to the rules, or both).
pub fn applicant_note(data: &Data, c: &community::Model, asks_reason: bool) -> String {
    let rules_url = data.urls.community_part(&c.name, "rules");
    let title = escape_html(&c.title);
    let link = format!("<a href=\"{0}\">{0}</a>", escape_html(rules_url.as_str()));
    match (asks_reason, c.require_rules_agreement) {
        (true, true) => format!(
            "<p>Thank you for asking to join {title}. Please read our code of conduct at {link} and reply to this message saying why you would like to join; your reply also says that you agree to the code of conduct. A coordinator will look at your request.</p>"
        ),
        (true, false) => format!(
            "<p>Thank you for asking to join {title}. Please read our code of conduct at {link} and reply to this message saying why you would like to join; a coordinator will look at your request.</p>"
        ),
        (false, _) => format!(
            "<p>Thank you for asking to join {title}. Before you join, please read our code of conduct at {link} and reply to this message to say that you agree to it.</p>"
        ),
    }
}

pub async fn set_reason(
    db: &impl ConnectionTrait,
    community_id: i64,
    person_id: i64,
    reason: &str,
) -> Result<(), Error> {
    let text: String = reason.chars().take(5000).collect();
    community_follower::Entity::update_many()
        .col_expr(
            community_follower::Column::Reason,
            sea_orm::sea_query::Expr::value(Some(text)),
        )
        .filter(community_follower::Column::CommunityId.eq(community_id))
        .filter(community_follower::Column::PersonId.eq(person_id))
        .exec(db)
        .await?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use copse_entities::{community::MembershipPolicy, DbUrl};
    use url::Url;

    #[test]
    fn rules_version_changes_with_the_rules() {
        let mut c = community::Model {
            id: 1,
            ap_id: DbUrl(Url::parse("https://copse.example/c/net").unwrap()),
            name: "net".into(),
            title: "Net".into(),
            summary: None,
            inbox: DbUrl(Url::parse("https://copse.example/c/net/inbox").unwrap()),
            shared_inbox: None,
            key_id: DbUrl(Url::parse("https://copse.example/c/net#main-key").unwrap()),
            public_key_pem: String::new(),
            private_key_pem: None,
            local: true,
            manually_approves_followers: false,
            discoverable: true,
            creator_id: None,
            purpose: None,
            rules: Some("<p>Be kind.</p>".into()),
            decision_making: None,
            languages: None,
            membership_policy: MembershipPolicy::Open,
            welcome_template: None,
            welcome_mode: copse_entities::community::WelcomeMode::Public,
            topic_policy: copse_entities::community::PostingPolicy::Anyone,
            reply_policy: copse_entities::community::PostingPolicy::Anyone,
            published: Utc::now(),
            fetched_at: Utc::now(),
            require_rules_agreement: true,
            parent_ap_id: None,
            parent_members_only: false,
        };
        let before = rules_version(&c);
        assert_eq!(before.len(), 64);
        assert_eq!(before, rules_version(&c));
        c.rules = Some("<p>Be kind. Be brief.</p>".into());
        assert_ne!(before, rules_version(&c));
    }
}
