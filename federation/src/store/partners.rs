//! Partnership rows: which community follows which, and what is shared of a partner's posts.

use crate::Error;
use chrono::Utc;
use copse_entities::{
    community,
    partner_share::{self, ShareStatus},
    partnership::{self, ShareMode},
    DbUrl,
};
use sea_orm::{
    sea_query::OnConflict, ActiveValue::NotSet, ColumnTrait, Condition, ConnectionTrait,
    EntityTrait, QueryFilter, QueryOrder, Set,
};
use url::Url;

/// The row of `follower` following `followed`, accepted or not.
pub async fn between(
    db: &impl ConnectionTrait,
    follower_id: i64,
    followed_id: i64,
) -> Result<Option<partnership::Model>, Error> {
    Ok(partnership::Entity::find()
        .filter(partnership::Column::FollowerId.eq(follower_id))
        .filter(partnership::Column::FollowedId.eq(followed_id))
        .one(db)
        .await?)
}

/// The row a `Follow` id names.
pub async fn by_follow_id(
    db: &impl ConnectionTrait,
    follow_id: &Url,
) -> Result<Option<partnership::Model>, Error> {
    Ok(partnership::Entity::find()
        .filter(partnership::Column::FollowId.eq(DbUrl(follow_id.clone())))
        .one(db)
        .await?)
}

/// Stores a follow of `followed` by `follower`, or updates its follow id and standing.
pub async fn upsert(
    db: &impl ConnectionTrait,
    follower_id: i64,
    followed_id: i64,
    follow_id: &Url,
    pending: bool,
    requested_by: Option<i64>,
) -> Result<(), Error> {
    let now = Utc::now();
    partnership::Entity::insert(partnership::ActiveModel {
        id: NotSet,
        follower_id: Set(follower_id),
        followed_id: Set(followed_id),
        follow_id: Set(DbUrl(follow_id.clone())),
        pending: Set(pending),
        share: Set(ShareMode::Off),
        requested_by: Set(requested_by),
        created_at: Set(now),
        accepted_at: Set((!pending).then_some(now)),
    })
    .on_conflict(
        OnConflict::columns([
            partnership::Column::FollowerId,
            partnership::Column::FollowedId,
        ])
        .update_columns([
            partnership::Column::FollowId,
            partnership::Column::Pending,
            partnership::Column::AcceptedAt,
        ])
        .to_owned(),
    )
    .exec(db)
    .await?;
    Ok(())
}

/// Marks a partnership accepted.
pub async fn accept(db: &impl ConnectionTrait, row: &partnership::Model) -> Result<(), Error> {
    partnership::Entity::update(partnership::ActiveModel {
        id: Set(row.id),
        pending: Set(false),
        accepted_at: Set(Some(Utc::now())),
        ..Default::default()
    })
    .exec(db)
    .await?;
    Ok(())
}

/// Every partnership of `c`, in both directions, accepted or not, oldest first.
pub async fn of(
    db: &impl ConnectionTrait,
    c: &community::Model,
) -> Result<Vec<partnership::Model>, Error> {
    Ok(partnership::Entity::find()
        .filter(
            Condition::any()
                .add(partnership::Column::FollowerId.eq(c.id))
                .add(partnership::Column::FollowedId.eq(c.id)),
        )
        .order_by_asc(partnership::Column::Id)
        .all(db)
        .await?)
}

/// The communities `c` follows, accepted.
pub async fn followed_by(
    db: &impl ConnectionTrait,
    c: &community::Model,
) -> Result<Vec<community::Model>, Error> {
    let ids: Vec<i64> = partnership::Entity::find()
        .filter(partnership::Column::FollowerId.eq(c.id))
        .filter(partnership::Column::Pending.eq(false))
        .all(db)
        .await?
        .into_iter()
        .map(|p| p.followed_id)
        .collect();
    communities(db, ids).await
}

/// The communities in an accepted partnership with `c`, either way, by title.
pub async fn partners_of(
    db: &impl ConnectionTrait,
    c: &community::Model,
) -> Result<Vec<community::Model>, Error> {
    let ids: Vec<i64> = of(db, c)
        .await?
        .into_iter()
        .filter(|p| !p.pending)
        .map(|p| {
            if p.follower_id == c.id {
                p.followed_id
            } else {
                p.follower_id
            }
        })
        .collect();
    communities(db, ids).await
}

