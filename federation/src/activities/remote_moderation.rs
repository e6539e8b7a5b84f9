//! Moderation from elsewhere: a remote facilitator's `Lock`, removal, pin and restore in a
//! local community (Lemmy sends a moderator's activity to the community's inbox, for the
//! community to announce), an author's restore (`Undo{Delete}`), and the same decisions
//! announced by a remote community we follow.
//!
//! In a local community the same role checks apply as to local moderation: only its
//! facilitators and coordinators lock, remove, pin and restore. What is applied is recorded in
//! the moderation log and announced to the community's followers.

use super::receive::{ignore, received_json, signer_person, Applied, Receive, Verified};
use crate::objects::text::{text_of, title_and_body};
use crate::outbox::announce::announce;
use crate::rules::posting::moderates;
use crate::store::lookup::{community_by_row_id, person_by_row_id};
use crate::store::modlog::log;
use crate::store::posts::post_by_ap_id;
use crate::{
    fetch::fetch_json,
    html::sanitize_html,
    protocol::{same_origin, AddRemove, Note, ObjectActivity, Undo},
    Data, Error,
};
use async_trait::async_trait;
use copse_entities::{community, person, post, received_activity};
use sea_orm::{ActiveValue::Set, ConnectionTrait, DatabaseTransaction, EntityTrait};
use serde_json::Value;
use url::Url;

/// A moderation decision about one post.
#[derive(Debug, Clone, PartialEq)]
enum Decision {
    /// `Lock` (true) or `Undo{Lock}` (false) of a topic.
    Lock(bool),
    /// `Add` (true) or `Remove` (false) of a topic to the community's `featured` collection.
    Pin(bool),
    /// A removal (`Delete` with a reason in `summary`, Lemmy's shape).
    Remove(Option<String>),
    /// `Undo{Delete}`: the author's restore of their post, or a moderator's of a removal.
    Restore,
}

impl Decision {
    /// The moderation log's name for it.
    fn action(&self) -> &'static str {
        match self {
            Decision::Lock(true) => "lock",
            Decision::Lock(false) => "unlock",
            Decision::Pin(true) => "pin",
            Decision::Pin(false) => "unpin",
            Decision::Remove(_) => "remove_post",
            Decision::Restore => "restore_post",
        }
    }

    fn topics_only(&self) -> bool {
        matches!(self, Decision::Lock(_) | Decision::Pin(_))
    }
}

/// `Lock` of a topic, sent to a local community by one of its remote facilitators.
pub async fn verify_lock(
    data: &Data,
    row: &received_activity::Model,
    lock: ObjectActivity,
) -> Result<Verified, Error> {
    let Some(target) = lock.object.first() else {
        return Err(Error::InvalidActivity("Lock of nothing".into()));
    };
    verify_direct(data, row, &lock.actor, target, Decision::Lock(true)).await
}

/// `Add`/`Remove` of a topic to a community's `featured` collection: a pin or an unpin.
pub async fn verify_featured(
    data: &Data,
    row: &received_activity::Model,
    act: AddRemove,
) -> Result<Verified, Error> {
    let Some(p) = post_by_ap_id(&data.db, &act.object).await? else {
        return ignore("a pin of a post not stored here");
    };
    let c = community_by_row_id(&data.db, p.community_id).await?;
    if !c.local || act.target != data.urls.community_part(&c.name, "featured") {
        return ignore("not a change to a local community's featured posts");
    }
    let pin = Decision::Pin(act.kind == "Add");
    verify_direct(data, row, &act.actor, &act.object, pin).await
}

/// A removal of a post in a local community by someone other than its author (Lemmy sends a
/// moderator's `Delete`, with the reason in `summary`, to the community).
pub async fn verify_removal(
    data: &Data,
    row: &received_activity::Model,
    delete: &ObjectActivity,
    target: &Url,
) -> Result<Verified, Error> {
    let reason = delete.summary.clone().filter(|s| !s.trim().is_empty());
    let remove = Decision::Remove(reason.map(|r| text_of(&r)));
    verify_direct(data, row, &delete.actor, target, remove).await
}

