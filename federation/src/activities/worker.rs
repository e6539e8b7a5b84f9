//! The inbox worker: processes stored activities. Each activity's effects and its `done` mark
//! commit in one transaction, so a crash never applies an activity twice or loses it.

use super::receive::{ignore, Applied, Verified};
use super::{announce, commit_and_wake, events, follow, remote_moderation, votes};
use crate::{
    metrics::Processed,
    protocol::domain_of,
    queue::{
        backoff, claim_statement,
        delivery::BLOCKED,
        hosts::{Withheld, Withholding},
        inbox::{mark_done, mark_ignored},
    },
    Data, Error, FederationContext,
};
use activitypub_federation::config::FederationConfig;
use chrono::Utc;
use copse_entities::{received_activity, received_activity::InboxStatus};
use sea_orm::{sea_query::Expr, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::Value;

/// Processes received activities until none are due, then waits to be woken (or polls).
pub async fn run_worker(config: FederationConfig<FederationContext>) {
    loop {
        let data = config.to_request_data();
        match work_once(&data).await {
            Ok(0) => {
                tokio::select! {
                    _ = data.inbox_wake.notified() => {}
                    _ = tokio::time::sleep(data.settings.poll_interval) => {}
                }
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!("inbox worker: {e}");
                tokio::time::sleep(data.settings.poll_interval).await;
            }
        }
    }
}

/// Claims a batch of due activities and processes each. Returns how many were claimed.
pub async fn work_once(data: &Data) -> Result<usize, Error> {
    let s = &data.settings;
    let stmt = claim_statement(
        &data.db,
        "received_activity",
        " AND status = 'pending'",
        Utc::now(),
        s.lease,
        64,
    );
    let rows = received_activity::Entity::find()
        .from_raw_sql(stmt)
        .all(&data.db)
        .await?;
    let n = rows.len();
    if n == 0 {
        return Ok(0);
    }
    // An activity stored before its sender's domain was blocked is not applied.
    let withheld = Withheld::load(&data.db, Utc::now()).await?;
    for row in rows {
        let data = data.reset_request_count();
        if withheld.of(&domain_of(&row.actor.0)) == Some(Withholding::Blocked) {
            match mark_ignored(&data.db, row.id, BLOCKED).await {
                Ok(()) => data.metrics.processed(Processed::Done),
                Err(e) => tracing::debug!("inbox: {} not marked: {e}", row.ap_id),
            }
            continue;
        }
        let result = receive(&data, &row).await;
        match result {
            Ok(()) => data.metrics.processed(Processed::Done),
            Err(e) => fail(&data, &row, &e).await?,
        }
    }
    Ok(n)
}

async fn fail(data: &Data, row: &received_activity::Model, e: &Error) -> Result<(), Error> {
    let s = &data.settings;
    let attempts = row.attempts + 1;
    let transient = matches!(e, Error::Http(_) | Error::Db(_));
    let retry = transient && attempts < s.max_attempts;
    data.metrics.processed(if retry {
        Processed::Retry
    } else {
        Processed::Failed
    });
    let (status, next) = if retry {
        let wait = backoff(s.retry_initial, s.retry_max, attempts);
        (
            InboxStatus::Pending,
            Utc::now() + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::hours(1)),
        )
    } else {
        (InboxStatus::Failed, Utc::now())
    };
    tracing::info!("inbox: {} {} not applied: {e}", row.kind, row.ap_id);
    received_activity::Entity::update_many()
        .col_expr(received_activity::Column::Status, Expr::value(status))
        .col_expr(received_activity::Column::Attempts, Expr::value(attempts))
        .col_expr(received_activity::Column::NextAttemptAt, Expr::value(next))
        .col_expr(
            received_activity::Column::LastError,
            Expr::value(Some(e.to_string())),
        )
        .col_expr(
            received_activity::Column::LockedUntil,
            Expr::value(Option::<chrono::DateTime<Utc>>::None),
        )
        .filter(received_activity::Column::Id.eq(row.id))
        .filter(received_activity::Column::Status.eq(InboxStatus::Pending))
        .exec(&data.db)
        .await?;
    Ok(())
}

fn from<T: serde::de::DeserializeOwned>(json: Value) -> Result<T, serde_json::Error> {
    serde_json::from_value(json)
}

