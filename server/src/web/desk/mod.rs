//! The coordinator's desk: one page per community for its coordinators and facilitators, with
//! the join requests (and the reasons given) to approve or decline, and the open reports to
//! resolve or dismiss. Facilitators see the reports; deciding on members is for coordinators.
//! Its other pages are the members and invitations, the bans, the locked and pinned topics,
//! the decision log and the settings; each calls the API's own checked commands.

pub mod bans;
pub mod log;
pub mod members;
pub mod partners;
pub mod settings;
pub mod topics;

use super::{
    chrome::Chrome,
    error::PageError,
    form::{FieldErrors, Form},
    page::html_response,
    session::SignedIn,
    time::When,
};
use crate::{
    accounts,
    api::{extract::AuthUser, fields::check_reason},
    error::ApiError,
    AppState,
};
use askama::Template;
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use copse_entities::{
    community,
    community_follower::{self, Role},
    person, post,
    report::{self, ReportStatus},
};
use copse_federation::{actions, Data};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Deserialize;

/// A join request on the desk.
pub struct Request {
    person_id: i64,
    name: String,
    handle: String,
    reason: String,
    agreed: bool,
    when: When,
}

/// An open report on the desk.
pub struct Open {
    id: i64,
    about: String,
    href: String,
    reason: String,
    when: When,
}

#[derive(Template)]
#[template(path = "desk.html")]
struct DeskPage {
    chrome: Chrome,
    c: community::Model,
    coordinator: bool,
    requests: Vec<Request>,
    reports: Vec<Open>,
}

/// The viewer as the API's commands take them.
pub(crate) fn as_auth(me: &SignedIn) -> AuthUser {
    AuthUser {
        user: me.user.clone(),
        person: me.person.clone(),
    }
}

/// A command's refusal on a desk form: one that names a field is shown beside it (422); a
/// refusal of the person (403) or of what they point at (404) is an error page.
pub(crate) fn on_form(e: ApiError) -> Result<FieldErrors, PageError> {
    if e.field.is_none() && matches!(e.status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND) {
        return Err(PageError::Shown(e));
    }
    FieldErrors::from_error(e)
}

/// A desk page opened by one of the community's facilitators or coordinators (or an admin):
/// the request's data, the community, and the viewer with their role there.
pub(crate) struct Desk<'a> {
    /// The request's data.
    pub(crate) data: Data,
    /// The community whose desk it is.
    pub(crate) c: community::Model,
    /// The viewer's role (admins count as coordinators).
    pub(crate) role: Role,
    /// The viewer.
    pub(crate) me: &'a SignedIn,
}

impl<'a> Desk<'a> {
    /// The desk of the local community `name` as `me` opens it: a 404 page for no such
    /// community, a 403 page for those who neither facilitate nor coordinate it.
    pub(crate) async fn open(
        state: &AppState,
        name: &str,
        me: &'a SignedIn,
    ) -> Result<Self, PageError> {
        let data = state.to_request_data();
        let c = crate::api::lookup::local_community(&data, name).await?;
        let role = desk_role(&data, &c, me).await?;
        Ok(Self { data, c, role, me })
    }

    /// The same for a form sent from a desk page: its CSRF token is checked first.
    pub(crate) async fn sent(
        state: &AppState,
        name: &str,
        me: &'a SignedIn,
        csrf: &str,
    ) -> Result<Self, PageError> {
        me.check_csrf(csrf)?;
        Self::open(state, name, me).await
    }

    /// True for coordinators (and admins).
    pub(crate) fn coordinator(&self) -> bool {
        self.role == Role::Coordinator
    }

    /// Only coordinators (and admins) pass; a 403 naming `what` otherwise.
    pub(crate) fn coordinators_only(&self, what: &str) -> Result<(), PageError> {
        if self.coordinator() {
            Ok(())
        } else {
            Err(PageError::forbidden(format!(
                "only coordinators may {what}"
            )))
        }
    }

    /// The viewer as the API's commands take them.
    pub(crate) fn auth(&self) -> AuthUser {
        as_auth(self.me)
    }

    /// The header every page has, for the viewer.
    pub(crate) async fn chrome(&self) -> Result<Chrome, PageError> {
        Ok(Chrome::load(&self.data, Some(self.me)).await?)
    }

    /// Back to one of the desk's pages after a change: `/c/{name}/desk{rest}`.
    pub(crate) fn back_to(&self, rest: &str) -> Response {
        Redirect::to(&format!("/c/{}/desk{rest}", self.c.name)).into_response()
    }
}

/// The viewer's role, or a 403 for those who do not facilitate or coordinate (admins pass as
/// coordinators).
async fn desk_role(data: &Data, c: &community::Model, me: &SignedIn) -> Result<Role, PageError> {
    if me.user.admin {
        return Ok(Role::Coordinator);
    }
    match copse_federation::store::tree::acting_role(&data.db, c, me.person.id).await? {
        Some(r) if r >= Role::Facilitator => Ok(r),
        _ => Err(PageError::forbidden(
            "the desk is for this community's coordinators and facilitators",
        )),
    }
}

