//! The waiting list: admitting someone by the join mode and the places left, promoting the next
//! in line when a place frees, withdrawing, and telling the person where they stand.

use crate::outbox::notes::send_note_replying;
use crate::protocol::{IdOr, Join, JoinAnswer};
use crate::rules::participation::Outcome;
use crate::store::events::{
    count_with, participant, participants, recount, set_status, waiting_position,
};

use crate::{
    html::escape_html, objects::event::when_in_words, protocol::WithContext, queue::enqueue, Data,
    Error,
};
use copse_entities::{
    community,
    event::{self, EventStatus, JoinMode},
    event_participant::{self, ParticipantStatus},
    person, post,
};
use sea_orm::{ConnectionTrait, EntityTrait, Set};
use url::Url;

/// Someone asks to take part in a local event. With `approved`, a coordinator has already
/// said yes, so approval and invitation are not asked for again.
#[allow(clippy::too_many_arguments)]
pub async fn admit(
    txn: &impl ConnectionTrait,
    data: &Data,
    c: &community::Model,
    e: &mut event::Model,
    who: &person::Model,
    join_id: Option<&Url>,
    message: Option<String>,
    approved: bool,
) -> Result<Outcome, Error> {
    let now = data.clock.now();
    if e.status == EventStatus::Cancelled {
        return Ok(Outcome::Refused("This event has been cancelled.".into()));
    }
    if e.ends_at < now {
        return Ok(Outcome::Refused("This event is over.".into()));
    }
    if crate::store::members::active_ban(txn, c.id, who.id)
        .await?
        .is_some()
    {
        return Ok(Outcome::Refused(format!(
            "You are banned from {}.",
            c.title
        )));
    }
    let event_id = e.post_id;
    let existing = participant(txn, event_id, who.id).await?;
    let keep = |status| {
        set_status(
            txn,
            existing.as_ref(),
            event_id,
            who.id,
            status,
            join_id,
            message.clone(),
            now,
        )
    };
    match existing.as_ref().map(|r| r.status) {
        Some(ParticipantStatus::Going) => {
            keep(ParticipantStatus::Going).await?;
            return Ok(Outcome::Going);
        }
        Some(ParticipantStatus::Waiting) => {
            let row = keep(ParticipantStatus::Waiting).await?;
            return Ok(Outcome::Waiting(waiting_position(txn, &row).await?));
        }
        Some(ParticipantStatus::Pending) if !approved => {
            keep(ParticipantStatus::Pending).await?;
            return Ok(Outcome::Pending);
        }
        _ => {}
    }
    let invited = existing.as_ref().map(|r| r.status) == Some(ParticipantStatus::Invited);
    if !approved && !invited {
        match e.join_mode {
            JoinMode::External => {
                return Ok(Outcome::Refused(match &e.external_url {
                    Some(u) => format!("Registration for this event is at {u}."),
                    None => "Registration for this event happens elsewhere.".into(),
                }))
            }
            JoinMode::Invite => {
                return Ok(Outcome::Refused("This event is by invitation only.".into()))
            }
            JoinMode::Approval => {
                keep(ParticipantStatus::Pending).await?;
                return Ok(Outcome::Pending);
            }
            JoinMode::Free => {}
        }
    }
    let going = count_with(txn, event_id, ParticipantStatus::Going).await?;
    if e.capacity.is_none_or(|cap| going < cap) {
        keep(ParticipantStatus::Going).await?;
        recount(txn, e).await?;
        Ok(Outcome::Going)
    } else {
        let row = keep(ParticipantStatus::Waiting).await?;
        Ok(Outcome::Waiting(waiting_position(txn, &row).await?))
    }
}

