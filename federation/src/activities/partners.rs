//! Partnerships from the other side: a remote community (a Copse community, a Lemmy community, a
//! NodeBB category, any Group) follows a local one, or ends that follow; and a remote community
//! answers a local community's follow. The followed community's policy decides, as for people:
//! an open community accepts at once, one that approves or invites waits for its coordinators.

use crate::activities::receive::{Applied, Receive, Verified};
use crate::store::lookup::local_community_by_ap_id;
use crate::store::partners;
use crate::{
    fetch::{resolve_actor, ActorRef},
    outbox::partners::send_answer,
    protocol::{same_origin, AcceptFollow, Follow, IdOr, Note, UndoFollow},
    Data, Error,
};
use async_trait::async_trait;
use copse_entities::{
    community, community::MembershipPolicy, partnership, person, received_activity,
};
use sea_orm::{DatabaseTransaction, EntityTrait};
use serde_json::Value;
use url::Url;

/// A remote community follows a local one.
pub async fn verify_group_follow(
    data: &Data,
    follow: Follow,
    follower: community::Model,
) -> Result<Verified, Error> {
    let followed = local_community_by_ap_id(&data.db, &follow.object).await?;
    if followed.id == follower.id {
        return Err(Error::InvalidActivity(
            "a community cannot follow itself".into(),
        ));
    }
    Verified::apply(GroupFollowed {
        follower,
        followed,
        follow_id: follow.id,
    })
}

struct GroupFollowed {
    follower: community::Model,
    followed: community::Model,
    follow_id: Url,
}

#[async_trait]
impl Receive for GroupFollowed {
    async fn receive(
        self: Box<Self>,
        data: &Data,
        _: &received_activity::Model,
        txn: &DatabaseTransaction,
    ) -> Result<Applied, Error> {
        let (g, c) = (&self.follower, &self.followed);
        let existing = partners::between(txn, g.id, c.id).await?;
        let accepted = existing.as_ref().is_some_and(|p| !p.pending)
            || c.membership_policy == MembershipPolicy::Open;
        partners::upsert(txn, g.id, c.id, &self.follow_id, !accepted, None).await?;
        if accepted {
            send_answer(txn, data, "Accept", g, c, &self.follow_id).await?;
        }
        let detail = Some(if accepted { "accepted" } else { "waiting" }.to_string());
        crate::store::modlog::log(txn, c, &g.ap_id.0, "partner", &g.ap_id.0, detail).await?;
        Ok(Applied::Done)
    }
}

/// A remote community stops following a local one. The embedded follow (or its id) must be its
/// own.
pub async fn verify_group_undo(
    data: &Data,
    undo: UndoFollow,
    follower: community::Model,
) -> Result<Verified, Error> {
    let row = match &undo.object {
        IdOr::Object(f) => {
            if f.actor != undo.actor {
                return Err(Error::Forbidden("cannot undo someone else's follow".into()));
            }
            let followed = local_community_by_ap_id(&data.db, &f.object).await?;
            partners::between(&data.db, follower.id, followed.id).await?
        }
        IdOr::Id(id) => partners::by_follow_id(&data.db, id)
            .await?
            .filter(|p| p.follower_id == follower.id),
    };
    Verified::apply(Unpartnered(row))
}

struct Unpartnered(Option<partnership::Model>);

#[async_trait]
impl Receive for Unpartnered {
    async fn receive(
        self: Box<Self>,
        _: &Data,
        _: &received_activity::Model,
        txn: &DatabaseTransaction,
    ) -> Result<Applied, Error> {
        if let Some(p) = self.0 {
            partnership::Entity::delete_by_id(p.id).exec(txn).await?;
        }
        Ok(Applied::Done)
    }
}

/// Applies a remote community's answer to a local community's follow.
async fn apply_answer(
    txn: &DatabaseTransaction,
    row: &partnership::Model,
    accepted: bool,
) -> Result<(), Error> {
    if accepted {
        partners::accept(txn, row).await
    } else {
        partnership::Entity::delete_by_id(row.id).exec(txn).await?;
        Ok(())
    }
}

