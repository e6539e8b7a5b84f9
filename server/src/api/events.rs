//! The events API: coordinators and facilitators schedule, change, cancel and delete events;
//! anyone reads them; local people answer; coordinators see who is coming, decide on requests
//! and invite. Also the iCalendar feeds.

use super::{
    event_form::{details_of, Choice, EventForm},
    event_views::{EventList, EventView, OutcomeView, ParticipantList, ParticipantView, PlaceView},
    extract::{ApiJson, ApiPath, ApiQuery, AuthUser, PageQuery},
    fields::check_short,
    lookup::{
        community_events, community_of, community_to_read, find_post, known_person, render_post,
        require_moderator, resolve_community,
    },
    path_params::{CommunityName, EventId},
    responses::{BadField, NoCommunity, NoEvent, NotModerator, OutOfRange},
    views::author_view,
};
use crate::{
    accounts,
    error::{ApiError, ErrorBody},
    ical, AppState,
};
use axum::{
    extract::State,
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use copse_entities::{
    community,
    event::{self, EventStatus},
    event_participant::ParticipantStatus,
    person, post,
};
use copse_federation::{
    actions::events::{self, EventDetails},
    objects::event::{local_time, zone},
    rules::participation::Outcome,
    Data,
};
use sea_orm::EntityTrait;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

/// The event routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/communities/{name}/events",
            post(http_post_event).get(http_get_events),
        )
        .route(
            "/api/v1/events/{id}",
            get(http_get_event)
                .patch(http_patch_event)
                .delete(http_delete_event),
        )
        .route("/api/v1/events/{id}/cancel", post(http_post_cancel))
        .route("/api/v1/events/{id}/rsvp", post(http_post_rsvp))
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

async fn details(
    data: &Data,
    c: &community::Model,
    form: EventForm,
    current: Option<(&post::Model, &event::Model)>,
) -> Result<EventDetails, ApiError> {
    let (title, description, fields) = details_of(form, current)?;
    let title = title
        .or_else(|| current.map(|(p, _)| p.title.clone()))
        .unwrap_or_default();
    let source = description
        .or_else(|| current.and_then(|(p, _)| p.source.clone()))
        .unwrap_or_default();
    let (html, tags) = render_post(data, c, &source).await?;
    Ok(EventDetails {
        title,
        html,
        tags,
        source,
        fields,
    })
}

/// The API's view of an event.
async fn event_view(data: &Data, p: &post::Model, e: &event::Model) -> Result<EventView, ApiError> {
    let organizer = person::Entity::find_by_id(p.author_id)
        .one(&data.db)
        .await?;
    let tz = zone(&e.timezone).unwrap_or(jiff::tz::TimeZone::UTC);
    let waiting =
        copse_federation::store::events::count_with(&data.db, p.id, ParticipantStatus::Waiting)
            .await?;
    let place = e.has_place().then(|| PlaceView {
        name: e.place_name.clone(),
        street_address: e.street_address.clone(),
        locality: e.locality.clone(),
        postcode: e.postcode.clone(),
        region: e.region.clone(),
        country: e.country.clone(),
        latitude: e.latitude,
        longitude: e.longitude,
    });
    Ok(EventView {
        id: p.id,
        ap_id: p.ap_id.clone(),
        title: p.title.clone(),
        description: p.content.clone(),
        source: p.source.clone(),
        start: local_time(e.starts_at, &tz).to_rfc3339(),
        end: local_time(e.ends_at, &tz).to_rfc3339(),
        timezone: e.timezone.clone(),
        place,
        online_url: e.online_url.clone(),
        capacity: e.capacity,
        join_mode: e.join_mode,
        external_url: e.external_url.clone(),
        status: e.status,
        category: e.category.clone(),
        language: e.language.clone(),
        sequence: e.sequence,
        participant_count: e.participant_count,
        remaining: e.remaining(),
        waiting_count: waiting,
        local: p.local,
        deleted: p.deleted,
        organizer: organizer.as_ref().map(author_view),
        published: p.published,
        updated: p.updated,
        ical: format!("{}/event.ics", p.ap_id),
    })
}

/// The event of post `id`, or a 404 naming `post` or `event`.
pub async fn find_event(data: &Data, id: i64) -> Result<(post::Model, event::Model), ApiError> {
    let p = find_post(data, id).await?;
    let e = copse_federation::store::events::event_of_post(&data.db, p.id)
        .await?
        .ok_or_else(|| ApiError::not_found("event"))?;
    Ok((p, e))
}

/// The community an event is scheduled in: a local name, or a remote handle resolved (the
/// federation crate refuses to schedule there, with its own message).
async fn scheduling_community(data: &Data, name: &str) -> Result<community::Model, ApiError> {
    if name.contains('@') {
        return resolve_community(data, name).await;
    }
    accounts::local_community(&data.db, name)
        .await?
        .ok_or_else(|| ApiError::not_found("community"))
}