/// Gives freed places to the waiting list, first come first served, and tells each person.
/// People banned from the community are passed over.
pub async fn promote(
    txn: &impl ConnectionTrait,
    data: &Data,
    c: &community::Model,
    p: &post::Model,
    e: &mut event::Model,
) -> Result<(), Error> {
    recount(txn, e).await?;
    if e.status == EventStatus::Cancelled {
        return Ok(());
    }
    let free = match e.capacity {
        None => usize::MAX,
        Some(cap) => usize::try_from((cap - e.participant_count).max(0)).unwrap_or(0),
    };
    if free == 0 {
        return Ok(());
    }
    let waiting = participants(txn, e.post_id, &[ParticipantStatus::Waiting]).await?;
    let mut left = free;
    for (row, who) in waiting {
        if left == 0 {
            break;
        }
        if crate::store::members::active_ban(txn, c.id, who.id)
            .await?
            .is_some()
        {
            continue;
        }
        left -= 1;
        event_participant::Entity::update(event_participant::ActiveModel {
            id: Set(row.id),
            status: Set(ParticipantStatus::Going),
            ..Default::default()
        })
        .exec(txn)
        .await?;
        let join = row.join_ap_id.map(|j| j.0);
        tell(
            txn,
            data,
            c,
            p,
            e,
            &who,
            join.as_ref(),
            &Outcome::Going,
            None,
        )
        .await?;
    }
    recount(txn, e).await
}

/// Someone stops taking part; a place they held goes to the first person waiting.
pub async fn withdraw(
    txn: &impl ConnectionTrait,
    data: &Data,
    c: &community::Model,
    p: &post::Model,
    e: &mut event::Model,
    who: &person::Model,
) -> Result<Outcome, Error> {
    if let Some(row) = participant(txn, e.post_id, who.id).await? {
        event_participant::Entity::delete_by_id(row.id)
            .exec(txn)
            .await?;
        if row.status == ParticipantStatus::Going {
            promote(txn, data, c, p, e).await?;
        }
    }
    Ok(Outcome::NotGoing)
}

/// Tells a remote person where they stand: `Accept` or `Reject` of their `Join`, or, for an
/// answer given by replying (Mastodon), a direct note in reply. Local people see it in the API.
#[allow(clippy::too_many_arguments)]
pub async fn tell(
    txn: &impl ConnectionTrait,
    data: &Data,
    c: &community::Model,
    p: &post::Model,
    e: &event::Model,
    who: &person::Model,
    join_id: Option<&Url>,
    outcome: &Outcome,
    reply_to: Option<&Url>,
) -> Result<(), Error> {
    if who.local {
        return Ok(());
    }
    if let Some(join) = join_id {
        let kind = match outcome {
            Outcome::Going => "Accept",
            Outcome::Refused(_) => "Reject",
            _ => return Ok(()),
        };
        let answer = WithContext::new(JoinAnswer {
            id: data.urls.new_activity(kind),
            kind: kind.into(),
            actor: c.ap_id.0.clone(),
            object: IdOr::Object(Box::new(Join {
                id: join.clone(),
                kind: "Join".into(),
                actor: who.ap_id.0.clone(),
                object: p.ap_id.0.clone(),
                to: Vec::new(),
                cc: Vec::new(),
                published: None,
                participation_message: None,
            })),
            to: vec![who.ap_id.0.clone()],
            published: Some(data.clock.now()),
        });
        enqueue(txn, &data.urls, &answer, None, false, [who.inbox.0.clone()]).await?;
        return Ok(());
    }
    let title = format!(
        "<a href=\"{}\">{}</a>",
        escape_html(p.ap_id.as_str()),
        escape_html(&p.title)
    );
    let when = escape_html(&when_in_words(e.starts_at, e.ends_at, &e.timezone));
    let html = match outcome {
        Outcome::Going => format!("<p>You are going to {title}, {when}. See you there!</p>"),
        Outcome::Waiting(n) => format!(
            "<p>{title} is full: you are number {n} on the waiting list. You will hear from us if a place comes free.</p>"
        ),
        Outcome::Pending => format!(
            "<p>Thank you: a coordinator of {} will confirm your place at {title}.</p>",
            escape_html(&c.title)
        ),
        Outcome::Refused(why) => format!("<p>{title}: {}</p>", escape_html(why)),
        Outcome::NotGoing => format!("<p>Noted: you are not going to {title}.</p>"),
    };
    send_note_replying(txn, data, c, who, &html, true, reply_to).await
}
