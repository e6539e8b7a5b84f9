//! Who takes part in an event: facilitators and coordinators list who answered or was invited,
//! accept or reject requests (events that need approval) and invite people. The checked
//! commands here serve the API handlers below and the event's participants page alike.

use crate::{
    api::{
        commands::person_by_id,
        event_views::{OutcomeView, ParticipantList, ParticipantView},
        extract::{ApiJson, ApiPath, AuthUser},
        lookup::{community_of, find_event, known_person, require_moderator},
        path_params::EventId,
        responses::{BadField, NoEvent, NotModerator},
        views::author_view,
    },
    error::{ApiError, ErrorBody},
    AppState,
};
use axum::{
    extract::State,
    http::StatusCode,
    routing::{get, post},
    Json, Router,
};
use copse_entities::{
    event, event_participant, event_participant::ParticipantStatus, person, post,
};
use copse_federation::{actions::events, rules::participation::Outcome, Data};
use serde::Deserialize;
use utoipa::ToSchema;

/// The routes of an event's participants.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/events/{id}/participants",
            get(http_get_participants),
        )
        .route(
            "/api/v1/events/{id}/participants/{handle}",
            post(http_post_decision),
        )
        .route("/api/v1/events/{id}/invites", post(http_post_invite))
}

/// Everyone who answered or was invited, in the order they did.
const EVERY_STATUS: [ParticipantStatus; 5] = [
    ParticipantStatus::Going,
    ParticipantStatus::Waiting,
    ParticipantStatus::Pending,
    ParticipantStatus::Invited,
    ParticipantStatus::Rejected,
];

/// The event of post `id` if a facilitator or coordinator of its community asks.
async fn organised(
    data: &Data,
    auth: &AuthUser,
    id: i64,
) -> Result<(post::Model, event::Model), ApiError> {
    let (p, e) = find_event(data, id).await?;
    let c = community_of(data, &p).await?;
    require_moderator(data, &c, auth).await?;
    Ok((p, e))
}

/// A facilitator or coordinator lists the event of post `id` with everyone who answered it or
/// was invited, oldest first.
pub async fn participants(
    data: &Data,
    auth: &AuthUser,
    id: i64,
) -> Result<
    (
        post::Model,
        event::Model,
        Vec<(event_participant::Model, person::Model)>,
    ),
    ApiError,
> {
    let (p, e) = organised(data, auth, id).await?;
    let rows = copse_federation::store::events::participants(&data.db, p.id, &EVERY_STATUS).await?;
    Ok((p, e, rows))
}

/// A decision as the API words it: `accept` is true, `reject` false; anything else is refused
/// naming `decision`.
pub fn decision_of(word: &str) -> Result<bool, ApiError> {
    match word {
        "accept" => Ok(true),
        "reject" => Ok(false),
        _ => Err(ApiError::invalid(
            "decision",
            "decision must be accept or reject",
        )),
    }
}

/// Whom a decision is about: a handle this server knows, as the API's path names them, or a
/// row id, as pages do.
pub enum Whom<'a> {
    /// `name` or `name@domain`.
    Handle(&'a str),
    /// A person's row id.
    Id(i64),
}

/// A facilitator or coordinator accepts (`accept`) or rejects someone who answered the event
/// of post `id`; where that leaves them. The event and the caller's right come first, then
/// the person (a 404 naming `person`).
pub async fn decide(
    data: &Data,
    auth: &AuthUser,
    id: i64,
    whom: Whom<'_>,
    accept: bool,
) -> Result<Outcome, ApiError> {
    let (p, _) = organised(data, auth, id).await?;
    let who = match whom {
        Whom::Handle(h) => person_by_handle(data, h).await?,
        Whom::Id(id) => person_by_id(data, id).await?,
    };
    Ok(events::decide(data, &p, &auth.person, &who, accept).await?)
}