/// Schedules an event (facilitators and coordinators).
#[utoipa::path(post, path = "/api/v1/communities/{name}/events", tag = "events",
    security(("bearer" = [])), request_body = EventForm,
    params(CommunityName),
    responses(
        (status = 201, description = "The new event", body = EventView),
        NotModerator, NoCommunity, BadField,
    ))]
async fn http_post_event(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(name): ApiPath<String>,
    ApiJson(form): ApiJson<EventForm>,
) -> Result<Response, ApiError> {
    let data = state.to_request_data();
    let c = scheduling_community(&data, &name).await?;
    let (p, e) = schedule(&data, &auth, &c, form).await?;
    Ok((StatusCode::CREATED, Json(event_view(&data, &p, &e).await?)).into_response())
}

/// A facilitator or coordinator of `c` schedules an event from the form, checked (errors name
/// the field at fault); federated.
pub async fn schedule(
    data: &Data,
    auth: &AuthUser,
    c: &community::Model,
    form: EventForm,
) -> Result<(post::Model, event::Model), ApiError> {
    require_moderator(data, c, auth).await?;
    let details = details(data, c, form, None).await?;
    Ok(events::create(data, c, &auth.person, details).await?)
}

/// A facilitator or coordinator changes (or, with `status: cancelled`, cancels) the event of
/// post `id`; absent fields keep their value.
pub async fn reschedule(
    data: &Data,
    auth: &AuthUser,
    id: i64,
    form: EventForm,
) -> Result<(post::Model, event::Model), ApiError> {
    let (p, e) = find_event(data, id).await?;
    let c = community_of(data, &p).await?;
    require_moderator(data, &c, auth).await?;
    let details = details(data, &c, form, Some((&p, &e))).await?;
    Ok(events::change(data, &p, &auth.person, details).await?)
}

/// Query of the events list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Past events, newest first, instead of upcoming ones.
    #[serde(default)]
    pub past: Option<bool>,
    /// `page` and `limit`.
    #[serde(flatten)]
    #[param(ignore)]
    pub paging: PageQuery,
}

/// A community's events: upcoming ones soonest first, or past ones newest first.
#[utoipa::path(get, path = "/api/v1/communities/{name}/events", tag = "events",
    security((), ("bearer" = [])),
    params(("name" = String, Path, description = "Community name, or `name@domain`"), EventsQuery, PageQuery),
    responses(
        (status = 200, description = "A page of events", body = EventList),
        NoCommunity, OutOfRange,
    ))]
async fn http_get_events(
    State(state): State<AppState>,
    reader: Option<AuthUser>,
    ApiPath(name): ApiPath<String>,
    ApiQuery(q): ApiQuery<EventsQuery>,
) -> Result<Json<EventList>, ApiError> {
    let data = state.to_request_data();
    let (page, limit) = q.paging.checked()?;
    let c = community_to_read(&data, &name, reader.as_ref()).await?;
    let offset = PageQuery::offset(page, limit);
    let list = community_events(&data, &c, q.past.unwrap_or(false), offset, limit).await?;
    let mut items = Vec::with_capacity(list.len());
    for (p, e) in &list {
        items.push(event_view(&data, p, e).await?);
    }
    Ok(Json(EventList { items, page }))
}

/// An event.
#[utoipa::path(get, path = "/api/v1/events/{id}", tag = "events",
    params(EventId),
    responses(
        (status = 200, description = "The event", body = EventView),
        NoEvent,
    ))]
async fn http_get_event(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<EventView>, ApiError> {
    let data = state.to_request_data();
    let (p, e) = find_event(&data, id).await?;
    if p.removed {
        return Err(ApiError::not_found("event"));
    }
    Ok(Json(event_view(&data, &p, &e).await?))
}

/// Changes an event (facilitators and coordinators): absent fields keep their value, `null`
/// clears an optional one.
#[utoipa::path(patch, path = "/api/v1/events/{id}", tag = "events",
    security(("bearer" = [])), request_body = EventForm,
    params(EventId),
    responses(
        (status = 200, description = "The event as it now stands", body = EventView),
        NotModerator, NoEvent, BadField,
    ))]
async fn http_patch_event(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(form): ApiJson<EventForm>,
) -> Result<Json<EventView>, ApiError> {
    let data = state.to_request_data();
    let (p, e) = reschedule(&data, &auth, id, form).await?;
    Ok(Json(event_view(&data, &p, &e).await?))
}

/// Cancels an event (facilitators and coordinators).
#[utoipa::path(post, path = "/api/v1/events/{id}/cancel", tag = "events",
    security(("bearer" = [])),
    params(EventId),
    responses(
        (status = 200, description = "The cancelled event", body = EventView),
        NotModerator, NoEvent,
    ))]
async fn http_post_cancel(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<EventView>, ApiError> {
    let form = EventForm {
        status: Some(Choice::Known(EventStatus::Cancelled)),
        ..EventForm::default()
    };
    http_patch_event(State(state), auth, ApiPath(id), ApiJson(form)).await
}

/// Deletes an event (facilitators and coordinators).
#[utoipa::path(delete, path = "/api/v1/events/{id}", tag = "events",
    security(("bearer" = [])),
    params(EventId),
    responses(
        (status = 204, description = "Deleted"),
        NotModerator, NoEvent,
    ))]
