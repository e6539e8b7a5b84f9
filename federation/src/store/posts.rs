//! Posts, reactions and reports as rows: looked up by id, stored, tombstoned.

use crate::{
    objects::text::{stored_text, tags_of},
    protocol::Note,
    Error,
};
use chrono::Utc;
use copse_entities::{post, reaction, report, report::ReportStatus, DbUrl};
use sea_orm::{
    sea_query::{Expr, OnConflict},
    ActiveValue::NotSet,
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set,
};
use url::Url;

/// A post by its ActivityPub id.
pub async fn post_by_ap_id(
    db: &impl ConnectionTrait,
    id: &Url,
) -> Result<Option<post::Model>, Error> {
    Ok(post::Entity::find()
        .filter(post::Column::ApId.eq(DbUrl(id.clone())))
        .one(db)
        .await?)
}

/// The topic a post belongs to (itself for a topic).
pub async fn topic_of(db: &impl ConnectionTrait, p: &post::Model) -> Result<post::Model, Error> {
    match p.topic_id {
        None => Ok(p.clone()),
        Some(id) => post::Entity::find_by_id(id)
            .one(db)
            .await?
            .ok_or(Error::NotFound),
    }
}

/// Stores a post; a reply also moves its topic to the top of the "active" order. The people
/// it answers or mentions are notified.
pub async fn store_post(
    txn: &impl ConnectionTrait,
    community_id: i64,
    author_id: i64,
    note: &Note,
    parent: Option<&post::Model>,
    local: bool,
) -> Result<post::Model, Error> {
    let now = Utc::now();
    let (title, content) = stored_text(note, parent.is_some());
    let row = post::Entity::insert(post::ActiveModel {
        id: NotSet,
        ap_id: Set(DbUrl(note.id.clone())),
        community_id: Set(community_id),
        author_id: Set(author_id),
        title: Set(title),
        content: Set(content),
        source: Set(note.source.as_ref().map(|s| s.content.clone())),
        local: Set(local),
        published: Set(note.published.unwrap_or(now)),
        updated: Set(note.updated),
        parent_id: Set(parent.map(|p| p.id)),
        topic_id: Set(parent.map(post::Model::thread_id)),
        last_activity: Set(Some(now)),
        locked: Set(false),
        pinned: Set(false),
        deleted: Set(false),
        removed: Set(false),
        tags: Set(tags_of(&note.tag)),
        url: Set(note.link().map(DbUrl)),
    })
    .exec_with_returning(txn)
    .await?;
    if let Some(p) = parent {
        touch_topic(txn, p.thread_id()).await?;
    }
    super::notifications::new_post(txn, &row).await?;
    Ok(row)
}

