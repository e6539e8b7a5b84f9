//! `Accept` or `Reject` of a `Join` one of our people sent to a remote event.

use crate::activities::receive::{ignore, require_signer, Applied, Receive, Verified};
use crate::store::lookup::community_by_row_id;
use crate::{
    protocol::{same_origin, JoinAnswer},
    Data, Error,
};
use async_trait::async_trait;
use copse_entities::{
    event_participant::{self, ParticipantStatus},
    post, received_activity, DbUrl,
};
use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, Set};

/// The holder of a remote event answered one of our people's `Join`.
pub async fn verify_join_answer(
    data: &Data,
    row: &received_activity::Model,
    answer: JoinAnswer,
) -> Result<Verified, Error> {
    require_signer(row, &answer.actor, "Accept or Reject")?;
    let stored = event_participant::Entity::find()
        .filter(event_participant::Column::JoinApId.eq(DbUrl(answer.join_id().clone())))
        .one(&data.db)
        .await?;
    let Some(stored) = stored else {
        return ignore("an answer to a Join not sent from here");
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
    Verified::apply(JoinAnswered {
        participant: stored.id,
        status,
    })
}

/// A checked answer: the participant row and its new status.
struct JoinAnswered {
    participant: i64,
    status: ParticipantStatus,
}

#[async_trait]
impl Receive for JoinAnswered {
    async fn receive(
        self: Box<Self>,
        _: &Data,
        _: &received_activity::Model,
        txn: &DatabaseTransaction,
    ) -> Result<Applied, Error> {
        event_participant::Entity::update(event_participant::ActiveModel {
            id: Set(self.participant),
            status: Set(self.status),
            ..Default::default()
        })
        .exec(txn)
        .await?;
        Ok(Applied::Done)
    }
}
