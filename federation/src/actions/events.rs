//! Events made here: publishing, changing, cancelling and deleting them, answering, deciding
//! requests, inviting, and reminders. What other servers send about events is in
//! `activities/events/`, the waiting list in `rules/places.rs`.
//!
//! A local event is held by its community (`attributedTo` the Group, `actor` the organiser,
//! as Mobilizon's group events are), so the Group itself sends `Create`, `Update` and
//! `Delete`, and answers `Join` with `Accept` or `Reject`.

use crate::outbox::events::{send_event, EventChange};
use crate::outbox::notes::send_note_replying;
use crate::queue::commit_and_wake;
use crate::rules::participation::{answer_hint, Outcome};
use crate::rules::places::{admit, promote, tell, withdraw};
use crate::store::events::{event_of_post, locked_event, participant, participants, set_status};
use crate::store::lookup::{community_by_row_id, person_by_row_id};
use crate::{
    html::escape_html,
    objects::event::{event_of, event_tombstone, when_in_words},
    protocol::{Event, Join, WithContext},
    queue::enqueue,
    Data, Error,
};
use copse_entities::{
    community,
    event::{self, EventStatus},
    event_participant::{self, ParticipantStatus},
    person, post,
};
use sea_orm::{
    sea_query::Expr, ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set,
};
use serde_json::Value;

/// The `Event` of a stored event, as served and sent.
pub async fn event_object(
    db: &impl ConnectionTrait,
    p: &post::Model,
    e: &event::Model,
) -> Result<Event, Error> {
    let c = community_by_row_id(db, p.community_id).await?;
    let organizer = person_by_row_id(db, p.author_id).await?;
    Ok(event_of(p, e, &c, &organizer, &answer_hint(&c)))
}

/// Events are scheduled and answered for where their community lives. Who may schedule
/// (coordinators, facilitators, instance admins) is the API's check.
fn require_local(c: &community::Model) -> Result<(), Error> {
    if !c.local {
        return Err(Error::Forbidden(
            "events are scheduled where their community lives".into(),
        ));
    }
    Ok(())
}

/// Everything about an event that its organisers set, already checked.
#[derive(Debug, Clone)]
pub struct EventDetails {
    /// Title.
    pub title: String,
    /// Description, sanitised HTML.
    pub html: String,
    /// Description, markdown.
    pub source: String,
    /// Hashtags and mentions.
    pub tags: Vec<Value>,
    /// The schedule, place, capacity and the rest (`post_id`, `community_id`, `sequence` and
    /// the counts are filled in here).
    pub fields: event::Model,
}

/// A coordinator or facilitator schedules an event: stored, then announced to followers in
/// both forms (`Announce{Create{Event}}` for group-aware servers, `Announce{Event}` for
/// microblogs).
pub async fn create(
    data: &Data,
    c: &community::Model,
    organizer: &person::Model,
    details: EventDetails,
) -> Result<(post::Model, event::Model), Error> {
    let txn = crate::context::begin(&data.db).await?;
    require_local(c)?;
    let draft = crate::store::posts::LocalPost {
        community_id: c.id,
        author_id: organizer.id,
        title: details.title,
        html: details.html,
        source: details.source,
        tags: (!details.tags.is_empty()).then(|| Value::Array(details.tags).to_string()),
        url: None,
    };
    let p = crate::store::posts::insert_local_post(&txn, &data.urls, draft, None, data.clock.now())
        .await?;
    let e = event::Entity::insert(event::ActiveModel::from(event::Model {
        post_id: p.id,
        community_id: c.id,
        sequence: 0,
        participant_count: 0,
        remaining_capacity: None,
        ..details.fields
    }))
    .exec_with_returning(&txn)
    .await?;
    let object = event_of(&p, &e, c, organizer, &answer_hint(c));
    send_event(&txn, data, c, &object, organizer, EventChange::Create).await?;
    commit_and_wake(data, txn).await?;
    Ok((p, e))
}

