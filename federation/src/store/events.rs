//! Events and their participants as rows: the event locked while an answer is decided, the
//! people by status, counts, and a person's standing.

use crate::store::lookup::community_by_row_id;
use crate::store::posts::post_by_ap_id;
use crate::Error;
use copse_entities::{
    community,
    event::{self},
    event_participant::{self, ParticipantStatus},
    person, post, DbUrl,
};
use sea_orm::{
    sea_query::Expr, ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, ConnectionTrait,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use url::Url;

/// The event details of a post, if it is an event.
pub async fn event_of_post(
    db: &impl ConnectionTrait,
    post_id: i64,
) -> Result<Option<event::Model>, Error> {
    Ok(event::Entity::find_by_id(post_id).one(db).await?)
}

/// The event row, locked until the transaction ends, so that answers to one event are
/// decided one at a time (two people never take the last place, and counts never go stale).
/// SQLite's write transactions are already serial.
pub async fn locked_event(db: &impl ConnectionTrait, post_id: i64) -> Result<event::Model, Error> {
    event::Entity::find_by_id(post_id)
        .lock_exclusive()
        .one(db)
        .await?
        .ok_or(Error::NotFound)
}

/// People with one of `statuses`, in arrival order.
pub async fn participants(
    db: &impl ConnectionTrait,
    event_id: i64,
    statuses: &[ParticipantStatus],
) -> Result<Vec<(event_participant::Model, person::Model)>, Error> {
    let rows = event_participant::Entity::find()
        .filter(event_participant::Column::EventId.eq(event_id))
        .filter(event_participant::Column::Status.is_in(statuses.iter().copied()))
        .order_by_asc(event_participant::Column::Id)
        .all(db)
        .await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.person_id).collect();
    let people: std::collections::HashMap<i64, person::Model> = person::Entity::find()
        .filter(person::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    Ok(rows
        .into_iter()
        .filter_map(|r| people.get(&r.person_id).cloned().map(|p| (r, p)))
        .collect())
}

/// A person's answer to an event, if they gave one.
pub async fn participant(
    db: &impl ConnectionTrait,
    event_id: i64,
    person_id: i64,
) -> Result<Option<event_participant::Model>, Error> {
    Ok(event_participant::Entity::find()
        .filter(event_participant::Column::EventId.eq(event_id))
        .filter(event_participant::Column::PersonId.eq(person_id))
        .one(db)
        .await?)
}

/// How many people have `status` for an event.
pub async fn count_with(
    db: &impl ConnectionTrait,
    event_id: i64,
    status: ParticipantStatus,
) -> Result<i32, Error> {
    let n = event_participant::Entity::find()
        .filter(event_participant::Column::EventId.eq(event_id))
        .filter(event_participant::Column::Status.eq(status))
        .count(db)
        .await?;
    Ok(i32::try_from(n).unwrap_or(i32::MAX))
}

/// Stores the number of people going.
pub async fn recount(db: &impl ConnectionTrait, e: &mut event::Model) -> Result<(), Error> {
    e.participant_count = count_with(db, e.post_id, ParticipantStatus::Going).await?;
    event::Entity::update_many()
        .col_expr(
            event::Column::ParticipantCount,
            Expr::value(e.participant_count),
        )
        .filter(event::Column::PostId.eq(e.post_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Records where a person stands for an event, updating their answer if they gave one.
#[allow(clippy::too_many_arguments)]
pub async fn set_status(
    db: &impl ConnectionTrait,
    existing: Option<&event_participant::Model>,
    event_id: i64,
    person_id: i64,
    status: ParticipantStatus,
    join_id: Option<&Url>,
    message: Option<String>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<event_participant::Model, Error> {
    Ok(match existing {
        Some(row) => {
            let mut row = row.clone();
            row.status = status;
            if let Some(j) = join_id {
                row.join_ap_id = Some(DbUrl(j.clone()));
            }
            if message.is_some() {
                row.message = message;
            }
            event_participant::Entity::update(
                event_participant::ActiveModel::from(row.clone()).reset_all(),
            )
            .exec(db)
            .await?;
            row
        }
        None => {
            event_participant::Entity::insert(event_participant::ActiveModel {
                id: NotSet,
                event_id: Set(event_id),
                person_id: Set(person_id),
                status: Set(status),
                join_ap_id: Set(join_id.cloned().map(DbUrl)),
                message: Set(message),
                created_at: Set(now),
                reminded_at: Set(None),
            })
            .exec_with_returning(db)
            .await?
        }
    })
}

/// How far down the waiting list a person is (1 for the next in line).
pub async fn waiting_position(
    db: &impl ConnectionTrait,
    row: &event_participant::Model,
) -> Result<u64, Error> {
    Ok(event_participant::Entity::find()
        .filter(event_participant::Column::EventId.eq(row.event_id))
        .filter(event_participant::Column::Status.eq(ParticipantStatus::Waiting))
        .filter(event_participant::Column::Id.lte(row.id))
        .count(db)
        .await?)
}

/// True when `id` is a `Join` stored here: one our people sent (so an `Accept` of it is about
/// an event) or one we received (so an `Undo` of it is a `Leave`).
pub async fn is_stored_join(db: &impl ConnectionTrait, id: &Url) -> Result<bool, Error> {
    Ok(event_participant::Entity::find()
        .filter(event_participant::Column::JoinApId.eq(DbUrl(id.clone())))
        .count(db)
        .await?
        > 0)
}

/// A shown event of a local community by its id, with its details and community.
pub async fn local_event(
    db: &impl ConnectionTrait,
    object: &Url,
) -> Result<Option<(post::Model, event::Model, community::Model)>, Error> {
    let Some(p) = post_by_ap_id(db, object).await? else {
        return Ok(None);
    };
    let Some(e) = event_of_post(db, p.id).await? else {
        return Ok(None);
    };
    let c = community_by_row_id(db, p.community_id).await?;
    Ok((c.local && p.visible()).then_some((p, e, c)))
}
