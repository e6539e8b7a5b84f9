//! Telling the author of a refused post why, in the form their server reads.
//!
//! Mastodon-like servers get one direct note in reply to the post. Lemmy refuses a note that
//! is not public (`ObjectIsNotPublic`) and would go on showing the refused post, so Lemmy and
//! its kin are sent a moderator's removal instead: `Announce{Delete}` by the community, the
//! `Delete` carrying the reason in `summary`, as Lemmy's own moderators remove posts.

use crate::outbox::announce::announce_to;
use crate::store::lookup::person_by_row_id;
use crate::store::modlog::log;
use crate::{
    html::escape_html,
    nodeinfo::Reads,
    objects::in_community,
    protocol::{domain_of, Note, ObjectActivity, WithContext},
    queue::{enqueue, Outgoing},
    Data, Error,
};
use chrono::Utc;
use copse_entities::{
    community, community_follower, community_follower::Role, instance, local_user, person,
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use std::collections::BTreeSet;

/// Tells the author why their post was not accepted, and logs the refusal.
pub(super) async fn refuse(
    txn: &impl ConnectionTrait,
    data: &Data,
    c: &community::Model,
    author: &person::Model,
    refused: &Note,
    why: &str,
) -> Result<(), Error> {
    let software = software_of(txn, author).await?;
    let reads = Reads::of(software.as_deref());
    // Lemmy refuses the direct note (`ObjectIsNotPublic`): it is told by the removal alone.
    if software.as_deref() != Some("lemmy") {
        note_to_author(txn, data, c, author, refused, why).await?;
    }
    // Microblogs cannot read an `Announce` of an activity.
    if reads.wrapped_announces() {
        removal_to_author(txn, data, c, author, refused, why).await?;
    }
    log(
        txn,
        c,
        &c.ap_id.0,
        "refuse_post",
        &author.ap_id.0,
        Some(why.to_string()),
    )
    .await
}

/// The NodeInfo software name of the author's server, when known.
async fn software_of(
    db: &impl ConnectionTrait,
    author: &person::Model,
) -> Result<Option<String>, Error> {
    Ok(instance::Entity::find()
        .filter(instance::Column::Domain.eq(domain_of(&author.ap_id.0)))
        .one(db)
        .await?
        .and_then(|i| i.software))
}

/// One direct note in reply to the refused post (so that it stays with the post rather than
/// starting a conversation of its own).
async fn note_to_author(
    txn: &impl ConnectionTrait,
    data: &Data,
    c: &community::Model,
    author: &person::Model,
    refused: &Note,
    why: &str,
) -> Result<(), Error> {
    let html = format!(
        "<p>Your post was not shared with {}: {}</p>",
        escape_html(&c.title),
        escape_html(why)
    );
    let reply = crate::outbox::notes::InReplyTo {
        id: &refused.id,
        thread: refused.context.as_ref().or(refused.conversation.as_ref()),
    };
    crate::outbox::notes::send_note_in_thread(txn, data, c, author, &html, true, Some(reply)).await
}

/// A moderator's removal of the refused post, announced by the community to the author's
/// server only. Nothing is sent when the community has nobody Lemmy accepts as a moderator.
async fn removal_to_author(
    txn: &impl ConnectionTrait,
    data: &Data,
    c: &community::Model,
    author: &person::Model,
    refused: &Note,
    why: &str,
) -> Result<(), Error> {
    let Some(moderator) = removing_moderator(txn, c).await? else {
        tracing::info!(
            "{}: no local moderator or admin to remove {} in the name of",
            c.name,
            refused.id
        );
        return Ok(());
    };
    let delete = WithContext::new(ObjectActivity {
        id: data.urls.new_activity("Delete"),
        kind: "Delete".into(),
        actor: moderator.ap_id.0.clone(),
        object: vec![refused.id.clone()],
        content: None,
        // Lemmy reads a `Delete` with `summary` as a moderator's removal, and without one as
        // the author's own deletion (which it refuses from anyone else).
        summary: Some(why.to_string()),
        tag: Vec::new(),
        audience: in_community(&c.ap_id.0),
        published: Some(Utc::now()),
    });
    // Stored so that its id dereferences; delivered only inside the announce.
    enqueue(txn, &data.urls, &delete, None, true, []).await?;
    let inbox = author
        .shared_inbox
        .clone()
        .unwrap_or_else(|| author.inbox.clone())
        .0;
    announce_to(
        txn,
        data,
        c,
        &delete.to_json()?,
        None,
        BTreeSet::from([inbox]),
    )
    .await
}

/// Whom a removal is sent in the name of. Lemmy's `verify_mod_action` accepts a moderator it
/// knows from the community's `moderators`, or any person on the community's own domain (it
/// takes them for an instance admin); it reads only a `Person` (not our `Application` actor)
/// as a moderator. So: the community's first local coordinator, else its first local
/// facilitator, else the instance's first admin; `None` when there is none of these.
pub(super) async fn removing_moderator(
    db: &impl ConnectionTrait,
    c: &community::Model,
) -> Result<Option<person::Model>, Error> {
    let mut staff = community_follower::Entity::find()
        .filter(community_follower::Column::CommunityId.eq(c.id))
        .filter(community_follower::Column::Pending.eq(false))
        .filter(community_follower::Column::Role.is_in([Role::Coordinator, Role::Facilitator]))
        .order_by_asc(community_follower::Column::Id)
        .all(db)
        .await?;
    // Coordinators before facilitators, each by seniority (the sort is stable).
    staff.sort_by_key(|m| std::cmp::Reverse(m.role));
    let admins = local_user::Entity::find()
        .filter(local_user::Column::Admin.eq(true))
        .order_by_asc(local_user::Column::Id)
        .all(db)
        .await?;
    let ids = staff
        .iter()
        .map(|m| m.person_id)
        .chain(admins.iter().map(|u| u.person_id));
    for id in ids {
        let p = person_by_row_id(db, id).await?;
        if p.local && p.deleted_at.is_none() {
            return Ok(Some(p));
        }
    }
    Ok(None)
}