/// Topics read back from a partner's outbox when the partnership starts: at most this many,
/// the newest (Lemmy's first page holds 20).
const BACKFILL: usize = 20;

/// A remote community's answer to a local community's follow, when it is one: the partnership
/// accepted or removed. Accepted, the partner's latest topics are read from its outbox so that
/// "from partners" does not start empty; what cannot be read is left out.
pub async fn verify_partner_answer(
    data: &Data,
    answer: &AcceptFollow,
    accepted: bool,
) -> Result<Option<Verified>, Error> {
    let id = match &answer.object {
        IdOr::Id(id) => id.clone(),
        IdOr::Object(f) => f.id.clone(),
    };
    let Some(row) = partners::by_follow_id(&data.db, &id).await? else {
        return Ok(None);
    };
    let Some(followed) = community::Entity::find_by_id(row.followed_id)
        .one(&data.db)
        .await?
        .filter(|c| c.ap_id.0 == answer.actor)
    else {
        return Err(Error::Forbidden(
            "only the community followed answers a follow".into(),
        ));
    };
    let backfill = if accepted && row.pending && !followed.local {
        outbox_topics(data, &followed).await.unwrap_or_default()
    } else {
        Vec::new()
    };
    Ok(Some(Verified::apply(PartnerAnswer {
        row,
        followed,
        accepted,
        backfill,
    })?))
}

/// The latest topics in a remote community's outbox, with their authors: each embedded by the
/// community's own server, written by someone on the same server as the post, and not a reply.
async fn outbox_topics(
    data: &Data,
    c: &community::Model,
) -> Result<Vec<(Note, person::Model)>, Error> {
    let group = crate::fetch::fetch_json(data, &c.ap_id.0).await?;
    let Some(outbox) = group
        .get("outbox")
        .and_then(Value::as_str)
        .and_then(|u| Url::parse(u).ok())
    else {
        return Ok(Vec::new());
    };
    let mut page = crate::fetch::fetch_json(data, &outbox).await?;
    if page.get("orderedItems").is_none() {
        if let Some(first) = page.get("first").and_then(Value::as_str) {
            page = crate::fetch::fetch_json(data, &Url::parse(first)?).await?;
        }
    }
    let items = page
        .get("orderedItems")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut out = Vec::new();
    for item in items.iter().take(BACKFILL) {
        let mut object = item.get("object").cloned().unwrap_or(Value::Null);
        if matches!(object.get("type").and_then(Value::as_str), Some("Create")) {
            object = object.get("object").cloned().unwrap_or(Value::Null);
        }
        let Ok(note) = serde_json::from_value::<Note>(object) else {
            continue;
        };
        if note.in_reply_to.is_some()
            || !same_origin(&note.id, &c.ap_id.0)
            || !same_origin(&note.id, &note.attributed_to)
        {
            continue;
        }
        if let Ok(ActorRef::Person(author)) = resolve_actor(data, &note.attributed_to).await {
            out.push((note, author));
        }
    }
    Ok(out)
}

struct PartnerAnswer {
    row: partnership::Model,
    followed: community::Model,
    accepted: bool,
    backfill: Vec<(Note, person::Model)>,
}

#[async_trait]
impl Receive for PartnerAnswer {
    async fn receive(
        self: Box<Self>,
        _: &Data,
        _: &received_activity::Model,
        txn: &DatabaseTransaction,
    ) -> Result<Applied, Error> {
        apply_answer(txn, &self.row, self.accepted).await?;
        for (note, author) in &self.backfill {
            if crate::store::posts::post_by_ap_id(txn, &note.id)
                .await?
                .is_none()
            {
                let (c, a) = (self.followed.id, author.id);
                crate::store::posts::store_post(txn, c, a, note, None, false).await?;
            }
        }
        Ok(Applied::Done)
    }
}