/// `Undo{Lock}` by a facilitator, or `Undo{Delete}` (a restore) by the author or a
/// facilitator, sent to a local community.
pub async fn verify_undo(
    data: &Data,
    row: &received_activity::Model,
    undo: Undo,
) -> Result<Verified, Error> {
    let inner: ObjectActivity = serde_json::from_value(undo.object.clone())
        .map_err(|e| Error::InvalidActivity(format!("undone activity: {e}")))?;
    if inner.actor != undo.actor {
        return Err(Error::InvalidActivity(
            "an Undo takes back only its actor's own activity".into(),
        ));
    }
    let Some(target) = inner.object.first() else {
        return Err(Error::InvalidActivity("Undo of nothing".into()));
    };
    let decision = match inner.kind.as_str() {
        "Lock" => Decision::Lock(false),
        _ => Decision::Restore,
    };
    verify_direct(data, row, &undo.actor, target, decision).await
}

/// Applies a decision sent to a local community by `actor` (the signer): refused unless they
/// facilitate or coordinate it, or (for a restore) wrote the post.
async fn verify_direct(
    data: &Data,
    row: &received_activity::Model,
    actor: &Url,
    target: &Url,
    decision: Decision,
) -> Result<Verified, Error> {
    if actor != &row.actor.0 {
        return Err(Error::InvalidActivity(
            "moderation by someone other than the signer".into(),
        ));
    }
    let Some(p) = post_by_ap_id(&data.db, target).await? else {
        return ignore("moderation of a post not stored here");
    };
    let c = community_by_row_id(&data.db, p.community_id).await?;
    if !c.local {
        return ignore("that community lives elsewhere and announces its own moderation");
    }
    let by = signer_person(data, actor).await?;
    let restores_own = decision == Decision::Restore && p.author_id == by.id && p.deleted;
    if !restores_own && !moderates(&data.db, &c, &by).await? {
        return Err(Error::Forbidden(format!(
            "only the facilitators and coordinators of {} {} its posts",
            c.title,
            match decision {
                Decision::Lock(_) => "lock",
                Decision::Pin(_) => "pin",
                Decision::Remove(_) => "remove",
                Decision::Restore => "restore",
            }
        )));
    }
    if decision.topics_only() && p.topic_id.is_some() {
        return Err(Error::InvalidActivity(
            "only topics are locked or pinned".into(),
        ));
    }
    let restored = if restores_own {
        Some(restored_post(data, &p, &by).await?)
    } else {
        None
    };
    Verified::apply(Moderation {
        post: p,
        decision,
        restored,
        here: Some(Here {
            community: c,
            // An author's restore of their own post is not a moderation decision.
            logged_as: (!restores_own).then_some(by),
        }),
    })
}

/// A checked moderation decision about one post.
struct Moderation {
    post: post::Model,
    decision: Decision,
    restored: Option<Restored>,
    /// Set when the post's community is ours: it records and announces the decision.
    here: Option<Here>,
}

/// A local community's part in a decision sent to it.
struct Here {
    community: community::Model,
    /// Who the moderation log names; `None` for an author's own restore.
    logged_as: Option<person::Model>,
}

#[async_trait]
impl Receive for Moderation {
    async fn receive(
        self: Box<Self>,
        data: &Data,
        row: &received_activity::Model,
        txn: &DatabaseTransaction,
    ) -> Result<Applied, Error> {
        if !apply(txn, &self.post, &self.decision, self.restored).await? {
            return Ok(Applied::Ignored("the post is already so".into()));
        }
        if let Some(here) = &self.here {
            if let Some(by) = &here.logged_as {
                let reason = match &self.decision {
                    Decision::Remove(r) => r.clone(),
                    _ => None,
                };
                let (c, target) = (&here.community, &self.post.ap_id.0);
                log(txn, c, &by.ap_id.0, self.decision.action(), target, reason).await?;
            }
            announce(txn, data, &here.community, &received_json(row)?, None, []).await?;
        }
        Ok(Applied::Done)
    }
}

