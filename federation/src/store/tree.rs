//! Sub-communities: the community a community sits under, the ones under it, and the chain of
//! parents above it. The relation is kept on the child (`community.parent_ap_id`, the parent's
//! ActivityPub id), so it reads the same for local and remote communities.

use crate::Error;
use copse_entities::{community, community_follower::Role};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

/// How many parents up a chain is followed: deep enough for national → regional → local →
/// working group, and a bound on a chain that a remote server made circular.
pub const MAX_DEPTH: usize = 8;

/// The community `c` sits under, when it names one this server knows.
pub async fn parent_of(
    db: &impl ConnectionTrait,
    c: &community::Model,
) -> Result<Option<community::Model>, Error> {
    let Some(id) = &c.parent_ap_id else {
        return Ok(None);
    };
    Ok(community::Entity::find()
        .filter(community::Column::ApId.eq(id.clone()))
        .one(db)
        .await?)
}

/// The sub-communities of `c` this server knows, by title. Those of a local community are the
/// local ones placed under it here; a remote community's are those of its own server that
/// name it (a server vouches only for its own communities).
pub async fn children_of(
    db: &impl ConnectionTrait,
    c: &community::Model,
) -> Result<Vec<community::Model>, Error> {
    let rows = community::Entity::find()
        .filter(community::Column::ParentApId.eq(c.ap_id.clone()))
        .order_by_asc(community::Column::Title)
        .order_by_asc(community::Column::Id)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter(|child| same_server(c, child))
        .collect())
}

/// How many sub-communities `c` has (see `children_of`), counted by the database for a local
/// community: its `Group` document and its API view carry the count on every read.
pub async fn child_count(db: &impl ConnectionTrait, c: &community::Model) -> Result<u64, Error> {
    if !c.local {
        return Ok(children_of(db, c).await?.len() as u64);
    }
    use sea_orm::PaginatorTrait;
    Ok(community::Entity::find()
        .filter(community::Column::ParentApId.eq(c.ap_id.clone()))
        .filter(community::Column::Local.eq(true))
        .count(db)
        .await?)
}

/// True when `child` and `parent` live on the same server, the only place a parent can be
/// named from.
pub fn same_server(parent: &community::Model, child: &community::Model) -> bool {
    if parent.local || child.local {
        return parent.local && child.local;
    }
    crate::protocol::same_origin(&parent.ap_id.0, &child.ap_id.0)
}

/// The parents above `c`, nearest first, stopping at an unknown one, a loop or `MAX_DEPTH`.
pub async fn ancestors(
    db: &impl ConnectionTrait,
    c: &community::Model,
) -> Result<Vec<community::Model>, Error> {
    let mut chain: Vec<community::Model> = Vec::new();
    let mut at = c.clone();
    while chain.len() < MAX_DEPTH {
        let Some(parent) = parent_of(db, &at).await? else {
            break;
        };
        if parent.id == c.id
            || chain.iter().any(|p| p.id == parent.id)
            || !same_server(&parent, &at)
        {
            break;
        }
        chain.push(parent.clone());
        at = parent;
    }
    Ok(chain)
}

/// True when placing `child` under `parent` would make a loop: `parent` is `child` or sits
/// somewhere below it.
pub async fn would_loop(
    db: &impl ConnectionTrait,
    child: &community::Model,
    parent: &community::Model,
) -> Result<bool, Error> {
    if parent.id == child.id {
        return Ok(true);
    }
    Ok(ancestors(db, parent)
        .await?
        .iter()
        .any(|a| a.id == child.id))
}

/// The role `person_id` acts with in `c`: their own, or coordinator when they coordinate a
/// local community above it (coordinators of a parent may act in its sub-communities).
pub async fn acting_role(
    db: &impl ConnectionTrait,
    c: &community::Model,
    person_id: i64,
) -> Result<Option<Role>, Error> {
    let own = crate::store::members::role_of(db, c.id, person_id).await?;
    if own == Some(Role::Coordinator) || !c.local || c.parent_ap_id.is_none() {
        return Ok(own);
    }
    for parent in ancestors(db, c).await? {
        if crate::store::members::role_of(db, parent.id, person_id).await?
            == Some(Role::Coordinator)
        {
            return Ok(Some(Role::Coordinator));
        }
    }
    Ok(own)
}

/// Where `c` stands in its network, as its `Group` document shows it.
pub async fn relations(
    db: &impl ConnectionTrait,
    c: &community::Model,
) -> Result<crate::objects::Relations, Error> {
    Ok(crate::objects::Relations {
        parent: parent_of(db, c).await?,
        children: child_count(db, c).await? as usize,
    })
}
