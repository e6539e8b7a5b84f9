//! The events API: coordinators and facilitators schedule, change, cancel and delete events;
//! anyone reads them; local people answer; coordinators see who is coming, decide on requests
//! and invite (in `participants`). Also the iCalendar feeds.

pub mod participants;

use super::{
    event_form::{details_of, Choice, EventForm},
    event_views::{EventList, EventView, OutcomeView, PlaceView},
    extract::{ApiJson, ApiPath, ApiQuery, AuthUser, PageQuery},
    fields::check_short,
    lookup::{
        community_events, community_of, community_to_read, find_event, render_post,
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
        .merge(participants::router())
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
