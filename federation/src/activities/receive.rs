//! The receive seam and what every received activity's handler needs.
//!
//! Each received activity is handled in two steps. `verify` checks it (signer, origin,
//! authorship, roles) and may fetch, outside any transaction; it answers [`Verified`]: apply
//! these effects, or ignore the activity and say why. The effects ([`Receive`]) then run inside
//! the transaction the inbox worker opened, which marks the row done or ignored and commits, so
//! an activity's effects and its mark land together or not at all.

use crate::protocol::ObjectActivity;
use crate::store::{lookup::community_by_row_id, members::active_ban, posts::post_by_ap_id};
use crate::{
    fetch::{cached_actor, ActorRef},
    Data, Error,
};
use async_trait::async_trait;
use copse_entities::{community, person, post, received_activity};
use sea_orm::DatabaseTransaction;
use serde_json::Value;
use std::borrow::Cow;
use url::Url;

/// The stored activity, as received.
pub fn received_json(row: &received_activity::Model) -> Result<Value, Error> {
    Ok(serde_json::from_str(&row.data)?)
}

/// What `verify` found about a received activity.
pub enum Verified {
    /// Checked: apply these effects in the worker's transaction.
    Apply(Box<dyn Receive>),
    /// Nothing to apply; the row is marked ignored with the reason.
    Ignore(Cow<'static, str>),
}

impl Verified {
    /// Effects to apply.
    pub fn apply(effects: impl Receive + 'static) -> Result<Verified, Error> {
        Ok(Verified::Apply(Box::new(effects)))
    }
}

/// What applying an activity's effects came to.
pub enum Applied {
    /// Applied: the row is marked done.
    Done,
    /// Found, inside the transaction, to change nothing: the row is marked ignored with the
    /// reason.
    Ignored(Cow<'static, str>),
}

/// The effects of a verified activity, applied inside the worker's transaction.
#[async_trait]
pub trait Receive: Send {
    /// Applies the effects; `row` is the stored activity (its JSON is what gets announced).
    async fn receive(
        self: Box<Self>,
        data: &Data,
        row: &received_activity::Model,
        txn: &DatabaseTransaction,
    ) -> Result<Applied, Error>;
}

/// An activity that needs nothing applied, and why.
pub fn ignore(why: impl Into<Cow<'static, str>>) -> Result<Verified, Error> {
    Ok(Verified::Ignore(why.into()))
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
