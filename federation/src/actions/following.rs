//! Our people following (asking to join) communities and leaving them: a local community
//! applies its policy at once; a remote one gets `Follow` and `Undo{Follow}`.

use crate::queue::commit_and_wake;
use crate::rules::membership::{self, JoinChoices};
use crate::{
    protocol::{Follow, IdOr, UndoFollow, WithContext},
    queue::enqueue,
    Data, Error,
};
use copse_entities::{community, community_follower, community_follower::Role, person};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

/// One of our people follows (asks to join) a community. A local community applies its policy
/// at once, with what they chose (reason, listing, agreement to the rules); a remote one gets a
/// `Follow` and the row stays pending until it answers.
pub async fn follow_community(
    data: &Data,
    follower: &person::Model,
    community: &community::Model,
    choices: JoinChoices,
) -> Result<membership::JoinOutcome, Error> {
    let follow = Follow {
        id: data.urls.new_activity("Follow"),
        kind: "Follow".into(),
        actor: follower.ap_id.0.clone(),
        object: community.ap_id.0.clone(),
        to: vec![community.ap_id.0.clone()],
    };
    if !community.local {
        crate::nodeinfo::learn(data, &community.ap_id.0).await;
    }
    let txn = crate::context::begin(&data.db).await?;
    let outcome = if community.local {
        membership::request_join(&txn, data, community, follower, &follow.id, &choices).await?
    } else {
        crate::store::members::upsert_member(
            &txn,
            community.id,
            follower.id,
            &follow.id,
            true,
            Role::Member,
        )
        .await?;
        membership::choices::apply_listing(&txn, community.id, follower, choices.listed).await?;
        enqueue(
            &txn,
            &data.urls,
            &WithContext::new(follow),
            None,
            true,
            [community.inbox.0.clone()],
        )
        .await?;
        membership::JoinOutcome::Pending
    };
    commit_and_wake(data, txn).await?;
    Ok(outcome)
}

/// One of our people leaves a community: delete the follow and send `Undo{Follow}`.
pub async fn unfollow_community(
    data: &Data,
    follower: &person::Model,
    community: &community::Model,
) -> Result<bool, Error> {
    let Some(row) = community_follower::Entity::find()
        .filter(community_follower::Column::CommunityId.eq(community.id))
        .filter(community_follower::Column::PersonId.eq(follower.id))
        .one(&data.db)
        .await?
    else {
        return Ok(false);
    };
    let txn = crate::context::begin(&data.db).await?;
    community_follower::Entity::delete_by_id(row.id)
        .exec(&txn)
        .await?;
    if !community.local {
        let undo = UndoFollow {
            id: data.urls.new_activity("Undo"),
            kind: "Undo".into(),
            actor: follower.ap_id.0.clone(),
            object: IdOr::Object(Box::new(Follow {
                id: row.follow_id.0.clone(),
                kind: "Follow".into(),
                actor: follower.ap_id.0.clone(),
                object: community.ap_id.0.clone(),
                to: Vec::new(),
            })),
            to: vec![community.ap_id.0.clone()],
        };
        enqueue(
            &txn,
            &data.urls,
            &WithContext::new(undo),
            None,
            true,
            [community.inbox.0.clone()],
        )
        .await?;
    }
    commit_and_wake(data, txn).await?;
    Ok(true)
}