/// A coordinator or facilitator changes an event (cancelling is a change of status): the
/// `SEQUENCE` goes up, places freed by a larger capacity go to the waiting list, and the Group
/// sends `Update{Event}`. Participants hear of a cancellation directly.
pub async fn change(
    data: &Data,
    p: &post::Model,
    by: &person::Model,
    details: EventDetails,
) -> Result<(post::Model, event::Model), Error> {
    let c = community_by_row_id(&data.db, p.community_id).await?;
    let txn = crate::context::begin(&data.db).await?;
    require_local(&c)?;
    let old = locked_event(&txn, p.id).await?;
    if !p.visible() {
        return Err(Error::Conflict("the event was deleted".into()));
    }
    let now = data.clock.now();
    let mut p = p.clone();
    p.title = details.title;
    p.content = details.html;
    p.source = Some(details.source);
    p.tags = (!details.tags.is_empty()).then(|| Value::Array(details.tags).to_string());
    p.updated = Some(now);
    p.last_activity = Some(now);
    post::Entity::update(post::ActiveModel {
        id: Set(p.id),
        title: Set(p.title.clone()),
        content: Set(p.content.clone()),
        source: Set(p.source.clone()),
        tags: Set(p.tags.clone()),
        updated: Set(p.updated),
        last_activity: Set(p.last_activity),
        ..Default::default()
    })
    .exec(&txn)
    .await?;
    let mut e = event::Model {
        post_id: old.post_id,
        community_id: old.community_id,
        sequence: old.sequence + 1,
        participant_count: old.participant_count,
        remaining_capacity: None,
        ..details.fields
    };
    // Every column is written: `from` alone marks them unchanged.
    event::Entity::update(event::ActiveModel::from(e.clone()).reset_all())
        .exec(&txn)
        .await?;
    if e.starts_at != old.starts_at {
        // A new time deserves a new reminder.
        event_participant::Entity::update_many()
            .col_expr(
                event_participant::Column::RemindedAt,
                Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
            )
            .filter(event_participant::Column::EventId.eq(e.post_id))
            .exec(&txn)
            .await?;
    }
    let cancelled = e.status == EventStatus::Cancelled && old.status != EventStatus::Cancelled;
    crate::store::notifications::event_changed(&txn, &p, &e, cancelled, Some(by.id), now).await?;
    if cancelled {
        crate::store::modlog::log(&txn, &c, &by.ap_id.0, "cancel_event", &p.ap_id.0, None).await?;
        let html = format!("<p>{} has been cancelled.</p>", escape_html(&p.title));
        for (_, who) in participants(
            &txn,
            e.post_id,
            &[ParticipantStatus::Going, ParticipantStatus::Waiting],
        )
        .await?
        {
            if !who.local {
                send_note_replying(&txn, data, &c, &who, &html, true, None).await?;
            }
        }
    } else {
        promote(&txn, data, &c, &p, &mut e).await?;
    }
    let organizer = person_by_row_id(&txn, p.author_id).await?;
    let object = event_of(&p, &e, &c, &organizer, &answer_hint(&c));
    send_event(&txn, data, &c, &object, &organizer, EventChange::Update).await?;
    commit_and_wake(data, txn).await?;
    Ok((p, e))
}

/// A coordinator or facilitator deletes an event: a tombstone everywhere.
pub async fn delete(data: &Data, p: &post::Model, by: &person::Model) -> Result<(), Error> {
    let c = community_by_row_id(&data.db, p.community_id).await?;
    let txn = crate::context::begin(&data.db).await?;
    require_local(&c)?;
    if p.deleted {
        return Ok(());
    }
    post::Entity::update(post::ActiveModel {
        id: Set(p.id),
        deleted: Set(true),
        content: Set(String::new()),
        source: Set(None),
        updated: Set(Some(data.clock.now())),
        ..Default::default()
    })
    .exec(&txn)
    .await?;
    crate::store::modlog::log(&txn, &c, &by.ap_id.0, "delete_event", &p.ap_id.0, None).await?;
    let organizer = person_by_row_id(&txn, p.author_id).await?;
    let e = locked_event(&txn, p.id).await?;
    let object = event_of(p, &e, &c, &organizer, &answer_hint(&c));
    let gone = EventChange::Delete(event_tombstone(p));
    send_event(&txn, data, &c, &object, &organizer, gone).await?;
    commit_and_wake(data, txn).await
}

