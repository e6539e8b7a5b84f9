//! How the activities about a local event reach each follower's server, in the form it reads.
//!
//! - The Group's own `Create`, `Update` or `Delete`, sent as it is: Mobilizon reads an event
//!   held by its group (`attributedTo` the Group, `actor` the organiser); Mastodon and
//!   GoToSocial show it once, as the Group's status. It is never also announced bare, which
//!   Mastodon showed as a second copy, the Group's boost of its own status.
//! - The organiser's `Create`, `Update` or `Delete`, announced by the Group (FEP-1b12): Lemmy
//!   0.19 takes a post only from a `Person`, as its actor and its `attributedTo`, and finds the
//!   community in `audience`.
//!
//! A server whose software is known gets only its form; one not known gets both, and each
//! kind of server reads the one meant for it.

use crate::outbox::announce::{announce_to, follower_inboxes};
use crate::{
    nodeinfo::{reads_of, Reads},
    objects::public,
    protocol::{Audience, CreateEvent, DeleteObject, Event, WithContext},
    queue::{enqueue, Outgoing},
    Data, Error,
};
use copse_entities::{community, person};
use sea_orm::ConnectionTrait;
use serde_json::Value;
use std::collections::BTreeSet;
use url::Url;

/// What happens to the event.
#[derive(Debug, Clone, PartialEq)]
pub enum EventChange {
    /// Scheduled.
    Create,
    /// Changed or cancelled.
    Update,
    /// Deleted; the Group's form carries this tombstone.
    Delete(Value),
}

/// Sends one change of a local event to every follower's server in the form it reads. Call
/// inside the transaction of the change; wake the outbox after commit.
pub async fn send_event(
    txn: &impl ConnectionTrait,
    data: &Data,
    c: &community::Model,
    object: &Event,
    organizer: &person::Model,
    change: EventChange,
) -> Result<(), Error> {
    let inboxes = follower_inboxes(txn, c.id).await?;
    let reads = reads_of(txn, &inboxes).await?;
    let (group_inboxes, person_inboxes): (BTreeSet<Url>, BTreeSet<Url>) = (
        inboxes
            .iter()
            .filter(|i| reads.get(*i) != Some(&Reads::Threadiverse))
            .cloned()
            .collect(),
        inboxes
            .iter()
            .filter(|i| {
                matches!(
                    reads.get(*i),
                    None | Some(Reads::Threadiverse | Reads::Unknown)
                )
            })
            .cloned()
            .collect(),
    );
    let own = match &change {
        EventChange::Delete(t) => deletion(data, c, &c.ap_id.0, t.clone()),
        _ => change_of(data, c, &c.ap_id.0, &change, object.clone()),
    };
    enqueue(txn, &data.urls, &*own, None, true, group_inboxes).await?;
    let by_person = match &change {
        EventChange::Delete(_) => deletion(
            data,
            c,
            &organizer.ap_id.0,
            Value::String(object.id.to_string()),
        ),
        _ => {
            let mut held = object.clone();
            held.attributed_to = organizer.ap_id.0.clone();
            change_of(data, c, &organizer.ap_id.0, &change, held)
        }
    };
    // Stored, so that the inner id dereferences.
    enqueue(txn, &data.urls, &*by_person, None, true, []).await?;
    announce_to(txn, data, c, &by_person.to_json()?, None, person_inboxes).await
}

fn change_of(
    data: &Data,
    c: &community::Model,
    actor: &Url,
    change: &EventChange,
    object: Event,
) -> Box<dyn Outgoing> {
    let kind = match change {
        EventChange::Create => "Create",
        _ => "Update",
    };
    Box::new(WithContext::new(CreateEvent {
        id: data.urls.new_activity(kind),
        kind: kind.into(),
        actor: actor.clone(),
        audience: object.audience.clone().in_group(c.ap_id.0.clone()),
        object,
        published: Some(data.clock.now()),
    }))
}

/// A `Delete` by `actor`. The Group's names the event's tombstone; the organiser's names the
/// event by id and has no `summary`, which Lemmy would read as a moderator's removal.
// Mobilizon and Copse read the Group's deletion with the tombstone embedded.
fn deletion(data: &Data, c: &community::Model, actor: &Url, object: Value) -> Box<dyn Outgoing> {
    let followers = data.urls.community_part(&c.name, "followers");
    Box::new(WithContext::new(DeleteObject {
        id: data.urls.new_activity("Delete"),
        kind: "Delete".into(),
        actor: actor.clone(),
        object,
        audience: Audience::new(vec![public()], vec![followers]).in_group(c.ap_id.0.clone()),
        published: Some(data.clock.now()),
    }))
}
