//! A local community's announces (FEP-1b12) to its followers: who they go to, and the two
//! forms of a new topic.

use crate::{
    objects::public,
    protocol::{domain_of, Announce, Audience, WithContext},
    queue::{enqueue_in_order, Form},
    Data, Error,
};
use chrono::Utc;
use copse_entities::community;
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};
use serde_json::Value;
use std::collections::BTreeSet;
use url::Url;

/// The inboxes of a community's remote followers, one per server where it has a shared inbox.
pub async fn follower_inboxes(
    db: &impl ConnectionTrait,
    community_id: i64,
) -> Result<BTreeSet<Url>, Error> {
    // One statement that the database cannot plan wrong as the tables grow: the follower ids
    // come from the covering member index and the people by primary key. On PostgreSQL the ids
    // are an array (`= ANY(ARRAY(...))`), since its generic plan for a join or `IN` chose a full
    // scan of `person`; SQLite looks up each id of an `IN` list by rowid. Inboxes are compared
    // as text and parsed once each: with shared inboxes, ten followers of a server share one.
    let backend = db.get_database_backend();
    let sql = match backend {
        // Partner communities that follow it (on other servers) get what it sends too.
        DatabaseBackend::Postgres => {
            "SELECT DISTINCT COALESCE(shared_inbox, inbox) FROM person WHERE id = ANY(ARRAY(\
               SELECT person_id FROM community_follower WHERE community_id = $1 AND NOT pending)) \
             UNION SELECT COALESCE(shared_inbox, inbox) FROM community WHERE NOT local AND id IN (\
               SELECT follower_id FROM partnership WHERE followed_id = $1 AND NOT pending)"
        }
        _ => {
            "SELECT DISTINCT COALESCE(shared_inbox, inbox) FROM person WHERE id IN (\
               SELECT person_id FROM community_follower WHERE community_id = ?1 AND NOT pending) \
             UNION SELECT COALESCE(shared_inbox, inbox) FROM community WHERE NOT local AND id IN (\
               SELECT follower_id FROM partnership WHERE followed_id = ?1 AND NOT pending)"
        }
    };
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [community_id.into()],
        ))
        .await?;
    let inboxes: Vec<String> = rows
        .iter()
        .map(|r| r.try_get_by_index(0))
        .collect::<Result<_, _>>()?;
    inboxes
        .into_iter()
        .map(|inbox| Ok(Url::parse(&inbox)?))
        .collect()
}

/// Announces an activity to every follower of a local community (FEP-1b12), and to `also`.
/// With `bare`, the object itself is announced too, for microblog readers.
///
/// Lemmy reads only `Announce{Create{Note}}`; Mastodon and GoToSocial show only a bare
/// `Announce{Note}` as a boost. So new topics go out in both forms, as Lemmy itself does, and
/// everything else (replies, edits, reactions, moderation) only in the first, so that
/// Mastodon timelines are not flooded (lemmy#2224, mastodon#18069).
pub async fn announce(
    txn: &impl ConnectionTrait,
    data: &Data,
    community: &community::Model,
    activity: &Value,
    bare: Option<Value>,
    also: impl IntoIterator<Item = Url>,
) -> Result<(), Error> {
    let mut inboxes = follower_inboxes(txn, community.id).await?;
    inboxes.extend(also);
    announce_to(txn, data, community, activity, bare, inboxes).await
}

/// Like [`announce`], to these inboxes only.
pub async fn announce_to(
    txn: &impl ConnectionTrait,
    data: &Data,
    community: &community::Model,
    activity: &Value,
    bare: Option<Value>,
    inboxes: BTreeSet<Url>,
) -> Result<(), Error> {
    let followers = data.urls.community_part(&community.name, "followers");
    let now = Utc::now();
    let wrap = |object: Value| {
        WithContext::new(Announce {
            id: data.urls.new_activity("Announce"),
            kind: "Announce".into(),
            actor: community.ap_id.0.clone(),
            object,
            audience: Audience::new(vec![public()], vec![followers.clone()]),
            published: Some(now),
        })
    };
    let mut inner = activity.clone();
    if let Some(o) = inner.as_object_mut() {
        o.remove("@context");
    }
    // The server an activity came from already has it: microblog.pub refuses to fetch its own
    // actor back ("local actor should not be fetched"), and would show its own Like or Delete
    // as a boost. The bare form of a topic still goes there, for that server's other followers.
    let origin = inner
        .get("actor")
        .and_then(Value::as_str)
        .and_then(|a| Url::parse(a).ok())
        .filter(|a| !data.urls.is_local(a))
        .map(|a| domain_of(&a));
    let reads = crate::nodeinfo::reads_of(txn, &inboxes).await?;
    let wrapped = wrap(inner);
    let mut forms = vec![Form {
        activity: &wrapped,
        community_id: Some(community.id),
        public: true,
        inboxes: inboxes
            .iter()
            .filter(|i| origin.as_ref() != Some(&domain_of(i)))
            .filter(|i| reads.get(*i).is_none_or(|r| r.wrapped_announces()))
            .cloned()
            .collect(),
    }];
    let bare = bare.map(wrap);
    if let Some(bare) = &bare {
        // The bare form follows the FEP-1b12 one to each inbox, in the same batch over the same
        // connection, so that a server reading both (microblog.pub) meets the topic in its
        // thread first.
        forms.push(Form {
            activity: bare,
            community_id: None,
            public: true,
            inboxes,
        });
    }
    enqueue_in_order(txn, &data.urls, forms).await?;
    Ok(())
}
