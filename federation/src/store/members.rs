//! Membership rows: who is a member of which community, with what role, and who is banned.

use crate::Error;
use chrono::Utc;
use copse_entities::{community_ban, community_follower, community_follower::Role, person, DbUrl};
use sea_orm::{
    sea_query::{Expr, OnConflict},
    ActiveValue::NotSet,
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, Set,
};
use url::Url;

/// The ban in force for a person in a community, if any.
pub async fn active_ban(
    db: &impl ConnectionTrait,
    community_id: i64,
    person_id: i64,
) -> Result<Option<community_ban::Model>, Error> {
    Ok(community_ban::Entity::find()
        .filter(community_ban::Column::CommunityId.eq(community_id))
        .filter(community_ban::Column::PersonId.eq(person_id))
        .filter(
            Condition::any()
                .add(community_ban::Column::ExpiresAt.is_null())
                .add(community_ban::Column::ExpiresAt.gt(Utc::now())),
        )
        .one(db)
        .await?)
}

/// The membership row of a person in a community (pending or not).
pub async fn membership(
    db: &impl ConnectionTrait,
    community_id: i64,
    person_id: i64,
) -> Result<Option<community_follower::Model>, Error> {
    Ok(community_follower::Entity::find()
        .filter(community_follower::Column::CommunityId.eq(community_id))
        .filter(community_follower::Column::PersonId.eq(person_id))
        .one(db)
        .await?)
}

/// The role of an accepted member, if they are one.
pub async fn role_of(
    db: &impl ConnectionTrait,
    community_id: i64,
    person_id: i64,
) -> Result<Option<Role>, Error> {
    Ok(membership(db, community_id, person_id)
        .await?
        .filter(|m| !m.pending)
        .map(|m| m.role))
}

/// Stores or updates a membership row.
pub async fn upsert_member(
    db: &impl ConnectionTrait,
    community_id: i64,
    person_id: i64,
    follow_id: &Url,
    pending: bool,
    role: Role,
) -> Result<(), Error> {
    community_follower::Entity::insert(community_follower::ActiveModel {
        id: NotSet,
        community_id: Set(community_id),
        person_id: Set(person_id),
        follow_id: Set(DbUrl(follow_id.clone())),
        pending: Set(pending),
        published: Set(Utc::now()),
        role: Set(role),
        reason: Set(None),
        // Listing is each member's choice (see `rules::membership::choices`); nobody is listed unasked.
        listed: Set(false),
        rules_agreed_at: Set(None),
        rules_version: Set(None),
    })
    .on_conflict(
        OnConflict::columns([
            community_follower::Column::CommunityId,
            community_follower::Column::PersonId,
        ])
        .update_columns([
            community_follower::Column::FollowId,
            community_follower::Column::Pending,
        ])
        .to_owned(),
    )
    .exec(db)
    .await?;
    Ok(())
}

/// How many coordinators a community has.
pub async fn coordinators(db: &impl ConnectionTrait, community_id: i64) -> Result<u64, Error> {
    use sea_orm::PaginatorTrait;
    Ok(community_follower::Entity::find()
        .filter(community_follower::Column::CommunityId.eq(community_id))
        .filter(community_follower::Column::Pending.eq(false))
        .filter(community_follower::Column::Role.eq(Role::Coordinator))
        .count(db)
        .await?)
}

/// A remote person was fetched again: their memberships follow the `discoverable` they now
/// publish.
pub async fn follow_discoverable(
    db: &impl ConnectionTrait,
    p: &person::Model,
) -> Result<(), Error> {
    if p.local {
        return Ok(());
    }
    community_follower::Entity::update_many()
        .col_expr(
            community_follower::Column::Listed,
            Expr::value(p.discoverable),
        )
        .filter(community_follower::Column::PersonId.eq(p.id))
        .filter(community_follower::Column::Listed.ne(p.discoverable))
        .exec(db)
        .await?;
    Ok(())
}
