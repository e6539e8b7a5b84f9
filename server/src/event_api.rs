//! The events API: coordinators and facilitators schedule, change, cancel and delete events;
//! anyone reads them; local people answer; coordinators see who is coming, decide on requests
//! and invite. Also the iCalendar feeds.

use crate::{
    accounts,
    api::{
        community_to_read, known_person, resolve_community, ApiJson, ApiPath, ApiQuery, AuthUser,
        PageQuery,
    },
    discussion_api::{author_json, check_title, community_of, find_post, require_moderator},
    error::ApiError,
    ical,
    markdown::render_post,
    AppState,
};
use axum::{
    extract::State,
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use chrono::{DateTime, Utc};
use copse_entities::{
    community,
    event::{self, EventStatus, JoinMode},
    event_participant::ParticipantStatus,
    person, post,
};
use copse_federation::{
    activities::events::{self, EventDetails},
    objects::event::{from_local, local_time, zone},
    rules::participation::Outcome,
    Data,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Deserializer};
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

/// Reads a field that may be absent (unchanged), `null` (cleared) or a value.
fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// Where an event happens.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlaceForm {
    /// Name of the venue.
    #[serde(default)]
    pub name: Option<String>,
    /// Street and number.
    #[serde(default)]
    pub street_address: Option<String>,
    /// Town or city.
    #[serde(default)]
    pub locality: Option<String>,
    /// Postcode.
    #[serde(default)]
    pub postcode: Option<String>,
    /// Region or county.
    #[serde(default)]
    pub region: Option<String>,
    /// Country.
    #[serde(default)]
    pub country: Option<String>,
    /// Latitude, -90 to 90.
    #[serde(default)]
    pub latitude: Option<f64>,
    /// Longitude, -180 to 180.
    #[serde(default)]
    pub longitude: Option<f64>,
}

/// Body of `POST /api/v1/communities/{name}/events` and `PATCH /api/v1/events/{id}`. On
/// PATCH, absent fields keep their value and `null` clears an optional one.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventForm {
    /// Title.
    #[serde(default)]
    pub title: Option<String>,
    /// Description, markdown.
    #[serde(default)]
    pub description: Option<String>,
    /// Start: a wall-clock time in `timezone` (`2027-06-15T18:00`) or RFC 3339 with offset.
    #[serde(default)]
    pub start: Option<String>,
    /// End, the same way.
    #[serde(default)]
    pub end: Option<String>,
    /// IANA time zone, e.g. `Europe/London`.
    #[serde(default)]
    pub timezone: Option<String>,
    /// The venue.
    #[serde(default, deserialize_with = "nullable")]
    pub place: Option<Option<PlaceForm>>,
    /// Link to join online (http or https).
    #[serde(default, deserialize_with = "nullable")]
    pub online_url: Option<Option<String>>,
    /// Places; `null` or 0 for no limit.
    #[serde(default, deserialize_with = "nullable")]
    pub capacity: Option<Option<i64>>,
    /// `free`, `approval`, `invite` or `external`.
    #[serde(default)]
    pub join_mode: Option<String>,
    /// Where to register when `join_mode` is `external`.
    #[serde(default, deserialize_with = "nullable")]
    pub external_url: Option<Option<String>>,
    /// `tentative`, `confirmed` or `cancelled`.
    #[serde(default)]
    pub status: Option<String>,
    /// Category, e.g. `MEETING` or `WORKSHOP`.
    #[serde(default, deserialize_with = "nullable")]
    pub category: Option<Option<String>>,
    /// Language tag of the description, e.g. `en` or `cy`.
    #[serde(default, deserialize_with = "nullable")]
    pub language: Option<Option<String>>,
}

fn check_url(field: &str, value: Option<String>) -> Result<Option<String>, ApiError> {
    let Some(v) = value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
    else {
        return Ok(None);
    };
    let ok = url::Url::parse(&v)
        .ok()
        .is_some_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some());
    if !ok || v.len() > 2000 {
        return Err(ApiError::invalid(
            field,
            format!("{field} must be an http or https address"),
        ));
    }
    Ok(Some(v))
}

fn check_short(field: &str, value: Option<String>, max: usize) -> Result<Option<String>, ApiError> {
    let Some(v) = value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
    else {
        return Ok(None);
    };
    if v.chars().count() > max {
        return Err(ApiError::invalid(
            field,
            format!("{field} must be at most {max} characters"),
        ));
    }
    Ok(Some(v))
}

