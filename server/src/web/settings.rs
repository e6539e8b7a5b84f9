//! A person's own settings: their profile (display name, bio, avatar, whether member
//! directories list them) at `/settings`, and their API tokens at `/settings/tokens`. The checks
//! are the API's (`api::profile`, `api::avatar`, `api::tokens`).

use super::{
    chrome::Chrome, error::PageError, form::FieldErrors, form::Form, multipart::Parts,
    page::html_response, session::SignedIn, time::When,
};
use crate::{
    api::{
        avatar::check_avatar,
        profile::{checked_change, ProfileForm},
        tokens,
    },
    AppState,
};
use askama::Template;
use axum::{
    extract::{Path, Query, State},
    response::{IntoResponse, Redirect, Response},
};
use copse_federation::actions::profile::{self, AvatarChange};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    chrome: Chrome,
    name: String,
    display_name: String,
    summary: String,
    discoverable: bool,
    discoverable_was: bool,
    /// Communities listing the person by the choice made when joining, while their own
    /// setting (published as `discoverable`) is off.
    listed_in: u64,
    avatar: Option<String>,
    saved: bool,
    errors: FieldErrors,
}

/// Query of `/settings`: `saved=1` after a change was stored.
#[derive(Debug, Default, Deserialize)]
pub struct SettingsQuery {
    #[serde(default)]
    saved: Option<String>,
}

/// `GET /settings`: the profile form.
pub async fn http_get_settings(
    State(state): State<AppState>,
    me: SignedIn,
    Query(q): Query<SettingsQuery>,
) -> Result<Response, PageError> {
    let data = state.to_request_data();
    let p = &me.person;
    let listed_in = listed_in(&data, p).await?;
    let page = SettingsPage {
        chrome: Chrome::load(&data, Some(&me)).await?,
        name: p.name.clone(),
        display_name: p.display_name.clone().unwrap_or_default(),
        summary: p.summary_source.clone().unwrap_or_default(),
        discoverable: p.discoverable,
        discoverable_was: p.discoverable,
        listed_in,
        avatar: p.avatar.clone(),
        saved: q.saved.is_some(),
        errors: FieldErrors::default(),
    };
    Ok(html_response(page.errors.status(), page.render()?))
}

/// `POST /settings`: stores the profile (a `multipart/form-data` form, for the avatar) and sends
/// the `Update{Person}`; the form comes back with the errors next to their fields.
pub async fn http_post_settings(
    State(state): State<AppState>,
    me: SignedIn,
    parts: Parts,
) -> Result<Response, PageError> {
    me.check_csrf(&parts.text("csrf"))?;
    let data = state.to_request_data();
    let form = ProfileForm {
        display_name: Some(parts.text("display_name")),
        summary: Some(parts.text("summary")),
        // Applied to every membership only when changed here, so that saving a new name
        // leaves the choices made when joining each community as they are.
        discoverable: Some(parts.has("discoverable"))
            .filter(|now| *now != (parts.text("discoverable_was") == "yes"))
            .or(parts.has("unlist_everywhere").then_some(false)),
    };
    let mut errors = FieldErrors::default();
    let change = match checked_change(&me.person, form) {
        Ok(c) => Some(c),
        Err(e) => {
            errors = FieldErrors::from_error(e)?;
            None
        }
    };
    let avatar = match parts.file("avatar") {
        Some(bytes) => match check_avatar(bytes.to_vec()) {
            Ok(a) => AvatarChange::Set(a),
            Err(e) => {
                errors.push("avatar", e.message);
                AvatarChange::Keep
            }
        },
        None if parts.has("remove_avatar") => AvatarChange::Remove,
        None => AvatarChange::Keep,
    };
    if let (Some(mut change), true) = (change, errors.is_empty()) {
        change.avatar = avatar;
        profile::update_profile(&data, &me.person, change).await?;
        return Ok(Redirect::to("/settings?saved=1").into_response());
    }
    let page = SettingsPage {
        chrome: Chrome::load(&data, Some(&me)).await?,
        name: me.person.name.clone(),
        display_name: parts.text("display_name"),
        summary: parts.text("summary"),
        discoverable: parts.has("discoverable"),
        discoverable_was: parts.text("discoverable_was") == "yes",
        listed_in: listed_in(&data, &me.person).await?,
        avatar: me.person.avatar.clone(),
        saved: false,
        errors,
    };
    Ok(html_response(page.errors.status(), page.render()?))
}