/// `GET /c/{name}/desk`.
pub async fn http_get_desk(
    State(state): State<AppState>,
    Path(name): Path<String>,
    me: SignedIn,
) -> Result<Response, PageError> {
    let desk = Desk::open(&state, &name, &me).await?;
    let (data, c) = (&desk.data, &desk.c);
    let now = data.clock.now();
    let pending = community_follower::Entity::find()
        .filter(community_follower::Column::CommunityId.eq(c.id))
        .filter(community_follower::Column::Pending.eq(true))
        .order_by_asc(community_follower::Column::Id)
        .limit(200)
        .all(&data.db)
        .await?;
    let open = report::Entity::find()
        .filter(report::Column::CommunityId.eq(c.id))
        .filter(report::Column::Status.eq(ReportStatus::Open))
        .order_by_asc(report::Column::Id)
        .limit(200)
        .all(&data.db)
        .await?;
    let people = accounts::people_by_id(
        &data.db,
        pending
            .iter()
            .map(|m| m.person_id)
            .chain(open.iter().filter_map(|r| r.person_id)),
    )
    .await?;
    let posts: std::collections::HashMap<i64, post::Model> = post::Entity::find()
        .filter(post::Column::Id.is_in(open.iter().filter_map(|r| r.post_id)))
        .all(&data.db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let who = |p: Option<&person::Model>| {
        p.map(|p| p.display_name.clone().unwrap_or_else(|| p.name.clone()))
            .unwrap_or_else(|| "someone".into())
    };
    let requests = pending
        .iter()
        .map(|m| {
            let p = people.get(&m.person_id);
            Request {
                person_id: m.person_id,
                name: who(p),
                handle: p.map(|p| p.ap_id.to_string()).unwrap_or_default(),
                reason: m.reason.clone().unwrap_or_default(),
                agreed: !c.require_rules_agreement || m.rules_agreed_at.is_some(),
                when: When::new(m.published, now),
            }
        })
        .collect();
    let reports = open
        .iter()
        .map(|r| {
            let (about, href) = match r.post_id.and_then(|id| posts.get(&id)) {
                Some(p) => (
                    if p.title.is_empty() {
                        format!("a reply by {}", who(people.get(&p.author_id)))
                    } else {
                        format!("the topic “{}”", p.title)
                    },
                    format!("/post/{}#p{}", p.topic_id.unwrap_or(p.id), p.id),
                ),
                None => (
                    who(r.person_id.and_then(|id| people.get(&id))),
                    r.person_id
                        .and_then(|id| people.get(&id))
                        .map(|p| p.ap_id.to_string())
                        .unwrap_or_default(),
                ),
            };
            Open {
                id: r.id,
                about,
                href,
                reason: r.reason.clone().unwrap_or_default(),
                when: When::new(r.created_at, now),
            }
        })
        .collect();
    let page = DeskPage {
        chrome: desk.chrome().await?,
        coordinator: desk.coordinator(),
        c: desk.c,
        requests,
        reports,
    };
    Ok(html_response(StatusCode::OK, page.render()?))
}

/// A decision on a join request.
#[derive(Deserialize)]
pub struct Decision {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    message: String,
}

/// `POST /c/{name}/desk/requests/{person}`: approves or declines.
pub async fn http_post_request(
    State(state): State<AppState>,
    Path((name, person_id)): Path<(String, i64)>,
    me: SignedIn,
    form: Form<Decision>,
) -> Result<Response, PageError> {
    let desk = Desk::sent(&state, &name, &me, &form.csrf).await?;
    if !desk.coordinator() {
        return Err(PageError::forbidden("only coordinators decide on members"));
    }
    let (data, c) = (&desk.data, &desk.c);
    let applicant = person::Entity::find_by_id(person_id)
        .one(&data.db)
        .await?
        .ok_or_else(|| PageError::not_found("request"))?;
    let message = form.fields.message.trim().to_string();
    check_reason(&Some(message.clone()))?;
    match form.fields.decision.as_str() {
        "approve" => actions::membership::approve(data, c, &me.person, &applicant).await?,
        "decline" => {
            let msg = (!message.is_empty()).then_some(message.as_str());
            actions::membership::decline(data, c, &me.person, &applicant, msg).await?
        }
        _ => {
            return Err(PageError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "choose approve or decline",
            ))
        }
    }
    Ok(desk.back_to(""))
}

/// `POST /c/{name}/desk/reports/{id}`: resolves or dismisses a report.
pub async fn http_post_report(
    State(state): State<AppState>,
    Path((name, id)): Path<(String, i64)>,
    me: SignedIn,
    form: Form<Decision>,
) -> Result<Response, PageError> {
    let desk = Desk::sent(&state, &name, &me, &form.csrf).await?;
    let (data, c) = (&desk.data, &desk.c);
    let r = report::Entity::find_by_id(id)
        .one(&data.db)
        .await?
        .filter(|r| r.community_id == c.id)
        .ok_or_else(|| PageError::not_found("report"))?;
    let status = match form.fields.decision.as_str() {
        "resolve" => ReportStatus::Resolved,
        "dismiss" => ReportStatus::Dismissed,
        _ => {
            return Err(PageError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "choose resolve or dismiss",
            ))
        }
    };
    let note = form.fields.message.trim().to_string();
    check_reason(&Some(note.clone()))?;
    actions::posts::resolve_report(
        data,
        &r,
        &me.person,
        status,
        (!note.is_empty()).then_some(note),
    )
    .await?;
    Ok(desk.back_to(""))
}
