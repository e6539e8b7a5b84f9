//! The discussion API: topics and replies (markdown in, sanitised HTML out), edits and
//! deletions by authors, moderation by facilitators (removal, locks, pins), reactions, and
//! reading threads. Topic lists and a person's posts are in `listing`, the report queue in
//! `reports`.

use super::{
    commands::{moderate_post, Moderation},
    extract::{ApiJson, ApiPath, ApiQuery, AuthUser},
    fields::{check_body, check_link, check_title, ReasonForm},
    lookup::{community_of, find_post, render_post, resolve_community},
    path_params::PostId,
    responses::{BadField, NoCommunity, NoPost, NotModerator, ReasonTooLong},
    views::{counts, post_view, Counts, PostItem},
};
use crate::{
    accounts,
    error::{ApiError, ErrorBody},
    AppState,
};
use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post, put},
    Json, Router,
};
use copse_entities::{community, person, post, reaction};
use copse_federation::{
    actions::posts::{self, NewPost},
    Data,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Deserialize;
use std::collections::HashMap;
use utoipa::{IntoParams, ToSchema};

/// Most replies shown in one thread.
const THREAD_MAX: u64 = 2000;

/// The discussion routes. `POST /api/v1/communities/{name}/posts` shares its path with the
/// topic list, so the router adds it.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/posts/{id}",
            get(http_get_thread)
                .patch(http_patch_post)
                .delete(http_delete_post),
        )
        .route("/api/v1/posts/{id}/replies", post(http_post_reply))
        .route("/api/v1/posts/{id}/remove", post(http_post_remove))
        .route("/api/v1/posts/{id}/lock", put(http_put_lock))
        .route("/api/v1/posts/{id}/pin", put(http_put_pin))
        .route(
            "/api/v1/posts/{id}/reactions",
            post(http_post_reaction).delete(http_delete_reaction),
        )
}

/// Request body of `POST /api/v1/communities/{name}/posts`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TopicForm {
    /// Title.
    pub title: String,
    /// Markdown body.
    pub content: String,
    /// The link of a link topic (`http` or `https`).
    #[serde(default)]
    pub url: Option<String>,
}

/// Request body of `POST /api/v1/posts/{id}/replies`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplyForm {
    /// Markdown body.
    pub content: String,
}

/// Request body of `PATCH /api/v1/posts/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditForm {
    /// New title (topics only).
    #[serde(default)]
    pub title: Option<String>,
    /// New markdown body.
    #[serde(default)]
    pub content: Option<String>,
}

/// Request body of `PUT /api/v1/posts/{id}/lock`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LockForm {
    /// Locked or not.
    pub locked: bool,
}

/// Request body of `PUT /api/v1/posts/{id}/pin`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PinForm {
    /// Pinned or not.
    pub pinned: bool,
}

/// Request body (or query) of the reaction endpoints.
#[derive(Debug, Default, Deserialize, ToSchema, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReactionForm {
    /// An emoji; a plain like when absent.
    #[serde(default)]
    pub emoji: Option<String>,
}

/// `POST /api/v1/communities/{name}/posts`: starts a topic (in a remote community too, named
/// `name@domain`).
#[utoipa::path(post, path = "/api/v1/communities/{name}/posts", tag = "topics",
    security(("bearer" = [])), request_body = TopicForm,
    params(("name" = String, Path, description = "Community name, or `name@domain`")),
    responses(
        (status = 201, description = "The new topic", body = PostItem),
        (status = 403, description = "Not allowed to start topics there", body = ErrorBody),
        NoCommunity, BadField,
    ))]
pub async fn http_post_topic(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(name): ApiPath<String>,
    ApiJson(form): ApiJson<TopicForm>,
) -> Result<Response, ApiError> {
    let data = state.to_request_data();
    let title = check_title(&form.title)?;
    check_body(&form.content)?;
    let c = if name.contains('@') {
        resolve_community(&data, &name).await?
    } else {
        accounts::local_community(&data.db, &name)
            .await?
            .ok_or_else(|| ApiError::not_found("community"))?
    };
    let url = check_link(form.url.as_deref())?;
    publish_markdown(&data, &c, &auth, None, title, form.content, url).await
}

/// Publishes a topic (no parent) or a reply from its Markdown source and answers 201 with it.
async fn publish_markdown(
    data: &Data,
    c: &community::Model,
    auth: &AuthUser,
    parent: Option<&post::Model>,
    title: String,
    content: String,
    url: Option<url::Url>,
) -> Result<Response, ApiError> {
    let (html, tags) = render_post(data, c, &content).await?;
    let new = NewPost {
        title,
        html,
        tags,
        source: content,
        url,
    };
    let row = posts::publish(data, c, &auth.person, parent, new).await?;
    let counts = counts(&data.db, std::slice::from_ref(&row)).await?;
    Ok((
        StatusCode::CREATED,
        Json(post_view(&row, c, Some(&auth.person), &counts)),
    )
        .into_response())
}

