//! `Create{Note}`.

use super::{addressed_community, is_public, known_ancestor, verify_authorship};
use crate::activities::{
    commit_and_wake,
    receive::{ignore_now, received_json, signer_person},
};
use crate::outbox::announce::announce;
use crate::rules::posting::refusal;
use crate::store::lookup::community_by_row_id;
use crate::store::posts::{post_by_ap_id, store_post, topic_of};
use crate::{
    protocol::CreateNote,
    queue::inbox::{mark_done, mark_ignored},
    Data, Error,
};
use copse_entities::received_activity;
use serde_json::Value;

/// `Create{Note}` addressed to a local community: a new topic, a reply in a thread, or (sent
/// directly by a pending applicant) a reason for joining.
pub async fn receive_create(
    data: &Data,
    row: &received_activity::Model,
    create: CreateNote,
) -> Result<(), Error> {
    verify_authorship(row, &create.actor, &create.object)?;
    let author = signer_person(data, &create.actor).await?;
    let note = &create.object;
    let public = is_public(&[&note.to, &note.cc, &create.to, &create.cc]);
    if !public {
        let txn = crate::context::begin(&data.db).await?;
        if crate::activities::member_choices::take_reply(&txn, data, note, &author).await? {
            mark_done(&txn, row.id).await?;
        } else {
            mark_ignored(&txn, row.id, "only public notes become posts").await?;
        }
        // An applicant who agreed may have been admitted: wake the outbox.
        return commit_and_wake(data, txn).await;
    }
    let (community, parent) = match &note.in_reply_to {
        Some(reply_to) => {
            let Some(parent) = known_ancestor(data, reply_to).await? else {
                return ignore_now(data, row, "a reply to nothing in our communities").await;
            };
            let c = community_by_row_id(&data.db, parent.community_id).await?;
            if !c.local {
                return ignore_now(
                    data,
                    row,
                    "that community lives elsewhere and announces its own replies",
                )
                .await;
            }
            (c, Some(parent))
        }
        None => match addressed_community(&data.db, note, create.audience.as_ref()).await? {
            Some(c) => (c, None),
            None => return ignore_now(data, row, "not addressed to a community here").await,
        },
    };
    if let Some(p) = &parent {
        // Mastodon cannot send `Join`: a short "going" in reply to an event is the answer.
        if crate::activities::events::receive_reply_answer(data, row, note, &author, p).await? {
            return Ok(());
        }
    }
    let topic = match &parent {
        Some(p) => Some(topic_of(&data.db, p).await?),
        None => None,
    };
    if refusal(&data.db, &community, &author, topic.as_ref())
        .await?
        .is_some()
    {
        // What the author's server reads decides how they are told.
        crate::nodeinfo::learn(data, &author.ap_id.0).await;
    }
    let txn = crate::context::begin(&data.db).await?;
    if post_by_ap_id(&txn, &note.id).await?.is_some() {
        mark_ignored(&txn, row.id, "post already stored").await?;
        txn.commit().await?;
        return Ok(());
    }
    if let Some(why) = refusal(&txn, &community, &author, topic.as_ref()).await? {
        crate::activities::refusals::refuse(&txn, data, &community, &author, note, &why).await?;
        mark_done(&txn, row.id).await?;
        return commit_and_wake(data, txn).await;
    }
    store_post(&txn, community.id, author.id, note, parent.as_ref(), false).await?;
    let bare = parent.is_none().then(|| Value::String(note.id.to_string()));
    announce(&txn, data, &community, &received_json(row)?, bare, []).await?;
    mark_done(&txn, row.id).await?;
    commit_and_wake(data, txn).await
}
