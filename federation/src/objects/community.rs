//! A community row as a `Group` actor.

use crate::{
    protocol::{Endpoints, Group, PublicKey},
    urls::Urls,
};
use copse_entities::community;

/// The `Group` document of a local community.
pub fn group_of(urls: &Urls, c: &community::Model) -> Group {
    Group {
        id: c.ap_id.0.clone(),
        kind: "Group".into(),
        preferred_username: c.name.clone(),
        name: Some(c.title.clone()),
        summary: c.summary.clone(),
        inbox: c.inbox.0.clone(),
        outbox: Some(urls.community_part(&c.name, "outbox")),
        followers: Some(urls.community_part(&c.name, "followers")),
        featured: Some(urls.community_part(&c.name, "featured")),
        attributed_to: Some(urls.community_part(&c.name, "moderators")),
        endpoints: Some(Endpoints {
            shared_inbox: c.shared_inbox.as_ref().map(|u| u.0.clone()),
        }),
        public_key: PublicKey {
            id: c.key_id.0.clone(),
            owner: c.ap_id.0.clone(),
            public_key_pem: c.public_key_pem.clone(),
        },
        manually_approves_followers: c.manually_approves_followers,
        discoverable: Some(c.discoverable),
        posting_restricted_to_mods: Some(false),
        url: Some(c.ap_id.0.clone()),
        published: Some(c.published),
        attachment: Vec::new(),
    }
}
