//! Activities, named as the verbs they carry.

use super::{first_id, one_or_many, Audience, IdOr, Note};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

/// `Follow`: a person asks to follow (join) a community.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Follow {
    /// Activity id.
    pub id: Url,
    /// `Follow`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Who follows.
    #[serde(deserialize_with = "first_id")]
    pub actor: Url,
    /// Whom.
    #[serde(deserialize_with = "first_id")]
    pub object: Url,
    /// Addressing (Lemmy sends `to`).
    // Not an `Audience`: a follow carries no `cc` and its `to` only when there is one, and
    // `Audience` always writes both.
    #[serde(
        default,
        deserialize_with = "one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub to: Vec<Url>,
}

/// `Accept{Follow}`. The Follow is embedded with plain URLs: Lemmy rejects an embedded Follow
/// that carries whole actor objects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AcceptFollow {
    /// Activity id.
    pub id: Url,
    /// `Accept`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The community.
    #[serde(deserialize_with = "first_id")]
    pub actor: Url,
    /// The follow accepted (some servers send only its id).
    pub object: IdOr<Follow>,
    /// The follower.
    // Not an `Audience`, as in `Follow`: no `cc`, and `to` only when there is one.
    #[serde(
        default,
        deserialize_with = "one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub to: Vec<Url>,
}

/// `Undo{Follow}`: leave.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UndoFollow {
    /// Activity id.
    pub id: Url,
    /// `Undo`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Who leaves.
    #[serde(deserialize_with = "first_id")]
    pub actor: Url,
    /// The follow undone.
    pub object: IdOr<Follow>,
    /// Addressing.
    // Not an `Audience`, as in `Follow`: no `cc`, and `to` only when there is one.
    #[serde(
        default,
        deserialize_with = "one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub to: Vec<Url>,
}

/// `Create` (or `Update`) of a post.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateNote {
    /// Activity id.
    pub id: Url,
    /// `Create` or `Update`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The author.
    #[serde(deserialize_with = "first_id")]
    pub actor: Url,
    /// The post.
    pub object: Note,
    /// `to`, `cc` and the group.
    #[serde(flatten)]
    pub audience: Audience,
    /// When it was sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<DateTime<Utc>>,
}

/// `Announce`: a group relays an activity (FEP-1b12) or, for microblog readers, a bare object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Announce {
    /// Activity id.
    pub id: Url,
    /// `Announce`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The group.
    #[serde(deserialize_with = "first_id")]
    pub actor: Url,
    /// What is announced: an activity, an object, or the id of either.
    pub object: Value,
    /// `to` and `cc`.
    #[serde(flatten)]
    pub audience: Audience,
    /// When it was sent: GoToSocial warns without it.
    #[serde(default)]
    pub published: Option<DateTime<Utc>>,
}

/// The fields every incoming activity must have, read before it is dispatched by type.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Envelope {
    /// Activity id.
    pub id: Url,
    /// Activity type.
    #[serde(rename = "type")]
    pub kind: String,
    /// Who sent it.
    #[serde(deserialize_with = "first_id")]
    pub actor: Url,
}

/// `Block` of a person from a community (a ban), as Lemmy sends it: `target` is the community,
/// `endTime` ends a temporary ban.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Block {
    /// Activity id.
    pub id: Url,
    /// `Block`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The moderator.
    #[serde(deserialize_with = "first_id")]
    pub actor: Url,
    /// The person banned.
    #[serde(deserialize_with = "first_id")]
    pub object: Url,
    /// The community.
    #[serde(deserialize_with = "first_id")]
    pub target: Url,
    /// The reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// When the ban ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<DateTime<Utc>>,
    /// Whether the person's content was removed too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remove_data: Option<bool>,
    /// `to`, `cc` and the group.
    #[serde(flatten)]
    pub audience: Audience,
}

/// `Add` or `Remove` of an object to or from a collection: a moderator to `moderators`, a
/// member to `members`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddRemove {
    /// Activity id.
    pub id: Url,
    /// `Add` or `Remove`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Who changes the collection.
    #[serde(deserialize_with = "first_id")]
    pub actor: Url,
    /// What is added or removed.
    #[serde(deserialize_with = "first_id")]
    pub object: Url,
    /// The collection.
    #[serde(deserialize_with = "first_id")]
    pub target: Url,
    /// `to`, `cc` and the group.
    #[serde(flatten)]
    pub audience: Audience,
}

