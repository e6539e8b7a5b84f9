//! An event's participants page, for its facilitators and coordinators: the requests to take
//! part (with the message each person sent) to approve or decline, the form to invite someone,
//! and everyone who answered. Each action is the API's own checked command, and its refusals
//! are shown beside the field they name.

use crate::{
    api::events::participants::{decide, decision_of, handle_of, invite, participants, Whom},
    web::{
        chrome::Chrome,
        desk::{as_auth, on_form},
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
    extract::{Path, Query, State},
    response::{IntoResponse, Redirect, Response},
};
use copse_entities::event_participant::ParticipantStatus;
use copse_federation::{rules::participation::Outcome, Data};
use serde::Deserialize;

/// Someone who answered the event or was invited.
pub struct Row {
    person_id: i64,
    name: String,
    href: String,
    handle: String,
    status: &'static str,
    pending: bool,
    message: String,
    when: When,
    /// Why a decision on their request was refused, shown beside its buttons.
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "event_participants.html")]
struct ParticipantsPage {
    chrome: Chrome,
    id: i64,
    title: String,
    places: String,
    local: bool,
    done: Option<&'static str>,
    requests: Vec<Row>,
    others: Vec<Row>,
    handle: String,
    errors: FieldErrors,
    failed: Option<i64>,
}

/// What the page shows besides the list: a notice after an action, or the form that failed.
#[derive(Default)]
struct Shown {
    done: Option<&'static str>,
    handle: String,
    errors: FieldErrors,
    failed: Option<i64>,
}

fn status_word(s: ParticipantStatus) -> &'static str {
    match s {
        ParticipantStatus::Going => "going",
        ParticipantStatus::Waiting => "on the waiting list",
        ParticipantStatus::Pending => "asked to take part",
        ParticipantStatus::Invited => "invited",
        ParticipantStatus::Rejected => "declined",
    }
}

async fn render(data: &Data, me: &SignedIn, id: i64, shown: Shown) -> Result<Response, PageError> {
    let (p, e, rows) = participants(data, &as_auth(me), id).await?;
    let now = data.clock.now();
    let (requests, others): (Vec<Row>, Vec<Row>) = rows
        .into_iter()
        .map(|(r, who)| Row {
            person_id: who.id,
            name: who.display_name.clone().unwrap_or_else(|| who.name.clone()),
            href: who.ap_id.to_string(),
            handle: handle_of(&who),
            status: status_word(r.status),
            pending: r.status == ParticipantStatus::Pending,
            message: r.message.unwrap_or_default(),
            when: When::new(r.created_at, now),
            error: (shown.failed == Some(who.id))
                .then(|| shown.errors.get("decision").or(shown.errors.get("form")))
                .flatten()
                .map(str::to_string),
        })
        .partition(|r| r.pending);
    let page = ParticipantsPage {
        chrome: Chrome::load(data, Some(me)).await?,
        id,
        places: crate::html::places_in_words(&e),
        local: p.local,
        title: p.title,
        done: shown.done,
        requests,
        others,
        handle: shown.handle,
        errors: shown.errors,
        failed: shown.failed,
    };
    let status = page.errors.status();
    Ok(html_response(status, page.render()?))
}

/// `?done=` after an action, one of the fixed words below.
#[derive(Deserialize)]
pub struct DoneQuery {
    #[serde(default)]
    done: Option<String>,
}

/// `GET /post/{id}/event/participants`.
pub async fn http_get_participants(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Query(q): Query<DoneQuery>,
    me: SignedIn,
) -> Result<Response, PageError> {
    // Only these words are shown, so a link cannot put other text on the page.
    let done = match q.done.as_deref() {
        Some("accepted") => Some("Accepted: they have a place."),
        Some("waiting") => Some("Accepted: the event is full, so they are on the waiting list."),
        Some("declined") => Some("Declined."),
        Some("invited") => Some("Invited."),
        _ => None,
    };
    let shown = Shown {
        done,
        ..Shown::default()
    };
    render(&state.to_request_data(), &me, id, shown).await
}

/// The approve and decline buttons' form.
#[derive(Deserialize)]
pub struct DecisionFields {
    /// `accept` or `reject`, as the API words it.
    #[serde(default)]
    decision: String,
}

/// `POST /post/{id}/event/participants/{person}`: accepts or declines a request.
pub async fn http_post_decision(
    State(state): State<AppState>,
    Path((id, person)): Path<(i64, i64)>,
    me: SignedIn,
    form: Form<DecisionFields>,
) -> Result<Response, PageError> {
    me.check_csrf(&form.csrf)?;
    let data = state.to_request_data();
    let decided = async {
        let accept = decision_of(&form.fields.decision)?;
        decide(&data, &as_auth(&me), id, Whom::Id(person), accept).await
    }
    .await;
    let mut errors = FieldErrors::default();
    let done = match decided {
        Ok(Outcome::Going) => "accepted",
        Ok(Outcome::Waiting(_)) => "waiting",
        Ok(Outcome::Refused(why)) if form.fields.decision == "accept" => {
            // The event is over or cancelled, or they are banned: they have no place.
            errors.push("decision", why);
            ""
        }
        Ok(_) => "declined",
        Err(e) => {
            errors = on_form(e)?;
            ""
        }
    };
    if errors.is_empty() {
        let to = format!("/post/{id}/event/participants?done={done}#requests");
        return Ok(Redirect::to(&to).into_response());
    }
    let shown = Shown {
        errors,
        failed: Some(person),
        ..Shown::default()
    };
    render(&data, &me, id, shown).await
}

/// The invitation form.
#[derive(Deserialize)]
pub struct InviteFields {
    #[serde(default)]
    handle: String,
}

/// `POST /post/{id}/event/invites`: invites someone this server knows.
pub async fn http_post_invite(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    me: SignedIn,
    form: Form<InviteFields>,
) -> Result<Response, PageError> {
    me.check_csrf(&form.csrf)?;
    let data = state.to_request_data();
    let handle = form.fields.handle.trim().to_string();
    match invite(&data, &as_auth(&me), id, &handle).await {
        Ok(_) => {
            let to = format!("/post/{id}/event/participants?done=invited#invite");
            Ok(Redirect::to(&to).into_response())
        }
        Err(e) => {
            let shown = Shown {
                errors: on_form(e)?,
                handle,
                ..Shown::default()
            };
            render(&data, &me, id, shown).await
        }
    }
}
