//! The desk's members page: every member with their role (coordinators change roles and remove
//! members), and the invitations (invite a handle, the ones not yet taken up, revoke).

use super::{on_form, Desk};
use crate::{
    api::commands,
    web::{
        chrome::Chrome,
        error::PageError,
        form::{FieldErrors, Form},
        page::html_response,
        session::SignedIn,
        time::When,
    },
    AppState,
};
use askama::Template;
use axum::{
    extract::{Path, State},
    response::Response,
};
use copse_entities::{community, community_follower::Role};
use serde::Deserialize;

/// A member as listed.
pub struct MemberRow {
    person_id: i64,
    name: String,
    handle: String,
    role: &'static str,
    me: bool,
    when: When,
}

/// An invitation not yet taken up.
pub struct InviteRow {
    id: i64,
    invitee: String,
    when: When,
}

#[derive(Template)]
#[template(path = "desk_members.html")]
struct MembersPage {
    chrome: Chrome,
    c: community::Model,
    coordinator: bool,
    members: Vec<MemberRow>,
    invites: Vec<InviteRow>,
    handle: String,
    errors: FieldErrors,
}

fn role_word(r: Role) -> &'static str {
    match r {
        Role::Coordinator => "coordinator",
        Role::Facilitator => "facilitator",
        Role::Member => "member",
    }
}

async fn render(
    desk: Desk<'_>,
    handle: String,
    errors: FieldErrors,
) -> Result<Response, PageError> {
    let (data, me) = (&desk.data, desk.me);
    let now = data.clock.now();
    let members = commands::members_of(data, &desk.c, false)
        .await?
        .into_iter()
        .map(|(m, p)| MemberRow {
            person_id: p.id,
            name: p.display_name.clone().unwrap_or_else(|| p.name.clone()),
            handle: p.ap_id.to_string(),
            role: role_word(m.role),
            me: p.id == me.person.id,
            when: When::new(m.published, now),
        })
        .collect();
    let invites = if desk.coordinator() {
        commands::pending_invites(data, &desk.auth(), &desk.c)
            .await?
            .into_iter()
            .map(|i| InviteRow {
                id: i.id,
                invitee: i.invitee.to_string(),
                when: When::new(i.created_at, now),
            })
            .collect()
    } else {
        Vec::new()
    };
    let page = MembersPage {
        chrome: desk.chrome().await?,
        coordinator: desk.coordinator(),
        c: desk.c,
        members,
        invites,
        handle,
        errors,
    };
    let status = page.errors.status();
    Ok(html_response(status, page.render()?))
}

/// `GET /c/{name}/desk/members`.
pub async fn http_get_members(
    State(state): State<AppState>,
    Path(name): Path<String>,
    me: SignedIn,
) -> Result<Response, PageError> {
    let desk = Desk::open(&state, &name, &me).await?;
    render(desk, String::new(), FieldErrors::default()).await
}

/// The invitation form.
#[derive(Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    handle: String,
}

/// `POST /c/{name}/desk/invites`: invites a handle.
pub async fn http_post_invite(
    State(state): State<AppState>,
    Path(name): Path<String>,
    me: SignedIn,
    form: Form<InviteForm>,
) -> Result<Response, PageError> {
    let desk = Desk::sent(&state, &name, &me, &form.csrf).await?;
    desk.coordinators_only("invite")?;
    let handle = form.fields.handle.trim().to_string();
    match commands::invite(&desk.data, &desk.auth(), &desk.c, &handle).await {
        Ok(_) => Ok(desk.back_to("/members#invites")),
        Err(e) => render(desk, handle, on_form(e)?).await,
    }
}

/// `POST /c/{name}/desk/invites/{id}/revoke`.
pub async fn http_post_revoke(
    State(state): State<AppState>,
    Path((name, id)): Path<(String, i64)>,
    me: SignedIn,
    form: Form<crate::web::account::Empty>,
) -> Result<Response, PageError> {
    let desk = Desk::sent(&state, &name, &me, &form.csrf).await?;
    commands::revoke_invite(&desk.data, &desk.auth(), &desk.c, id).await?;
    Ok(desk.back_to("/members#invites"))
}

/// The role form.
#[derive(Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    role: String,
}

/// `POST /c/{name}/desk/members/{person}/role`: a coordinator changes a role.
pub async fn http_post_role(
    State(state): State<AppState>,
    Path((name, person)): Path<(String, i64)>,
    me: SignedIn,
    form: Form<RoleForm>,
) -> Result<Response, PageError> {
    let desk = Desk::sent(&state, &name, &me, &form.csrf).await?;
    let role = match form.fields.role.as_str() {
        "member" => Role::Member,
        "facilitator" => Role::Facilitator,
        "coordinator" => Role::Coordinator,
        _ => {
            return Err(PageError::Shown(crate::error::ApiError::invalid(
                "role",
                "role must be member, facilitator or coordinator",
            )))
        }
    };
    commands::change_role(&desk.data, &desk.auth(), &desk.c, person, role).await?;
    Ok(desk.back_to("/members"))
}

/// `POST /c/{name}/desk/members/{person}/remove`: a coordinator removes a member.
pub async fn http_post_remove(
    State(state): State<AppState>,
    Path((name, person)): Path<(String, i64)>,
    me: SignedIn,
    form: Form<crate::web::account::Empty>,
) -> Result<Response, PageError> {
    let desk = Desk::sent(&state, &name, &me, &form.csrf).await?;
    desk.coordinators_only("remove members")?;
    commands::remove_member(&desk.data, &desk.auth(), &desk.c, person).await?;
    Ok(desk.back_to("/members"))
}