/// A facilitator or coordinator invites someone this server knows (`name`, or `name@domain`)
/// to the event of post `id`; refusals of the handle name `handle`. The invitee.
pub async fn invite(
    data: &Data,
    auth: &AuthUser,
    id: i64,
    handle: &str,
) -> Result<person::Model, ApiError> {
    let (p, _) = organised(data, auth, id).await?;
    let who = person_by_handle(data, handle)
        .await
        .map_err(|e| e.with_field("handle"))?;
    events::invite(data, &p, &auth.person, &who).await?;
    Ok(who)
}

/// `name@host[:port]` of a person, as the participants list gives it.
pub fn handle_of(who: &person::Model) -> String {
    let host = who.ap_id.host_str().unwrap_or_default();
    let port = who
        .ap_id
        .port()
        .map(|p| format!(":{p}"))
        .unwrap_or_default();
    format!("{}@{host}{port}", who.name)
}

/// Who answered an event or was invited (facilitators and coordinators).
#[utoipa::path(get, path = "/api/v1/events/{id}/participants", tag = "events",
    security(("bearer" = [])),
    params(EventId),
    responses(
        (status = 200, description = "The participants", body = ParticipantList),
        NotModerator, NoEvent,
    ))]
async fn http_get_participants(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ParticipantList>, ApiError> {
    let data = state.to_request_data();
    let (_, e, rows) = participants(&data, &auth, id).await?;
    let items: Vec<ParticipantView> = rows
        .iter()
        .map(|(r, who)| ParticipantView {
            person: author_view(who),
            handle: handle_of(who),
            status: r.status,
            message: r.message.clone(),
            since: r.created_at,
            reminded_at: r.reminded_at,
        })
        .collect();
    Ok(Json(ParticipantList {
        participant_count: e.participant_count,
        capacity: e.capacity,
        items,
    }))
}

/// Body of `POST /api/v1/events/{id}/participants/{handle}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionForm {
    /// `accept` or `reject`.
    pub decision: String,
}

async fn person_by_handle(data: &Data, handle: &str) -> Result<person::Model, ApiError> {
    known_person(data, handle.trim_start_matches('@'))
        .await?
        .ok_or_else(|| ApiError::not_found("person"))
}

/// Accepts or rejects someone's request to take part (facilitators and coordinators).
#[utoipa::path(post, path = "/api/v1/events/{id}/participants/{handle}", tag = "events",
    security(("bearer" = [])), request_body = DecisionForm,
    params(
        EventId,
        ("handle" = String, Path, description = "`name` or `name@domain` of the participant"),
    ),
    responses(
        (status = 200, description = "Where the decision left them", body = OutcomeView),
        (status = 404, description = "No such event or person", body = ErrorBody),
        NotModerator, BadField,
    ))]
async fn http_post_decision(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath((id, handle)): ApiPath<(i64, String)>,
    ApiJson(form): ApiJson<DecisionForm>,
) -> Result<Json<OutcomeView>, ApiError> {
    let data = state.to_request_data();
    let accept = decision_of(&form.decision)?;
    let outcome = decide(&data, &auth, id, Whom::Handle(&handle), accept).await?;
    Ok(Json(OutcomeView::from(&outcome)))
}

/// Body of `POST /api/v1/events/{id}/invites`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = EventInviteForm)]
#[serde(deny_unknown_fields)]
pub struct InviteForm {
    /// `name` of a local person or `name@domain` of one this server knows.
    pub handle: String,
}

/// Invites someone to an event (facilitators and coordinators).
#[utoipa::path(post, path = "/api/v1/events/{id}/invites", tag = "events",
    operation_id = "http_post_event_invite",
    security(("bearer" = [])), request_body = InviteForm,
    params(EventId),
    responses(
        (status = 204, description = "Invited"),
        (status = 404, description = "No such event or person", body = ErrorBody),
        NotModerator, BadField,
    ))]
async fn http_post_invite(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(form): ApiJson<InviteForm>,
) -> Result<StatusCode, ApiError> {
    let data = state.to_request_data();
    invite(&data, &auth, id, &form.handle).await?;
    Ok(StatusCode::NO_CONTENT)
}
