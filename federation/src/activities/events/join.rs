//! `Join`, `Leave` and `Undo{Join}` of a local event, from any server.

use crate::activities::receive::{ignore, require_signer, Applied, Receive, Verified};
use crate::rules::places::{admit, tell, withdraw};
use crate::store::events::{local_event, locked_event};
use async_trait::async_trait;

use crate::objects::text::text_of;
use crate::{
    fetch::{cached_actor, ActorRef},
    html::sanitize_html,
    protocol::Join,
    Data, Error,
};
use copse_entities::{
    community,
    event_participant::{self},
    person, post, received_activity, DbUrl,
};
use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter};
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
pub async fn verify_join(
    data: &Data,
    row: &received_activity::Model,
    join: Join,
) -> Result<Verified, Error> {
    let who = signer(data, row, &join.actor).await?;
    let Some((event, _, community)) = local_event(&data.db, &join.object).await? else {
        return ignore("a Join of nothing we hold");
    };
    let message = join.participation_message.as_deref().map(|m| {
        text_of(&sanitize_html(m))
            .chars()
            .take(1000)
            .collect::<String>()
    });
    Verified::apply(Answer {
        who,
        event,
        community,
        join: Some((join.id, message)),
    })
}

/// `Leave{Event}` (or `Undo{Join}`, whose embedded join names the event).
pub async fn verify_leave(
    data: &Data,
    row: &received_activity::Model,
    leave: Join,
) -> Result<Verified, Error> {
    let who = signer(data, row, &leave.actor).await?;
    let Some((event, _, community)) = local_event(&data.db, &leave.object).await? else {
        return ignore("a Leave of nothing we hold");
    };
    Verified::apply(Answer {
        who,
        event,
        community,
        join: None,
    })
}

/// A checked `Join` (with its id and message) or `Leave` of a local event.
struct Answer {
    who: person::Model,
    event: post::Model,
    community: community::Model,
    join: Option<(url::Url, Option<String>)>,
}

#[async_trait]
impl Receive for Answer {
    async fn receive(
        self: Box<Self>,
        data: &Data,
        _: &received_activity::Model,
        txn: &DatabaseTransaction,
    ) -> Result<Applied, Error> {
        let (p, c, who) = (&self.event, &self.community, &self.who);
        let mut e = locked_event(txn, p.id).await?;
        match self.join {
            Some((id, message)) => {
                let outcome = admit(txn, data, c, &mut e, who, Some(&id), message, false).await?;
                tell(txn, data, c, p, &e, who, Some(&id), &outcome, None).await?;
            }
            None => {
                withdraw(txn, data, c, p, &mut e, who).await?;
            }
        }
        Ok(Applied::Done)
    }
}

/// `Undo{Join}`: with the join embedded it names the event; by id, the stored join does.
pub async fn verify_undo_join(
    data: &Data,
    row: &received_activity::Model,
    actor: &Url,
    object: &Value,
) -> Result<Verified, Error> {
    if let Ok(mut join) = serde_json::from_value::<Join>(object.clone()) {
        join.kind = "Leave".into();
        return verify_leave(data, row, join).await;
    }
    let Some(id) = object.as_str().and_then(|s| Url::parse(s).ok()) else {
        return Err(Error::InvalidActivity("Undo of no Join".into()));
    };
    let stored = event_participant::Entity::find()
        .filter(event_participant::Column::JoinApId.eq(DbUrl(id.clone())))
        .one(&data.db)
        .await?;
    let Some(stored) = stored else {
        return ignore("an Undo of a Join not stored here");
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
        to: Vec::new(),
        cc: Vec::new(),
        published: None,
        participation_message: None,
    };
    verify_leave(data, row, leave).await
}