/// Moves a topic to the top of the "active" order.
pub async fn touch_topic(db: &impl ConnectionTrait, topic_id: i64) -> Result<(), Error> {
    post::Entity::update_many()
        .col_expr(post::Column::LastActivity, Expr::value(Some(Utc::now())))
        .filter(post::Column::Id.eq(topic_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Keeps a deleted post as a tombstone: its text is gone, its id stays.
pub async fn tombstone(db: &impl ConnectionTrait, id: i64) -> Result<(), Error> {
    post::Entity::update(post::ActiveModel {
        id: Set(id),
        deleted: Set(true),
        content: Set(String::new()),
        source: Set(None),
        tags: Set(None),
        updated: Set(Some(Utc::now())),
        ..Default::default()
    })
    .exec(db)
    .await?;
    Ok(())
}

/// Stores a reaction; false when it was already stored.
pub async fn store_reaction(
    db: &impl ConnectionTrait,
    ap_id: &Url,
    post_id: i64,
    person_id: i64,
    emoji: &str,
) -> Result<bool, Error> {
    let n = reaction::Entity::insert(reaction::ActiveModel {
        id: NotSet,
        ap_id: Set(DbUrl(ap_id.clone())),
        post_id: Set(post_id),
        person_id: Set(person_id),
        emoji: Set(emoji.to_string()),
        published: Set(Utc::now()),
    })
    .on_conflict(OnConflict::new().do_nothing().to_owned())
    .exec_without_returning(db)
    .await?;
    Ok(n > 0)
}

/// True when `id` names a stored reaction (so an `Undo` of it takes the reaction back).
pub async fn is_reaction(db: &impl ConnectionTrait, id: &Url) -> Result<bool, Error> {
    Ok(reaction::Entity::find()
        .filter(reaction::Column::ApId.eq(DbUrl(id.clone())))
        .one(db)
        .await?
        .is_some())
}

/// Files a report in a community's queue, once per report id and community.
pub async fn store_report(
    db: &impl ConnectionTrait,
    ap_id: &Url,
    community_id: i64,
    reporter: &Url,
    post_id: Option<i64>,
    person_id: Option<i64>,
    reason: Option<String>,
) -> Result<(), Error> {
    report::Entity::insert(report::ActiveModel {
        id: NotSet,
        ap_id: Set(DbUrl(ap_id.clone())),
        community_id: Set(community_id),
        reporter: Set(DbUrl(reporter.clone())),
        post_id: Set(post_id),
        person_id: Set(person_id),
        reason: Set(reason),
        status: Set(ReportStatus::Open),
        resolver: Set(None),
        resolution: Set(None),
        created_at: Set(Utc::now()),
        resolved_at: Set(None),
    })
    .on_conflict(OnConflict::new().do_nothing().to_owned())
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// The id of the post a reply answers.
pub async fn parent_ap_id(
    db: &impl ConnectionTrait,
    p: &post::Model,
) -> Result<Option<Url>, Error> {
    let Some(parent) = p.parent_id else {
        return Ok(None);
    };
    Ok(post::Entity::find_by_id(parent)
        .one(db)
        .await?
        .map(|x| x.ap_id.0))
}

/// What a local post is made of.
pub struct LocalPost {
    /// Its community.
    pub community_id: i64,
    /// Its author.
    pub author_id: i64,
    /// Its title (empty for a reply).
    pub title: String,
    /// Its sanitised HTML.
    pub html: String,
    /// Its markdown.
    pub source: String,
    /// Its mentions and hashtags, as stored.
    pub tags: Option<String>,
    /// The link of a link post.
    pub url: Option<Url>,
}

/// Inserts a post written here (a topic, a reply or an event) and gives it its URL, which is
/// known only after the insert. The people it answers or mentions are notified.
pub async fn insert_local_post(
    txn: &impl ConnectionTrait,
    urls: &crate::urls::Urls,
    draft: LocalPost,
    parent: Option<&post::Model>,
    now: chrono::DateTime<Utc>,
) -> Result<post::Model, Error> {
    // A placeholder keeps the unique column unique until the id is known.
    let placeholder = urls.new_activity("pending-post");
    let mut row = post::Entity::insert(post::ActiveModel {
        id: NotSet,
        ap_id: Set(DbUrl(placeholder)),
        community_id: Set(draft.community_id),
        author_id: Set(draft.author_id),
        title: Set(draft.title),
        content: Set(draft.html),
        source: Set(Some(draft.source)),
        local: Set(true),
        published: Set(now),
        updated: Set(None),
        parent_id: Set(parent.map(|p| p.id)),
        topic_id: Set(parent.map(post::Model::thread_id)),
        last_activity: Set(Some(now)),
        locked: Set(false),
        pinned: Set(false),
        deleted: Set(false),
        removed: Set(false),
        tags: Set(draft.tags),
        url: Set(draft.url.map(DbUrl)),
    })
    .exec_with_returning(txn)
    .await?;
    row.ap_id = DbUrl(urls.post(row.id));
    post::Entity::update(post::ActiveModel {
        id: Set(row.id),
        ap_id: Set(row.ap_id.clone()),
        ..Default::default()
    })
    .exec(txn)
    .await?;
    super::notifications::new_post(txn, &row).await?;
    Ok(row)
}
