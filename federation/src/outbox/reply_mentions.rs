//! A local reply to someone on another server mentions them, in its tags and as a link opening
//! the text, as Mastodon clients write replies: GoToSocial drops a reply from an account its user
//! does not follow unless it mentions them, and Mastodon notifies only the people mentioned.

use crate::store::lookup::person_by_row_id;
use crate::Error;
use copse_entities::{person, post};
use sea_orm::{ConnectionTrait, EntityTrait};
use serde_json::Value;

/// True when a reply by `author` to `parent_author` mentions them: they are elsewhere and not
/// the author.
fn wants_mention(author: &person::Model, parent_author: &person::Model) -> bool {
    !parent_author.local && parent_author.id != author.id
}

/// Adds the mention of `parent_author` to a new reply's HTML and tags, unless it names them
/// already.
pub fn mention_parent_author(
    html: &mut String,
    tags: &mut Vec<Value>,
    author: &person::Model,
    parent_author: &person::Model,
) {
    if !wants_mention(author, parent_author) {
        return;
    }
    let href = parent_author.ap_id.as_str();
    let named = tags.iter().any(|t| {
        t.get("type").and_then(Value::as_str) == Some("Mention")
            && t.get("href").and_then(Value::as_str) == Some(href)
    });
    if named {
        return;
    }
    let (link, tag) = crate::objects::mention(parent_author);
    *html = open_with(&link, html);
    tags.push(tag);
}

/// HTML that opens with `link`, inside the first paragraph when there is one.
fn open_with(link: &str, html: &str) -> String {
    match html.strip_prefix("<p>") {
        Some(rest) => format!("<p>{link} {rest}"),
        None => format!("<p>{link}</p>\n{html}"),
    }
}

/// An edited reply keeps opening with the mention its first version made.
pub async fn keep_parent_mention(
    db: &impl ConnectionTrait,
    p: &post::Model,
    author: &person::Model,
    html: String,
) -> Result<String, Error> {
    let Some(parent_id) = p.parent_id else {
        return Ok(html);
    };
    let Some(parent) = post::Entity::find_by_id(parent_id).one(db).await? else {
        return Ok(html);
    };
    let pa = person_by_row_id(db, parent.author_id).await?;
    let mentioned = p
        .tags
        .as_deref()
        .is_some_and(|t| t.contains(pa.ap_id.as_str()));
    if !wants_mention(author, &pa) || !mentioned || html.contains(pa.ap_id.as_str()) {
        return Ok(html);
    }
    Ok(open_with(&crate::objects::mention(&pa).0, &html))
}
