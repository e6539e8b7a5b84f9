//! Notifications for local people, written in the transaction of what caused them: replies,
//! mentions, decisions on join requests, welcomes, event changes, cancellations and reminders,
//! resolved reports, and join requests for those who decide on them.
//!
//! Only people with an account here are notified, never of their own act, and never twice for
//! one cause: each notification has a key (the post, the follow, the event's sequence...) that
//! is unique per person, so a replayed activity writes nothing new.
//!
//! Reading them is here too, for the notifications page and the API alike: a page of them, the
//! unread count, marking them read, and each person's choice of mail.

use crate::Error;
use chrono::{DateTime, Utc};
use copse_entities::{
    community, community_follower,
    community_follower::Role,
    event,
    event_participant::{self, ParticipantStatus},
    local_user::{self, EmailChoice},
    notification::{self, NotificationKind},
    person, post, report, DbUrl,
};
use sea_orm::{
    sea_query::{Expr, OnConflict},
    ActiveValue::NotSet,
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde_json::Value;
use url::Url;

/// What one notification says, before it is addressed to someone.
#[derive(Debug, Clone)]
pub struct Notice {
    /// What happened.
    pub kind: NotificationKind,
    /// The community it happened in.
    pub community_id: Option<i64>,
    /// The post or event it is about.
    pub post_id: Option<i64>,
    /// Who did it; the person never hears of their own act.
    pub actor_id: Option<i64>,
    /// One line of plain text.
    pub text: String,
    /// Where to read more: a path here or an absolute URL.
    pub link: String,
    /// The same key for the same cause (unique per person).
    pub key: String,
}

/// Tells `person_id` of `notice` when they have an account here and did not do it themselves.
/// True when a notification was written (false for a repeat of one already written).
pub async fn notify(
    db: &impl ConnectionTrait,
    person_id: i64,
    notice: &Notice,
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    if notice.actor_id == Some(person_id) {
        return Ok(false);
    }
    let Some(user) = local_user::Entity::find()
        .filter(local_user::Column::PersonId.eq(person_id))
        .one(db)
        .await?
    else {
        return Ok(false);
    };
    let mailed = user.email_notifications != EmailChoice::None
        && user.email.as_deref().is_some_and(|e| !e.trim().is_empty());
    let n = notification::Entity::insert(notification::ActiveModel {
        id: NotSet,
        person_id: Set(person_id),
        kind: Set(notice.kind),
        community_id: Set(notice.community_id),
        post_id: Set(notice.post_id),
        actor_id: Set(notice.actor_id),
        text: Set(notice.text.clone()),
        link: Set(notice.link.clone()),
        created_at: Set(now),
        read_at: Set(None),
        // Someone who wants no mail now is not mailed this one later either.
        mailed_at: Set((!mailed).then_some(now)),
        dedupe_key: Set(notice.key.clone()),
    })
    .on_conflict(
        OnConflict::columns([
            notification::Column::PersonId,
            notification::Column::DedupeKey,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(n > 0)
}

/// What a person is called.
fn name_of(p: &person::Model) -> String {
    p.display_name.clone().unwrap_or_else(|| p.name.clone())
}

/// The page of a community here: `/c/name`, or `/c/name@domain` for one on another server,
/// where the person takes part from their own server.
fn community_link(c: &community::Model) -> String {
    if c.local {
        format!("/c/{}", c.name)
    } else {
        format!("/c/{}@{}", c.name, crate::protocol::domain_of(&c.ap_id.0))
    }
}

/// The place of a post in its thread.
fn post_link(p: &post::Model) -> String {
    if p.topic_id.is_some() {
        format!("/post/{}#p{}", p.thread_id(), p.id)
    } else {
        format!("/post/{}", p.id)
    }
}

/// " in “Title”", or nothing for a post without a title.
fn in_title(title: &str) -> String {
    if title.is_empty() {
        String::new()
    } else {
        format!(" in “{title}”")
    }
}

/// The people a post's tags mention.
fn mentioned(tags: Option<&str>) -> Vec<Url> {
    let Some(Ok(Value::Array(tags))) = tags.map(serde_json::from_str::<Value>) else {
        return Vec::new();
    };
    tags.iter()
        .filter(|t| t.get("type").and_then(Value::as_str) == Some("Mention"))
        .filter_map(|t| t.get("href").and_then(Value::as_str))
        .filter_map(|h| Url::parse(h).ok())
        .collect()
}

/// A new post, written here or received: its parent's author hears of the reply, the people
/// it mentions hear of the mention (a reply that mentions the author it answers is one
/// notification, the reply).
pub async fn new_post(db: &impl ConnectionTrait, row: &post::Model) -> Result<(), Error> {
    let Some(author) = person::Entity::find_by_id(row.author_id).one(db).await? else {
        return Ok(());
    };
    let topic = match row.topic_id {
        Some(id) => post::Entity::find_by_id(id).one(db).await?,
        None => Some(row.clone()),
    };
    let title = in_title(topic.as_ref().map(|t| t.title.as_str()).unwrap_or_default());
    let now = Utc::now();
    let mut told = Vec::new();
    if let Some(parent_id) = row.parent_id {
        if let Some(parent) = post::Entity::find_by_id(parent_id).one(db).await? {
            let notice = Notice {
                kind: NotificationKind::Reply,
                community_id: Some(row.community_id),
                post_id: Some(row.id),
                actor_id: Some(author.id),
                text: format!("{} replied to you{title}", name_of(&author)),
                link: post_link(row),
                key: format!("post:{}", row.id),
            };
            notify(db, parent.author_id, &notice, now).await?;
            told.push(parent.author_id);
        }
    }
    let hrefs: Vec<DbUrl> = mentioned(row.tags.as_deref())
        .into_iter()
        .map(DbUrl)
        .collect();
    if hrefs.is_empty() {
        return Ok(());
    }
    let people = person::Entity::find()
        .filter(person::Column::ApId.is_in(hrefs))
        .filter(person::Column::Local.eq(true))
        .all(db)
        .await?;
    let text = format!("{} mentioned you{title}", name_of(&author));
    for p in people.iter().filter(|p| !told.contains(&p.id)) {
        let notice = Notice {
            kind: NotificationKind::Mention,
            community_id: Some(row.community_id),
            post_id: Some(row.id),
            actor_id: Some(author.id),
            text: text.clone(),
            link: post_link(row),
            key: format!("mention:{}", row.id),
        };
        notify(db, p.id, &notice, now).await?;
    }
    Ok(())
}

/// A person's request to join was approved or declined (here by `by`, or by a remote community).
pub async fn join_decided(
    db: &impl ConnectionTrait,
    c: &community::Model,
    person_id: i64,
    follow_id: &Url,
    approved: bool,
    by: Option<i64>,
) -> Result<(), Error> {
    let text = if approved {
        format!("Your request to join {} was approved", c.title)
    } else {
        format!("Your request to join {} was declined", c.title)
    };
    let notice = Notice {
        kind: NotificationKind::JoinDecided,
        community_id: Some(c.id),
        post_id: None,
        actor_id: by,
        text,
        link: community_link(c),
        key: format!("follow:{follow_id}"),
    };
    notify(db, person_id, &notice, Utc::now()).await?;
    Ok(())
}

/// A person became a member of a community here.
pub async fn welcome(
    db: &impl ConnectionTrait,
    c: &community::Model,
    person_id: i64,
    follow_id: &Url,
) -> Result<(), Error> {
    let notice = Notice {
        kind: NotificationKind::Welcome,
        community_id: Some(c.id),
        post_id: None,
        actor_id: None,
        text: format!("Welcome to {}: you are now a member", c.title),
        link: community_link(c),
        key: format!("welcome:{follow_id}"),
    };
    notify(db, person_id, &notice, Utc::now()).await?;
    Ok(())
}

/// Someone asks to join a community here: its coordinators and facilitators with an account
/// here hear of it.
pub async fn join_request(
    db: &impl ConnectionTrait,
    c: &community::Model,
    applicant: &person::Model,
    follow_id: &Url,
) -> Result<(), Error> {
    let deciders: Vec<i64> = community_follower::Entity::find()
        .filter(community_follower::Column::CommunityId.eq(c.id))
        .filter(community_follower::Column::Pending.eq(false))
        .filter(community_follower::Column::Role.is_in([Role::Facilitator, Role::Coordinator]))
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.person_id)
        .collect();
    let notice = Notice {
        kind: NotificationKind::JoinRequest,
        community_id: Some(c.id),
        post_id: None,
        actor_id: Some(applicant.id),
        text: format!("{} asks to join {}", name_of(applicant), c.title),
        link: format!("/c/{}/desk", c.name),
        key: format!("request:{follow_id}"),
    };
    let now = Utc::now();
    for id in deciders {
        notify(db, id, &notice, now).await?;
    }
    Ok(())
}

/// An event changed (`cancelled` when this change cancelled it): the people going or waiting
/// hear of it, once per version of the event.
pub async fn event_changed(
    db: &impl ConnectionTrait,
    p: &post::Model,
    e: &event::Model,
    cancelled: bool,
    by: Option<i64>,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let (kind, text) = if cancelled {
        (
            NotificationKind::EventCancelled,
            format!("“{}” has been cancelled", p.title),
        )
    } else {
        (
            NotificationKind::EventChanged,
            format!("“{}” has changed", p.title),
        )
    };
    let notice = Notice {
        kind,
        community_id: Some(e.community_id),
        post_id: Some(p.id),
        actor_id: by,
        text,
        link: format!("/post/{}", p.id),
        key: format!("event:{}:{}", p.id, e.sequence),
    };
    let going: Vec<i64> = event_participant::Entity::find()
        .filter(event_participant::Column::EventId.eq(p.id))
        .filter(
            event_participant::Column::Status
                .is_in([ParticipantStatus::Going, ParticipantStatus::Waiting]),
        )
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.person_id)
        .collect();
    // `notify` passes over people with no account here.
    for id in going {
        notify(db, id, &notice, now).await?;
    }
    Ok(())
}

/// An event someone here is going to starts soon (`starts`: in words).
pub async fn event_reminder(
    db: &impl ConnectionTrait,
    p: &post::Model,
    e: &event::Model,
    person_id: i64,
    starts: &str,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let notice = Notice {
        kind: NotificationKind::EventReminder,
        community_id: Some(e.community_id),
        post_id: Some(p.id),
        actor_id: None,
        text: format!("Reminder: “{}” starts {starts}", p.title),
        link: format!("/post/{}", p.id),
        key: format!("reminder:{}:{}", p.id, e.starts_at.timestamp()),
    };
    notify(db, person_id, &notice, now).await?;
    Ok(())
}

/// A report was resolved or dismissed: the person who made it hears, when they are from here.
pub async fn report_resolved(
    db: &impl ConnectionTrait,
    r: &report::Model,
    c: &community::Model,
    by: i64,
    dismissed: bool,
) -> Result<(), Error> {
    let Some(reporter) = person::Entity::find()
        .filter(person::Column::ApId.eq(r.reporter.clone()))
        .filter(person::Column::Local.eq(true))
        .one(db)
        .await?
    else {
        return Ok(());
    };
    let decided = if dismissed { "dismissed" } else { "resolved" };
    let link = match r.post_id {
        Some(id) => match post::Entity::find_by_id(id).one(db).await? {
            Some(p) => post_link(&p),
            None => community_link(c),
        },
        None => community_link(c),
    };
    let notice = Notice {
        kind: NotificationKind::ReportResolved,
        community_id: Some(c.id),
        post_id: r.post_id,
        actor_id: Some(by),
        text: format!("Your report in {} was {decided}", c.title),
        link,
        key: format!("report:{}", r.id),
    };
    notify(db, reporter.id, &notice, Utc::now()).await?;
    Ok(())
}

/// Up to `limit` of a person's notifications from `offset`, newest first; only the unread ones
/// when `unread_only`.
pub async fn page_of(
    db: &impl ConnectionTrait,
    person_id: i64,
    unread_only: bool,
    offset: u64,
    limit: u64,
) -> Result<Vec<notification::Model>, Error> {
    let mut query =
        notification::Entity::find().filter(notification::Column::PersonId.eq(person_id));
    if unread_only {
        query = query.filter(notification::Column::ReadAt.is_null());
    }
    Ok(query
        .order_by_desc(notification::Column::Id)
        .offset(offset)
        .limit(limit)
        .all(db)
        .await?)
}

/// How many of a person's notifications are not read.
pub async fn unread_count(db: &impl ConnectionTrait, person_id: i64) -> Result<u64, Error> {
    Ok(notification::Entity::find()
        .filter(notification::Column::PersonId.eq(person_id))
        .filter(notification::Column::ReadAt.is_null())
        .count(db)
        .await?)
}

/// The id of a person's newest notification, 0 when they have none.
pub async fn newest_id(db: &impl ConnectionTrait, person_id: i64) -> Result<i64, Error> {
    Ok(notification::Entity::find()
        .select_only()
        .column(notification::Column::Id)
        .filter(notification::Column::PersonId.eq(person_id))
        .order_by_desc(notification::Column::Id)
        .into_tuple::<i64>()
        .one(db)
        .await?
        .unwrap_or(0))
}

/// Marks read a person's unread notifications, those up to id `up_to` or, without it, all of
/// them; how many it marked.
pub async fn mark_read(
    db: &impl ConnectionTrait,
    person_id: i64,
    up_to: Option<i64>,
    now: DateTime<Utc>,
) -> Result<u64, Error> {
    let mut update = notification::Entity::update_many()
        .col_expr(notification::Column::ReadAt, Expr::value(Some(now)))
        .filter(notification::Column::PersonId.eq(person_id))
        .filter(notification::Column::ReadAt.is_null());
    if let Some(id) = up_to {
        update = update.filter(notification::Column::Id.lte(id));
    }
    Ok(update.exec(db).await?.rows_affected)
}

/// Stores an account's email address and which notifications it is sent by mail.
pub async fn set_mail_choice(
    db: &impl ConnectionTrait,
    local_user_id: i64,
    email: Option<String>,
    choice: EmailChoice,
) -> Result<local_user::Model, Error> {
    Ok(local_user::Entity::update(local_user::ActiveModel {
        id: Set(local_user_id),
        email: Set(email),
        email_notifications: Set(choice),
        ..Default::default()
    })
    .exec(db)
    .await?)
}
