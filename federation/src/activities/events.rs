//! Events: publishing, changing, cancelling and deleting them; events that followed groups
//! publish; taking part (`Join`/`Leave` from any server, a "going" reply from Mastodon, the
//! API), with capacity, a waiting list, approval and invitations; and reminders.
//!
//! A local event is held by its community (`attributedTo` the Group, `actor` the organiser,
//! as Mobilizon's group events are), so the Group itself sends `Create`, `Update` and
//! `Delete`, and answers `Join` with `Accept` or `Reject`.

use super::{
    commit_and_wake,
    event_forms::{send_event, EventChange},
    membership::send_note_replying,
};
use crate::objects::text::text_of;
use crate::store::lookup::{community_by_row_id, person_by_row_id};
use crate::store::posts::post_by_ap_id;
use crate::{
    fetch::{cached_actor, resolve_actor, ActorRef},
    html::{escape_html, sanitize_html},
    objects::{
        event::{event_of, fields_of, when_in_words},
        tombstone_of,
    },
    protocol::{same_origin, CreateEvent, Event, Join, JoinAnswer, Note, WithContext},
    queue::{
        enqueue,
        inbox::{mark_done, mark_ignored},
    },
    Data, Error,
};
use copse_entities::{
    community,
    event::{self, EventStatus, JoinMode},
    event_participant::{self, ParticipantStatus},
    person, post, received_activity, DbUrl,
};
use sea_orm::{
    sea_query::Expr, ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, ConnectionTrait,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::{json, Value};
use url::Url;

/// Replies that mean "going" and "not going", by language. Matched whole, after the leading
/// mentions, case and trailing punctuation are dropped; English always counts.
const ANSWERS: &[(&str, &[&str], &[&str])] = &[
    (
        "en",
        &[
            "going",
            "i'm going",
            "im going",
            "i am going",
            "yes",
            "attending",
            "count me in",
            "i'll be there",
            "ill be there",
            "see you there",
        ],
        &[
            "not going",
            "i'm not going",
            "im not going",
            "i am not going",
            "no",
            "can't make it",
            "cant make it",
            "cannot make it",
            "can't go",
            "not attending",
        ],
    ),
    (
        "fr",
        &[
            "je viens",
            "j'y serai",
            "je participe",
            "présent",
            "présente",
            "oui",
        ],
        &[
            "je ne viens pas",
            "je ne viens plus",
            "je ne pourrai pas",
            "absent",
            "absente",
            "non",
        ],
    ),
    (
        "de",
        &["ich komme", "bin dabei", "dabei", "zusage", "ja"],
        &["ich komme nicht", "nicht dabei", "absage", "nein"],
    ),
    (
        "es",
        &["voy", "asistiré", "allí estaré", "sí", "si"],
        &["no voy", "no puedo ir", "no"],
    ),
    (
        "it",
        &["ci sarò", "vengo", "partecipo", "sì"],
        &["non vengo", "non ci sarò", "no"],
    ),
    (
        "nl",
        &["ik kom", "ik ben erbij", "aanwezig", "ja"],
        &["ik kom niet", "afwezig", "nee"],
    ),
    (
        "pt",
        &["vou", "estarei lá", "presente", "sim"],
        &["não vou", "não posso ir", "não"],
    ),
    (
        "cy",
        &["dw i'n dod", "rydw i'n dod", "byddaf", "ydw"],
        &["dw i ddim yn dod", "nac ydw", "na"],
    ),
];

/// The primary subtags of a community's languages (`"en, cy"`), English first.
fn languages_of(c: &community::Model) -> Vec<String> {
    let mut langs = vec!["en".to_string()];
    for tag in c.languages.as_deref().unwrap_or_default().split(',') {
        let primary = tag
            .trim()
            .split('-')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        if !primary.is_empty() && !langs.contains(&primary) {
            langs.push(primary);
        }
    }
    langs
}

/// What a short reply says: `Some(true)` going, `Some(false)` not going, `None` neither (a
/// comment). Only the community's languages and English are read.
pub fn rsvp_intent(html: &str, c: &community::Model) -> Option<bool> {
    let text = text_of(html).replace(['’', '‘'], "'");
    let text = crate::objects::text::strip_mentions(&text).to_lowercase();
    // Punctuation and emoji go, apostrophes stay ("can't"); so do a leading "sorry".
    let kept: String = text
        .chars()
        .map(|ch| {
            if ch.is_alphanumeric() || ch == '\'' {
                ch
            } else {
                ' '
            }
        })
        .collect();
    let mut words: Vec<&str> = kept.split_whitespace().collect();
    while words.first().is_some_and(|w| {
        [
            "sorry",
            "unfortunately",
            "sadly",
            "désolé",
            "désolée",
            "sorri",
            "leider",
            "lo",
            "siento",
        ]
        .contains(w)
    }) {
        words.remove(0);
    }
    let text = words.join(" ");
    if text.is_empty() || text.chars().count() > 40 {
        return None;
    }
    let langs = languages_of(c);
    let table = ANSWERS
        .iter()
        .filter(|(l, _, _)| langs.iter().any(|x| x == l));
    for (_, going, not_going) in table {
        if not_going.contains(&text.as_str()) {
            return Some(false);
        }
        if going.contains(&text.as_str()) {
            return Some(true);
        }
    }
    None
}

/// How to answer by replying, in the community's languages: the line in an event's summary.
pub fn answer_hint(c: &community::Model) -> String {
    let mut hint = "Reply \"going\" or \"not going\" to answer".to_string();
    let others: Vec<String> = languages_of(c)
        .iter()
        .skip(1)
        .filter_map(|l| ANSWERS.iter().find(|(x, _, _)| x == l))
        .map(|(l, going, not_going)| format!("{l}: \"{}\" / \"{}\"", going[0], not_going[0]))
        .collect();
    if !others.is_empty() {
        hint.push_str(&format!(" ({})", others.join("; ")));
    }
    hint
}

/// The event details of a post, if it is an event.
pub async fn event_of_post(
    db: &impl ConnectionTrait,
    post_id: i64,
) -> Result<Option<event::Model>, Error> {
    Ok(event::Entity::find_by_id(post_id).one(db).await?)
}

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
    let draft = super::discussion::LocalPost {
        community_id: c.id,
        author_id: organizer.id,
        title: details.title,
        html: details.html,
        source: details.source,
        tags: (!details.tags.is_empty()).then(|| Value::Array(details.tags).to_string()),
        url: None,
    };
    let p = super::discussion::insert_local_post(&txn, data, draft, None, data.clock.now()).await?;
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
    if e.status == EventStatus::Cancelled && old.status != EventStatus::Cancelled {
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

/// The event row, locked until the transaction ends, so that answers to one event are
/// decided one at a time (two people never take the last place, and counts never go stale).
/// SQLite's write transactions are already serial.
pub(super) async fn locked_event(
    db: &impl ConnectionTrait,
    post_id: i64,
) -> Result<event::Model, Error> {
    event::Entity::find_by_id(post_id)
        .lock_exclusive()
        .one(db)
        .await?
        .ok_or(Error::NotFound)
}

/// What a deleted event dereferences to.
pub fn event_tombstone(p: &post::Model) -> Value {
    let mut t = tombstone_of(p);
    t["formerType"] = Value::String("Event".into());
    t
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

async fn participant(
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
async fn recount(db: &impl ConnectionTrait, e: &mut event::Model) -> Result<(), Error> {
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

/// Where someone stands after answering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// They have a place.
    Going,
    /// The event is full; they are this far down the waiting list.
    Waiting(u64),
    /// A coordinator will decide (or, for a remote event, its server has not answered yet).
    Pending,
    /// Not accepted, and why.
    Refused(String),
    /// They are not going (any more).
    NotGoing,
}

impl Outcome {
    /// A short word for the API.
    pub fn status(&self) -> &'static str {
        match self {
            Self::Going => "going",
            Self::Waiting(_) => "waiting",
            Self::Pending => "pending",
            Self::Refused(_) => "rejected",
            Self::NotGoing => "not_going",
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn set_status(
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

async fn waiting_position(
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

/// Someone asks to take part in a local event. With `approved`, a coordinator has already
/// said yes, so approval and invitation are not asked for again.
#[allow(clippy::too_many_arguments)]
async fn admit(
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
pub(super) async fn promote(
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
async fn withdraw(
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
pub(super) async fn tell(
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
        let answer = serde_json::to_value(WithContext::new(json!({
            "id": data.urls.new_activity(kind),
            "type": kind,
            "actor": c.ap_id,
            "object": {
                "id": join,
                "type": "Join",
                "actor": who.ap_id,
                "object": p.ap_id,
            },
            "to": [who.ap_id],
            "published": data.clock.now(),
        })))?;
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

async fn local_event(
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

async fn ignore(data: &Data, row: &received_activity::Model, why: &str) -> Result<(), Error> {
    let txn = crate::context::begin(&data.db).await?;
    mark_ignored(&txn, row.id, why).await?;
    txn.commit().await?;
    Ok(())
}

async fn signer(
    data: &Data,
    row: &received_activity::Model,
    actor: &Url,
) -> Result<person::Model, Error> {
    if actor != &row.actor.0 {
        return Err(Error::InvalidActivity("actor is not the signer".into()));
    }
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
        return ignore(data, row, "a Join of nothing we hold").await;
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
        return ignore(data, row, "a Leave of nothing we hold").await;
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
        return ignore(data, row, "an Undo of a Join not stored here").await;
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

/// True when `id` is a `Join` stored here: one our people sent (so an `Accept` of it is about
/// an event) or one we received (so an `Undo` of it is a `Leave`).
pub async fn is_stored_join(db: &impl ConnectionTrait, id: &Url) -> Result<bool, Error> {
    Ok(event_participant::Entity::find()
        .filter(event_participant::Column::JoinApId.eq(DbUrl(id.clone())))
        .count(db)
        .await?
        > 0)
}

/// The holder of a remote event answered one of our people's `Join`.
pub async fn receive_join_answer(
    data: &Data,
    row: &received_activity::Model,
    answer: JoinAnswer,
) -> Result<(), Error> {
    if answer.actor != row.actor.0 {
        return Err(Error::InvalidActivity("actor is not the signer".into()));
    }
    let stored = event_participant::Entity::find()
        .filter(event_participant::Column::JoinApId.eq(DbUrl(answer.object.clone())))
        .one(&data.db)
        .await?;
    let Some(stored) = stored else {
        return ignore(data, row, "an answer to a Join not sent from here").await;
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

/// A reply to one of our events that says "going" or "not going" (Mastodon cannot send
/// `Join`): an answer, confirmed by a direct note in reply. False when the reply is not an
/// answer (it is then a comment in the event's thread).
pub async fn receive_reply_answer(
    data: &Data,
    row: &received_activity::Model,
    note: &Note,
    who: &person::Model,
    parent: &post::Model,
) -> Result<bool, Error> {
    if parent.topic_id.is_some() {
        return Ok(false);
    }
    if event_of_post(&data.db, parent.id).await?.is_none() {
        return Ok(false);
    }
    let c = community_by_row_id(&data.db, parent.community_id).await?;
    if !c.local {
        return Ok(false);
    }
    let Some(going) = rsvp_intent(note.content.as_deref().unwrap_or_default(), &c) else {
        return Ok(false);
    };
    let txn = crate::context::begin(&data.db).await?;
    let mut e = locked_event(&txn, parent.id).await?;
    let outcome = if going {
        admit(&txn, data, &c, &mut e, who, None, None, false).await?
    } else {
        withdraw(&txn, data, &c, parent, &mut e, who).await?
    };
    tell(
        &txn,
        data,
        &c,
        parent,
        &e,
        who,
        None,
        &outcome,
        Some(&note.id),
    )
    .await?;
    mark_done(&txn, row.id).await?;
    commit_and_wake(data, txn).await?;
    Ok(true)
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
        let mut activity = json!({
            "id": id,
            "type": kind,
            "actor": who.ap_id,
            "object": p.ap_id,
            "to": [c.ap_id],
            "published": data.clock.now(),
        });
        if let (Some(m), Some(o)) = (&message, activity.as_object_mut()) {
            o.insert("participationMessage".into(), Value::String(m.clone()));
        }
        let activity = serde_json::to_value(WithContext::new(activity))?;
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

/// A `Create` or `Update` of an `Event` sent straight to us: stored when it belongs to a
/// remote community we know and comes from that community or its server.
pub async fn receive_event(
    data: &Data,
    row: &received_activity::Model,
    act: CreateEvent,
) -> Result<(), Error> {
    if act.actor != row.actor.0 {
        return Err(Error::InvalidActivity("actor is not the signer".into()));
    }
    let ev = act.object;
    let holder = [
        Some(&ev.attributed_to),
        ev.audience.as_ref(),
        act.audience.as_ref(),
    ];
    let mut community = None;
    for id in holder.into_iter().flatten() {
        if let Some(ActorRef::Community(c)) = cached_actor(&data.db, id).await? {
            community = Some(c);
            break;
        }
    }
    let Some(c) = community else {
        return ignore(data, row, "an event of no community we follow").await;
    };
    if c.local {
        return ignore(data, row, "our own communities' events are made here").await;
    }
    if !(act.actor == c.ap_id.0 || same_origin(&act.actor, &c.ap_id.0))
        || !same_origin(&ev.id, &c.ap_id.0)
    {
        return Err(Error::Forbidden(
            "an event comes from its community's server".into(),
        ));
    }
    store_remote(data, row, &c, ev).await
}

/// Stores (or updates) an event a remote community holds. A version no newer than the stored
/// one changes nothing.
pub async fn store_remote(
    data: &Data,
    row: &received_activity::Model,
    c: &community::Model,
    ev: Event,
) -> Result<(), Error> {
    if !same_origin(&ev.id, &c.ap_id.0) {
        return Err(Error::Forbidden(
            "an event comes from its community's server".into(),
        ));
    }
    let organizer_id = ev
        .actor
        .clone()
        .filter(|a| same_origin(a, &c.ap_id.0))
        .unwrap_or_else(|| ev.attributed_to.clone());
    let organizer = match resolve_actor(data, &organizer_id).await {
        Ok(ActorRef::Person(p)) => p,
        _ => {
            return ignore(
                data,
                row,
                "an event whose organiser is not a person we can find",
            )
            .await
        }
    };
    let title: String = text_of(&ev.name).trim().chars().take(200).collect();
    // Our own Events open with their title for Mastodon; Mobilizon's carry only the description.
    let content = crate::objects::strip_title_heading(
        &crate::limits::sanitize_html_within(
            ev.content.as_deref().unwrap_or_default(),
            crate::limits::MAX_CONTENT,
        ),
        &title,
    );
    let tags = crate::objects::text::tags_of(&ev.tag);
    let version = ev.updated.or(ev.published);
    let txn = crate::context::begin(&data.db).await?;
    let p = match post_by_ap_id(&txn, &ev.id).await? {
        Some(existing) if existing.community_id != c.id => {
            return Err(Error::Forbidden(
                "that event belongs to another community".into(),
            ));
        }
        // The same version arrives twice (the Group's own Update and its Announce).
        Some(existing) if version <= existing.updated.or(Some(existing.published)) => {
            mark_ignored(&txn, row.id, "this version of the event is already stored").await?;
            txn.commit().await?;
            return Ok(());
        }
        Some(existing) => {
            post::Entity::update(post::ActiveModel {
                id: Set(existing.id),
                title: Set(title),
                content: Set(content),
                source: Set(ev.source.as_ref().map(|s| s.content.clone())),
                tags: Set(tags),
                updated: Set(ev.updated.or(Some(data.clock.now()))),
                ..Default::default()
            })
            .exec(&txn)
            .await?;
            existing
        }
        None => {
            post::Entity::insert(post::ActiveModel {
                id: NotSet,
                ap_id: Set(DbUrl(ev.id.clone())),
                community_id: Set(c.id),
                author_id: Set(organizer.id),
                title: Set(title),
                content: Set(content),
                source: Set(ev.source.as_ref().map(|s| s.content.clone())),
                local: Set(false),
                published: Set(ev.published.unwrap_or_else(|| data.clock.now())),
                updated: Set(ev.updated),
                parent_id: Set(None),
                topic_id: Set(None),
                last_activity: Set(Some(data.clock.now())),
                locked: Set(false),
                pinned: Set(false),
                deleted: Set(false),
                removed: Set(false),
                tags: Set(tags),
                url: Set(None),
            })
            .exec_with_returning(&txn)
            .await?
        }
    };
    let mut fields = fields_of(&ev, p.id, c.id)?;
    match event_of_post(&txn, p.id).await? {
        Some(old) => {
            fields.sequence = old.sequence + 1;
            event::Entity::update(event::ActiveModel::from(fields).reset_all())
                .exec(&txn)
                .await?;
        }
        None => {
            event::Entity::insert(event::ActiveModel::from(fields))
                .exec(&txn)
                .await?;
        }
    }
    mark_done(&txn, row.id).await?;
    txn.commit().await?;
    Ok(())
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
            if claimed && !who.local {
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
