//! Locked and pinned topics on the desk, and the moderation buttons (lock, pin, remove) that
//! the desk and the topic page post to.

use super::{as_auth, Desk};
use crate::{
    api::commands::{self, Moderation},
    error::ApiError,
    web::{chrome::Chrome, error::PageError, form::Form, page::html_response, session::SignedIn},
    AppState,
};
use askama::Template;
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use copse_entities::{community, post};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "desk_topics.html")]
struct TopicsPage {
    chrome: Chrome,
    c: community::Model,
    topics: Vec<post::Model>,
}

/// `GET /c/{name}/desk/topics`: the community's locked and pinned topics.
pub async fn http_get_topics(
    State(state): State<AppState>,
    Path(name): Path<String>,
    me: SignedIn,
) -> Result<Response, PageError> {
    let desk = Desk::open(&state, &name, &me).await?;
    let topics = post::Entity::find()
        .filter(post::Column::CommunityId.eq(desk.c.id))
        .filter(post::Column::TopicId.is_null())
        .filter(post::Column::Removed.eq(false))
        .filter(post::Column::Deleted.eq(false))
        .filter(
            Condition::any()
                .add(post::Column::Locked.eq(true))
                .add(post::Column::Pinned.eq(true)),
        )
        .order_by_desc(post::Column::Id)
        .limit(500)
        .all(&desk.data.db)
        .await?;
    let page = TopicsPage {
        chrome: desk.chrome().await?,
        c: desk.c,
        topics,
    };
    Ok(html_response(StatusCode::OK, page.render()?))
}

/// The moderation buttons' form.
#[derive(Deserialize)]
pub struct ModerateForm {
    /// `lock`, `unlock`, `pin`, `unpin` or `remove`.
    #[serde(default)]
    action: String,
    /// Why (removals).
    #[serde(default)]
    reason: String,
    /// `desk` to come back to the desk's topics, else the thread.
    #[serde(default)]
    back: String,
}

/// `POST /post/{id}/moderate`: a facilitator locks, unlocks, pins, unpins or removes a post,
/// through the API's own command.
pub async fn http_post_moderate(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    me: SignedIn,
    form: Form<ModerateForm>,
) -> Result<Response, PageError> {
    me.check_csrf(&form.csrf)?;
    let data = state.to_request_data();
    let f = form.fields;
    let what = match f.action.as_str() {
        "lock" => Moderation::Lock(true),
        "unlock" => Moderation::Lock(false),
        "pin" => Moderation::Pin(true),
        "unpin" => Moderation::Pin(false),
        "remove" => {
            let reason = f.reason.trim();
            Moderation::Remove((!reason.is_empty()).then(|| reason.to_string()))
        }
        _ => {
            return Err(PageError::Shown(ApiError::invalid(
                "action",
                "action must be lock, unlock, pin, unpin or remove",
            )))
        }
    };
    let p = commands::moderate_post(&data, &as_auth(&me), id, what).await?;
    let to = if f.back == "desk" {
        let c = crate::api::lookup::community_of(&data, &p).await?;
        format!("/c/{}/desk/topics", c.name)
    } else {
        format!("/post/{}#p{}", p.topic_id.unwrap_or(p.id), p.id)
    };
    Ok(Redirect::to(&to).into_response())
}
