//! A community's page: what it is for, its upcoming events and topics, and what the reader can
//! do there — join or leave (with the reason and the code of conduct when asked), start a
//! topic, or follow it from their own server.

use super::{
    chrome::Chrome,
    error::PageError,
    form::{FieldErrors, Form},
    page::html_response,
    paths::{named, page_name},
    session::SignedIn,
    time::When,
};
use crate::{
    accounts,
    api::{
        lookup::{community_events, topics, Sort},
        views::counts,
    },
    AppState,
};
use askama::Template;
use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use copse_entities::{
    community::{self, MembershipPolicy},
    community_follower::{self, Role},
    event::EventStatus,
};
use copse_federation::{
    actions,
    objects::event::when_in_words,
    protocol::domain_of,
    rules::membership::{admission::JoinOutcome, choices::JoinChoices},
    Data,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Deserialize;

/// Topics on one page of the list.
const PER_PAGE: u64 = 20;

/// A topic in the list.
pub struct TopicRow {
    href: String,
    title: String,
    author: String,
    replies: i64,
    reactions: i64,
    last: When,
    pinned: bool,
    locked: bool,
}

/// An upcoming event.
pub struct EventRow {
    href: String,
    title: String,
    when: String,
    cancelled: bool,
}

/// Where the reader stands with the community.
#[derive(PartialEq, Eq)]
pub enum Standing {
    /// Not signed in.
    Visitor,
    /// Signed in, not a member.
    Outside,
    /// Asked to join; waiting for a coordinator.
    Pending,
    /// A member, with their role in words.
    Member(&'static str),
}

#[derive(Template)]
#[template(path = "community.html")]
struct CommunityPage {
    chrome: Chrome,
    c: community::Model,
    key: String,
    handle: String,
    members: u64,
    policy: &'static str,
    approval: bool,
    events: Vec<EventRow>,
    topics: Vec<TopicRow>,
    tag: Option<String>,
    standing: Standing,
    may_start: bool,
    start_refusal: Option<String>,
    newer: Option<String>,
    older: Option<String>,
    errors: FieldErrors,
    reason: String,
    listed: bool,
    network: super::network::Network,
    /// Only members of the parent may join, and the reader is not one.
    needs_parent: bool,
    /// The reader may open the desk (a coordinator of a community above it, say).
    desk: bool,
}

/// Query of a community's page.
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    /// Which page of topics, from 1.
    #[serde(default)]
    pub page: Option<u64>,
}

fn community_domain(data: &Data, c: &community::Model) -> String {
    if c.local {
        data.settings.domain.clone()
    } else {
        domain_of(&c.ap_id.0)
    }
}

/// The community's page as `viewer` sees it.
pub async fn page(
    data: &Data,
    viewer: Option<&SignedIn>,
    c: &community::Model,
    tag: Option<&str>,
    page: u64,
) -> Result<Response, PageError> {
    // The join form offers the directory as the person chose it in their settings.
    let listed = viewer.is_some_and(|s| s.person.discoverable);
    let join = JoinShown {
        errors: FieldErrors::default(),
        reason: String::new(),
        listed,
    };
    render(data, viewer, c, tag, page, join).await
}

/// The join form as shown: its errors, and what it holds.
struct JoinShown {
    errors: FieldErrors,
    reason: String,
    listed: bool,
}

async fn render(
    data: &Data,
    viewer: Option<&SignedIn>,
    c: &community::Model,
    tag: Option<&str>,
    page: u64,
    join: JoinShown,
) -> Result<Response, PageError> {
    let now = data.clock.now();
    let page = page.clamp(1, 10_000);
    let mut list = topics(
        &data.db,
        c,
        Sort::Active,
        tag,
        (page - 1) * PER_PAGE,
        PER_PAGE + 1,
    )
    .await?;
    let more = list.len() as u64 > PER_PAGE;
    list.truncate(PER_PAGE as usize);
    let counted = counts(&data.db, &list).await?;
    let authors = accounts::people_by_id(&data.db, list.iter().map(|p| p.author_id)).await?;
    let topics = list
        .iter()
        .map(|p| TopicRow {
            href: format!("/post/{}", p.id),
            title: p.title.clone(),
            author: authors
                .get(&p.author_id)
                .map(super::person::person_label)
                .unwrap_or_else(|| "someone".into()),
            replies: counted.replies_of(p.id),
            reactions: counted.reactions_of(p.id),
            last: When::new(p.last_activity.unwrap_or(p.published), now),
            pinned: p.pinned,
            locked: p.locked,
        })
        .collect();
    let events = community_events(data, c, false, 0, 5)
        .await?
        .into_iter()
        .map(|(p, e)| EventRow {
            href: format!("/post/{}", p.id),
            title: p.title,
            when: when_in_words(e.starts_at, e.ends_at, &e.timezone),
            cancelled: e.status == EventStatus::Cancelled,
        })
        .collect();
    let standing = match viewer {
        None => Standing::Visitor,
        Some(s) => match membership(data, c, s).await? {
            None => Standing::Outside,
            Some(m) if m.pending => Standing::Pending,
            Some(m) => Standing::Member(match m.role {
                Role::Coordinator => "a coordinator",
                Role::Facilitator => "a facilitator",
                _ => "a member",
            }),
        },
    };
    let network = super::network::Network::of(data, c).await?;
    let (mut needs_parent, mut desk) = (false, false);
    if let Some(s) = viewer {
        let acting = copse_federation::store::tree::acting_role(&data.db, c, s.person.id).await?;
        desk = c.local && (s.user.admin || acting.is_some_and(|r| r >= Role::Facilitator));
        if c.parent_members_only && standing == Standing::Outside {
            if let Some(p) = copse_federation::store::tree::parent_of(&data.db, c).await? {
                needs_parent =
                    copse_federation::store::tree::acting_role(&data.db, &p, s.person.id)
                        .await?
                        .is_none();
            }
        }
    }
    let start_refusal = match viewer {
        Some(s) => copse_federation::rules::posting::refusal(&data.db, c, &s.person, None).await?,
        None => None,
    };
    let key = page_name(c);
    let base = format!("/c/{key}");
    let with_page = |n: u64| {
        let mut q = form_urlencoded::Serializer::new(String::new());
        if let Some(t) = tag {
            q.append_pair("tag", t);
        }
        if n > 1 {
            q.append_pair("page", &n.to_string());
        }
        let q = q.finish();
        if q.is_empty() {
            base.clone()
        } else {
            format!("{base}?{q}")
        }
    };
    let view = CommunityPage {
        chrome: Chrome::load(data, viewer).await?,
        handle: format!("@{}@{}", c.name, community_domain(data, c)),
        key,
        members: accounts::follower_count(&data.db, c.id).await?,
        policy: match c.membership_policy {
            MembershipPolicy::Open => "open to all",
            MembershipPolicy::Approval => "by approval",
            MembershipPolicy::Invite => "by invitation",
        },
        approval: c.membership_policy == MembershipPolicy::Approval,
        events,
        topics,
        tag: tag.map(String::from),
        may_start: viewer.is_some() && start_refusal.is_none(),
        start_refusal,
        standing,
        newer: (page > 1).then(|| with_page(page - 1)),
        older: more.then(|| with_page(page + 1)),
        errors: join.errors,
        reason: join.reason,
        listed: join.listed,
        network,
        needs_parent,
        desk,
        c: c.clone(),
    };
    let status = view.errors.status();
    Ok(html_response(status, view.render()?))
}

async fn membership(
    data: &Data,
    c: &community::Model,
    s: &SignedIn,
) -> Result<Option<community_follower::Model>, PageError> {
    Ok(community_follower::Entity::find()
        .filter(community_follower::Column::CommunityId.eq(c.id))
        .filter(community_follower::Column::PersonId.eq(s.person.id))
        .one(&data.db)
        .await?)
}

/// The join form.
#[derive(Deserialize)]
pub struct JoinForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    listed: Option<String>,
    #[serde(default)]
    agree: Option<String>,
}