/// Replies to a post.
#[utoipa::path(post, path = "/api/v1/posts/{id}/replies", tag = "topics",
    security(("bearer" = [])), request_body = ReplyForm,
    params(("id" = i64, Path, description = "Row id of the post answered")),
    responses(
        (status = 201, description = "The new reply", body = PostItem),
        (status = 403, description = "Not allowed to reply (or the topic is locked)", body = ErrorBody),
        (status = 409, description = "The post was deleted or removed", body = ErrorBody),
        NoPost, BadField,
    ))]
async fn http_post_reply(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(form): ApiJson<ReplyForm>,
) -> Result<Response, ApiError> {
    let data = state.to_request_data();
    check_body(&form.content)?;
    let parent = find_post(&data, id).await?;
    if !parent.visible() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "that post was deleted or removed",
        ));
    }
    let c = community_of(&data, &parent).await?;
    publish_markdown(
        &data,
        &c,
        &auth,
        Some(&parent),
        String::new(),
        form.content,
        None,
    )
    .await
}

/// Edits a post (its author only).
#[utoipa::path(patch, path = "/api/v1/posts/{id}", tag = "topics",
    security(("bearer" = [])), request_body = EditForm,
    params(PostId),
    responses(
        (status = 200, description = "The post as it now stands", body = PostItem),
        (status = 403, description = "Not its author", body = ErrorBody),
        (status = 409, description = "Deleted, removed, or an event", body = ErrorBody),
        NoPost, BadField,
    ))]
async fn http_patch_post(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(form): ApiJson<EditForm>,
) -> Result<Json<PostItem>, ApiError> {
    let data = state.to_request_data();
    let p = find_post(&data, id).await?;
    if form.title.is_none() && form.content.is_none() {
        return Err(ApiError::invalid(
            "content",
            "send a title, a content or both",
        ));
    }
    let title = match &form.title {
        Some(t) if p.topic_id.is_some() => {
            let _ = t;
            return Err(ApiError::invalid("title", "replies have no title"));
        }
        Some(t) => Some(check_title(t)?),
        None => None,
    };
    if let Some(c) = &form.content {
        check_body(c)?;
    }
    let c = community_of(&data, &p).await?;
    let body = match form.content {
        Some(md) => {
            let (html, tags) = render_post(&data, &c, &md).await?;
            Some((html, md, tags))
        }
        None => None,
    };
    let row = posts::edit(&data, &p, &auth.person, title, body).await?;
    let counts = counts(&data.db, std::slice::from_ref(&row)).await?;
    Ok(Json(post_view(&row, &c, Some(&auth.person), &counts)))
}

/// Deletes a post (its author only).
#[utoipa::path(delete, path = "/api/v1/posts/{id}", tag = "topics",
    security(("bearer" = [])),
    params(PostId),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not its author", body = ErrorBody),
        (status = 409, description = "An event", body = ErrorBody),
        NoPost,
    ))]
async fn http_delete_post(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    let data = state.to_request_data();
    let p = find_post(&data, id).await?;
    posts::delete(&data, &p, &auth.person).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes a post from its community (facilitators and coordinators).
#[utoipa::path(post, path = "/api/v1/posts/{id}/remove", tag = "moderation",
    security(("bearer" = [])), request_body = ReasonForm,
    params(PostId),
    responses(
        (status = 204, description = "Removed"),
        NotModerator, NoPost, ReasonTooLong,
    ))]
async fn http_post_remove(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(form): ApiJson<ReasonForm>,
) -> Result<StatusCode, ApiError> {
    let data = state.to_request_data();
    moderate_post(&data, &auth, id, Moderation::Remove(form.reason)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Locks or unlocks a topic against replies (facilitators and coordinators).
#[utoipa::path(put, path = "/api/v1/posts/{id}/lock", tag = "moderation",
    security(("bearer" = [])), request_body = LockForm,
    params(("id" = i64, Path, description = "Topic row id")),
    responses(
        (status = 204, description = "Done"),
        (status = 409, description = "A reply, or a deleted topic", body = ErrorBody),
        NotModerator, NoPost,
    ))]
async fn http_put_lock(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(form): ApiJson<LockForm>,
) -> Result<StatusCode, ApiError> {
    let data = state.to_request_data();
    moderate_post(&data, &auth, id, Moderation::Lock(form.locked)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Pins or unpins a topic (facilitators and coordinators).
#[utoipa::path(put, path = "/api/v1/posts/{id}/pin", tag = "moderation",
    security(("bearer" = [])), request_body = PinForm,
    params(("id" = i64, Path, description = "Topic row id")),
    responses(
        (status = 204, description = "Done"),
        (status = 409, description = "A reply, or a deleted topic", body = ErrorBody),
        NotModerator, NoPost,
    ))]
