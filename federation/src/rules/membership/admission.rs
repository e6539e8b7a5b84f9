//! Becoming a member and ceasing to be one: the row, the answer to the person's `Follow`, the
//! welcome, and the `Add`/`Remove` on the members collection.

use crate::outbox::notes::{add_remove, send_note, to_followers};
use crate::store::{
    members::{membership, upsert_member},
    modlog::log,
};
use crate::{
    html::escape_html,
    protocol::{AcceptFollow, Follow, IdOr, WithContext},
    queue::enqueue,
    Data, Error,
};
use copse_entities::{
    community::{self, WelcomeMode},
    community_follower,
    community_follower::Role,
    person,
};
use sea_orm::{ConnectionTrait, EntityTrait};
use url::Url;

/// What a join request came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinOutcome {
    /// Now a member.
    Joined,
    /// Waiting for a coordinator.
    Pending,
    /// Refused: not invited, or banned.
    Refused,
}

fn follow_of(follow_id: &Url, person: &person::Model, community: &community::Model) -> Follow {
    Follow {
        id: follow_id.clone(),
        kind: "Follow".into(),
        actor: person.ap_id.0.clone(),
        object: community.ap_id.0.clone(),
        to: Vec::new(),
    }
}

/// Answers a remote follow with `Accept` or `Reject` (plain URLs in the embedded Follow: Lemmy
/// rejects whole actors there).
pub async fn answer_follow(
    txn: &impl ConnectionTrait,
    data: &Data,
    kind: &str,
    follow_id: &Url,
    person: &person::Model,
    community: &community::Model,
) -> Result<(), Error> {
    if person.local {
        return Ok(());
    }
    let answer = AcceptFollow {
        id: data.urls.new_activity(kind),
        kind: kind.into(),
        actor: community.ap_id.0.clone(),
        object: IdOr::Object(Box::new(follow_of(follow_id, person, community))),
        to: vec![person.ap_id.0.clone()],
    };
    let answer = WithContext::new(answer);
    enqueue(
        txn,
        &data.urls,
        &answer,
        None,
        true,
        [person.inbox.0.clone()],
    )
    .await?;
    Ok(())
}

/// The default welcome, used when the coordinators set none.
pub const DEFAULT_WELCOME: &str =
    "Welcome to {title}, {name}! Please read our code of conduct: {rules}";

/// Makes someone a member: stores the row, answers their follow, welcomes them (a note, and a
/// notification for people from here) and announces `Add` to the members collection.
pub async fn admit(
    txn: &impl ConnectionTrait,
    data: &Data,
    community: &community::Model,
    person: &person::Model,
    follow_id: &Url,
) -> Result<(), Error> {
    let role = match membership(txn, community.id, person.id).await? {
        Some(m) => m.role,
        None => Role::Member,
    };
    upsert_member(txn, community.id, person.id, follow_id, false, role).await?;
    answer_follow(txn, data, "Accept", follow_id, person, community).await?;
    welcome(txn, data, community, person).await?;
    crate::store::notifications::welcome(txn, community, person.id, follow_id).await?;
    let add = add_remove(
        data,
        "Add",
        &community.ap_id.0,
        &person.ap_id.0,
        community,
        "members",
    );
    to_followers(txn, data, community, &WithContext::new(add), None).await
}

async fn welcome(
    txn: &impl ConnectionTrait,
    data: &Data,
    community: &community::Model,
    person: &person::Model,
) -> Result<(), Error> {
    if community.welcome_mode == WelcomeMode::Off {
        return Ok(());
    }
    let rules_url = data.urls.community_part(&community.name, "rules");
    let template = community
        .welcome_template
        .as_deref()
        .unwrap_or(DEFAULT_WELCOME);
    let text = escape_html(template)
        .replace("{title}", &escape_html(&community.title))
        .replace(
            "{name}",
            &escape_html(person.display_name.as_deref().unwrap_or(&person.name)),
        )
        .replace(
            "{rules}",
            &format!("<a href=\"{0}\">{0}</a>", escape_html(rules_url.as_str())),
        );
    let body = format!("<p>{text}</p>");
    send_note(
        txn,
        data,
        community,
        person,
        &body,
        community.welcome_mode == WelcomeMode::Direct,
    )
    .await
}

/// Ends a membership inside the caller's transaction (see `leave`).
pub async fn remove_member(
    txn: &impl ConnectionTrait,
    data: &Data,
    community: &community::Model,
    by: &person::Model,
    member: &person::Model,
    m: &community_follower::Model,
    reason: Option<String>,
) -> Result<(), Error> {
    community_follower::Entity::delete_by_id(m.id)
        .exec(txn)
        .await?;
    let removed_by_other = by.id != member.id;
    if removed_by_other {
        answer_follow(txn, data, "Reject", &m.follow_id.0, member, community).await?;
    }
    if !m.pending {
        let remove = add_remove(
            data,
            "Remove",
            &community.ap_id.0,
            &member.ap_id.0,
            community,
            "members",
        );
        to_followers(txn, data, community, &WithContext::new(remove), None).await?;
    }
    let action = match (removed_by_other, m.pending) {
        (true, _) => "remove",
        (false, true) => "withdraw",
        (false, false) => "leave",
    };
    log(txn, community, &by.ap_id.0, action, &member.ap_id.0, reason).await
}

/// Admits someone no coordinator needs to decide on, and logs that they joined (`detail`:
/// how, e.g. "invited").
pub async fn join(
    txn: &impl ConnectionTrait,
    data: &Data,
    community: &community::Model,
    person: &person::Model,
    follow_id: &Url,
    detail: Option<String>,
) -> Result<JoinOutcome, Error> {
    admit(txn, data, community, person, follow_id).await?;
    let who = &person.ap_id.0;
    log(txn, community, who, "join", who, detail).await?;
    Ok(JoinOutcome::Joined)
}
