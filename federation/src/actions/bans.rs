//! Bans: `Block` with the community as target, and `Undo{Block}`, announced to the community's
//! followers.

use crate::outbox::notes::to_followers;
use crate::rules::membership::admission::answer_follow;
use crate::store::{members::membership, modlog::log};
use crate::{
    objects::{in_community, public},
    protocol::{Audience, Block, Undo, WithContext},
    queue::commit_and_wake,
    Data, Error,
};
use chrono::{DateTime, Utc};
use copse_entities::{
    community::{self},
    community_ban, community_follower, person, DbUrl,
};
use sea_orm::{
    sea_query::OnConflict, ActiveValue::NotSet, ColumnTrait, EntityTrait, QueryFilter, Set,
};

/// A facilitator bans someone: `Block` with the community as target, announced; their
/// membership ends, and optionally their posts in the community are removed.
pub async fn ban(
    data: &Data,
    community: &community::Model,
    by: &person::Model,
    target: &person::Model,
    reason: Option<String>,
    expires: Option<DateTime<Utc>>,
    remove_content: bool,
) -> Result<(), Error> {
    let block = Block {
        id: data.urls.new_activity("Block"),
        kind: "Block".into(),
        actor: by.ap_id.0.clone(),
        object: target.ap_id.0.clone(),
        target: community.ap_id.0.clone(),
        summary: reason.clone(),
        end_time: expires,
        remove_data: Some(remove_content),
        audience: in_community(&community.ap_id.0),
    };
    let txn = crate::context::begin(&data.db).await?;
    community_ban::Entity::insert(community_ban::ActiveModel {
        id: NotSet,
        community_id: Set(community.id),
        person_id: Set(target.id),
        reason: Set(reason.clone()),
        expires_at: Set(expires),
        banned_by: Set(by.id),
        block_id: Set(DbUrl(block.id.clone())),
        created_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::columns([
            community_ban::Column::CommunityId,
            community_ban::Column::PersonId,
        ])
        .update_columns([
            community_ban::Column::Reason,
            community_ban::Column::ExpiresAt,
            community_ban::Column::BannedBy,
            community_ban::Column::BlockId,
            community_ban::Column::CreatedAt,
        ])
        .to_owned(),
    )
    .exec(&txn)
    .await?;
    if let Some(m) = membership(&txn, community.id, target.id).await? {
        community_follower::Entity::delete_by_id(m.id)
            .exec(&txn)
            .await?;
        answer_follow(&txn, data, "Reject", &m.follow_id.0, target, community).await?;
    }
    if remove_content {
        // Removed rather than deleted rows: threads keep their shape, reports their post, and
        // the Block's `removeData` tells other servers to remove their copies too.
        copse_entities::post::Entity::update_many()
            .col_expr(
                copse_entities::post::Column::Removed,
                sea_orm::sea_query::Expr::value(true),
            )
            .filter(copse_entities::post::Column::CommunityId.eq(community.id))
            .filter(copse_entities::post::Column::AuthorId.eq(target.id))
            .exec(&txn)
            .await?;
    }
    to_followers(
        &txn,
        data,
        community,
        &WithContext::new(block),
        Some(target),
    )
    .await?;
    crate::rules::withdrawals::refuse_banned(&txn, data, community, target).await?;
    log(&txn, community, &by.ap_id.0, "ban", &target.ap_id.0, reason).await?;
    commit_and_wake(data, txn).await
}

/// Lifts a ban: `Undo{Block}`, announced.
pub async fn unban(
    data: &Data,
    community: &community::Model,
    by: &person::Model,
    target: &person::Model,
) -> Result<bool, Error> {
    let Some(b) = community_ban::Entity::find()
        .filter(community_ban::Column::CommunityId.eq(community.id))
        .filter(community_ban::Column::PersonId.eq(target.id))
        .one(&data.db)
        .await?
    else {
        return Ok(false);
    };
    // The undone Block is the one that was sent, by the moderator who sent it.
    let blocker = person::Entity::find_by_id(b.banned_by)
        .one(&data.db)
        .await?
        .map(|p| p.ap_id)
        .unwrap_or_else(|| by.ap_id.clone());
    let txn = crate::context::begin(&data.db).await?;
    community_ban::Entity::delete_by_id(b.id).exec(&txn).await?;
    let undo = Undo {
        id: data.urls.new_activity("Undo"),
        kind: "Undo".into(),
        actor: by.ap_id.0.clone(),
        object: Block {
            id: b.block_id.0.clone(),
            kind: "Block".into(),
            actor: blocker.0,
            object: target.ap_id.0.clone(),
            target: community.ap_id.0.clone(),
            summary: None,
            end_time: None,
            remove_data: None,
            audience: in_community(&community.ap_id.0),
        },
        audience: Audience::new(vec![public()], vec![community.ap_id.0.clone()]),
    };
    to_followers(&txn, data, community, &WithContext::new(undo), Some(target)).await?;
    log(&txn, community, &by.ap_id.0, "unban", &target.ap_id.0, None).await?;
    commit_and_wake(data, txn).await?;
    Ok(true)
}
