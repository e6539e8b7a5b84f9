//! `/authorize_interaction?uri=`: where another server sends one of this server's people who
//! asked to follow a community from there (the subscribe template in their WebFinger, under
//! Mastodon's name for it), and where the home page's "find a community" box goes. It finds
//! the community, fetching it when it is new here, and opens its page, where they join.

use super::{error::PageError, paths::page_name, session::SignedIn};
use crate::{
    api::lookup::{known_community, resolve_handle},
    error::ApiError,
    AppState,
};
use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use copse_federation::fetch::{self, ActorRef};
use serde::Deserialize;
use url::Url;

/// `?uri=`: a handle (`@name@server`, `name@server`, `acct:name@server`) or an actor's URL.
#[derive(Deserialize)]
pub struct Interaction {
    #[serde(default)]
    uri: String,
}

/// `GET /authorize_interaction?uri=`. Only people signed in here make this server fetch
/// anything; others are asked to sign in first and come back.
pub async fn http_get_authorize_interaction(
    State(state): State<AppState>,
    viewer: Option<SignedIn>,
    Query(q): Query<Interaction>,
) -> Result<Response, PageError> {
    let uri = q.uri.trim();
    if uri.is_empty() {
        return Err(ApiError::invalid(
            "uri",
            "type a community's handle, like @name@server.example",
        )
        .into());
    }
    if viewer.is_none() {
        let back: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("uri", uri)
            .finish();
        return Err(PageError::SignInFirst {
            next: format!("/authorize_interaction?{back}"),
        });
    }
    let data = state.to_request_data();
    let found = match Url::parse(uri) {
        Ok(url) if matches!(url.scheme(), "http" | "https") => fetch::resolve_actor(&data, &url)
            .await
            .map_err(|e| ApiError::from(e).with_field("uri"))?,
        _ => {
            let handle = uri.trim_start_matches("acct:");
            match known_community(&data, handle).await? {
                Some(c) => ActorRef::Community(c),
                None => resolve_handle(&data, handle, "uri").await?,
            }
        }
    };
    match found {
        ActorRef::Community(c) => {
            Ok(Redirect::to(&format!("/c/{}", page_name(&c))).into_response())
        }
        ActorRef::Person(p) if p.local => Ok(Redirect::to(p.ap_id.as_str()).into_response()),
        ActorRef::Person(_) => Err(PageError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "{uri} is a person; on Copse you follow communities. Type a community's handle."
            ),
        )),
    }
}
