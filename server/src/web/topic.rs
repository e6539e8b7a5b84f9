//! A topic's page: the thread, nested, with a reply box under each post, reactions, and the
//! author's edit and delete; and the report form.

use super::{
    account::Empty,
    chrome::Chrome,
    error::PageError,
    form::{FieldErrors, Form},
    page::html_response,
    paths::PagePath,
    session::SignedIn,
    time::When,
};
use crate::{
    accounts,
    api::{
        fields::{check_body, check_reason},
        lookup::{community_of, find_post, render_post},
    },
    AppState,
};
use askama::Template;
use axum::{
    extract::{Path, State},
    response::{IntoResponse, Redirect, Response},
};
use copse_entities::{community, post, reaction};
use copse_federation::{
    actions::posts::{self, NewPost},
    Data,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Deserialize;
use std::collections::{HashMap, HashSet};

/// One post in the thread, in reading order.
pub struct PostRow {
    id: i64,
    depth: usize,
    author: String,
    author_href: String,
    when: When,
    /// Sanitised when stored.
    html: String,
    link: Option<String>,
    gone: bool,
    mine: bool,
    likes: i64,
    liked: bool,
}

#[derive(Template)]
#[template(path = "topic.html")]
struct TopicPage {
    chrome: Chrome,
    c: community::Model,
    title: String,
    locked: bool,
    pinned: bool,
    details: String,
    event: Option<super::event::EventPanel>,
    moderator: bool,
    posts: Vec<PostRow>,
    signed_in: bool,
    reply_refusal: Option<String>,
    reply_to: i64,
    draft: String,
    errors: FieldErrors,
}

/// The thread of `p` as `viewer` sees it.
pub async fn page(
    data: &Data,
    viewer: Option<&SignedIn>,
    p: &post::Model,
    c: &community::Model,
) -> Result<Response, PageError> {
    render(
        data,
        viewer,
        p,
        c,
        (0, String::new()),
        FieldErrors::default(),
    )
    .await
}

async fn render(
    data: &Data,
    viewer: Option<&SignedIn>,
    p: &post::Model,
    c: &community::Model,
    (reply_to, draft): (i64, String),
    errors: FieldErrors,
) -> Result<Response, PageError> {
    let now = data.clock.now();
    let topic = copse_federation::store::posts::topic_of(&data.db, p).await?;
    let mut all = post::Entity::find()
        .filter(post::Column::TopicId.eq(topic.id))
        .order_by_asc(post::Column::Id)
        .limit(2000)
        .all(&data.db)
        .await?;
    all.insert(0, topic.clone());
    let authors = accounts::people_by_id(&data.db, all.iter().map(|p| p.author_id)).await?;
    let (likes, liked) = reactions(data, viewer, &all).await?;
    let known: HashSet<i64> = all.iter().map(|p| p.id).collect();
    let mut children: HashMap<i64, Vec<&post::Model>> = HashMap::new();
    for r in all.iter().skip(1) {
        let parent = r
            .parent_id
            .filter(|id| known.contains(id))
            .unwrap_or(topic.id);
        children.entry(parent).or_default().push(r);
    }
    let row = |p: &post::Model, depth: usize| {
        let (author, author_href) = authors
            .get(&p.author_id)
            .map(|a| {
                (
                    super::person::person_label(a),
                    super::person::person_href(a),
                )
            })
            .unwrap_or_else(|| ("someone".into(), String::new()));
        let html = if p.deleted {
            "<p><em>Deleted by its author.</em></p>".to_string()
        } else if p.removed {
            "<p><em>Removed by a facilitator.</em></p>".to_string()
        } else {
            p.content.clone()
        };
        PostRow {
            id: p.id,
            depth: depth.min(4),
            author,
            author_href,
            when: When::new(p.published, now),
            html,
            link: p
                .url
                .as_ref()
                .filter(|_| p.visible())
                .map(|u| u.to_string()),
            gone: !p.visible(),
            mine: viewer.is_some_and(|s| s.person.id == p.author_id && p.local),
            likes: likes.get(&p.id).copied().unwrap_or(0),
            liked: liked.contains(&p.id),
        }
    };
    let mut posts = vec![row(&topic, 0)];
    // Depth-first, without recursion: (post, depth).
    let mut stack: Vec<(&post::Model, usize)> = children
        .get(&topic.id)
        .map(|l| l.iter().rev().map(|r| (*r, 1)).collect())
        .unwrap_or_default();
    while let Some((r, depth)) = stack.pop() {
        posts.push(row(r, depth));
        if let Some(list) = children.get(&r.id) {
            stack.extend(list.iter().rev().map(|x| (*x, depth + 1)));
        }
    }
    let (details, event) =
        match copse_federation::store::events::event_of_post(&data.db, topic.id).await? {
            Some(e) if topic.visible() => (
                crate::html::event_details(data, &topic, &e),
                Some(super::event::panel(data, viewer, &topic, &e, c).await?),
            ),
            _ => (String::new(), None),
        };
    let moderator = match viewer {
        Some(s) => {
            s.user.admin
                || copse_federation::rules::posting::moderates(&data.db, c, &s.person).await?
        }
        None => false,
    };
    let reply_refusal = match viewer {
        Some(s) => {
            copse_federation::rules::posting::refusal(&data.db, c, &s.person, Some(&topic)).await?
        }
        None => None,
    };
    let view = TopicPage {
        chrome: Chrome::load(data, viewer).await?,
        c: c.clone(),
        title: topic.title.clone(),
        locked: topic.locked,
        pinned: topic.pinned,
        details,
        event,
        moderator,
        posts,
        signed_in: viewer.is_some(),
        reply_refusal,
        reply_to,
        draft,
        errors,
    };
    let status = view.errors.status();
    Ok(html_response(status, view.render()?))
}

/// Likes per post, and the posts the viewer liked.
async fn reactions(
    data: &Data,
    viewer: Option<&SignedIn>,
    all: &[post::Model],
) -> Result<(HashMap<i64, i64>, HashSet<i64>), PageError> {
    let rows = reaction::Entity::find()
        .filter(reaction::Column::PostId.is_in(all.iter().map(|p| p.id)))
        .filter(reaction::Column::Emoji.eq(reaction::LIKE))
        .all(&data.db)
        .await?;
    let mut likes = HashMap::new();
    let mut liked = HashSet::new();
    for r in rows {
        *likes.entry(r.post_id).or_insert(0) += 1;
        if viewer.is_some_and(|s| s.person.id == r.person_id) {
            liked.insert(r.post_id);
        }
    }
    Ok((likes, liked))
}

/// The reply form.
#[derive(Deserialize)]
pub struct ReplyForm {
    #[serde(default)]
    content: String,
}

/// `POST /post/{id}/reply`: answers the post `id`.
pub async fn http_post_reply(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    me: SignedIn,
    form: Form<ReplyForm>,
) -> Result<Response, PageError> {
    me.check_csrf(&form.csrf)?;
    let data = state.to_request_data();
    let parent = find_post(&data, id).await?;
    let c = community_of(&data, &parent).await?;
    let content = form.fields.content;
    let published = async {
        check_body(&content)?;
        let (html, tags) = render_post(&data, &c, &content).await?;
        let new = NewPost {
            title: String::new(),
            html,
            tags,
            source: content.clone(),
            url: None,
        };
        Ok::<_, crate::error::ApiError>(
            posts::publish(&data, &c, &me.person, Some(&parent), new).await?,
        )
    }
    .await;
    match published {
        Ok(row) => {
            let topic = row.topic_id.unwrap_or(row.id);
            Ok(Redirect::to(&format!("/post/{topic}#p{}", row.id)).into_response())
        }
        Err(e) => {
            let mut errors = FieldErrors::from_error(e)?;
            if errors.get("form").is_some() {
                // A refusal (locked, banned, not a member) reads best beside the box.
                let msg = errors.get("form").unwrap_or_default().to_string();
                errors = FieldErrors::default();
                errors.push("content", msg);
            }
            render(&data, Some(&me), &parent, &c, (parent.id, content), errors).await
        }
    }
}

/// `POST /post/{id}/like`: likes the post, or takes the like back.
pub async fn http_post_like(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    me: SignedIn,
    form: Form<Empty>,
) -> Result<Response, PageError> {
    me.check_csrf(&form.csrf)?;
    let data = state.to_request_data();
    let p = find_post(&data, id).await?;
    if !posts::unreact(&data, &p, &me.person, reaction::LIKE).await? {
        posts::react(&data, &p, &me.person, reaction::LIKE).await?;
    }
    let topic = p.topic_id.unwrap_or(p.id);
    Ok(Redirect::to(&format!("/post/{topic}#p{id}")).into_response())
}

/// `POST /post/{id}/delete`: the author deletes their post.
pub async fn http_post_delete(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    me: SignedIn,
    form: Form<Empty>,
) -> Result<Response, PageError> {
    me.check_csrf(&form.csrf)?;
    let data = state.to_request_data();
    let p = find_post(&data, id).await?;
    posts::delete(&data, &p, &me.person).await?;
    let topic = p.topic_id.unwrap_or(p.id);
    Ok(Redirect::to(&format!("/post/{topic}#p{id}")).into_response())
}

/// The form for writing a post: a new topic (title and link) or an edit.
#[derive(Template)]
#[template(path = "post_form.html")]
pub(super) struct PostFormPage<'a> {
    pub(super) chrome: Chrome,
    pub(super) heading: &'a str,
    pub(super) action: String,
    pub(super) back: String,
    pub(super) title: Option<String>,
    pub(super) url: Option<String>,
    pub(super) content: String,
    pub(super) button: &'a str,
    pub(super) errors: FieldErrors,
}

