//! Which post an activity we send is about, so that what is gone is gone from every route: an
//! activity about a deleted or removed post is left out of the outbox, and one served at its id
//! embeds the post as it is now.

use crate::Error;
use copse_entities::{post, DbUrl};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use serde_json::Value;

/// How deep `object`s nest in what we send: `Announce{Undo{Like{post}}}` is the deepest.
const DEPTH: usize = 3;

/// The ids along an activity's `object` chain, innermost first: each `object` given by id, or
/// embedded with an `id`.
pub fn object_ids(activity: &Value) -> Vec<&str> {
    let mut ids = Vec::new();
    let mut node = activity;
    for _ in 0..DEPTH {
        match node.get("object") {
            Some(Value::String(id)) => {
                ids.push(id.as_str());
                break;
            }
            Some(o @ Value::Object(_)) => {
                if let Some(id) = o.get("id").and_then(Value::as_str) {
                    ids.push(id);
                }
                node = o;
            }
            _ => break,
        }
    }
    ids.reverse();
    ids
}

/// The row id of the stored post an activity is about: the innermost object that is one.
pub async fn post_about(db: &impl ConnectionTrait, activity: &Value) -> Result<Option<i64>, Error> {
    let ids = object_ids(activity);
    if ids.is_empty() {
        return Ok(None);
    }
    let found: Vec<(i64, DbUrl)> = post::Entity::find()
        .select_only()
        .column(post::Column::Id)
        .column(post::Column::ApId)
        .filter(post::Column::ApId.is_in(ids.iter().map(|s| s.to_string())))
        .into_tuple()
        .all(db)
        .await?;
    Ok(ids.iter().find_map(|id| {
        found
            .iter()
            .find(|(_, u)| u.as_str() == *id)
            .map(|(n, _)| *n)
    }))
}

/// Replaces the post with id `ap_id` wherever it is embedded along the `object` chain with
/// `current` (its present form, or its tombstone). A post given by id only stays as it is.
pub fn embed_current(activity: &mut Value, ap_id: &str, current: &Value) {
    let mut node = activity;
    for _ in 0..DEPTH {
        let Some(object) = node.get_mut("object") else {
            return;
        };
        if !object.is_object() {
            return;
        }
        if object.get("id").and_then(Value::as_str) == Some(ap_id) {
            *object = current.clone();
            return;
        }
        node = object;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_innermost_object_comes_first_and_is_the_one_replaced() {
        let mut announce = json!({
            "id": "https://c.example/activities/announce/1", "type": "Announce",
            "object": {
                "id": "https://c.example/activities/create/1", "type": "Create",
                "object": { "id": "https://c.example/post/1", "type": "Note", "content": "old" }
            }
        });
        assert_eq!(
            object_ids(&announce),
            [
                "https://c.example/post/1",
                "https://c.example/activities/create/1"
            ]
        );
        let tomb = json!({ "id": "https://c.example/post/1", "type": "Tombstone" });
        embed_current(&mut announce, "https://c.example/post/1", &tomb);
        assert_eq!(announce["object"]["object"], tomb);
        let like = json!({ "type": "Like", "object": "https://c.example/post/2" });
        assert_eq!(object_ids(&like), ["https://c.example/post/2"]);
    }
}