/// `Invite` of a person to a community (Mobilizon's shape: `object` the group, `target` the
/// invitee).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Invite {
    /// Activity id.
    pub id: Url,
    /// `Invite`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Who invites (the community).
    #[serde(deserialize_with = "first_id")]
    pub actor: Url,
    /// The community.
    #[serde(deserialize_with = "first_id")]
    pub object: Url,
    /// The invitee.
    #[serde(deserialize_with = "first_id")]
    pub target: Url,
    /// Addressing.
    // Not an `Audience`: an invitation goes to the invitee alone and carries no `cc`, which
    // `Audience` would write as an empty list.
    #[serde(default, deserialize_with = "one_or_many")]
    pub to: Vec<Url>,
}

/// `Undo` of another activity, embedded: any JSON when received, the typed activity when sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Undo<T = Value> {
    /// Activity id.
    pub id: Url,
    /// `Undo`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Who undoes.
    #[serde(deserialize_with = "first_id")]
    pub actor: Url,
    /// The activity undone.
    pub object: T,
    /// `to` and `cc`.
    #[serde(flatten)]
    pub audience: Audience,
}

/// An activity named again inside another (the reaction an `Undo` takes back): its id, type,
/// actor and object, as plain URLs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActivityRef {
    /// Activity id.
    pub id: Url,
    /// Its type.
    #[serde(rename = "type")]
    pub kind: String,
    /// Who sent it.
    #[serde(deserialize_with = "first_id")]
    pub actor: Url,
    /// What it was about.
    #[serde(deserialize_with = "first_id")]
    pub object: Url,
}

/// `Delete`, `Like`, `EmojiReact`, `Lock`, `Flag`: an activity about objects named by id.
///
/// `object` is read as an id, an embedded object with an id (Mastodon's `Tombstone`), or a
/// list of either (a `Flag` names a person and their posts); one id is sent as a plain URL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectActivity {
    /// Activity id.
    pub id: Url,
    /// The activity type.
    #[serde(rename = "type")]
    pub kind: String,
    /// Who acts.
    #[serde(deserialize_with = "first_id")]
    pub actor: Url,
    /// The objects acted upon.
    #[serde(deserialize_with = "ids", serialize_with = "serialize_ids")]
    pub object: Vec<Url>,
    /// The emoji of an `EmojiReact`, or a report's text (Mastodon).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// A reason (Lemmy puts a removal's or a report's reason here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Custom emoji of an `EmojiReact`.
    #[serde(
        default,
        deserialize_with = "one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub tag: Vec<Value>,
    /// `to`, `cc` and the group.
    #[serde(flatten)]
    pub audience: Audience,
    /// When it was sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<DateTime<Utc>>,
}

fn ids<'de, D>(d: D) -> Result<Vec<Url>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    fn collect(v: &Value, out: &mut Vec<Url>) {
        match v {
            Value::String(s) => out.extend(Url::parse(s).ok()),
            Value::Object(o) => out.extend(
                o.get("id")
                    .and_then(Value::as_str)
                    .and_then(|s| Url::parse(s).ok()),
            ),
            Value::Array(a) => a.iter().for_each(|v| collect(v, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    collect(&Value::deserialize(d)?, &mut out);
    if out.is_empty() {
        return Err(serde::de::Error::custom("object names no id"));
    }
    Ok(out)
}

fn serialize_ids<S>(ids: &[Url], s: S) -> Result<S::Ok, S::Error>
where
    S: serde::Serializer,
{
    match ids {
        [one] => one.serialize(s),
        many => many.serialize(s),
    }
}

/// `Update` of an actor document (`Group` or `Person`): by the actor itself for Mastodon, which
/// applies an actor's `Update` only when `actor` is the object; by a coordinator, announced,
/// for Lemmy, which takes a community's `Update` only from a person who moderates it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpdateActor<T> {
    /// Activity id.
    pub id: Url,
    /// `Update`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Who sends it.
    #[serde(deserialize_with = "first_id")]
    pub actor: Url,
    /// The actor document as it is now.
    pub object: T,
    /// `to`, `cc` and, for a community's update, the group.
    #[serde(flatten)]
    pub audience: Audience,
    /// When it was sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<DateTime<Utc>>,
}

/// A `Delete` we send of an object given whole (the Group's deletion of an event embeds its
/// `Tombstone`) or by id; serialised as an [`ObjectActivity`] without content, summary or tag.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeleteObject {
    /// Activity id.
    pub id: Url,
    /// `Delete`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Who deletes.
    pub actor: Url,
    /// The tombstone, or the id of what is deleted.
    pub object: Value,
    /// `to`, `cc` and the group.
    #[serde(flatten)]
    pub audience: Audience,
    /// When it was sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published: Option<DateTime<Utc>>,
}
