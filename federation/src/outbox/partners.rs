//! What a community sends about its partnerships: its `Follow` of another community (from the
//! Group itself, as FEP-d36d and NodeBB's category sync do), the `Accept` or `Reject` of a
//! community that follows it, the `Undo{Follow}` that ends one, and the `Announce` that shares a
//! partner's topic or event with its own followers.

use crate::outbox::announce::follower_inboxes;
use crate::{
    objects::public,
    protocol::{AcceptFollow, Announce, Audience, Follow, IdOr, UndoFollow, WithContext},
    queue::enqueue,
    Data, Error,
};
use chrono::Utc;
use copse_entities::{community, post};
use sea_orm::{ConnectionTrait, EntityTrait};
use serde_json::Value;
use url::Url;

fn follow_of(follow_id: &Url, follower: &community::Model, followed: &community::Model) -> Follow {
    Follow {
        id: follow_id.clone(),
        kind: "Follow".into(),
        actor: follower.ap_id.0.clone(),
        object: followed.ap_id.0.clone(),
        to: vec![followed.ap_id.0.clone()],
    }
}

/// Sends a local community's `Follow` of a remote one.
pub async fn send_follow(
    txn: &impl ConnectionTrait,
    data: &Data,
    follower: &community::Model,
    followed: &community::Model,
    follow_id: &Url,
) -> Result<(), Error> {
    let follow = WithContext::new(follow_of(follow_id, follower, followed));
    let inbox = [followed.inbox.0.clone()];
    enqueue(txn, &data.urls, &follow, None, true, inbox).await?;
    Ok(())
}

/// Answers a remote community's follow of a local one with `Accept` or `Reject` (`kind`).
pub async fn send_answer(
    txn: &impl ConnectionTrait,
    data: &Data,
    kind: &str,
    follower: &community::Model,
    followed: &community::Model,
    follow_id: &Url,
) -> Result<(), Error> {
    let mut follow = follow_of(follow_id, follower, followed);
    follow.to.clear();
    let answer = WithContext::new(AcceptFollow {
        id: data.urls.new_activity(kind),
        kind: kind.into(),
        actor: followed.ap_id.0.clone(),
        object: IdOr::Object(Box::new(follow)),
        to: vec![follower.ap_id.0.clone()],
    });
    let inbox = [follower.inbox.0.clone()];
    enqueue(txn, &data.urls, &answer, None, true, inbox).await?;
    Ok(())
}

/// Ends a local community's follow of a remote one: `Undo{Follow}`.
pub async fn send_undo(
    txn: &impl ConnectionTrait,
    data: &Data,
    follower: &community::Model,
    followed: &community::Model,
    follow_id: &Url,
) -> Result<(), Error> {
    let mut follow = follow_of(follow_id, follower, followed);
    follow.to.clear();
    let undo = WithContext::new(UndoFollow {
        id: data.urls.new_activity("Undo"),
        kind: "Undo".into(),
        actor: follower.ap_id.0.clone(),
        object: IdOr::Object(Box::new(follow)),
        to: vec![followed.ap_id.0.clone()],
    });
    let inbox = [followed.inbox.0.clone()];
    enqueue(txn, &data.urls, &undo, None, true, inbox).await?;
    Ok(())
}

/// A local community shares a partner's post with its followers: an `Announce` of the post by
/// its id, as a boost is, so that it shows with its own author and in its own community. Not
/// listed in the outbox (Lemmy reads only its own community's posts there). Returns the
/// `Announce`'s id.
pub async fn send_share(
    txn: &impl ConnectionTrait,
    data: &Data,
    sharer: &community::Model,
    shared: &post::Model,
) -> Result<Url, Error> {
    let id = data.urls.new_activity("Announce");
    let followers = data.urls.community_part(&sharer.name, "followers");
    let announce = WithContext::new(Announce {
        id: id.clone(),
        kind: "Announce".into(),
        actor: sharer.ap_id.0.clone(),
        object: Value::String(shared.ap_id.0.to_string()),
        audience: Audience::new(vec![public()], vec![followers]),
        published: Some(Utc::now()),
    });
    let inboxes = follower_inboxes(txn, sharer.id).await?;
    enqueue(txn, &data.urls, &announce, None, true, inboxes).await?;
    Ok(id)
}

/// A topic or event arrived from `from`: each local community that follows it and shares by
/// itself queues it for its coordinators (`queue`) or shares it at once (`auto`).
pub async fn offer(
    txn: &impl ConnectionTrait,
    data: &Data,
    from: &community::Model,
    shared: &post::Model,
) -> Result<(), Error> {
    use copse_entities::{partner_share::ShareStatus, partnership::ShareMode};
    if shared.topic_id.is_some() {
        return Ok(());
    }
    for p in crate::store::partners::sharing_from(txn, from).await? {
        if crate::store::partners::share_of(txn, p.follower_id, shared.id)
            .await?
            .is_some()
        {
            continue;
        }
        let Some(sharer) = community::Entity::find_by_id(p.follower_id)
            .one(txn)
            .await?
            .filter(|c| c.local)
        else {
            continue;
        };
        match p.share {
            ShareMode::Auto => {
                let id = send_share(txn, data, &sharer, shared).await?;
                let status = ShareStatus::Shared;
                crate::store::partners::record_share(
                    txn,
                    sharer.id,
                    shared.id,
                    status,
                    None,
                    Some(&id),
                )
                .await?;
            }
            ShareMode::Queue => {
                let status = ShareStatus::Queued;
                crate::store::partners::record_share(txn, sharer.id, shared.id, status, None, None)
                    .await?;
            }
            ShareMode::Off => {}
        }
    }
    Ok(())
}