async fn http_put_pin(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(form): ApiJson<PinForm>,
) -> Result<StatusCode, ApiError> {
    let data = state.to_request_data();
    moderate_post(&data, &auth, id, Moderation::Pin(form.pinned)).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn emoji_of(form: &ReactionForm) -> Result<String, ApiError> {
    match form.emoji.as_deref().map(str::trim) {
        None | Some("") => Ok(reaction::LIKE.to_string()),
        Some(e) if e.chars().count() <= 32 && !e.contains(['<', '>', '&']) => Ok(e.to_string()),
        Some(_) => Err(ApiError::invalid(
            "emoji",
            "one emoji, at most 32 characters",
        )),
    }
}

/// Reacts to a post with an emoji (a like when none is sent).
#[utoipa::path(post, path = "/api/v1/posts/{id}/reactions", tag = "topics",
    security(("bearer" = [])), request_body = ReactionForm,
    params(PostId),
    responses(
        (status = 204, description = "Done"),
        (status = 422, description = "Not one emoji", body = ErrorBody),
        NoPost,
    ))]
async fn http_post_reaction(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(form): ApiJson<ReactionForm>,
) -> Result<StatusCode, ApiError> {
    let data = state.to_request_data();
    let emoji = emoji_of(&form)?;
    let p = find_post(&data, id).await?;
    posts::react(&data, &p, &auth.person, &emoji).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Takes back a reaction.
#[utoipa::path(delete, path = "/api/v1/posts/{id}/reactions", tag = "topics",
    security(("bearer" = [])),
    params(PostId, ReactionForm),
    responses(
        (status = 204, description = "Done"),
        (status = 404, description = "No such post or reaction", body = ErrorBody),
        (status = 422, description = "Not one emoji", body = ErrorBody),
    ))]
async fn http_delete_reaction(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(form): ApiQuery<ReactionForm>,
) -> Result<StatusCode, ApiError> {
    let data = state.to_request_data();
    let emoji = emoji_of(&form)?;
    let p = find_post(&data, id).await?;
    if posts::unreact(&data, &p, &auth.person, &emoji).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("reaction"))
    }
}

/// A topic with its replies nested under the posts they answer; any post of the thread names
/// it.
#[utoipa::path(get, path = "/api/v1/posts/{id}", tag = "topics",
    params(("id" = i64, Path, description = "Row id of the topic or of one of its replies")),
    responses(
        (status = 200, description = "The thread", body = PostItem),
        NoPost,
    ))]
async fn http_get_thread(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<PostItem>, ApiError> {
    let data = state.to_request_data();
    let p = find_post(&data, id).await?;
    let topic = copse_federation::store::posts::topic_of(&data.db, &p).await?;
    let c = community_of(&data, &topic).await?;
    let mut posts = post::Entity::find()
        .filter(post::Column::TopicId.eq(topic.id))
        .order_by_asc(post::Column::Id)
        .limit(THREAD_MAX)
        .all(&data.db)
        .await?;
    posts.insert(0, topic.clone());
    let authors = accounts::people_by_id(&data.db, posts.iter().map(|p| p.author_id)).await?;
    let counts = counts(&data.db, &posts).await?;
    let mut children: HashMap<i64, Vec<&post::Model>> = HashMap::new();
    let known: std::collections::HashSet<i64> = posts.iter().map(|p| p.id).collect();
    for r in posts.iter().skip(1) {
        // A reply whose parent is missing hangs from the topic.
        let parent = r
            .parent_id
            .filter(|id| known.contains(id))
            .unwrap_or(topic.id);
        children.entry(parent).or_default().push(r);
    }
    fn nest(
        p: &post::Model,
        c: &community::Model,
        authors: &HashMap<i64, person::Model>,
        counts: &Counts,
        children: &HashMap<i64, Vec<&post::Model>>,
        depth: usize,
    ) -> PostItem {
        let mut v = post_view(p, c, authors.get(&p.author_id), counts);
        let replies: Vec<PostItem> = if depth > 64 {
            Vec::new()
        } else {
            children
                .get(&p.id)
                .map(|list| {
                    list.iter()
                        .map(|r| nest(r, c, authors, counts, children, depth + 1))
                        .collect()
                })
                .unwrap_or_default()
        };
        v.replies = Some(replies);
        v
    }
    let mut out = nest(&topic, &c, &authors, &counts, &children, 0);
    out.requested = Some(p.id);
    Ok(Json(out))
}
