//! Events in the browser: the panel on an event's page (places left, the reader's answer and
//! the Going / Not going / Join the waiting list buttons) and the answers; the form to
//! schedule, change and cancel an event is in `form`, and the organisers' page of requests,
//! invitations and answers in `participants`.

pub mod form;
pub mod participants;

use crate::{
    api::events::rsvp,
    web::{error::PageError, form::Form, session::SignedIn},
    AppState,
};
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use copse_entities::{
    community,
    event::{self, EventStatus, JoinMode},
    event_participant::ParticipantStatus,
    post,
};
use copse_federation::{rules::participation::Outcome, Data};
use serde::Deserialize;

/// The event panel on its page.
pub struct EventPanel {
    /// The post id.
    pub id: i64,
    /// "3 of 20 places left", "full — join the waiting list" or "5 going".
    pub places: String,
    /// The reader's answer in words, if they gave one.
    pub status: Option<String>,
    /// The button shown: `going`, `wait` (join the waiting list), `withdraw` (not going), or
    /// empty for none (signed out, cancelled, over, registration elsewhere).
    pub offer: &'static str,
    /// An organiser approves each request, so `going` asks, with a note for them.
    pub approval: bool,
    /// The reader may change or cancel it.
    pub organiser: bool,
    /// Requests to take part waiting for an organiser (counted for organisers only).
    pub requests: i32,
    /// It is cancelled.
    pub cancelled: bool,
}

/// The panel of event `e` (post `p` in `c`) for `viewer`.
pub async fn panel(
    data: &Data,
    viewer: Option<&SignedIn>,
    p: &post::Model,
    e: &event::Model,
    c: &community::Model,
) -> Result<EventPanel, PageError> {
    let mut status = None;
    let mut answered = false;
    let mut organiser = false;
    let mut requests = 0;
    if let Some(me) = viewer {
        organiser = p.local
            && (me.user.admin
                || copse_federation::rules::posting::moderates(&data.db, c, &me.person).await?);
        if organiser {
            requests = copse_federation::store::events::count_with(
                &data.db,
                p.id,
                ParticipantStatus::Pending,
            )
            .await?;
        }
        if let Some(row) =
            copse_federation::store::events::participant(&data.db, p.id, me.person.id).await?
        {
            answered = matches!(
                row.status,
                ParticipantStatus::Going | ParticipantStatus::Waiting | ParticipantStatus::Pending
            );
            status = Some(match row.status {
                ParticipantStatus::Going => "You are going.".to_string(),
                ParticipantStatus::Waiting => format!(
                    "You are on the waiting list (number {}).",
                    copse_federation::store::events::waiting_position(&data.db, &row).await?
                ),
                ParticipantStatus::Pending => {
                    "You asked to take part; an organiser will answer.".to_string()
                }
                ParticipantStatus::Invited => "You are invited.".to_string(),
                ParticipantStatus::Rejected => "You were not accepted.".to_string(),
            });
        }
    }
    let cancelled = e.status == EventStatus::Cancelled;
    let open = !cancelled && e.ends_at > data.clock.now() && e.join_mode != JoinMode::External;
    let offer = match viewer {
        None => "",
        Some(_) if answered => "withdraw",
        Some(_) if !open => "",
        Some(_) if e.remaining() == Some(0) => "wait",
        Some(_) => "going",
    };
    Ok(EventPanel {
        id: p.id,
        places: crate::html::places_in_words(e),
        status,
        offer,
        approval: e.join_mode == JoinMode::Approval,
        organiser,
        requests,
        cancelled,
    })
}

/// The answer buttons' form.
#[derive(Deserialize)]
pub struct RsvpForm {
    /// `true` to take part (or wait), `false` to withdraw.
    #[serde(default)]
    going: String,
    /// A note for the organisers.
    #[serde(default)]
    message: Option<String>,
}

/// `POST /post/{id}/rsvp`: answers the event through the API's own command; a refusal (say, a
/// ban) is shown with its reason.
pub async fn http_post_rsvp(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    me: SignedIn,
    form: Form<RsvpForm>,
) -> Result<Response, PageError> {
    me.check_csrf(&form.csrf)?;
    let data = state.to_request_data();
    let going = match form.fields.going.as_str() {
        "true" => true,
        "false" => false,
        _ => {
            return Err(PageError::Shown(crate::error::ApiError::invalid(
                "going",
                "going must be true or false",
            )))
        }
    };
    let message = form.fields.message.filter(|m| !m.trim().is_empty());
    match rsvp(&data, &me.person, id, going, message).await? {
        Outcome::Refused(why) => {
            let page = crate::web::page::notice(
                &state,
                Some(&me),
                "Not accepted",
                &why,
                (&format!("/post/{id}"), "Back to the event"),
            )
            .await?;
            Ok((StatusCode::FORBIDDEN, page).into_response())
        }
        _ => Ok(Redirect::to(&format!("/post/{id}#event")).into_response()),
    }
}