/// `POST /c/{name}/join`.
pub async fn http_post_join(
    State(state): State<AppState>,
    Path(name): Path<String>,
    me: SignedIn,
    form: Form<JoinForm>,
) -> Result<Response, PageError> {
    me.check_csrf(&form.csrf)?;
    let data = state.to_request_data();
    let c = named(&data, &name).await?;
    let f = form.fields;
    let reason = f.reason.trim().to_string();
    let mut errors = FieldErrors::default();
    if reason.len() > 5000 {
        errors.push("reason", "at most 5000 characters");
    }
    if c.membership_policy == MembershipPolicy::Approval && reason.is_empty() {
        errors.push(
            "reason",
            "say why you want to join: the coordinators read it",
        );
    }
    if c.require_rules_agreement && f.agree.is_none() {
        errors.push(
            "agree",
            "this community asks you to agree to its code of conduct",
        );
    }
    if !errors.is_empty() {
        let join = JoinShown {
            errors,
            reason,
            listed: f.listed.is_some(),
        };
        return render(&data, Some(&me), &c, None, 1, join).await;
    }
    let choices = JoinChoices {
        reason: (!reason.is_empty()).then_some(reason),
        listed: Some(f.listed.is_some()),
        agree_to_rules: f.agree.is_some(),
    };
    match actions::following::follow_community(&data, &me.person, &c, choices).await? {
        JoinOutcome::Refused => Err(PageError::forbidden("this community did not accept you")),
        _ => Ok(Redirect::to(&format!("/c/{}", page_name(&c))).into_response()),
    }
}

/// `POST /c/{name}/leave`: leaves, or withdraws a request.
pub async fn http_post_leave(
    State(state): State<AppState>,
    Path(name): Path<String>,
    me: SignedIn,
    form: Form<super::account::Empty>,
) -> Result<Response, PageError> {
    me.check_csrf(&form.csrf)?;
    let data = state.to_request_data();
    let c = named(&data, &name).await?;
    actions::membership::leave(&data, &c, &me.person, &me.person, None).await?;
    Ok(Redirect::to(&format!("/c/{}", page_name(&c))).into_response())
}

/// `?handle=` of the "follow from your own server" box.
#[derive(Deserialize)]
pub struct RemoteFollow {
    #[serde(default)]
    handle: String,
}

/// `GET /c/{name}/remote-follow?handle=@me@their.server`: sends the person to their own
/// server's page for following this community. A GET: it changes nothing here.
pub async fn http_get_remote_follow(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<RemoteFollow>,
) -> Result<Response, PageError> {
    let data = state.to_request_data();
    let c = crate::api::lookup::local_community(&data, &name).await?;
    let handle = q.handle.trim();
    if !handle.trim_start_matches('@').contains('@') {
        return Err(PageError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "type your full handle, like @you@mastodon.example, then try again",
        ));
    }
    let what = format!("{}@{}", c.name, data.settings.domain);
    match copse_federation::fetch::remote_interaction(&data, handle, &what).await {
        Ok(url) => Ok(Redirect::to(url.as_str()).into_response()),
        Err(_) => Err(PageError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "{handle}'s server could not be asked. Check the handle, or search for {what} on your server and follow it there."
            ),
        )),
    }
}
