//! Conversions between database rows and wire objects.

use crate::html::{escape_html, sanitize_html};

mod community;
pub mod event;
mod person;
mod post;
pub mod text;

pub use community::{group_of, Relations};
pub use person::{instance_actor, mention, person_of};
pub use post::{
    in_community, note_of, public, replies_id, replies_of, replies_page, replies_page_id,
    thread_context, tombstone_of,
};

/// The heading a topic's or an event's `content` opens with: Mastodon and GoToSocial show only
/// `content` (an Event's `summary` becomes the content warning), never `name`.
pub fn title_heading(title: &str) -> String {
    format!("<p><strong>{}</strong></p>", escape_html(title))
}

/// Sanitised `html` without a leading [`title_heading`] of `title`, so that a post or event
/// that opens with its title (ours do) does not show it twice once stored.
pub fn strip_title_heading(html: &str, title: &str) -> String {
    let heading = title_heading(title);
    // Sanitising writes quotes in text unescaped, so the heading is looked for in both forms.
    let sanitised = sanitize_html(&heading);
    for h in [&heading, &sanitised] {
        if let Some(rest) = html.strip_prefix(h.as_str()) {
            return rest.trim_start().to_string();
        }
    }
    html.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_title_heading_is_stripped_once_whatever_its_quotes() {
        let title = "Ana's \"open\" <budgets>";
        let html = sanitize_html(&format!("{}\n<p>Body</p>", title_heading(title)));
        assert_eq!(strip_title_heading(&html, title), "<p>Body</p>");
        let mobilizon = "<p>Body only</p>";
        assert_eq!(strip_title_heading(mobilizon, title), mobilizon);
    }
}
