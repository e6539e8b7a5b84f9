//! Placing a community under a parent, as a settings change: the parent is a community of this
//! server, named by its name; whoever places a community under it must coordinate the parent
//! too (or be an instance admin, or use the command line), so that nobody can file their
//! community under someone else's; and no community may end up under itself.

use crate::error::ApiError;
use axum::http::StatusCode;
use copse_entities::{community, community_follower::Role, local_user, person, DbUrl};
use copse_federation::{store::tree, Data};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

/// The parent `c` is to have, from the settings field `parent`: a local community's name, or
/// empty to take it from under its parent. `by` is who asks (`None`: the command line).
pub async fn parent_from_field(
    data: &Data,
    c: &community::Model,
    field: &str,
    by: Option<&person::Model>,
) -> Result<Option<DbUrl>, ApiError> {
    let name = field.trim();
    if name.is_empty() {
        return Ok(None);
    }
    let parent = community::Entity::find()
        .filter(community::Column::Local.eq(true))
        .filter(community::Column::Name.eq(name))
        .one(&data.db)
        .await?
        .ok_or_else(|| {
            ApiError::invalid("parent", format!("no community here is called {name}"))
        })?;
    if tree::would_loop(&data.db, c, &parent).await? {
        return Err(ApiError::invalid(
            "parent",
            format!(
                "{} sits under {}: it cannot also be above it",
                parent.title, c.title
            ),
        ));
    }
    if c.parent_ap_id.as_ref() != Some(&parent.ap_id) {
        if let Some(p) = by {
            if !may_place_under(data, &parent, p).await? {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    format!(
                        "only coordinators of {} may place a community under it",
                        parent.title
                    ),
                )
                .with_field("parent"));
            }
        }
    }
    Ok(Some(parent.ap_id))
}

/// True when `p` may place communities under `parent`: they coordinate it, or a community above
/// it, or run the instance.
pub async fn may_place_under(
    data: &Data,
    parent: &community::Model,
    p: &person::Model,
) -> Result<bool, ApiError> {
    if tree::acting_role(&data.db, parent, p.id).await? == Some(Role::Coordinator) {
        return Ok(true);
    }
    Ok(local_user::Entity::find()
        .filter(local_user::Column::PersonId.eq(p.id))
        .one(&data.db)
        .await?
        .is_some_and(|u| u.admin))
}

/// The local communities `p` may place `c` under, by title: those they coordinate and those
/// below them (all of them for an admin), and the current parent; never `c` or a community
/// below it.
pub async fn possible_parents(
    data: &Data,
    c: &community::Model,
    p: &person::Model,
) -> Result<Vec<community::Model>, ApiError> {
    use copse_entities::community_follower;
    let admin = local_user::Entity::find()
        .filter(local_user::Column::PersonId.eq(p.id))
        .one(&data.db)
        .await?
        .is_some_and(|u| u.admin);
    let mut found: Vec<community::Model> = if admin {
        community::Entity::find()
            .filter(community::Column::Local.eq(true))
            .all(&data.db)
            .await?
    } else {
        let ids: Vec<i64> = community_follower::Entity::find()
            .filter(community_follower::Column::PersonId.eq(p.id))
            .filter(community_follower::Column::Pending.eq(false))
            .filter(community_follower::Column::Role.eq(Role::Coordinator))
            .all(&data.db)
            .await?
            .into_iter()
            .map(|m| m.community_id)
            .collect();
        let coordinated = community::Entity::find()
            .filter(community::Column::Local.eq(true))
            .filter(community::Column::Id.is_in(ids))
            .all(&data.db)
            .await?;
        let below = below(data, &coordinated).await?;
        coordinated.into_iter().chain(below).collect()
    };
    if let Some(current) = tree::parent_of(&data.db, c).await? {
        found.push(current);
    }
    let excluded: Vec<i64> = below(data, std::slice::from_ref(c))
        .await?
        .into_iter()
        .map(|x| x.id)
        .chain([c.id])
        .collect();
    found.retain(|x| !excluded.contains(&x.id));
    found.sort_by_key(|x| (x.title.to_lowercase(), x.id));
    found.dedup_by_key(|x| x.id);
    Ok(found)
}

/// Every community below those in `roots`, down to `tree::MAX_DEPTH` levels.
async fn below(data: &Data, roots: &[community::Model]) -> Result<Vec<community::Model>, ApiError> {
    let mut out: Vec<community::Model> = Vec::new();
    let mut level = roots.to_vec();
    for _ in 0..tree::MAX_DEPTH {
        let mut next = Vec::new();
        for x in &level {
            for child in tree::children_of(&data.db, x).await? {
                if !out.iter().any(|o| o.id == child.id) && !roots.iter().any(|r| r.id == child.id)
                {
                    out.push(child.clone());
                    next.push(child);
                }
            }
        }
        if next.is_empty() {
            break;
        }
        level = next;
    }
    Ok(out)
}
