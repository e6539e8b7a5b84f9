//! Person rows and the instance actor as actor documents.

use crate::html::escape_html;
use crate::{
    protocol::{Endpoints, Person, PublicKey},
    urls::Urls,
};
use chrono::{DateTime, Utc};
use copse_entities::person;
use serde_json::{json, Value};

/// The `Person` document of a local person.
pub fn person_of(urls: &Urls, p: &person::Model) -> Person {
    Person {
        id: p.ap_id.0.clone(),
        kind: "Person".into(),
        preferred_username: p.name.clone(),
        name: p.display_name.clone(),
        summary: p.summary.clone(),
        inbox: p.inbox.0.clone(),
        outbox: Some(urls.person_part(&p.name, "outbox")),
        followers: Some(urls.person_part(&p.name, "followers")),
        following: Some(urls.person_part(&p.name, "following")),
        endpoints: Some(Endpoints {
            shared_inbox: p.shared_inbox.as_ref().map(|u| u.0.clone()),
        }),
        public_key: PublicKey {
            id: p.key_id.0.clone(),
            owner: p.ap_id.0.clone(),
            public_key_pem: p.public_key_pem.clone(),
        },
        url: Some(p.ap_id.0.clone()),
        icon: p.avatar.as_deref().map(avatar_image),
        manually_approves_followers: false,
        // Mastodon's `toot:discoverable`: Copse servers list a member whose actor says true
        // in their member directories, as this one lists its own people by the same choice.
        discoverable: Some(p.discoverable),
        published: Some(p.published),
    }
}

/// An avatar URL as an `Image`; our own uploads end in the extension of their type, which
/// names the `mediaType` (Mastodon reads the type of an avatar from it before fetching).
fn avatar_image(url: &str) -> Value {
    let media_type = match url.rsplit_once('.').map(|(_, ext)| ext) {
        Some("png") => Some("image/png"),
        Some("jpg") => Some("image/jpeg"),
        Some("gif") => Some("image/gif"),
        Some("webp") => Some("image/webp"),
        _ => None,
    };
    match media_type {
        Some(t) => json!({ "type": "Image", "mediaType": t, "url": url }),
        None => json!({ "type": "Image", "url": url }),
    }
}

/// The instance's `Application` actor, which signs fetches. GoToSocial refuses a signing actor
/// without `preferredUsername` and WebFinger, so it has both.
pub fn instance_actor(urls: &Urls, public_key_pem: &str, published: DateTime<Utc>) -> Person {
    let id = urls.instance_actor();
    Person {
        id: id.clone(),
        kind: "Application".into(),
        preferred_username: urls.base().host_str().unwrap_or("copse").to_string(),
        name: Some("Copse".into()),
        summary: None,
        inbox: urls.shared_inbox(),
        outbox: None,
        followers: Some(urls.instance_actor_part("followers")),
        following: Some(urls.instance_actor_part("following")),
        endpoints: Some(Endpoints {
            shared_inbox: Some(urls.shared_inbox()),
        }),
        public_key: PublicKey {
            id: urls.instance_key_id(),
            owner: id.clone(),
            public_key_pem: public_key_pem.to_string(),
        },
        url: Some(id),
        icon: None,
        manually_approves_followers: true,
        discoverable: None,
        published: Some(published),
    }
}

/// The HTML link and the `Mention` tag naming `person` as `@name@host[:port]`, as Mastodon writes
/// them.
pub fn mention(person: &person::Model) -> (String, Value) {
    let host = person.ap_id.host_str().unwrap_or_default();
    let port = person
        .ap_id
        .port()
        .map(|p| format!(":{p}"))
        .unwrap_or_default();
    let handle = format!("@{}@{host}{port}", person.name);
    let html = format!(
        "<span class=\"h-card\"><a href=\"{}\" class=\"u-url mention\">@<span>{}</span></a></span>",
        escape_html(person.ap_id.as_str()),
        escape_html(&person.name)
    );
    (
        html,
        json!({ "type": "Mention", "href": person.ap_id, "name": handle }),
    )
}
