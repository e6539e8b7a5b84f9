//! A post with everything its ActivityPub document names, read in one statement: its
//! community, author, event details, the id of the post it answers and the first page of its
//! replies. Each statement costs more than the rows it reads (a round trip to SQLite's connection
//! thread or to PostgreSQL), so `/post/{id}` reads one rather than six.

use crate::error::ApiError;
use copse_entities::{community, event, person, post, DbUrl};
use sea_orm::{
    ConnectionTrait, DatabaseBackend, EntityTrait, FromQueryResult, IdenStatic, Iterable,
    QueryResult, Statement,
};
use std::sync::LazyLock;

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
