//! `Create` or `Update` of an `Event` from a remote community we follow.

use crate::activities::receive::{ignore, require_signer, Applied, Receive, Verified};
use crate::store::events::event_of_post;

use crate::objects::text::text_of;
use crate::store::posts::post_by_ap_id;
use crate::{
    fetch::{cached_actor, resolve_actor, ActorRef},
    objects::event::fields_of,
    protocol::{same_origin, CreateEvent, Event},
    Data, Error,
};
use async_trait::async_trait;
use copse_entities::{
    community,
    event::{self},
    person, post, received_activity, DbUrl,
};
use sea_orm::{ActiveModelTrait, ActiveValue::NotSet, DatabaseTransaction, EntityTrait, Set};

/// A `Create` or `Update` of an `Event` sent straight to us: stored when it belongs to a
/// remote community we know and comes from that community or its server.
pub async fn verify_event(
    data: &Data,
    row: &received_activity::Model,
    act: CreateEvent,
) -> Result<Verified, Error> {
    require_signer(row, &act.actor, "Event")?;
    let ev = act.object;
    let holder = [
        Some(&ev.attributed_to),
        ev.audience.group.as_ref(),
        act.audience.group.as_ref(),
    ];
    let mut community = None;
    for id in holder.into_iter().flatten() {
        if let Some(ActorRef::Community(c)) = cached_actor(&data.db, id).await? {
            community = Some(c);
            break;
        }
    }
    let Some(c) = community else {
        return ignore("an event of no community we follow");
    };
    if c.local {
        return ignore("our own communities' events are made here");
    }
    if !(act.actor == c.ap_id.0 || same_origin(&act.actor, &c.ap_id.0))
        || !same_origin(&ev.id, &c.ap_id.0)
    {
        return Err(Error::Forbidden(
            "an event comes from its community's server".into(),
        ));
    }
    verify_remote(data, &c, ev).await
}

/// An event a remote community holds, to store or update. A version no newer than the stored
/// one changes nothing.
pub async fn verify_remote(
    data: &Data,
    c: &community::Model,
    ev: Event,
) -> Result<Verified, Error> {
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
        _ => return ignore("an event whose organiser is not a person we can find"),
    };
    Verified::apply(RemoteEvent {
        community: c.clone(),
        organizer,
        ev,
    })
}

/// A checked event of a remote community.
struct RemoteEvent {
    community: community::Model,
    organizer: person::Model,
    ev: Event,
}

#[async_trait]
impl Receive for RemoteEvent {
    async fn receive(
        self: Box<Self>,
        data: &Data,
        _row: &received_activity::Model,
        txn: &DatabaseTransaction,
    ) -> Result<Applied, Error> {
        let (c, ev) = (&self.community, &self.ev);
        let title: String = text_of(&ev.name).trim().chars().take(200).collect();
        // Our own Events open with their title for Mastodon; Mobilizon's carry only the
        // description.
        let content = crate::objects::strip_title_heading(
            &crate::limits::sanitize_html_within(
                ev.content.as_deref().unwrap_or_default(),
                crate::limits::MAX_CONTENT,
            ),
            &title,
        );
        let tags = crate::objects::text::tags_of(&ev.tag);
        let version = ev.updated.or(ev.published);
        let shown_title = title.clone();
        let p = match post_by_ap_id(txn, &ev.id).await? {
            Some(existing) if existing.community_id != c.id => {
                return Err(Error::Forbidden(
                    "that event belongs to another community".into(),
                ));
            }
            // The same version arrives twice (the Group's own Update and its Announce).
            Some(existing) if version <= existing.updated.or(Some(existing.published)) => {
                return Ok(Applied::Ignored(
                    "this version of the event is already stored".into(),
                ));
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
                .exec(txn)
                .await?;
                existing
            }
            None => {
                post::Entity::insert(post::ActiveModel {
                    id: NotSet,
                    ap_id: Set(DbUrl(ev.id.clone())),
                    community_id: Set(c.id),
                    author_id: Set(self.organizer.id),
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
                .exec_with_returning(txn)
                .await?
            }
        };
        let mut fields = fields_of(ev, p.id, c.id)?;
        match event_of_post(txn, p.id).await? {
            Some(old) => {
                fields.sequence = old.sequence + 1;
                let cancelled = fields.status == event::EventStatus::Cancelled
                    && old.status != event::EventStatus::Cancelled;
                let now = data.clock.now();
                let shown = post::Model {
                    title: shown_title,
                    ..p.clone()
                };
                crate::store::notifications::event_changed(
                    txn, &shown, &fields, cancelled, None, now,
                )
                .await?;
                event::Entity::update(event::ActiveModel::from(fields).reset_all())
                    .exec(txn)
                    .await?;
            }
            None => {
                event::Entity::insert(event::ActiveModel::from(fields))
                    .exec(txn)
                    .await?;
                // A new event of a partner: the communities that share by themselves take it.
                crate::outbox::partners::offer(txn, data, c, &p).await?;
            }
        }
        Ok(Applied::Done)
    }
}
