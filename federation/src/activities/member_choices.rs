//! What members choose when they join, and later: to be listed in the member directory, and
//! (where a community asks for it) to agree to its code of conduct.
//!
//! A local member chooses through the API. A remote member is listed when their actor is
//! `discoverable` (Mastodon publishes it), and agrees by replying to the note that points them
//! to the rules.

use super::membership::{self, admit};
use crate::outbox::notes::send_note;
use crate::store::{members::membership, modlog::log};
use crate::{
    fetch::{cached_actor, ActorRef},
    html::{escape_html, sanitize_html},
    protocol::{Note, PUBLIC},
    Data, Error,
};
use chrono::Utc;
use copse_entities::{
    activity,
    community::{self, MembershipPolicy},
    community_follower, community_invite, person, DbUrl,
};
use sea_orm::{sea_query::Expr, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use url::Url;

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

/// A remote person who may join once they agree to the rules: kept pending, and (the first
/// time) sent the note that asks them to agree.
pub async fn await_agreement(
    txn: &impl ConnectionTrait,
    data: &Data,
    c: &community::Model,
    person: &person::Model,
    follow_id: &Url,
) -> Result<membership::JoinOutcome, Error> {
    let first_time = membership(txn, c.id, person.id).await?.is_none();
    crate::store::members::upsert_member(
        txn,
        c.id,
        person.id,
        follow_id,
        true,
        community_follower::Role::Member,
    )
    .await?;
    if first_time {
        send_note(txn, data, c, person, &applicant_note(data, c, false), true).await?;
    }
    log(
        txn,
        c,
        &person.ap_id.0,
        "request",
        &person.ap_id.0,
        Some("waiting for agreement to the code of conduct".into()),
    )
    .await?;
    Ok(membership::JoinOutcome::Pending)
}

/// True when `note` answers a note this community sent to `author`.
async fn answers_our_note(
    db: &impl ConnectionTrait,
    c: &community::Model,
    author: &person::Model,
    note: &Note,
) -> Result<bool, Error> {
    let Some(parent) = &note.in_reply_to else {
        return Ok(false);
    };
    let sent = activity::Entity::find()
        .filter(activity::Column::ApId.eq(DbUrl(parent.clone())))
        .filter(activity::Column::Actor.eq(c.ap_id.clone()))
        .one(db)
        .await?;
    let Some(sent) = sent else {
        return Ok(false);
    };
    let doc: serde_json::Value = serde_json::from_str(&sent.data)?;
    Ok(doc
        .get("to")
        .and_then(serde_json::Value::as_array)
        .is_some_and(|to| to.iter().any(|u| u.as_str() == Some(author.ap_id.as_str()))))
}

/// A direct note to a community from someone whose join request is pending: their stated
/// reason for joining (where a coordinator approves members) and, when it answers the note the
/// community sent them, their agreement to the code of conduct, which admits them where no
/// coordinator needs to. Returns true when the note was taken as either.
pub async fn take_reply(
    txn: &impl ConnectionTrait,
    data: &Data,
    note: &Note,
    author: &person::Model,
) -> Result<bool, Error> {
    if note
        .to
        .iter()
        .chain(note.cc.iter())
        .any(|u| u.as_str() == PUBLIC)
    {
        return Ok(false);
    }
    for addressee in note.to.iter().chain(note.cc.iter()) {
        let Some(ActorRef::Community(c)) = cached_actor(txn, addressee).await? else {
            continue;
        };
        if !c.local {
            continue;
        }
        let Some(m) = membership(txn, c.id, author.id)
            .await?
            .filter(|m| m.pending)
        else {
            continue;
        };
        let html = sanitize_html(note.content.as_deref().unwrap_or_default());
        let text =
            crate::objects::text::strip_mentions(&crate::objects::text::text_of(&html)).to_string();
        let approval = c.membership_policy == MembershipPolicy::Approval;
        if approval {
            membership::set_reason(txn, c.id, author.id, &text).await?;
            log(
                txn,
                &c,
                &author.ap_id.0,
                "reason",
                &author.ap_id.0,
                Some(text.clone()),
            )
            .await?;
        }
        // "No" in reply to the rules is not agreement.
        let agrees = !has_agreed(&c, &m)
            && answers_our_note(txn, &c, author, note).await?
            && crate::rules::participation::rsvp_intent(&html, &c) != Some(false);
        if agrees {
            record_agreement(txn, &c, author.id).await?;
            log(
                txn,
                &c,
                &author.ap_id.0,
                "agree_rules",
                &author.ap_id.0,
                Some(rules_version(&c)),
            )
            .await?;
            admit_if_free(txn, data, &c, author, &m).await?;
        }
        return Ok(approval || agrees);
    }
    Ok(false)
}

/// Admits someone who has just agreed to the rules, unless a coordinator decides: at once in
/// an open community, and in one that admits by invitation when they were invited.
async fn admit_if_free(
    txn: &impl ConnectionTrait,
    data: &Data,
    c: &community::Model,
    person: &person::Model,
    m: &community_follower::Model,
) -> Result<(), Error> {
    let detail = match c.membership_policy {
        MembershipPolicy::Approval => return Ok(()),
        MembershipPolicy::Open => None,
        MembershipPolicy::Invite => {
            let invite = community_invite::Entity::find()
                .filter(community_invite::Column::CommunityId.eq(c.id))
                .filter(community_invite::Column::Invitee.eq(person.ap_id.clone()))
                .one(txn)
                .await?;
            let Some(inv) = invite else {
                return Ok(());
            };
            community_invite::Entity::delete_by_id(inv.id)
                .exec(txn)
                .await?;
            Some("invited".to_string())
        }
    };
    admit(txn, data, c, person, &m.follow_id.0).await?;
    log(txn, c, &person.ap_id.0, "join", &person.ap_id.0, detail).await
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

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
        };
        let before = rules_version(&c);
        assert_eq!(before.len(), 64);
        assert_eq!(before, rules_version(&c));
        c.rules = Some("<p>Be kind. Be brief.</p>".into());
        assert_ne!(before, rules_version(&c));
    }
}
