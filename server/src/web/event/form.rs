//! One form to schedule and to change an event, checked by the API's own event form (the
//! same messages, the field at fault named beside it), and the confirmation to cancel one.
//! Times are entered in the time zone the form names: UTC unless the organiser picks another.

use crate::{
    api::{
        event_form::{Choice, EventForm, PlaceForm},
        events::{reschedule, schedule},
        lookup::{community_of, find_event, local_community, require_moderator},
    },
    error::ApiError,
    web::{
        account::Empty,
        chrome::Chrome,
        desk::{as_auth, on_form},
        error::PageError,
        form::{FieldErrors, Form},
        page::html_response,
        session::SignedIn,
    },
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
    event::{self, EventStatus, JoinMode},
    post,
};
use copse_federation::{
    objects::event::{local_time, zone},
    Data,
};
use serde::Deserialize;

/// The event form as shown and as sent.
#[derive(Deserialize, Default)]
pub struct EventFields {
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    start: String,
    #[serde(default)]
    end: String,
    #[serde(default)]
    timezone: String,
    #[serde(default, rename = "place.name")]
    place_name: String,
    #[serde(default, rename = "place.street_address")]
    street_address: String,
    #[serde(default, rename = "place.locality")]
    locality: String,
    #[serde(default, rename = "place.postcode")]
    postcode: String,
    #[serde(default, rename = "place.country")]
    country: String,
    #[serde(default)]
    online_url: String,
    #[serde(default)]
    capacity: String,
    #[serde(default)]
    join_mode: String,
    #[serde(default)]
    external_url: String,
}

fn word<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

impl EventFields {
    fn blank() -> Self {
        Self {
            timezone: "UTC".into(),
            join_mode: "free".into(),
            ..Self::default()
        }
    }

    fn of(p: &post::Model, e: &event::Model) -> Self {
        let tz = zone(&e.timezone).unwrap_or(jiff::tz::TimeZone::UTC);
        let at = |t| local_time(t, &tz).format("%Y-%m-%dT%H:%M").to_string();
        let s = |v: &Option<String>| v.clone().unwrap_or_default();
        Self {
            title: p.title.clone(),
            description: s(&p.source),
            start: at(e.starts_at),
            end: at(e.ends_at),
            timezone: e.timezone.clone(),
            place_name: s(&e.place_name),
            street_address: s(&e.street_address),
            locality: s(&e.locality),
            postcode: s(&e.postcode),
            country: s(&e.country),
            online_url: s(&e.online_url),
            capacity: e.capacity.map(|c| c.to_string()).unwrap_or_default(),
            join_mode: word(&e.join_mode),
            external_url: s(&e.external_url),
        }
    }

    /// The API's form: every field is sent, so every one is set; what the form does not show
    /// (region, coordinates) is kept from `current`.
    fn form(&self, current: Option<&event::Model>) -> Result<EventForm, ApiError> {
        let text = |v: &str| Some(v.to_string());
        let capacity = match self.capacity.trim() {
            "" => None,
            n => Some(n.parse::<i64>().map_err(|_| {
                ApiError::invalid("capacity", "capacity must be 0 (no limit) or more")
            })?),
        };
        let join_mode: Choice<JoinMode> =
            serde_json::from_value(serde_json::Value::String(self.join_mode.clone()))
                .map_err(ApiError::internal)?;
        Ok(EventForm {
            title: text(&self.title),
            description: text(&self.description),
            start: text(&self.start),
            end: text(&self.end),
            timezone: text(&self.timezone),
            place: Some(Some(PlaceForm {
                name: text(&self.place_name),
                street_address: text(&self.street_address),
                locality: text(&self.locality),
                postcode: text(&self.postcode),
                region: current.and_then(|e| e.region.clone()),
                country: text(&self.country),
                latitude: current.and_then(|e| e.latitude),
                longitude: current.and_then(|e| e.longitude),
            })),
            online_url: Some(text(&self.online_url)),
            capacity: Some(capacity),
            join_mode: Some(join_mode),
            external_url: Some(text(&self.external_url)),
            ..EventForm::default()
        })
    }
}

#[derive(Template)]
#[template(path = "event_form.html")]
struct EventFormPage<'a> {
    chrome: Chrome,
    heading: &'a str,
    action: String,
    back: String,
    f: EventFields,
    errors: FieldErrors,
    cancel: Option<i64>,
}

async fn show(
    data: &Data,
    me: &SignedIn,
    page: (&str, String, String, Option<i64>),
    f: EventFields,
    errors: FieldErrors,
) -> Result<Response, PageError> {
    let (heading, action, back, cancel) = page;
    let view = EventFormPage {
        chrome: Chrome::load(data, Some(me)).await?,
        heading,
        action,
        back,
        f,
        errors,
        cancel,
    };
    let status = view.errors.status();
    Ok(html_response(status, view.render()?))
}

