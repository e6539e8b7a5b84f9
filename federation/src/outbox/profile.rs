//! Changes to the profile of a local actor: `Update{Group}` when a community's settings change,
//! `Update{Person}` when a local person's profile does. Without them, Mastodon and GoToSocial
//! keep showing the old title and membership policy, and Lemmy sees a new title only when it
//! refetches the actor (once a day).

use crate::outbox::announce::follower_inboxes;
use crate::{
    objects::{group_of, person_of, public},
    protocol::{Audience, UpdateActor, WithContext},
    queue::{enqueue, Outgoing},
    Data, Error,
};
use chrono::Utc;
use copse_entities::{community, community_follower, community_follower::Role, person};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use std::collections::BTreeSet;
use url::Url;

/// True when a settings change alters what other servers show of the community: its `Group`
/// document, or the texts behind its profile fields and rules page.
pub fn federated_change(before: &community::Model, after: &community::Model) -> bool {
    before.title != after.title
        || before.summary != after.summary
        || before.rules != after.rules
        || before.purpose != after.purpose
        || before.decision_making != after.decision_making
        || before.languages != after.languages
        || before.membership_policy != after.membership_policy
        || before.topic_policy != after.topic_policy
        || before.reply_policy != after.reply_policy
        || before.discoverable != after.discoverable
        || before.parent_ap_id != after.parent_ap_id
}

/// A local community's settings changed: sends its `Update{Group}` to every follower, as the
/// Group itself (Mastodon, GoToSocial) and, announced, by a coordinator (Lemmy). `by` is the
/// coordinator who changed them; without one (the command line) the community's first
/// coordinator stands in, and with none at all only the Group's own form is sent. Call inside the
/// transaction that stored the change; wake the outbox after commit.
pub async fn community_updated(
    txn: &impl ConnectionTrait,
    data: &Data,
    before: &community::Model,
    after: &community::Model,
    by: Option<&person::Model>,
) -> Result<(), Error> {
    if !after.local || !federated_change(before, after) {
        return Ok(());
    }
    group_changed(txn, data, after, by).await
}

/// Sends a local community's `Update{Group}` as it now stands, as `community_updated` does, for a
/// change made elsewhere (a sub-community placed under it or taken away).
pub async fn group_changed(
    txn: &impl ConnectionTrait,
    data: &Data,
    after: &community::Model,
    by: Option<&person::Model>,
) -> Result<(), Error> {
    let relations = crate::store::tree::relations(txn, after).await?;
    let group = group_of(&data.urls, after, &relations);
    let followers = data.urls.community_part(&after.name, "followers");
    let update = |actor: &Url| UpdateActor {
        id: data.urls.new_activity("Update"),
        kind: "Update".into(),
        actor: actor.clone(),
        object: group.clone(),
        audience: Audience::new(
            vec![public()],
            vec![followers.clone(), after.ap_id.0.clone()],
        )
        .in_group(after.ap_id.0.clone()),
        published: Some(Utc::now()),
    };
    let inboxes = follower_inboxes(txn, after.id).await?;
    let own = WithContext::new(update(&after.ap_id.0));
    enqueue(txn, &data.urls, &own, None, true, inboxes).await?;
    let coordinator = match by {
        Some(p) if p.local => Some(p.clone()),
        _ => first_coordinator(txn, after.id).await?,
    };
    if let Some(p) = coordinator {
        let by_person = WithContext::new(update(&p.ap_id.0));
        // Stored, so that the id Lemmy may look up dereferences.
        enqueue(txn, &data.urls, &by_person, None, true, []).await?;
        let json = by_person.to_json()?;
        crate::outbox::announce::announce(txn, data, after, &json, None, []).await?;
    }
    Ok(())
}

async fn first_coordinator(
    db: &impl ConnectionTrait,
    community_id: i64,
) -> Result<Option<person::Model>, Error> {
    let Some(m) = community_follower::Entity::find()
        .filter(community_follower::Column::CommunityId.eq(community_id))
        .filter(community_follower::Column::Pending.eq(false))
        .filter(community_follower::Column::Role.eq(Role::Coordinator))
        .order_by_asc(community_follower::Column::Id)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let p = crate::store::lookup::person_by_row_id(db, m.person_id).await?;
    Ok(p.local.then_some(p))
}

/// A local person's profile changed: sends `Update{Person}` to the servers that know them, the
/// followers of the local communities they belong to and the remote communities they follow.
pub async fn person_updated(
    txn: &impl ConnectionTrait,
    data: &Data,
    p: &person::Model,
) -> Result<(), Error> {
    if !p.local {
        return Ok(());
    }
    let memberships = community_follower::Entity::find()
        .filter(community_follower::Column::PersonId.eq(p.id))
        .filter(community_follower::Column::Pending.eq(false))
        .all(txn)
        .await?;
    let mut inboxes = BTreeSet::new();
    for m in memberships.iter().take(200) {
        let c = crate::store::lookup::community_by_row_id(txn, m.community_id).await?;
        if c.local {
            inboxes.extend(follower_inboxes(txn, c.id).await?);
        } else {
            inboxes.insert(c.shared_inbox.unwrap_or(c.inbox).0);
        }
    }
    let update = UpdateActor {
        id: data.urls.new_activity("Update"),
        kind: "Update".into(),
        actor: p.ap_id.0.clone(),
        object: person_of(&data.urls, p),
        audience: Audience::new(vec![public()], Vec::new()),
        published: Some(Utc::now()),
    };
    enqueue(
        txn,
        &data.urls,
        &WithContext::new(update),
        None,
        true,
        inboxes,
    )
    .await?;
    Ok(())
}