async fn communities(
    db: &impl ConnectionTrait,
    ids: Vec<i64>,
) -> Result<Vec<community::Model>, Error> {
    let mut rows = community::Entity::find()
        .filter(community::Column::Id.is_in(ids))
        .all(db)
        .await?;
    rows.sort_by_key(|c| c.title.to_lowercase());
    Ok(rows)
}

/// True when a local community follows `c` as a partner (accepted).
pub async fn followed_here(db: &impl ConnectionTrait, c: &community::Model) -> Result<bool, Error> {
    Ok(partnership::Entity::find()
        .filter(partnership::Column::FollowedId.eq(c.id))
        .filter(partnership::Column::Pending.eq(false))
        .one(db)
        .await?
        .is_some())
}

/// The local communities that follow `c` and share what it publishes by themselves
/// (`queue` or `auto`).
pub async fn sharing_from(
    db: &impl ConnectionTrait,
    c: &community::Model,
) -> Result<Vec<partnership::Model>, Error> {
    Ok(partnership::Entity::find()
        .filter(partnership::Column::FollowedId.eq(c.id))
        .filter(partnership::Column::Pending.eq(false))
        .filter(partnership::Column::Share.ne(ShareMode::Off))
        .all(db)
        .await?)
}

/// The share of `post_id` in `community_id`, if any.
pub async fn share_of(
    db: &impl ConnectionTrait,
    community_id: i64,
    post_id: i64,
) -> Result<Option<partner_share::Model>, Error> {
    Ok(partner_share::Entity::find()
        .filter(partner_share::Column::CommunityId.eq(community_id))
        .filter(partner_share::Column::PostId.eq(post_id))
        .one(db)
        .await?)
}

/// Records a share (queued, shared or dismissed), replacing an earlier one of the same post.
pub async fn record_share(
    db: &impl ConnectionTrait,
    community_id: i64,
    post_id: i64,
    status: ShareStatus,
    decided_by: Option<i64>,
    announce_id: Option<&Url>,
) -> Result<(), Error> {
    let now = Utc::now();
    partner_share::Entity::insert(partner_share::ActiveModel {
        id: NotSet,
        community_id: Set(community_id),
        post_id: Set(post_id),
        status: Set(status),
        decided_by: Set(decided_by),
        announce_id: Set(announce_id.map(|u| DbUrl(u.clone()))),
        created_at: Set(now),
        shared_at: Set((status == ShareStatus::Shared).then_some(now)),
    })
    .on_conflict(
        OnConflict::columns([
            partner_share::Column::CommunityId,
            partner_share::Column::PostId,
        ])
        .update_columns([
            partner_share::Column::Status,
            partner_share::Column::DecidedBy,
            partner_share::Column::AnnounceId,
            partner_share::Column::SharedAt,
        ])
        .to_owned(),
    )
    .exec(db)
    .await?;
    Ok(())
}

/// Topics and events of the partners `c` follows, newest first: `limit` from `offset`.
pub async fn from_partners(
    db: &impl ConnectionTrait,
    c: &community::Model,
    offset: u64,
    limit: u64,
) -> Result<Vec<copse_entities::post::Model>, Error> {
    use copse_entities::post;
    use sea_orm::QuerySelect;
    let ids: Vec<i64> = partnership::Entity::find()
        .filter(partnership::Column::FollowerId.eq(c.id))
        .filter(partnership::Column::Pending.eq(false))
        .all(db)
        .await?
        .into_iter()
        .map(|p| p.followed_id)
        .collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(post::Entity::find()
        .filter(post::Column::CommunityId.is_in(ids))
        .filter(post::Column::TopicId.is_null())
        .filter(post::Column::Deleted.eq(false))
        .filter(post::Column::Removed.eq(false))
        .order_by_desc(post::Column::Published)
        .order_by_desc(post::Column::Id)
        .offset(offset)
        .limit(limit)
        .all(db)
        .await?)
}

/// The shares of `c` waiting in its queue, oldest first.
pub async fn queued(
    db: &impl ConnectionTrait,
    c: &community::Model,
) -> Result<Vec<partner_share::Model>, Error> {
    Ok(partner_share::Entity::find()
        .filter(partner_share::Column::CommunityId.eq(c.id))
        .filter(partner_share::Column::Status.eq(ShareStatus::Queued))
        .order_by_asc(partner_share::Column::Id)
        .all(db)
        .await?)
}
