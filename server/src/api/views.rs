//! What the API shows of posts and their authors, with reply and reaction counts; and a post
//! with everything its ActivityPub document names, read in one statement: its community,
//! author, event details, the id of the post it answers and the first page of its replies. Each
//! statement costs more than the rows it reads (a round trip to SQLite's connection thread or to
//! PostgreSQL), so `/post/{id}` reads one rather than six.

use crate::error::ApiError;
use chrono::{DateTime, Utc};
use copse_entities::{community, event, person, post, reaction, DbUrl};
use sea_orm::{
    sea_query::{Expr, ExprTrait},
    ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, FromQueryResult, IdenStatic,
    Iterable, QueryFilter, QueryResult, QuerySelect, Statement,
};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::LazyLock;
use utoipa::ToSchema;

/// Replies in a page of a post's `replies`. Mastodon before 4.4 reads only the first page.
pub const REPLIES_PAGE: u64 = 50;

/// A post and what its document names.
#[derive(Debug, Clone)]
pub struct PostView {
    /// The post.
    pub post: post::Model,
    /// Its community.
    pub community: community::Model,
    /// Its author.
    pub author: person::Model,
    /// Its meeting details, when it is an event.
    pub event: Option<event::Model>,
    /// The id of the post it answers.
    pub parent_ap_id: Option<DbUrl>,
    /// Its first replies (row id and id), shown ones only, oldest first: one more than a page
    /// when there are more.
    pub replies: Vec<(i64, DbUrl)>,
}