/// A moderation activity announced by a remote community we follow (`Lock`, `Undo{Lock}`,
/// `Add`/`Remove` to its `featured`, `Undo{Delete}`): the community is the authority for its
/// own content, as for an announced `Delete`. `None` when `inner` is none of these.
pub async fn verify_announced(
    data: &Data,
    community: &community::Model,
    inner: &Value,
) -> Result<Option<Verified>, Error> {
    let bad = |e: serde_json::Error| Error::InvalidActivity(format!("announced activity: {e}"));
    let kind = inner
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let (actor, target, decision) = match kind {
        "Lock" => {
            let a: ObjectActivity = serde_json::from_value(inner.clone()).map_err(bad)?;
            let t = a.object.first().cloned();
            (a.actor, t, Decision::Lock(true))
        }
        "Add" | "Remove" => {
            let a: AddRemove = serde_json::from_value(inner.clone()).map_err(bad)?;
            let featured = same_origin(&a.target, &community.ap_id.0)
                && a.target.path().trim_end_matches('/').ends_with("/featured");
            if !featured {
                return Ok(None);
            }
            (a.actor, Some(a.object), Decision::Pin(kind == "Add"))
        }
        "Undo" => {
            let undo: Undo = serde_json::from_value(inner.clone()).map_err(bad)?;
            let Ok(undone) = serde_json::from_value::<ObjectActivity>(undo.object.clone()) else {
                return Ok(None);
            };
            let decision = match undone.kind.as_str() {
                "Lock" => Decision::Lock(false),
                "Delete" => Decision::Restore,
                _ => return Ok(None),
            };
            if undone.actor != undo.actor {
                return Err(Error::InvalidActivity(
                    "an Undo takes back only its actor's own activity".into(),
                ));
            }
            (undo.actor, undone.object.first().cloned(), decision)
        }
        _ => return Ok(None),
    };
    let Some(target) = target else {
        return Err(Error::InvalidActivity("moderation of nothing".into()));
    };
    let Some(p) = post_by_ap_id(&data.db, &target).await? else {
        return ignore("moderation of a post not stored here").map(Some);
    };
    if p.community_id != community.id {
        return Err(Error::Forbidden(
            "a community moderates only its own posts".into(),
        ));
    }
    if decision.topics_only() && p.topic_id.is_some() {
        return Err(Error::InvalidActivity(
            "only topics are locked or pinned".into(),
        ));
    }
    let author = person_by_row_id(&data.db, p.author_id).await?;
    // The author's own restore brings the post back as its origin serves it again; anyone
    // else's (the community vouches for them) takes back a removal.
    let restored = if decision == Decision::Restore && author.ap_id.0 == actor && p.deleted {
        Some(restored_post(data, &p, &author).await?)
    } else {
        None
    };
    Verified::apply(Moderation {
        post: p,
        decision,
        restored,
        here: None,
    })
    .map(Some)
}

/// Title, content and source of a deleted post as its origin serves it again after its
/// author's restore.
struct Restored {
    title: String,
    content: String,
    source: Option<String>,
}

async fn restored_post(
    data: &Data,
    p: &post::Model,
    author: &person::Model,
) -> Result<Restored, Error> {
    let doc = fetch_json(data, &p.ap_id.0).await?;
    let note: Note = serde_json::from_value(doc)
        .map_err(|e| Error::InvalidActivity(format!("restored post: {e}")))?;
    if note.id != p.ap_id.0 || note.attributed_to != author.ap_id.0 {
        return Err(Error::InvalidActivity(
            "the restored post is not the one deleted".into(),
        ));
    }
    let (title, content) = match p.topic_id {
        None => title_and_body(&note),
        Some(_) => (
            String::new(),
            sanitize_html(note.content.as_deref().unwrap_or_default()),
        ),
    };
    Ok(Restored {
        title,
        content,
        source: note.source.map(|s| s.content),
    })
}

/// Writes the decision; false when the post was already so.
async fn apply(
    db: &impl ConnectionTrait,
    p: &post::Model,
    decision: &Decision,
    restored: Option<Restored>,
) -> Result<bool, Error> {
    let mut change = post::ActiveModel {
        id: Set(p.id),
        ..Default::default()
    };
    match (decision, restored) {
        (Decision::Lock(on), _) if p.locked != *on => change.locked = Set(*on),
        (Decision::Pin(on), _) if p.pinned != *on => change.pinned = Set(*on),
        (Decision::Remove(_), _) if !p.removed => {
            change.removed = Set(true);
            change.pinned = Set(false);
        }
        (Decision::Restore, Some(r)) => {
            change.deleted = Set(false);
            change.title = Set(r.title);
            change.content = Set(r.content);
            change.source = Set(r.source);
            change.updated = Set(Some(chrono::Utc::now()));
        }
        (Decision::Restore, None) if p.removed => change.removed = Set(false),
        _ => return Ok(false),
    }
    post::Entity::update(change).exec(db).await?;
    Ok(true)
}