/// A start or end: RFC 3339 with an offset, or a wall-clock time in the event's zone.
fn parse_time(
    field: &str,
    value: &str,
    tz: &jiff::tz::TimeZone,
) -> Result<DateTime<Utc>, ApiError> {
    let value = value.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(value) {
        return Ok(t.with_timezone(&Utc));
    }
    from_local(value, tz).ok_or_else(|| {
        ApiError::invalid(
            field,
            format!("{field} must be a date and time like 2027-06-15T18:00 (in the event's time zone) or 2027-06-15T18:00:00+01:00"),
        )
    })
}

/// The event as it stands (or a blank one), with `form` applied and checked.
fn details_of(
    form: EventForm,
    current: Option<(&post::Model, &event::Model)>,
) -> Result<(Option<String>, Option<String>, event::Model), ApiError> {
    let title = match (&form.title, current) {
        (Some(t), _) => Some(check_title(t)?),
        (None, Some(_)) => None,
        (None, None) => return Err(ApiError::invalid("title", "title is required")),
    };
    let description = match form.description {
        Some(d) if d.len() > 100_000 => {
            return Err(ApiError::invalid(
                "description",
                "description must be at most 100000 bytes",
            ))
        }
        d => d,
    };
    let old = current.map(|(_, e)| e);
    let timezone = match (&form.timezone, old) {
        (Some(t), _) => t.trim().to_string(),
        (None, Some(e)) => e.timezone.clone(),
        (None, None) => return Err(ApiError::invalid("timezone", "timezone is required")),
    };
    let tz = zone(&timezone).ok_or_else(|| {
        ApiError::invalid(
            "timezone",
            "timezone must be an IANA time zone name like Europe/London",
        )
    })?;
    let starts_at = match (&form.start, old) {
        (Some(s), _) => parse_time("start", s, &tz)?,
        (None, Some(e)) => e.starts_at,
        (None, None) => return Err(ApiError::invalid("start", "start is required")),
    };
    let ends_at = match (&form.end, old) {
        (Some(s), _) => parse_time("end", s, &tz)?,
        (None, Some(e)) => e.ends_at,
        (None, None) => return Err(ApiError::invalid("end", "end is required")),
    };
    if ends_at <= starts_at {
        return Err(ApiError::invalid("end", "end must be after start"));
    }
    if ends_at - starts_at > chrono::Duration::days(366) {
        return Err(ApiError::invalid("end", "an event lasts at most a year"));
    }
    let mut e = old.cloned().unwrap_or(event::Model {
        post_id: 0,
        community_id: 0,
        starts_at,
        ends_at,
        timezone: timezone.clone(),
        place_name: None,
        street_address: None,
        locality: None,
        postcode: None,
        region: None,
        country: None,
        latitude: None,
        longitude: None,
        online_url: None,
        capacity: None,
        join_mode: JoinMode::Free,
        external_url: None,
        status: EventStatus::Confirmed,
        category: None,
        language: None,
        sequence: 0,
        participant_count: 0,
        remaining_capacity: None,
    });
    e.starts_at = starts_at;
    e.ends_at = ends_at;
    e.timezone = timezone;
    if let Some(place) = form.place {
        let p = place.unwrap_or_default();
        e.place_name = check_short("place.name", p.name, 200)?;
        e.street_address = check_short("place.street_address", p.street_address, 200)?;
        e.locality = check_short("place.locality", p.locality, 200)?;
        e.postcode = check_short("place.postcode", p.postcode, 32)?;
        e.region = check_short("place.region", p.region, 200)?;
        e.country = check_short("place.country", p.country, 100)?;
        match (p.latitude, p.longitude) {
            (Some(lat), _) if !(-90.0..=90.0).contains(&lat) => {
                return Err(ApiError::invalid(
                    "place.latitude",
                    "place.latitude must be between -90 and 90",
                ))
            }
            (_, Some(lon)) if !(-180.0..=180.0).contains(&lon) => {
                return Err(ApiError::invalid(
                    "place.longitude",
                    "place.longitude must be between -180 and 180",
                ))
            }
            (Some(_), None) => {
                return Err(ApiError::invalid(
                    "place.longitude",
                    "place.longitude is required with place.latitude",
                ))
            }
            (None, Some(_)) => {
                return Err(ApiError::invalid(
                    "place.latitude",
                    "place.latitude is required with place.longitude",
                ))
            }
            (lat, lon) => {
                e.latitude = lat;
                e.longitude = lon;
            }
        }
    }
    if let Some(u) = form.online_url {
        e.online_url = check_url("online_url", u)?;
    }
    if let Some(c) = form.capacity {
        e.capacity = match c {
            Some(n) if n < 0 => {
                return Err(ApiError::invalid(
                    "capacity",
                    "capacity must be 0 (no limit) or more",
                ))
            }
            Some(n) if n > 1_000_000 => {
                return Err(ApiError::invalid(
                    "capacity",
                    "capacity must be at most 1000000",
                ))
            }
            Some(0) | None => None,
            Some(n) => i32::try_from(n).ok(),
        };
    }
    if let Some(m) = &form.join_mode {
        e.join_mode = match m.as_str() {
            "free" => JoinMode::Free,
            "approval" | "restricted" => JoinMode::Approval,
            "invite" => JoinMode::Invite,
            "external" => JoinMode::External,
            _ => {
                return Err(ApiError::invalid(
                    "join_mode",
                    "join_mode must be free, approval, invite or external",
                ))
            }
        };
    }
    if let Some(u) = form.external_url {
        e.external_url = check_url("external_url", u)?;
    }
    if e.join_mode == JoinMode::External && e.external_url.is_none() {
        return Err(ApiError::invalid(
            "external_url",
            "external_url is required when join_mode is external",
        ));
    }
    if let Some(s) = &form.status {
        e.status = match s.as_str() {
            "tentative" => EventStatus::Tentative,
            "confirmed" => EventStatus::Confirmed,
            "cancelled" => EventStatus::Cancelled,
            _ => {
                return Err(ApiError::invalid(
                    "status",
                    "status must be tentative, confirmed or cancelled",
                ))
            }
        };
    }
    if let Some(c) = form.category {
        e.category = check_short("category", c, 64)?.map(|c| c.to_uppercase());
    }
    if let Some(l) = form.language {
        e.language = check_short("language", l, 16)?;
        if e.language
            .as_deref()
            .is_some_and(|l| !l.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-'))
        {
            return Err(ApiError::invalid(
                "language",
                "language must be a language tag like en or cy",
            ));
        }
    }
    Ok((title, description, e))
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

async fn find_event(data: &Data, id: i64) -> Result<(post::Model, event::Model), ApiError> {
    let p = find_post(data, id).await?;
    let e = copse_federation::store::events::event_of_post(&data.db, p.id)
        .await?
        .ok_or_else(|| ApiError::not_found("event"))?;
    Ok((p, e))
}

async fn local_community(data: &Data, name: &str) -> Result<community::Model, ApiError> {
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
    let c = local_community(&data, &name).await?;
    require_moderator(&data, &c, &auth).await?;
    let details = details(&data, &c, form, None).await?;
    let (p, e) = events::create(&data, &c, &auth.person, details).await?;
    Ok((StatusCode::CREATED, Json(event_json(&data, &p, &e).await?)).into_response())
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

/// A community's events that end after `now` (or, `past`, before it), soonest first (or most
/// recent first), with their posts; deleted ones left out.
pub async fn community_events(
    data: &Data,
    c: &community::Model,
    past: bool,
    offset: u64,
    limit: u64,
) -> Result<Vec<ical::Entry>, ApiError> {
    let now = data.clock.now();
    let q = event::Entity::find().filter(event::Column::CommunityId.eq(c.id));
    let q = if past {
        q.filter(event::Column::EndsAt.lt(now))
            .order_by_desc(event::Column::StartsAt)
    } else {
        q.filter(event::Column::EndsAt.gte(now))
            .order_by_asc(event::Column::StartsAt)
    };
    let list = q.offset(offset).limit(limit).all(&data.db).await?;
    let posts: std::collections::HashMap<i64, post::Model> = post::Entity::find()
        .filter(post::Column::Id.is_in(list.iter().map(|e| e.post_id)))
        .all(&data.db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    Ok(list
        .into_iter()
        .filter_map(|e| posts.get(&e.post_id).cloned().map(|p| (p, e)))
        .filter(|(p, _)| p.visible())
        .collect())
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
    let (p, e) = find_event(&data, id).await?;
    let c = community_of(&data, &p).await?;
    require_moderator(&data, &c, &auth).await?;
    let details = details(&data, &c, form, Some((&p, &e))).await?;
    let (p, e) = events::change(&data, &p, &auth.person, details).await?;
    Ok(Json(event_json(&data, &p, &e).await?))
}

async fn http_post_cancel(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Value>, ApiError> {
    let form = EventForm {
        status: Some("cancelled".into()),
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
    let (p, _) = find_event(&data, id).await?;
    let message = check_short("message", form.message, 1000)?;
    let outcome = events::answer_locally(&data, &p, &auth.person, form.going, message).await?;
    Ok(Json(outcome_json(&outcome)))
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
