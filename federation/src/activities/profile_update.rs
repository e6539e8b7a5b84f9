//! A person changes their profile: `Update{Person}` (Mastodon, GoToSocial, Lemmy and Copse send
//! it to the servers that know the person). The embedded actor is the signer itself, on its
//! origin (checked at intake), so it is stored as a refetch would store it: name, display name,
//! bio (sanitised), avatar, inbox, `discoverable`; never the key, which only a signature proves.
//! A community's own `Update{Group}` (Copse, Mastodon-style) is stored the same way: title,
//! summary, policy and the community it sits under. Lemmy's form, by a moderator, is left to the
//! daily refetch.

use super::receive::{ignore, require_signer, Applied, Receive, Verified};
use crate::{
    fetch::{cached_actor, upsert_actor, ActorRef},
    protocol::AnyActor,
    Data, Error,
};
use async_trait::async_trait;
use copse_entities::received_activity;
use sea_orm::DatabaseTransaction;
use serde_json::Value;

/// An `Update` whose object is a person-like actor.
pub async fn verify_person_update(
    data: &Data,
    row: &received_activity::Model,
    json: Value,
) -> Result<Verified, Error> {
    let actor = json
        .get("actor")
        .cloned()
        .and_then(|a| crate::protocol::first_id(a).ok())
        .ok_or_else(|| Error::InvalidActivity("Update without an actor".into()))?;
    require_signer(row, &actor, "Update")?;
    let object = json.get("object").cloned().unwrap_or(Value::Null);
    let person = match AnyActor::from_json(object)? {
        AnyActor::Person(person) => person,
        AnyActor::Group(group) => return verify_group(data, &actor, *group).await,
    };
    if person.id != actor {
        return Err(Error::InvalidActivity(
            "a person updates only their own profile".into(),
        ));
    }
    match cached_actor(&data.db, &actor).await? {
        Some(ActorRef::Person(p)) if p.local => Err(Error::InvalidActivity(
            "a local person's profile changes here".into(),
        )),
        Some(ActorRef::Person(p)) if p.deleted_at.is_some() => ignore("the account was deleted"),
        Some(ActorRef::Person(_)) => Verified::apply(NewProfile(AnyActor::Person(person))),
        _ => ignore("an unknown person's profile is not kept"),
    }
}

/// A community's own `Update{Group}`: stored when it is a remote community this server knows.
async fn verify_group(
    data: &Data,
    actor: &url::Url,
    group: crate::protocol::Group,
) -> Result<Verified, Error> {
    if &group.id != actor {
        return ignore("a community's settings are read again when it is next fetched");
    }
    match cached_actor(&data.db, actor).await? {
        Some(ActorRef::Community(c)) if c.local => Err(Error::InvalidActivity(
            "a local community's settings change here".into(),
        )),
        Some(ActorRef::Community(_)) => {
            Verified::apply(NewProfile(AnyActor::Group(Box::new(group))))
        }
        _ => ignore("an unknown community's settings are not kept"),
    }
}

/// The profile to store.
struct NewProfile(AnyActor);

#[async_trait]
impl Receive for NewProfile {
    async fn receive(
        self: Box<Self>,
        _data: &Data,
        _row: &received_activity::Model,
        txn: &DatabaseTransaction,
    ) -> Result<Applied, Error> {
        upsert_actor(txn, &self.0).await?;
        Ok(Applied::Done)
    }
}
