//! `Accept` or `Reject` of a `Join` one of our people sent to a remote event.

use crate::activities::receive::ignore_now;
use crate::activities::receive::require_signer;

use crate::store::lookup::community_by_row_id;
use crate::{
    protocol::{same_origin, JoinAnswer},
    queue::inbox::mark_done,
    Data, Error,
};
use copse_entities::{
    event_participant::{self, ParticipantStatus},
    post, received_activity, DbUrl,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};

/// The holder of a remote event answered one of our people's `Join`.
pub async fn receive_join_answer(
    data: &Data,
    row: &received_activity::Model,
    answer: JoinAnswer,
) -> Result<(), Error> {
    require_signer(row, &answer.actor, "Accept or Reject")?;
    let stored = event_participant::Entity::find()
        .filter(event_participant::Column::JoinApId.eq(DbUrl(answer.object.clone())))
        .one(&data.db)
        .await?;
    let Some(stored) = stored else {
        return ignore_now(data, row, "an answer to a Join not sent from here").await;
    };
    let p = post::Entity::find_by_id(stored.event_id)
        .one(&data.db)
        .await?
        .ok_or(Error::NotFound)?;
    let c = community_by_row_id(&data.db, p.community_id).await?;
    if c.local || !(answer.actor == c.ap_id.0 || same_origin(&answer.actor, &p.ap_id.0)) {
        return Err(Error::Forbidden(
            "only the event's own server answers a Join".into(),
        ));
    }
    let status = if answer.kind == "Accept" {
        ParticipantStatus::Going
    } else {
        ParticipantStatus::Rejected
    };
    let txn = crate::context::begin(&data.db).await?;
    event_participant::Entity::update(event_participant::ActiveModel {
        id: Set(stored.id),
        status: Set(status),
        ..Default::default()
    })
    .exec(&txn)
    .await?;
    mark_done(&txn, row.id).await?;
    txn.commit().await?;
    Ok(())
}
