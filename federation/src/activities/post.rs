//! Posts: publishing a local post to the community's followers, and receiving posts that a
//! followed remote community announces.

use crate::{
    fetch::{cached_actor, fetch_json, resolve_actor, ActorRef},
    objects::{escape_html, note_of, public, sanitize_html},
    protocol::{same_origin, Announce, CreateNote, Note, WithContext},
    queue::{enqueue, inbox::mark_done},
    Data, Error,
};
use chrono::Utc;
use copse_entities::{community, community_follower, person, post, received_activity, DbUrl};
use sea_orm::{
    sea_query::OnConflict, ActiveValue::NotSet, ColumnTrait, ConnectionTrait, EntityTrait,
    QueryFilter, QuerySelect, Set,
};
use serde_json::Value;
use std::collections::BTreeSet;
use url::Url;

/// The inboxes of a community's remote followers, one per server where it has a shared inbox.
pub async fn follower_inboxes(
    db: &impl ConnectionTrait,
    community_id: i64,
) -> Result<BTreeSet<Url>, Error> {
    // Two plain lookups rather than a join: the ids come from the covering member index and
    // the people by primary key, a plan no database can get wrong as the tables grow
    // (PostgreSQL's generic plan for the join chose a full scan of `person`).
    let ids: Vec<i64> = community_follower::Entity::find()
        .select_only()
        .column(community_follower::Column::PersonId)
        .filter(community_follower::Column::CommunityId.eq(community_id))
        .filter(community_follower::Column::Pending.eq(false))
        .into_tuple()
        .all(db)
        .await?;
    let mut inboxes = BTreeSet::new();
    for chunk in ids.chunks(1000) {
        let rows: Vec<(DbUrl, Option<DbUrl>)> = person::Entity::find()
            .select_only()
            .column(person::Column::Inbox)
            .column(person::Column::SharedInbox)
            // Primary key only: local members' inboxes are ours, and `enqueue` skips those.
            .filter(person::Column::Id.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(db)
            .await?;
        inboxes.extend(
            rows.into_iter()
                .map(|(inbox, shared)| shared.unwrap_or(inbox).0),
        );
    }
    Ok(inboxes)
}

/// A local post was published: send `Create{Note}` by the author, announced by the community
/// to every follower in both forms real servers need.
///
/// Lemmy reads only `Announce{Create{Note}}` (FEP-1b12); Mastodon and GoToSocial show only a
/// bare `Announce{Note}` as a boost. So top-level posts go out twice, as Lemmy itself does.
/// Call inside the transaction that stored the post; wake the outbox after commit.
pub async fn post_published(
    txn: &impl ConnectionTrait,
    data: &Data,
    post: &post::Model,
    community: &community::Model,
    author: &person::Model,
) -> Result<(), Error> {
    let note = note_of(post, community, author);
    let now = Utc::now();
    let create = CreateNote {
        id: data.urls.new_activity("Create"),
        kind: "Create".into(),
        actor: author.ap_id.0.clone(),
        object: note.clone(),
        to: note.to.clone(),
        cc: note.cc.clone(),
        audience: Some(community.ap_id.0.clone()),
        published: Some(now),
    };
    let create_json = serde_json::to_value(WithContext::new(create))?;
    // Stored so that its id dereferences; the community is its only addressee, and local.
    enqueue(txn, &data.urls, &create_json, None, true, []).await?;

    let inboxes = follower_inboxes(txn, community.id).await?;
    let followers = data.urls.community_part(&community.name, "followers");
    let announce = |object: Value| Announce {
        id: data.urls.new_activity("Announce"),
        kind: "Announce".into(),
        actor: community.ap_id.0.clone(),
        object,
        to: vec![public()],
        cc: vec![followers.clone()],
        published: Some(now),
    };
    let mut inner = create_json.clone();
    if let Some(o) = inner.as_object_mut() {
        o.remove("@context");
    }
    let wrapped = serde_json::to_value(WithContext::new(announce(inner)))?;
    enqueue(
        txn,
        &data.urls,
        &wrapped,
        Some(community.id),
        true,
        inboxes.iter().cloned(),
    )
    .await?;
    let bare = serde_json::to_value(WithContext::new(announce(serde_json::to_value(&note)?)))?;
    enqueue(txn, &data.urls, &bare, None, true, inboxes).await?;
    Ok(())
}

/// The post inside an announced activity: trusted as embedded only when it comes from the
/// announcing community's own server; anything else is fetched from its origin by id.
async fn announced_note(
    data: &Data,
    announcer: &Url,
    object: &Value,
) -> Result<Option<Note>, Error> {
    let object = match object {
        Value::String(id) => fetch_json(data, &Url::parse(id)?).await?,
        other => other.clone(),
    };
    let kind = object
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let note_value = match kind {
        "Create" | "Update" => object.get("object").cloned().unwrap_or(Value::Null),
        "Note" | "Page" | "Article" => object,
        _ => return Ok(None),
    };
    let note_value = match note_value {
        Value::String(id) => fetch_json(data, &Url::parse(&id)?).await?,
        v => {
            let id = v
                .get("id")
                .and_then(Value::as_str)
                .ok_or_else(|| Error::InvalidActivity("announced object has no id".into()))?;
            let id = Url::parse(id)?;
            if same_origin(&id, announcer) {
                v
            } else {
                fetch_json(data, &id).await?
            }
        }
    };
    let note: Note = serde_json::from_value(note_value)
        .map_err(|e| Error::InvalidActivity(format!("announced object: {e}")))?;
    if !same_origin(&note.id, &note.attributed_to) {
        return Err(Error::InvalidActivity(
            "post and author are on different origins".into(),
        ));
    }
    Ok(Some(note))
}

/// Title and HTML body of a received post: `name`, or the first line of the text.
fn title_and_body(note: &Note) -> (String, String) {
    let html = sanitize_html(note.content.as_deref().unwrap_or_default());
    if let Some(name) = note.name.as_ref().filter(|n| !n.trim().is_empty()) {
        let name: String = name.trim().chars().take(200).collect();
        // Our own posts open with the title for Mastodon; do not show it twice.
        let heading = format!("<p><strong>{}</strong></p>", escape_html(&name));
        let body = html
            .strip_prefix(&heading)
            .unwrap_or(&html)
            .trim_start()
            .to_string();
        return (name, body);
    }
    let text = ammonia::Builder::empty().clean(&html).to_string();
    let first = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("Untitled");
    (first.trim().chars().take(200).collect(), html)
}

/// A community we follow announced something: store the post it carries.
pub async fn receive_announce(
    data: &Data,
    row: &received_activity::Model,
    announce: Announce,
) -> Result<(), Error> {
    if announce.actor != row.actor.0 {
        return Err(Error::InvalidActivity(
            "Announce actor is not the signer".into(),
        ));
    }
    let Some(ActorRef::Community(community)) = cached_actor(&data.db, &announce.actor).await?
    else {
        return Err(Error::Forbidden(
            "only communities we follow announce to us".into(),
        ));
    };
    let followed = community_follower::Entity::find()
        .filter(community_follower::Column::CommunityId.eq(community.id))
        .one(&data.db)
        .await?
        .is_some();
    if !followed {
        return Err(Error::Forbidden(
            "nobody here follows this community".into(),
        ));
    }
    let Some(note) = announced_note(data, &announce.actor, &announce.object).await? else {
        let txn = crate::context::begin(&data.db).await?;
        crate::queue::inbox::mark_ignored(&txn, row.id, "announced object is not a post").await?;
        txn.commit().await?;
        return Ok(());
    };
    if note.in_reply_to.is_some() {
        let txn = crate::context::begin(&data.db).await?;
        crate::queue::inbox::mark_ignored(&txn, row.id, "replies are not stored yet").await?;
        txn.commit().await?;
        return Ok(());
    }
    let ActorRef::Person(author) = resolve_actor(data, &note.attributed_to).await? else {
        return Err(Error::InvalidActivity("posts are written by people".into()));
    };
    let (title, content) = title_and_body(&note);
    let now = Utc::now();
    let txn = crate::context::begin(&data.db).await?;
    post::Entity::insert(post::ActiveModel {
        id: NotSet,
        ap_id: Set(DbUrl(note.id.clone())),
        community_id: Set(community.id),
        author_id: Set(author.id),
        title: Set(title),
        content: Set(content),
        source: Set(note.source.as_ref().map(|s| s.content.clone())),
        local: Set(false),
        published: Set(note.published.unwrap_or(now)),
        updated: Set(note.updated),
    })
    .on_conflict(
        OnConflict::column(post::Column::ApId)
            .update_columns([
                post::Column::Title,
                post::Column::Content,
                post::Column::Source,
                post::Column::Updated,
            ])
            .to_owned(),
    )
    .exec(&txn)
    .await?;
    mark_done(&txn, row.id).await?;
    txn.commit().await?;
    Ok(())
}
