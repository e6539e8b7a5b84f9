//! Taking people out of events when they may no longer take part. Someone banned from a
//! community has their answers to its events still to come refused, and is told so; someone
//! whose account was deleted loses all their answers. Either way, places they held go to the
//! next people waiting.

use super::places::{promote, tell};
use crate::rules::participation::Outcome;
use crate::store::events::locked_event;
use crate::store::lookup::community_by_row_id;
use crate::{Data, Error};
use copse_entities::{
    community, event,
    event_participant::{self, ParticipantStatus},
    person, post,
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

/// The answers a person still has (anything but refused), with their events.
async fn answers_of(
    db: &impl ConnectionTrait,
    who: &person::Model,
) -> Result<Vec<(event_participant::Model, event::Model)>, Error> {
    let rows = event_participant::Entity::find()
        .filter(event_participant::Column::PersonId.eq(who.id))
        .filter(event_participant::Column::Status.ne(ParticipantStatus::Rejected))
        .all(db)
        .await?;
    let events: std::collections::HashMap<i64, event::Model> = event::Entity::find()
        .filter(event::Column::PostId.is_in(rows.iter().map(|r| r.event_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|e| (e.post_id, e))
        .collect();
    Ok(rows
        .into_iter()
        .filter_map(|r| events.get(&r.event_id).cloned().map(|e| (r, e)))
        .collect())
}

async fn post_of(db: &impl ConnectionTrait, e: &event::Model) -> Result<post::Model, Error> {
    post::Entity::find_by_id(e.post_id)
        .one(db)
        .await?
        .ok_or(Error::NotFound)
}

/// A ban applies to taking part too: the banned person's answers to the community's events
/// still to come are refused (a `Reject` of their `Join`, or a direct note), and the places
/// they held go to the next people waiting.
pub async fn refuse_banned(
    txn: &impl ConnectionTrait,
    data: &Data,
    c: &community::Model,
    who: &person::Model,
) -> Result<(), Error> {
    if !c.local {
        return Ok(());
    }
    let now = data.clock.now();
    for (row, e) in answers_of(txn, who).await? {
        if e.community_id != c.id || e.ends_at <= now {
            continue;
        }
        let p = post_of(txn, &e).await?;
        let mut e = locked_event(txn, e.post_id).await?;
        event_participant::Entity::update(event_participant::ActiveModel {
            id: Set(row.id),
            status: Set(ParticipantStatus::Rejected),
            ..Default::default()
        })
        .exec(txn)
        .await?;
        if p.visible() {
            let why = Outcome::Refused(format!("You are banned from {}.", c.title));
            let join = row.join_ap_id.as_ref().map(|j| j.0.clone());
            tell(txn, data, c, &p, &e, who, join.as_ref(), &why, None).await?;
        }
        if row.status == ParticipantStatus::Going {
            promote(txn, data, c, &p, &mut e).await?;
        }
    }
    Ok(())
}

/// Someone's account was deleted: all their answers go, and places they held in events still
/// to come here go to the next people waiting.
pub async fn withdraw_everywhere(
    txn: &impl ConnectionTrait,
    data: &Data,
    who: &person::Model,
) -> Result<(), Error> {
    let now = data.clock.now();
    for (row, e) in answers_of(txn, who).await? {
        event_participant::Entity::delete_by_id(row.id)
            .exec(txn)
            .await?;
        if row.status != ParticipantStatus::Going || e.ends_at <= now {
            continue;
        }
        let c = community_by_row_id(txn, e.community_id).await?;
        if c.local {
            let p = post_of(txn, &e).await?;
            let mut e = locked_event(txn, e.post_id).await?;
            promote(txn, data, &c, &p, &mut e).await?;
        }
    }
    // Refused answers too: nothing of theirs stays.
    event_participant::Entity::delete_many()
        .filter(event_participant::Column::PersonId.eq(who.id))
        .exec(txn)
        .await?;
    Ok(())
}