/// A local person answers through the API. For a local event the answer is decided here; for
/// an event held elsewhere a `Join` or `Leave` goes to its holder, and the answer is pending
/// until it accepts.
pub async fn answer_locally(
    data: &Data,
    p: &post::Model,
    who: &person::Model,
    going: bool,
    message: Option<String>,
) -> Result<Outcome, Error> {
    if !p.visible() {
        return Err(Error::Conflict("the event was deleted".into()));
    }
    let c = community_by_row_id(&data.db, p.community_id).await?;
    let txn = crate::context::begin(&data.db).await?;
    let mut e = locked_event(&txn, p.id).await?;
    let outcome = if c.local {
        if going {
            admit(&txn, data, &c, &mut e, who, None, message, false).await?
        } else {
            withdraw(&txn, data, &c, p, &mut e, who).await?
        }
    } else if going && (e.status == EventStatus::Cancelled || e.ends_at < data.clock.now()) {
        Outcome::Refused("This event has been cancelled or is over.".into())
    } else {
        let existing = participant(&txn, p.id, who.id).await?;
        let kind = if going { "Join" } else { "Leave" };
        let id = data.urls.new_activity(kind);
        let activity = WithContext::new(Join {
            id: id.clone(),
            kind: kind.into(),
            actor: who.ap_id.0.clone(),
            object: p.ap_id.0.clone(),
            to: vec![c.ap_id.0.clone()],
            cc: Vec::new(),
            published: Some(data.clock.now()),
            participation_message: message.clone(),
        });
        let inbox = c.shared_inbox.clone().unwrap_or_else(|| c.inbox.clone()).0;
        enqueue(&txn, &data.urls, &activity, None, false, [inbox]).await?;
        if going {
            set_status(
                &txn,
                existing.as_ref(),
                p.id,
                who.id,
                ParticipantStatus::Pending,
                Some(&id),
                message,
                data.clock.now(),
            )
            .await?;
            Outcome::Pending
        } else {
            if let Some(row) = existing {
                event_participant::Entity::delete_by_id(row.id)
                    .exec(&txn)
                    .await?;
            }
            Outcome::NotGoing
        }
    };
    commit_and_wake(data, txn).await?;
    Ok(outcome)
}

/// A coordinator or facilitator accepts or declines a pending request.
pub async fn decide(
    data: &Data,
    p: &post::Model,
    by: &person::Model,
    who: &person::Model,
    accept: bool,
) -> Result<Outcome, Error> {
    let c = community_by_row_id(&data.db, p.community_id).await?;
    let txn = crate::context::begin(&data.db).await?;
    let mut e = locked_event(&txn, p.id).await?;
    require_local(&c)?;
    let Some(row) = participant(&txn, p.id, who.id).await? else {
        return Err(Error::NotFound);
    };
    let join = row.join_ap_id.clone().map(|j| j.0);
    let outcome = if accept {
        admit(&txn, data, &c, &mut e, who, None, None, true).await?
    } else {
        set_status(
            &txn,
            Some(&row),
            p.id,
            who.id,
            ParticipantStatus::Rejected,
            None,
            None,
            data.clock.now(),
        )
        .await?;
        // A place they held goes to the waiting list.
        promote(&txn, data, &c, p, &mut e).await?;
        Outcome::Refused("A coordinator declined your request.".into())
    };
    tell(&txn, data, &c, p, &e, who, join.as_ref(), &outcome, None).await?;
    let action = if accept {
        "accept_participant"
    } else {
        "reject_participant"
    };
    crate::store::modlog::log(
        &txn,
        &c,
        &by.ap_id.0,
        action,
        &who.ap_id.0,
        Some(p.title.clone()),
    )
    .await?;
    commit_and_wake(data, txn).await?;
    Ok(outcome)
}