/// `GET /post/{id}/edit`: the author's edit form.
pub async fn http_get_edit(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    me: SignedIn,
) -> Result<Response, PageError> {
    let data = state.to_request_data();
    let p = find_post(&data, id).await?;
    if p.author_id != me.person.id || !p.local || !p.visible() {
        return Err(PageError::forbidden("only its author edits a post"));
    }
    edit_form(
        &data,
        &me,
        &p,
        p.title.clone(),
        p.source.clone().unwrap_or_default(),
        FieldErrors::default(),
    )
    .await
}

async fn edit_form(
    data: &Data,
    me: &SignedIn,
    p: &post::Model,
    title: String,
    content: String,
    errors: FieldErrors,
) -> Result<Response, PageError> {
    let topic = p.topic_id.unwrap_or(p.id);
    let page = PostFormPage {
        chrome: Chrome::load(data, Some(me)).await?,
        heading: if p.topic_id.is_none() {
            "Edit the topic"
        } else {
            "Edit your reply"
        },
        action: format!("/post/{}/edit", p.id),
        back: format!("/post/{topic}#p{}", p.id),
        title: p.topic_id.is_none().then_some(title),
        url: None,
        content,
        button: "Save",
        errors,
    };
    let status = page.errors.status();
    Ok(html_response(status, page.render()?))
}

