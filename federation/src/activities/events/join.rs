//! `Join`, `Leave` and `Undo{Join}` of a local event, from any server.

use super::participation::{admit, tell, withdraw};
use crate::activities::receive::require_signer;

use crate::activities::{commit_and_wake, receive::ignore_now};
use crate::store::events::{local_event, locked_event};

use crate::objects::text::text_of;
use crate::{
    fetch::{cached_actor, ActorRef},
    html::sanitize_html,
    protocol::Join,
    queue::inbox::mark_done,
    Data, Error,
};
use copse_entities::{
    event_participant::{self},
    person, post, received_activity, DbUrl,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::Value;
use url::Url;

async fn signer(
    data: &Data,
    row: &received_activity::Model,
    actor: &Url,
) -> Result<person::Model, Error> {
    require_signer(row, actor, "Join or Leave")?;
    match cached_actor(&data.db, actor).await? {
        Some(ActorRef::Person(p)) => Ok(p),
        _ => Err(Error::InvalidActivity(
            "only people take part in events".into(),
        )),
    }
}

/// `Join{Event}` from anywhere: answered with `Accept` or `Reject` by the join mode and the
/// places left; when full, the person waits (no answer yet) and is accepted in turn.
pub async fn receive_join(
    data: &Data,
    row: &received_activity::Model,
    join: Join,
) -> Result<(), Error> {
    let who = signer(data, row, &join.actor).await?;
    let Some((p, _, c)) = local_event(&data.db, &join.object).await? else {
        return ignore_now(data, row, "a Join of nothing we hold").await;
    };
    let message = join.participation_message.as_deref().map(|m| {
        text_of(&sanitize_html(m))
            .chars()
            .take(1000)
            .collect::<String>()
    });
    let txn = crate::context::begin(&data.db).await?;
    let mut e = locked_event(&txn, p.id).await?;
    let outcome = admit(&txn, data, &c, &mut e, &who, Some(&join.id), message, false).await?;
    tell(&txn, data, &c, &p, &e, &who, Some(&join.id), &outcome, None).await?;
    mark_done(&txn, row.id).await?;
    commit_and_wake(data, txn).await
}

/// `Leave{Event}` (or `Undo{Join}`, whose embedded join names the event).
pub async fn receive_leave(
    data: &Data,
    row: &received_activity::Model,
    leave: Join,
) -> Result<(), Error> {
    let who = signer(data, row, &leave.actor).await?;
    let Some((p, _, c)) = local_event(&data.db, &leave.object).await? else {
        return ignore_now(data, row, "a Leave of nothing we hold").await;
    };
    let txn = crate::context::begin(&data.db).await?;
    let mut e = locked_event(&txn, p.id).await?;
    withdraw(&txn, data, &c, &p, &mut e, &who).await?;
    mark_done(&txn, row.id).await?;
    commit_and_wake(data, txn).await
}

/// `Undo{Join}`: with the join embedded it names the event; by id, the stored join does.
pub async fn receive_undo_join(
    data: &Data,
    row: &received_activity::Model,
    actor: &Url,
    object: &Value,
) -> Result<(), Error> {
    if let Ok(mut join) = serde_json::from_value::<Join>(object.clone()) {
        join.kind = "Leave".into();
        return receive_leave(data, row, join).await;
    }
    let Some(id) = object.as_str().and_then(|s| Url::parse(s).ok()) else {
        return Err(Error::InvalidActivity("Undo of no Join".into()));
    };
    let stored = event_participant::Entity::find()
        .filter(event_participant::Column::JoinApId.eq(DbUrl(id.clone())))
        .one(&data.db)
        .await?;
    let Some(stored) = stored else {
        return ignore_now(data, row, "an Undo of a Join not stored here").await;
    };
    let p = post::Entity::find_by_id(stored.event_id)
        .one(&data.db)
        .await?
        .ok_or(Error::NotFound)?;
    let leave = Join {
        id: id.clone(),
        kind: "Leave".into(),
        actor: actor.clone(),
        object: p.ap_id.0,
        participation_message: None,
        to: Vec::new(),
        cc: Vec::new(),
    };
    receive_leave(data, row, leave).await
}
