//! A local post published: its `Create{Note}`, announced by its community or sent to it.

use super::announce::announce;
use crate::{
    objects::note_of,
    protocol::{CreateNote, WithContext},
    queue::{enqueue, Outgoing},
    Data, Error,
};
use chrono::Utc;
use copse_entities::{community, person, post};
use sea_orm::ConnectionTrait;
use url::Url;

/// A local post was published: `Create{Note}` by the author. In a local community it is
/// announced to every follower (a topic in both forms, a reply in the FEP-1b12 form only) and
/// sent to the author of the post it answers; in a remote one it goes to that community, which
/// announces it. Call inside the transaction that stored the post; wake the outbox after commit.
pub async fn post_published(
    txn: &impl ConnectionTrait,
    data: &Data,
    post: &post::Model,
    community: &community::Model,
    author: &person::Model,
    parent: Option<(&post::Model, &person::Model)>,
) -> Result<(), Error> {
    let note = note_of(post, community, author, parent.map(|(p, _)| &p.ap_id.0));
    let create = CreateNote {
        id: data.urls.new_activity("Create"),
        kind: "Create".into(),
        actor: author.ap_id.0.clone(),
        object: note.clone(),
        audience: note.audience.clone(),
        published: Some(Utc::now()),
    };
    let create = WithContext::new(create);
    // Mastodon shows a reply to its user only when the Create itself reaches them.
    let mut direct: Vec<Url> = parent
        .filter(|(_, a)| !a.local)
        .map(|(_, a)| a.shared_inbox.clone().unwrap_or_else(|| a.inbox.clone()).0)
        .into_iter()
        .collect();
    if !community.local {
        direct.push(community.inbox.0.clone());
    }
    enqueue(txn, &data.urls, &create, None, true, direct).await?;
    if community.local {
        let bare = match parent {
            None => Some(serde_json::to_value(&note)?),
            Some(_) => None,
        };
        announce(txn, data, community, &create.to_json()?, bare, []).await?;
    }
    Ok(())
}