/// The community, if the viewer may schedule events in it (a 403 page otherwise).
async fn organising(data: &Data, me: &SignedIn, name: &str) -> Result<community::Model, PageError> {
    let c = local_community(data, name).await?;
    require_moderator(data, &c, &as_auth(me)).await?;
    Ok(c)
}

/// `GET /c/{name}/events/new`.
pub async fn http_get_new_event(
    State(state): State<AppState>,
    Path(name): Path<String>,
    me: SignedIn,
) -> Result<Response, PageError> {
    let data = state.to_request_data();
    let c = organising(&data, &me, &name).await?;
    let page = (
        "New event",
        format!("/c/{}/events/new", c.name),
        format!("/c/{}", c.name),
        None,
    );
    show(
        &data,
        &me,
        page,
        EventFields::blank(),
        FieldErrors::default(),
    )
    .await
}

/// `POST /c/{name}/events/new`.
pub async fn http_post_new_event(
    State(state): State<AppState>,
    Path(name): Path<String>,
    me: SignedIn,
    form: Form<EventFields>,
) -> Result<Response, PageError> {
    me.check_csrf(&form.csrf)?;
    let data = state.to_request_data();
    let c = organising(&data, &me, &name).await?;
    let f = form.fields;
    let made = async { schedule(&data, &as_auth(&me), &c, f.form(None)?).await }.await;
    match made {
        Ok((p, _)) => Ok(Redirect::to(&format!("/post/{}", p.id)).into_response()),
        Err(e) => {
            let errors = on_form(e)?;
            let page = (
                "New event",
                format!("/c/{}/events/new", c.name),
                format!("/c/{}", c.name),
                None,
            );
            show(&data, &me, page, f, errors).await
        }
    }
}

/// The event of post `id`, if the viewer may change it.
async fn changing(
    data: &Data,
    me: &SignedIn,
    id: i64,
) -> Result<(post::Model, event::Model), PageError> {
    let (p, e) = find_event(data, id).await?;
    let c = community_of(data, &p).await?;
    require_moderator(data, &c, &as_auth(me)).await?;
    if !p.local || !p.visible() {
        return Err(PageError::forbidden(
            "only events scheduled here can be changed here",
        ));
    }
    Ok((p, e))
}

fn edit_page(id: i64) -> (&'static str, String, String, Option<i64>) {
    (
        "Change the event",
        format!("/post/{id}/event/edit"),
        format!("/post/{id}"),
        Some(id),
    )
}

/// `GET /post/{id}/event/edit`.
pub async fn http_get_edit_event(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    me: SignedIn,
) -> Result<Response, PageError> {
    let data = state.to_request_data();
    let (p, e) = changing(&data, &me, id).await?;
    let f = EventFields::of(&p, &e);
    show(&data, &me, edit_page(id), f, FieldErrors::default()).await
}

/// `POST /post/{id}/event/edit`.
pub async fn http_post_edit_event(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    me: SignedIn,
    form: Form<EventFields>,
) -> Result<Response, PageError> {
    me.check_csrf(&form.csrf)?;
    let data = state.to_request_data();
    let (_, e) = changing(&data, &me, id).await?;
    let f = form.fields;
    let changed = async { reschedule(&data, &as_auth(&me), id, f.form(Some(&e))?).await }.await;
    match changed {
        Ok(_) => Ok(Redirect::to(&format!("/post/{id}")).into_response()),
        Err(e) => {
            let errors = on_form(e)?;
            show(&data, &me, edit_page(id), f, errors).await
        }
    }
}

#[derive(Template)]
#[template(path = "event_cancel.html")]
struct CancelPage {
    chrome: Chrome,
    id: i64,
    title: String,
}

/// `GET /post/{id}/event/cancel`: asks to confirm.
pub async fn http_get_cancel_event(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    me: SignedIn,
) -> Result<Response, PageError> {
    let data = state.to_request_data();
    let (p, _) = changing(&data, &me, id).await?;
    let page = CancelPage {
        chrome: Chrome::load(&data, Some(&me)).await?,
        id,
        title: p.title,
    };
    Ok(html_response(StatusCode::OK, page.render()?))
}

/// `POST /post/{id}/event/cancel`: cancels it (the participants' calendars learn of it).
pub async fn http_post_cancel_event(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    me: SignedIn,
    form: Form<Empty>,
) -> Result<Response, PageError> {
    me.check_csrf(&form.csrf)?;
    let data = state.to_request_data();
    changing(&data, &me, id).await?;
    let cancel = EventForm {
        status: Some(Choice::Known(EventStatus::Cancelled)),
        ..EventForm::default()
    };
    reschedule(&data, &as_auth(&me), id, cancel).await?;
    Ok(Redirect::to(&format!("/post/{id}")).into_response())
}
