//! Following communities: `Follow`, `Accept{Follow}`, `Reject{Follow}` and `Undo{Follow}`, in
//! both directions (remote people following our communities, our people following remote ones).
//! A follow by a community is a partnership (`partners`).

use crate::activities::receive::{require_signer, Applied, Receive, Verified};
use crate::rules::membership::{self, JoinChoices};
use crate::store::lookup::local_community_by_ap_id;
use crate::{
    fetch::{cached_actor, ActorRef},
    protocol::{AcceptFollow, Follow, IdOr, UndoFollow},
    Data, Error,
};
use async_trait::async_trait;
use copse_entities::{community, community_follower, person, received_activity, DbUrl};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, Set};
use url::Url;

/// The person behind a Follow or its Undo (a community's is handled by `partners`).
async fn follower_person(db: &impl ConnectionTrait, id: &Url) -> Result<person::Model, Error> {
    match cached_actor(db, id).await? {
        Some(ActorRef::Person(p)) => Ok(p),
        Some(ActorRef::Community(_)) => {
            Err(Error::Forbidden("a community follows as a partner".into()))
        }
        None => Err(Error::NotFound),
    }
}

/// The remote community behind a Follow or its Undo, when a community sent it.
async fn follower_group(
    db: &impl ConnectionTrait,
    id: &Url,
) -> Result<Option<community::Model>, Error> {
    Ok(match cached_actor(db, id).await? {
        Some(ActorRef::Community(c)) if !c.local => Some(c),
        _ => None,
    })
}

/// A remote person follows one of our communities: store the follower and answer with a
/// signed `Accept{Follow}` (communities that approve followers by hand keep it pending).
pub async fn verify_follow(
    data: &Data,
    row: &received_activity::Model,
    follow: Follow,
) -> Result<Verified, Error> {
    require_signer(row, &follow.actor, "Follow")?;
    if let Some(group) = follower_group(&data.db, &follow.actor).await? {
        return super::partners::verify_group_follow(data, follow, group).await;
    }
    let community = local_community_by_ap_id(&data.db, &follow.object).await?;
    let follower = follower_person(&data.db, &follow.actor).await?;
    // A follower's server is sent the forms it reads.
    crate::nodeinfo::learn(data, &follower.ap_id.0).await;
    Verified::apply(Followed {
        community,
        follower,
        follow_id: follow.id,
    })
}

/// A checked `Follow` of a local community.
struct Followed {
    community: community::Model,
    follower: person::Model,
    follow_id: Url,
}

#[async_trait]
impl Receive for Followed {
    async fn receive(
        self: Box<Self>,
        data: &Data,
        _: &received_activity::Model,
        txn: &DatabaseTransaction,
    ) -> Result<Applied, Error> {
        let choices = JoinChoices::default();
        membership::request_join(
            txn,
            data,
            &self.community,
            &self.follower,
            &self.follow_id,
            &choices,
        )
        .await?;
        Ok(Applied::Done)
    }
}

/// A follower leaves. The embedded Follow (or its id) must be the signer's own.
pub async fn verify_undo_follow(
    data: &Data,
    row: &received_activity::Model,
    undo: UndoFollow,
) -> Result<Verified, Error> {
    require_signer(row, &undo.actor, "Undo")?;
    if let Some(group) = follower_group(&data.db, &undo.actor).await? {
        return super::partners::verify_group_undo(data, undo, group).await;
    }
    let follower = follower_person(&data.db, &undo.actor).await?;
    let mut q = community_follower::Entity::find()
        .filter(community_follower::Column::PersonId.eq(follower.id));
    match &undo.object {
        IdOr::Object(f) => {
            if f.actor != undo.actor {
                return Err(Error::Forbidden("cannot undo someone else's follow".into()));
            }
            let community = local_community_by_ap_id(&data.db, &f.object).await?;
            q = q.filter(community_follower::Column::CommunityId.eq(community.id));
        }
        IdOr::Id(id) => {
            q = q.filter(community_follower::Column::FollowId.eq(DbUrl(id.clone())));
        }
    }
    Verified::apply(Unfollowed { follower, query: q })
}