/// How many communities list the person because they chose so when joining, while their
/// setting is off (0 when it is on: then every community lists them).
async fn listed_in(
    data: &copse_federation::Data,
    p: &copse_entities::person::Model,
) -> Result<u64, PageError> {
    use copse_entities::community_follower;
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    if p.discoverable {
        return Ok(0);
    }
    Ok(community_follower::Entity::find()
        .filter(community_follower::Column::PersonId.eq(p.id))
        .filter(community_follower::Column::Listed.eq(true))
        .count(&data.db)
        .await?)
}

/// A token in the list.
struct TokenRow {
    id: i64,
    name: String,
    created: When,
    last_used: Option<When>,
}

#[derive(Template)]
#[template(path = "tokens.html")]
struct TokensPage {
    chrome: Chrome,
    tokens: Vec<TokenRow>,
    name: String,
    made: Option<(String, String)>,
    errors: FieldErrors,
}

async fn tokens_page(
    state: &AppState,
    me: &SignedIn,
    name: String,
    made: Option<(String, String)>,
    errors: FieldErrors,
) -> Result<Response, PageError> {
    let data = state.to_request_data();
    let now = data.clock.now();
    let tokens = tokens::list_tokens(&data.db, me.user.id)
        .await?
        .into_iter()
        .map(|t| TokenRow {
            id: t.id,
            name: t.name,
            created: When::new(t.created_at, now),
            last_used: t.last_used_at.map(|at| When::new(at, now)),
        })
        .collect();
    let page = TokensPage {
        chrome: Chrome::load(&data, Some(me)).await?,
        tokens,
        name,
        made,
        errors,
    };
    Ok(html_response(page.errors.status(), page.render()?))
}

/// `GET /settings/tokens`: the person's API tokens and the form for a new one.
pub async fn http_get_tokens(
    State(state): State<AppState>,
    me: SignedIn,
) -> Result<Response, PageError> {
    tokens_page(&state, &me, String::new(), None, FieldErrors::default()).await
}

/// The new-token form.
#[derive(Debug, Deserialize)]
pub struct NewToken {
    #[serde(default)]
    name: String,
}

/// `POST /settings/tokens`: makes a token and shows it, once.
pub async fn http_post_token(
    State(state): State<AppState>,
    me: SignedIn,
    form: Form<NewToken>,
) -> Result<Response, PageError> {
    me.check_csrf(&form.csrf)?;
    match tokens::create_token(&state.db, me.user.id, &form.fields.name).await {
        Ok((row, token)) => {
            tokens_page(
                &state,
                &me,
                String::new(),
                Some((row.name, token)),
                FieldErrors::default(),
            )
            .await
        }
        Err(e) => {
            let errors = FieldErrors::from_error(e)?;
            tokens_page(&state, &me, form.fields.name, None, errors).await
        }
    }
}

/// The revoke form: only its token.
#[derive(Debug, Deserialize)]
pub struct Revoke {}

/// `POST /settings/tokens/{id}/revoke`: revokes one of the person's own tokens.
pub async fn http_post_revoke(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    me: SignedIn,
    form: Form<Revoke>,
) -> Result<Response, PageError> {
    me.check_csrf(&form.csrf)?;
    tokens::revoke_token(&state.db, me.user.id, id).await?;
    Ok(Redirect::to("/settings/tokens").into_response())
}