/// A coordinator or facilitator invites someone; a remote person gets a direct note.
pub async fn invite(
    data: &Data,
    p: &post::Model,
    by: &person::Model,
    who: &person::Model,
) -> Result<(), Error> {
    let c = community_by_row_id(&data.db, p.community_id).await?;
    let e = event_of_post(&data.db, p.id)
        .await?
        .ok_or(Error::NotFound)?;
    let txn = crate::context::begin(&data.db).await?;
    require_local(&c)?;
    let existing = participant(&txn, p.id, who.id).await?;
    if existing
        .as_ref()
        .is_none_or(|r| r.status == ParticipantStatus::Rejected)
    {
        set_status(
            &txn,
            existing.as_ref(),
            p.id,
            who.id,
            ParticipantStatus::Invited,
            None,
            None,
            data.clock.now(),
        )
        .await?;
        if !who.local {
            let html = format!(
                "<p>You are invited to <a href=\"{}\">{}</a>, {}. {}.</p>",
                escape_html(p.ap_id.as_str()),
                escape_html(&p.title),
                escape_html(&when_in_words(e.starts_at, e.ends_at, &e.timezone)),
                escape_html(&answer_hint(&c)),
            );
            send_note_replying(&txn, data, &c, who, &html, true, None).await?;
        }
    }
    crate::store::modlog::log(
        &txn,
        &c,
        &by.ap_id.0,
        "invite_participant",
        &who.ap_id.0,
        Some(p.title.clone()),
    )
    .await?;
    commit_and_wake(data, txn).await
}

/// Sends the reminders that are due: to everyone going to a local event that starts within
/// the configured lead time and has not been reminded. Each reminder is claimed in the
/// database first, so several workers never send one twice. Returns how many went out.
pub async fn send_due_reminders(data: &Data) -> Result<usize, Error> {
    let now = data.clock.now();
    let lead = chrono::Duration::from_std(data.settings.reminder_lead)
        .map_err(|e| Error::InvalidActivity(e.to_string()))?;
    let due = event::Entity::find()
        .filter(event::Column::StartsAt.gt(now))
        .filter(event::Column::StartsAt.lte(now + lead))
        .filter(event::Column::Status.ne(EventStatus::Cancelled))
        .all(&data.db)
        .await?;
    let mut sent = 0;
    for e in due {
        let Some(p) = post::Entity::find_by_id(e.post_id).one(&data.db).await? else {
            continue;
        };
        if !p.local || !p.visible() {
            continue;
        }
        let c = community_by_row_id(&data.db, p.community_id).await?;
        let unreminded: Vec<_> = participants(&data.db, e.post_id, &[ParticipantStatus::Going])
            .await?
            .into_iter()
            .filter(|(r, _)| r.reminded_at.is_none())
            .collect();
        for (row, who) in unreminded {
            let txn = crate::context::begin(&data.db).await?;
            let claimed = event_participant::Entity::update_many()
                .col_expr(
                    event_participant::Column::RemindedAt,
                    Expr::value(Some(now)),
                )
                .filter(event_participant::Column::Id.eq(row.id))
                .filter(event_participant::Column::RemindedAt.is_null())
                .exec(&txn)
                .await?
                .rows_affected
                == 1;
            if claimed && who.local {
                let starts = when_in_words(e.starts_at, e.ends_at, &e.timezone);
                crate::store::notifications::event_reminder(&txn, &p, &e, who.id, &starts, now)
                    .await?;
            } else if claimed {
                let mut html = format!(
                    "<p>Reminder: <a href=\"{}\">{}</a> starts {}.</p>",
                    escape_html(p.ap_id.as_str()),
                    escape_html(&p.title),
                    escape_html(&when_in_words(e.starts_at, e.ends_at, &e.timezone)),
                );
                if let Some(place) = crate::objects::event::place_in_words(&e) {
                    html.push_str(&format!("<p>Where: {}</p>", escape_html(&place)));
                }
                if let Some(link) = &e.online_url {
                    html.push_str(&format!(
                        "<p>Online: <a href=\"{0}\">{0}</a></p>",
                        escape_html(link)
                    ));
                }
                send_note_replying(&txn, data, &c, &who, &html, true, None).await?;
                sent += 1;
            }
            commit_and_wake(data, txn).await?;
        }
    }
    Ok(sent)
}

/// Sends due reminders every half minute, for as long as the instance runs.
pub async fn run_reminders(
    config: activitypub_federation::config::FederationConfig<crate::FederationContext>,
) {
    let data = config.to_request_data();
    loop {
        if let Err(e) = send_due_reminders(&data).await {
            tracing::warn!("reminders: {e}");
        }
        tokio::time::sleep(std::time::Duration::from_secs(30)).await;
    }
}