async fn http_delete_event(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    let data = state.to_request_data();
    let (p, _) = find_event(&data, id).await?;
    let c = community_of(&data, &p).await?;
    require_moderator(&data, &c, &auth).await?;
    events::delete(&data, &p, &auth.person).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Body of `POST /api/v1/events/{id}/rsvp`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RsvpForm {
    /// True to take part, false to withdraw.
    pub going: bool,
    /// A note for the organisers (events that need approval).
    #[serde(default)]
    pub message: Option<String>,
}

/// Answers an event: going or not.
#[utoipa::path(post, path = "/api/v1/events/{id}/rsvp", tag = "events",
    security(("bearer" = [])), request_body = RsvpForm,
    params(EventId),
    responses(
        (status = 200, description = "Where the answer left you", body = OutcomeView),
        (status = 403, description = "Not allowed to answer", body = ErrorBody),
        (status = 409, description = "The event is over, cancelled or deleted", body = ErrorBody),
        NoEvent, BadField,
    ))]
async fn http_post_rsvp(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(form): ApiJson<RsvpForm>,
) -> Result<Json<OutcomeView>, ApiError> {
    let data = state.to_request_data();
    let outcome = rsvp(&data, &auth.person, id, form.going, form.message).await?;
    Ok(Json(OutcomeView::from(&outcome)))
}

/// A local person answers the event of post `id`: going (with an optional note of at most
/// 1000 characters for the organisers) or not.
pub async fn rsvp(
    data: &Data,
    who: &person::Model,
    id: i64,
    going: bool,
    message: Option<String>,
) -> Result<Outcome, ApiError> {
    let (p, _) = find_event(data, id).await?;
    let message = check_short("message", message, 1000)?;
    Ok(events::answer_locally(data, &p, who, going, message).await?)
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
    let (p, e) = find_event(&data, id).await?;
    let c = community_of(&data, &p).await?;
    require_moderator(&data, &c, &auth).await?;
    let all = [
        ParticipantStatus::Going,
        ParticipantStatus::Waiting,
        ParticipantStatus::Pending,
        ParticipantStatus::Invited,
        ParticipantStatus::Rejected,
    ];
    let rows = copse_federation::store::events::participants(&data.db, p.id, &all).await?;
    let items: Vec<ParticipantView> = rows
        .iter()
        .map(|(r, who)| {
            let host = who.ap_id.host_str().unwrap_or_default();
            let port = who
                .ap_id
                .port()
                .map(|p| format!(":{p}"))
                .unwrap_or_default();
            ParticipantView {
                person: author_view(who),
                handle: format!("{}@{host}{port}", who.name),
                status: r.status,
                message: r.message.clone(),
                since: r.created_at,
                reminded_at: r.reminded_at,
            }
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
    let accept = match form.decision.as_str() {
        "accept" => true,
        "reject" => false,
        _ => {
            return Err(ApiError::invalid(
                "decision",
                "decision must be accept or reject",
            ))
        }
    };
    let (p, _) = find_event(&data, id).await?;
    let c = community_of(&data, &p).await?;
    require_moderator(&data, &c, &auth).await?;
    let who = person_by_handle(&data, &handle).await?;
    let outcome = events::decide(&data, &p, &auth.person, &who, accept).await?;
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
    let (p, _) = find_event(&data, id).await?;
    let c = community_of(&data, &p).await?;
    require_moderator(&data, &c, &auth).await?;
    let who = person_by_handle(&data, &form.handle)
        .await
        .map_err(|e| e.with_field("handle"))?;
    events::invite(&data, &p, &auth.person, &who).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn calendar_response(body: String, filename: &str) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                "text/calendar; charset=utf-8".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// `GET /c/{name}/events.ics`: the community's upcoming events (cancelled ones included, so
/// subscribed calendars learn of the cancellation).
pub async fn http_get_community_calendar(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<Response, ApiError> {
    let data = state.to_request_data();
    let c = accounts::local_community(&data.db, &name)
        .await?
        .ok_or_else(|| ApiError::not_found("community"))?;
    let list = community_events(&data, &c, false, 0, 500).await?;
    let body = ical::calendar(&c.title, &data.settings.domain, &list);
    Ok(calendar_response(body, &format!("{}.ics", c.name)))
}

/// `GET /post/{id}/event.ics`: one event.
pub async fn http_get_event_calendar(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, ApiError> {
    let data = state.to_request_data();
    let (p, e) = find_event(&data, id).await?;
    if !p.visible() {
        return Err(ApiError::not_found("event"));
    }
    let body = ical::calendar(&p.title, &data.settings.domain, &[(p.clone(), e)]);
    Ok(calendar_response(body, &format!("event-{}.ics", p.id)))
}