/// A checked `Undo{Follow}`: the follow row is found and removed in the transaction.
struct Unfollowed {
    follower: person::Model,
    query: sea_orm::Select<community_follower::Entity>,
}

#[async_trait]
impl Receive for Unfollowed {
    async fn receive(
        self: Box<Self>,
        data: &Data,
        _: &received_activity::Model,
        txn: &DatabaseTransaction,
    ) -> Result<Applied, Error> {
        let who = &self.follower;
        if let Some(m) = self.query.one(txn).await? {
            if let Some(community) = community::Entity::find_by_id(m.community_id)
                .one(txn)
                .await?
            {
                membership::remove_member(txn, data, &community, who, who, &m, None).await?;
            }
        }
        Ok(Applied::Done)
    }
}

/// The follow row an `Accept` or `Reject` from a remote community answers.
async fn answered_follow(
    db: &impl ConnectionTrait,
    community_id: &Url,
    object: &IdOr<Follow>,
) -> Result<Option<community_follower::Model>, Error> {
    let Some(ActorRef::Community(community)) = cached_actor(db, community_id).await? else {
        return Err(Error::Forbidden("only a community answers a follow".into()));
    };
    let mut q = community_follower::Entity::find()
        .filter(community_follower::Column::CommunityId.eq(community.id));
    match object {
        IdOr::Object(f) => {
            if &f.object != community_id {
                return Err(Error::InvalidActivity(
                    "answer to a follow of someone else".into(),
                ));
            }
            let Some(ActorRef::Person(p)) = cached_actor(db, &f.actor).await? else {
                return Err(Error::NotFound);
            };
            q = q.filter(community_follower::Column::PersonId.eq(p.id));
        }
        IdOr::Id(id) => {
            q = q.filter(community_follower::Column::FollowId.eq(DbUrl(id.clone())));
        }
    }
    Ok(q.one(db).await?)
}

/// A remote community accepted one of our people.
pub fn verify_accept(
    row: &received_activity::Model,
    accept: AcceptFollow,
) -> Result<Verified, Error> {
    require_signer(row, &accept.actor, "Accept")?;
    Verified::apply(FollowAnswer {
        answer: accept,
        accepted: true,
    })
}

/// A remote community refused one of our people.
pub fn verify_reject(
    row: &received_activity::Model,
    reject: AcceptFollow,
) -> Result<Verified, Error> {
    require_signer(row, &reject.actor, "Reject")?;
    Verified::apply(FollowAnswer {
        answer: reject,
        accepted: false,
    })
}

/// A remote community's answer to one of our people's follows.
struct FollowAnswer {
    answer: AcceptFollow,
    accepted: bool,
}

#[async_trait]
impl Receive for FollowAnswer {
    async fn receive(
        self: Box<Self>,
        _: &Data,
        _: &received_activity::Model,
        txn: &DatabaseTransaction,
    ) -> Result<Applied, Error> {
        let a = &self.answer;
        let Some(f) = answered_follow(txn, &a.actor, &a.object).await? else {
            return Ok(Applied::Done);
        };
        if let Some(c) = community::Entity::find_by_id(f.community_id)
            .one(txn)
            .await?
        {
            let (follow, yes) = (&f.follow_id.0, self.accepted);
            crate::store::notifications::join_decided(txn, &c, f.person_id, follow, yes, None)
                .await?;
        }
        if self.accepted {
            community_follower::Entity::update(community_follower::ActiveModel {
                id: Set(f.id),
                pending: Set(false),
                ..Default::default()
            })
            .exec(txn)
            .await?;
        } else {
            community_follower::Entity::delete_by_id(f.id)
                .exec(txn)
                .await?;
        }
        Ok(Applied::Done)
    }
}
