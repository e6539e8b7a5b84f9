//! A community row as a `Group` actor.

use crate::{
    html::escape_html,
    protocol::{Endpoints, Group, PropertyValue, PublicKey},
    urls::Urls,
};
use copse_entities::community::{self, MembershipPolicy, PostingPolicy};

fn field(name: &str, value: String) -> PropertyValue {
    PropertyValue {
        kind: "PropertyValue".into(),
        name: name.into(),
        value,
    }
}

/// Plain text of stored HTML, shortened for a profile field.
fn short(html: &str) -> String {
    let text = crate::html::unescape_html(&ammonia::Builder::empty().clean(html).to_string());
    let text = text.trim();
    let cut: String = text.chars().take(250).collect();
    escape_html(&if cut.len() < text.len() {
        format!("{cut}…")
    } else {
        cut
    })
}

/// The key facts Mastodon shows as profile fields.
pub fn profile_fields(urls: &Urls, c: &community::Model) -> Vec<PropertyValue> {
    let policy = match c.membership_policy {
        MembershipPolicy::Open => "open to all",
        MembershipPolicy::Approval => "by approval",
        MembershipPolicy::Invite => "by invitation",
    };
    let mut fields = vec![field("Membership", policy.into())];
    let rules = urls.community_part(&c.name, "rules");
    if c.rules.is_some() {
        fields.push(field(
            "Code of conduct",
            format!(
                "<a href=\"{0}\" rel=\"nofollow noopener noreferrer\">{0}</a>",
                escape_html(rules.as_str())
            ),
        ));
    }
    if let Some(p) = &c.purpose {
        fields.push(field("Purpose", short(p)));
    }
    if let Some(d) = &c.decision_making {
        fields.push(field("Decisions", short(d)));
    }
    if let Some(l) = &c.languages {
        fields.push(field("Languages", escape_html(l)));
    }
    fields
}

/// Where a community stands in its network: the community it sits under, and how many sit
/// under it (read by `store::tree::relations`).
#[derive(Debug, Clone, Default)]
pub struct Relations {
    /// The parent, when it names one this server knows.
    pub parent: Option<community::Model>,
    /// How many sub-communities it has.
    pub children: usize,
}

/// Profile fields that link a community to its parent and its sub-communities, for servers that
/// read no `parent` (Mastodon and GoToSocial show profile fields as they are).
fn relation_fields(urls: &Urls, c: &community::Model, r: &Relations) -> Vec<PropertyValue> {
    let mut fields = Vec::new();
    if let Some(p) = &r.parent {
        fields.push(field(
            "Part of",
            format!(
                "<a href=\"{}\" rel=\"nofollow noopener noreferrer\">{}</a>",
                escape_html(p.ap_id.0.as_str()),
                escape_html(&p.title)
            ),
        ));
    }
    if r.children > 0 {
        let list = urls.community_part(&c.name, "subcommunities");
        fields.push(field(
            "Sub-communities",
            format!(
                "<a href=\"{0}\" rel=\"nofollow noopener noreferrer\">{1} communit{2}</a>",
                escape_html(list.as_str()),
                r.children,
                if r.children == 1 { "y" } else { "ies" }
            ),
        ));
    }
    fields
}

/// The `Group` document of a local community, with its place in the network.
pub fn group_of(urls: &Urls, c: &community::Model, r: &Relations) -> Group {
    let mut attachment = profile_fields(urls, c);
    attachment.extend(relation_fields(urls, c, r));
    Group {
        id: c.ap_id.0.clone(),
        kind: "Group".into(),
        preferred_username: c.name.clone(),
        name: Some(c.title.clone()),
        summary: c.summary.clone(),
        inbox: c.inbox.0.clone(),
        outbox: Some(urls.community_part(&c.name, "outbox")),
        followers: Some(urls.community_part(&c.name, "followers")),
        following: Some(urls.community_part(&c.name, "following")),
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
        // Mastodon shows a lock for communities that approve or invite.
        manually_approves_followers: c.membership_policy != MembershipPolicy::Open,
        discoverable: Some(c.discoverable),
        posting_restricted_to_mods: Some(c.topic_policy == PostingPolicy::Coordinators),
        url: Some(c.ap_id.0.clone()),
        published: Some(c.published),
        attachment,
        parent: c.parent_ap_id.as_ref().map(|p| p.0.clone()),
        subcommunities: Some(urls.community_part(&c.name, "subcommunities")),
        partners: Some(urls.community_part(&c.name, "partners")),
    }
}