/// The edit form.
#[derive(Deserialize)]
pub struct EditForm {
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    content: String,
}

/// `POST /post/{id}/edit`.
pub async fn http_post_edit(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    me: SignedIn,
    form: Form<EditForm>,
) -> Result<Response, PageError> {
    me.check_csrf(&form.csrf)?;
    let data = state.to_request_data();
    let p = find_post(&data, id).await?;
    let c = community_of(&data, &p).await?;
    let f = form.fields;
    let edited = async {
        let title = match (&f.title, p.topic_id) {
            (Some(t), None) => Some(crate::api::fields::check_title(t)?),
            _ => None,
        };
        check_body(&f.content)?;
        let (html, tags) = render_post(&data, &c, &f.content).await?;
        Ok::<_, crate::error::ApiError>(
            posts::edit(
                &data,
                &p,
                &me.person,
                title,
                Some((html, f.content.clone(), tags)),
            )
            .await?,
        )
    }
    .await;
    match edited {
        Ok(row) => {
            let topic = row.topic_id.unwrap_or(row.id);
            Ok(Redirect::to(&format!("/post/{topic}#p{}", row.id)).into_response())
        }
        Err(e) => {
            let errors = FieldErrors::from_error(e)?;
            let title = f.title.clone().unwrap_or_default();
            edit_form(&data, &me, &p, title, f.content.clone(), errors).await
        }
    }
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage {
    chrome: Chrome,
    id: i64,
    back: String,
    excerpt: String,
    reason: String,
    errors: FieldErrors,
}

/// `GET /post/{id}/report`.
pub async fn http_get_report(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    me: SignedIn,
) -> Result<Response, PageError> {
    let data = state.to_request_data();
    let p = find_post(&data, id).await?;
    report_form(&data, &me, &p, String::new(), FieldErrors::default()).await
}

async fn report_form(
    data: &Data,
    me: &SignedIn,
    p: &post::Model,
    reason: String,
    errors: FieldErrors,
) -> Result<Response, PageError> {
    let topic = p.topic_id.unwrap_or(p.id);
    let excerpt = if p.title.is_empty() {
        copse_federation::html::plain_text(&p.content)
            .chars()
            .take(200)
            .collect()
    } else {
        p.title.clone()
    };
    let page = ReportPage {
        chrome: Chrome::load(data, Some(me)).await?,
        id: p.id,
        back: format!("/post/{topic}#p{}", p.id),
        excerpt,
        reason,
        errors,
    };
    let status = page.errors.status();
    Ok(html_response(status, page.render()?))
}

/// The report form.
#[derive(Deserialize)]
pub struct ReportForm {
    #[serde(default)]
    reason: String,
}

/// `POST /post/{id}/report`: tells the community's facilitators.
pub async fn http_post_report(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    me: SignedIn,
    form: Form<ReportForm>,
) -> Result<Response, PageError> {
    me.check_csrf(&form.csrf)?;
    let data = state.to_request_data();
    let p = find_post(&data, id).await?;
    let reason = form.fields.reason.trim().to_string();
    let reason = (!reason.is_empty()).then_some(reason);
    let sent = async {
        check_reason(&reason)?;
        Ok::<_, crate::error::ApiError>(
            posts::report_post(&data, &p, &me.person, reason.clone()).await?,
        )
    }
    .await;
    match sent {
        Ok(()) => {
            let topic = p.topic_id.unwrap_or(p.id);
            super::page::notice(
                &state,
                Some(&me),
                "Report sent",
                "Thank you. The community's facilitators will look at it.",
                (&format!("/post/{topic}"), "Back to the thread"),
            )
            .await
        }
        Err(e) => {
            report_form(
                &data,
                &me,
                &p,
                reason.unwrap_or_default(),
                FieldErrors::from_error(e)?,
            )
            .await
        }
    }
}
