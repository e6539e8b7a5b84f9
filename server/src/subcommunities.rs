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

/// The local communities `p` may place `c` under, by title: those they coordinate (all of them
/// for an admin), without `c` and the communities below it.
pub async fn possible_parents(
    data: &Data,
    c: &community::Model,
    p: &person::Model,
) -> Result<Vec<community::Model>, ApiError> {
    let all = community::Entity::find()
        .filter(community::Column::Local.eq(true))
        .filter(community::Column::Id.ne(c.id))
        .all(&data.db)
        .await?;
    let mut out = Vec::new();
    for parent in all {
        let current = c.parent_ap_id.as_ref() == Some(&parent.ap_id);
        if (current || may_place_under(data, &parent, p).await?)
            && !tree::would_loop(&data.db, c, &parent).await?
        {
            out.push(parent);
        }
    }
    out.sort_by_key(|c| c.title.to_lowercase());
    Ok(out)
}