/// Applies one stored activity: `verify` outside any transaction, then its effects and its
/// `done` or `ignored` mark in one transaction, committed together.
pub async fn receive(data: &Data, row: &received_activity::Model) -> Result<(), Error> {
    let verified = verify(data, row).await?;
    let txn = crate::context::begin(&data.db).await?;
    let applied = match verified {
        Verified::Apply(effects) => effects.receive(data, row, &txn).await?,
        Verified::Ignore(why) => Applied::Ignored(why),
    };
    match applied {
        Applied::Done => {
            mark_done(&txn, row.id).await?;
            commit_and_wake(data, txn).await
        }
        Applied::Ignored(why) => {
            mark_ignored(&txn, row.id, &why).await?;
            txn.commit().await?;
            Ok(())
        }
    }
}

/// Dispatches a stored activity to its handler's `verify`.
async fn verify(data: &Data, row: &received_activity::Model) -> Result<Verified, Error> {
    let json: Value = serde_json::from_str(&row.data)?;
    let inner_kind = json
        .get("object")
        .and_then(|o| o.get("type"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    match (row.kind.as_str(), inner_kind.as_str()) {
        ("Follow", _) => follow::verify_follow(data, row, from(json)?).await,
        ("Join", _) => events::verify_join(data, row, from(json)?).await,
        ("Leave", _) => events::verify_leave(data, row, from(json)?).await,
        ("Undo", "Join") => {
            let undo: crate::protocol::Undo = from(json)?;
            events::verify_undo_join(data, row, &undo.actor, &undo.object).await
        }
        ("Accept" | "Reject", "Join") => events::verify_join_answer(data, row, from(json)?).await,
        ("Accept" | "Reject", "") if is_join_answer(data, &json).await? => {
            events::verify_join_answer(data, row, from(json)?).await
        }
        ("Create" | "Update", "Event") => events::verify_event(data, row, from(json)?).await,
        ("Undo", "Like" | "EmojiReact" | "Dislike") => {
            super::reactions::verify_undo_reaction(data, row, from(json)?).await
        }
        ("Undo", "Lock" | "Delete") => remote_moderation::verify_undo(data, row, from(json)?).await,
        ("Undo", "Follow") => follow::verify_undo_follow(data, row, from(json)?).await,
        ("Undo", "") => {
            // Only the id of the undone activity: a reaction or a join we store, or a follow.
            let undo: crate::protocol::Undo = from(json.clone())?;
            match super::reactions::undone_id(&undo) {
                Some(id) if crate::store::posts::is_reaction(&data.db, &id).await? => {
                    super::reactions::verify_undo_reaction(data, row, undo).await
                }
                Some(id) if crate::store::events::is_stored_join(&data.db, &id).await? => {
                    events::verify_undo_join(data, row, &undo.actor, &undo.object).await
                }
                _ => follow::verify_undo_follow(data, row, from(json)?).await,
            }
        }
        ("Accept" | "Reject", _) => {
            let answer: crate::protocol::AcceptFollow = from(json)?;
            super::receive::require_signer(row, &answer.actor, &row.kind)?;
            let accepted = row.kind == "Accept";
            match super::partners::verify_partner_answer(data, &answer, accepted).await? {
                Some(verified) => Ok(verified),
                None if accepted => follow::verify_accept(row, answer),
                None => follow::verify_reject(row, answer),
            }
        }
        ("Announce", _) => announce::verify_announce(data, row, from(json)?).await,
        ("Create", "Note" | "Page" | "Article") => {
            super::posts::verify_create(data, row, from(json)?).await
        }
        ("Update", "Note" | "Page" | "Article") => {
            super::posts::verify_update(data, row, from(json)?).await
        }
        ("Delete", _) => super::posts::verify_delete(data, row, from(json)?).await,
        ("Like" | "EmojiReact", _) => {
            super::reactions::verify_reaction(data, row, from(json)?).await
        }
        ("Dislike", _) => votes::verify_dislike(data, row, from(json)?).await,
        ("Lock", _) => remote_moderation::verify_lock(data, row, from(json)?).await,
        ("Add" | "Remove", _) => remote_moderation::verify_featured(data, row, from(json)?).await,
        ("Flag", _) => super::flag::verify_flag(data, row, from(json)?).await,
        ("Update", "Person" | "Service" | "Application" | "Organization" | "Group") => {
            super::profile_update::verify_person_update(data, row, json).await
        }
        (kind, inner) => ignore(format!("{kind} of {inner} is not handled yet")),
    }
}

/// An `Accept` or `Reject` naming its object by id only: about an event when the id is a
/// `Join` one of our people sent.
async fn is_join_answer(data: &Data, json: &Value) -> Result<bool, Error> {
    match json
        .get("object")
        .and_then(Value::as_str)
        .and_then(|s| url::Url::parse(s).ok())
    {
        Some(id) => crate::store::events::is_stored_join(&data.db, &id).await,
        None => Ok(false),
    }
}
