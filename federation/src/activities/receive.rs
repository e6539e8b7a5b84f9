//! What every received activity's handler needs: the stored activity, its signer as a person,
//! the checks of a person acting on a stored post, and marking it ignored.

use crate::protocol::ObjectActivity;
use crate::store::{lookup::community_by_row_id, members::active_ban, posts::post_by_ap_id};
use crate::{
    fetch::{cached_actor, ActorRef},
    queue::inbox::mark_ignored,
    Data, Error,
};
use copse_entities::{community, person, post, received_activity};
use serde_json::Value;
use url::Url;

/// The stored activity, as received.
pub fn received_json(row: &received_activity::Model) -> Result<Value, Error> {
    Ok(serde_json::from_str(&row.data)?)
}

/// Marks a received activity ignored, saying why, in a transaction of its own.
pub async fn ignore(data: &Data, row: &received_activity::Model, why: &str) -> Result<(), Error> {
    let txn = crate::context::begin(&data.db).await?;
    mark_ignored(&txn, row.id, why).await?;
    txn.commit().await?;
    Ok(())
}

/// Refuses an activity whose `actor` is not the key that signed it; `what` names the activity
/// in the error ("Follow", "Undo").
pub fn require_signer(
    row: &received_activity::Model,
    actor: &Url,
    what: &str,
) -> Result<(), Error> {
    if actor != &row.actor.0 {
        return Err(Error::InvalidActivity(format!(
            "{what} actor is not the signer"
        )));
    }
    Ok(())
}

/// The person who signed an activity; anything else is refused.
pub async fn signer_person(data: &Data, actor: &Url) -> Result<person::Model, Error> {
    match cached_actor(&data.db, actor).await? {
        Some(ActorRef::Person(p)) => Ok(p),
        _ => Err(Error::InvalidActivity(
            "only people post, edit and react".into(),
        )),
    }
}

/// A person's activity about a stored post (a reaction, a vote), checked: the signer is its
/// actor, a person, not banned from the post's community.
pub struct OnPost {
    /// Who acts.
    pub person: person::Model,
    /// The post acted on.
    pub post: post::Model,
    /// The post's community.
    pub community: community::Model,
}

/// Checks a person's `act` about one post; `None` when the post is not stored here. `what`
/// names the activity in the errors ("reaction", "Dislike").
pub async fn person_on_post(
    data: &Data,
    row: &received_activity::Model,
    act: &ObjectActivity,
    what: &str,
) -> Result<Option<OnPost>, Error> {
    require_signer(row, &act.actor, what)?;
    let person = signer_person(data, &act.actor).await?;
    let Some(target) = act.object.first() else {
        return Err(Error::InvalidActivity(format!("{what} of nothing")));
    };
    let Some(post) = post_by_ap_id(&data.db, target).await? else {
        return Ok(None);
    };
    let community = community_by_row_id(&data.db, post.community_id).await?;
    if active_ban(&data.db, community.id, person.id)
        .await?
        .is_some()
    {
        return Err(Error::Forbidden("banned from the community".into()));
    }
    Ok(Some(OnPost {
        person,
        post,
        community,
    }))
}
