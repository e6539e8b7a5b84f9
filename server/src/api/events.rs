//! The events API: coordinators and facilitators schedule, change, cancel and delete events;
//! anyone reads them; local people answer; coordinators see who is coming, decide on requests
//! and invite. Also the iCalendar feeds.

use super::{
    event_form::{details_of, Choice, EventForm},
    extract::{ApiJson, ApiPath, ApiQuery, AuthUser, PageQuery},
    fields::check_short,
    lookup::{
        community_events, community_of, community_to_read, find_post, known_person, render_post,
        require_moderator, resolve_community,
    },
    views::author_json,
};
use crate::{accounts, error::ApiError, ical, AppState};
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
use serde_json::{json, Value};

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

/// The JSON of an event.
async fn event_json(data: &Data, p: &post::Model, e: &event::Model) -> Result<Value, ApiError> {
    let organizer = person::Entity::find_by_id(p.author_id)
        .one(&data.db)
        .await?;
    let tz = zone(&e.timezone).unwrap_or(jiff::tz::TimeZone::UTC);
    let waiting =
        copse_federation::store::events::count_with(&data.db, p.id, ParticipantStatus::Waiting)
            .await?;
    let place = e.has_place().then(|| {
        json!({
            "name": e.place_name,
            "street_address": e.street_address,
            "locality": e.locality,
            "postcode": e.postcode,
            "region": e.region,
            "country": e.country,
            "latitude": e.latitude,
            "longitude": e.longitude,
        })
    });
    Ok(json!({
        "id": p.id,
        "ap_id": p.ap_id,
        "title": p.title,
        "description": p.content,
        "source": p.source,
        "start": local_time(e.starts_at, &tz).to_rfc3339(),
        "end": local_time(e.ends_at, &tz).to_rfc3339(),
        "timezone": e.timezone,
        "place": place,
        "online_url": e.online_url,
        "capacity": e.capacity,
        "join_mode": e.join_mode,
        "external_url": e.external_url,
        "status": e.status,
        "category": e.category,
        "language": e.language,
        "sequence": e.sequence,
        "participant_count": e.participant_count,
        "remaining": e.remaining(),
        "waiting_count": waiting,
        "local": p.local,
        "deleted": p.deleted,
        "organizer": organizer.as_ref().map(author_json),
        "published": p.published,
        "updated": p.updated,
        "ical": format!("{}/event.ics", p.ap_id),
    }))
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

async fn http_post_event(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(name): ApiPath<String>,
    ApiJson(form): ApiJson<EventForm>,
) -> Result<Response, ApiError> {
    let data = state.to_request_data();
    let c = scheduling_community(&data, &name).await?;
    let (p, e) = schedule(&data, &auth, &c, form).await?;
    Ok((StatusCode::CREATED, Json(event_json(&data, &p, &e).await?)).into_response())
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
#[derive(Debug, Deserialize)]
pub struct EventsQuery {
    /// Past events, newest first, instead of upcoming ones.
    #[serde(default)]
    pub past: Option<bool>,
    /// `page` and `limit`.
    #[serde(flatten)]
    pub paging: PageQuery,
}

async fn http_get_events(
    State(state): State<AppState>,
    reader: Option<AuthUser>,
    ApiPath(name): ApiPath<String>,
    ApiQuery(q): ApiQuery<EventsQuery>,
) -> Result<Json<Value>, ApiError> {
    let data = state.to_request_data();
    let (page, limit) = q.paging.checked()?;
    let c = community_to_read(&data, &name, reader.as_ref()).await?;
    let offset = PageQuery::offset(page, limit);
    let list = community_events(&data, &c, q.past.unwrap_or(false), offset, limit).await?;
    let mut items = Vec::with_capacity(list.len());
    for (p, e) in &list {
        items.push(event_json(&data, p, e).await?);
    }
    Ok(Json(json!({ "items": items, "page": page })))
}

async fn http_get_event(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Value>, ApiError> {
    let data = state.to_request_data();
    let (p, e) = find_event(&data, id).await?;
    if p.removed {
        return Err(ApiError::not_found("event"));
    }
    Ok(Json(event_json(&data, &p, &e).await?))
}

async fn http_patch_event(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(form): ApiJson<EventForm>,
) -> Result<Json<Value>, ApiError> {
    let data = state.to_request_data();
    let (p, e) = reschedule(&data, &auth, id, form).await?;
    Ok(Json(event_json(&data, &p, &e).await?))
}

async fn http_post_cancel(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Value>, ApiError> {
    let form = EventForm {
        status: Some(Choice::Known(EventStatus::Cancelled)),
        ..EventForm::default()
    };
    http_patch_event(State(state), auth, ApiPath(id), ApiJson(form)).await
}

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
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RsvpForm {
    /// True to take part, false to withdraw.
    pub going: bool,
    /// A note for the organisers (events that need approval).
    #[serde(default)]
    pub message: Option<String>,
}

fn outcome_json(o: &Outcome) -> Value {
    match o {
        Outcome::Waiting(n) => json!({ "status": o.status(), "position": n }),
        Outcome::Refused(why) => json!({ "status": o.status(), "reason": why }),
        _ => json!({ "status": o.status() }),
    }
}

async fn http_post_rsvp(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(form): ApiJson<RsvpForm>,
) -> Result<Json<Value>, ApiError> {
    let data = state.to_request_data();
    let outcome = rsvp(&data, &auth.person, id, form.going, form.message).await?;
    Ok(Json(outcome_json(&outcome)))
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

async fn http_get_participants(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Value>, ApiError> {
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
    let items: Vec<Value> = rows
        .iter()
        .map(|(r, who)| {
            let host = who.ap_id.host_str().unwrap_or_default();
            let port = who
                .ap_id
                .port()
                .map(|p| format!(":{p}"))
                .unwrap_or_default();
            json!({
                "person": author_json(who),
                "handle": format!("{}@{host}{port}", who.name),
                "status": r.status,
                "message": r.message,
                "since": r.created_at,
                "reminded_at": r.reminded_at,
            })
        })
        .collect();
    Ok(Json(json!({
        "participant_count": e.participant_count,
        "capacity": e.capacity,
        "items": items,
    })))
}

/// Body of `POST /api/v1/events/{id}/participants/{handle}`.
#[derive(Debug, Deserialize)]
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

async fn http_post_decision(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath((id, handle)): ApiPath<(i64, String)>,
    ApiJson(form): ApiJson<DecisionForm>,
) -> Result<Json<Value>, ApiError> {
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
    Ok(Json(outcome_json(&outcome)))
}

/// Body of `POST /api/v1/events/{id}/invites`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InviteForm {
    /// `name` of a local person or `name@domain` of one this server knows.
    pub handle: String,
}

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