/// `t.col AS "{prefix}col"` for every column of `E`, as sea-orm's `FromQueryResult` reads them.
fn columns<E: EntityTrait>(table: &str, prefix: &str) -> String {
    E::Column::iter()
        .map(|c| {
            let name = c.as_str();
            format!("{table}.\"{name}\" AS \"{prefix}{name}\"")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The statement's text for `backend`, the same for every post: built once per backend.
fn sql(backend: DatabaseBackend) -> &'static str {
    static POSTGRES: LazyLock<String> = LazyLock::new(|| sql_with("$1"));
    static SQLITE: LazyLock<String> = LazyLock::new(|| sql_with("?1"));
    match backend {
        DatabaseBackend::Postgres => &POSTGRES,
        _ => &SQLITE,
    }
}

fn sql_with(p1: &str) -> String {
    // The replies are a subquery with its own limit (on `idx_post_replies`), joined to the one
    // row of the post: a post with replies gives a row per reply, one without gives one row.
    format!(
        "SELECT {post}, {community}, {author}, {event}, parent.ap_id AS parent_ap_id, \
           r.id AS reply_id, r.ap_id AS reply_ap_id \
         FROM post p \
         JOIN community c ON c.id = p.community_id \
         JOIN person a ON a.id = p.author_id \
         LEFT JOIN event e ON e.post_id = p.id \
         LEFT JOIN post parent ON parent.id = p.parent_id \
         LEFT JOIN (SELECT id, ap_id FROM post WHERE parent_id = {p1} AND NOT deleted \
           AND NOT removed ORDER BY id LIMIT {limit}) r ON 1 = 1 \
         WHERE p.id = {p1} \
         ORDER BY r.id",
        post = columns::<post::Entity>("p", "p_"),
        community = columns::<community::Entity>("c", "c_"),
        author = columns::<person::Entity>("a", "a_"),
        event = columns::<event::Entity>("e", "e_"),
        limit = REPLIES_PAGE + 1,
    )
}

fn statement(backend: DatabaseBackend, id: i64) -> Statement {
    Statement::from_sql_and_values(backend, sql(backend), [id.into()])
}

/// Reads post `id` and what its document names, or `None` when there is no such post.
pub async fn load(db: &impl ConnectionTrait, id: i64) -> Result<Option<PostView>, ApiError> {
    let rows = db
        .query_all_raw(statement(db.get_database_backend(), id))
        .await?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let mut view = PostView {
        post: post::Model::from_query_result(first, "p_")?,
        community: community::Model::from_query_result(first, "c_")?,
        author: person::Model::from_query_result(first, "a_")?,
        event: event::Model::from_query_result_optional(first, "e_")?,
        parent_ap_id: first.try_get("", "parent_ap_id")?,
        replies: Vec::new(),
    };
    for row in &rows {
        if let Some(reply) = reply_of(row)? {
            view.replies.push(reply);
        }
    }
    Ok(Some(view))
}

fn reply_of(row: &QueryResult) -> Result<Option<(i64, DbUrl)>, ApiError> {
    let id: Option<i64> = row.try_get("", "reply_id")?;
    let ap_id: Option<DbUrl> = row.try_get("", "reply_ap_id")?;
    Ok(id.zip(ap_id))
}

/// A person as the API shows an author.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Author)]
pub struct AuthorView {
    /// ActivityPub id.
    #[schema(value_type = String)]
    pub id: DbUrl,
    /// Row id on this server.
    pub local_id: i64,
    /// Handle without the domain.
    pub name: String,
    /// Name shown instead of the handle.
    pub display_name: Option<String>,
    /// Avatar address.
    pub avatar: Option<String>,
    /// An account of this server.
    pub local: bool,
    /// The account was deleted.
    pub deleted: bool,
}

/// The API's view of an author.
pub fn author_view(a: &person::Model) -> AuthorView {
    AuthorView {
        id: a.ap_id.clone(),
        local_id: a.id,
        name: a.name.clone(),
        display_name: a.display_name.clone(),
        avatar: a.avatar.clone(),
        local: a.local,
        deleted: a.deleted_at.is_some(),
    }
}

/// Reply counts of topics and reaction counts of posts.
pub struct Counts {
    replies: HashMap<i64, i64>,
    reactions: HashMap<i64, BTreeMap<String, i64>>,
}

impl Counts {
    /// Visible replies in the topic `id`.
    pub fn replies_of(&self, id: i64) -> i64 {
        self.replies.get(&id).copied().unwrap_or(0)
    }

    /// Reactions of every kind to the post `id`.
    pub fn reactions_of(&self, id: i64) -> i64 {
        self.reactions.get(&id).map_or(0, |m| m.values().sum())
    }
}

/// The counts of `posts`, in two queries whatever their number.
pub async fn counts(db: &impl ConnectionTrait, posts: &[post::Model]) -> Result<Counts, ApiError> {
    let ids: Vec<i64> = posts.iter().map(|p| p.id).collect();
    let replies: Vec<(Option<i64>, i64)> = post::Entity::find()
        .select_only()
        .column(post::Column::TopicId)
        .column_as(Expr::col(post::Column::Id).count(), "n")
        .filter(post::Column::TopicId.is_in(ids.clone()))
        .filter(post::Column::Deleted.eq(false))
        .filter(post::Column::Removed.eq(false))
        .group_by(post::Column::TopicId)
        .into_tuple()
        .all(db)
        .await?;
    let rows: Vec<(i64, String, i64)> = reaction::Entity::find()
        .select_only()
        .column(reaction::Column::PostId)
        .column(reaction::Column::Emoji)
        .column_as(Expr::col(reaction::Column::Id).count(), "n")
        .filter(reaction::Column::PostId.is_in(ids))
        .group_by(reaction::Column::PostId)
        .group_by(reaction::Column::Emoji)
        .into_tuple()
        .all(db)
        .await?;
    let mut reactions: HashMap<i64, BTreeMap<String, i64>> = HashMap::new();
    for (post_id, emoji, n) in rows {
        reactions.entry(post_id).or_default().insert(emoji, n);
    }
    Ok(Counts {
        replies: replies
            .into_iter()
            .filter_map(|(t, n)| t.map(|t| (t, n)))
            .collect(),
        reactions,
    })
}

/// A topic or a reply as the API shows it. Topics also carry `locked`, `pinned`,
/// `last_activity` and `reply_count`; in a thread every post carries its `replies`, and the
/// topic the post that was asked for (`requested`).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Post)]
pub struct PostItem {
    /// ActivityPub id.
    #[schema(value_type = String)]
    pub id: DbUrl,
    /// Row id on this server (the `{id}` of `/api/v1/posts/{id}`).
    pub local_id: i64,
    /// The community's ActivityPub id.
    #[schema(value_type = String)]
    pub community: DbUrl,
    /// Its author, when known.
    pub author: Option<AuthorView>,
    /// Title (empty for replies).
    pub title: String,
    /// The link of a link topic (hidden once deleted or removed).
    pub url: Option<String>,
    /// Sanitised HTML (empty once deleted or removed).
    pub content: String,
    /// The markdown it was written in (hidden once deleted or removed).
    pub source: Option<String>,
    /// When it was published.
    pub published: DateTime<Utc>,
    /// When it was last edited.
    pub updated: Option<DateTime<Utc>>,
    /// Row id of the post it answers.
    pub parent: Option<i64>,
    /// Row id of its topic (replies only).
    pub topic: Option<i64>,
    /// Deleted by its author.
    pub deleted: bool,
    /// Removed by a facilitator.
    pub removed: bool,
    /// Mentions and hashtags, as ActivityPub `tag` objects.
    #[schema(value_type = Vec<Object>)]
    pub tags: Vec<Value>,
    /// Reactions of every kind.
    pub reaction_count: i64,
    /// Reactions by emoji.
    pub reactions: BTreeMap<String, i64>,
    /// Dislikes (votes, not reactions).
    pub dislike_count: i64,
    /// Locked against replies (topics only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    pub locked: Option<bool>,
    /// Pinned to the top of the list (topics only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    pub pinned: Option<bool>,
    /// When it or a reply was last published (topics only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    pub last_activity: Option<Option<DateTime<Utc>>>,
    /// Visible replies (topics only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    pub reply_count: Option<i64>,
    /// Its replies, nested (threads only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false, no_recursion)]
    pub replies: Option<Vec<PostItem>>,
    /// Row id of the post asked for (the topic of a thread only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    pub requested: Option<i64>,
}

/// The API's view of a post.
pub fn post_view(
    p: &post::Model,
    c: &community::Model,
    author: Option<&person::Model>,
    counts: &Counts,
) -> PostItem {
    let visible = p.visible();
    let mut reactions = counts.reactions.get(&p.id).cloned().unwrap_or_default();
    // A dislike is a vote (Lemmy's), not a reaction.
    let dislikes = reactions.remove(reaction::DISLIKE).unwrap_or(0);
    let topic = p.topic_id.is_none();
    PostItem {
        id: p.ap_id.clone(),
        local_id: p.id,
        community: c.ap_id.clone(),
        author: author.map(author_view),
        title: p.title.clone(),
        url: if visible {
            p.url.as_ref().map(|u| u.0.to_string())
        } else {
            None
        },
        content: if visible {
            p.content.clone()
        } else {
            String::new()
        },
        source: if visible { p.source.clone() } else { None },
        published: p.published,
        updated: p.updated,
        parent: p.parent_id,
        topic: p.topic_id,
        deleted: p.deleted,
        removed: p.removed,
        tags: p
            .tags
            .as_deref()
            .and_then(|t| serde_json::from_str::<Vec<Value>>(t).ok())
            .unwrap_or_default(),
        reaction_count: reactions.values().sum::<i64>(),
        reactions,
        dislike_count: dislikes,
        locked: topic.then_some(p.locked),
        pinned: topic.then_some(p.pinned),
        last_activity: topic.then_some(p.last_activity),
        reply_count: topic.then(|| counts.replies.get(&p.id).copied().unwrap_or(0)),
        replies: None,
        requested: None,
    }
}
