//! The desk's settings form: everything `PUT /api/v1/communities/{name}/settings` (and
//! `community update`) changes, checked by the same function, errors beside their fields.

use super::{on_form, Desk};
use crate::{
    accounts::CommunitySettings,
    api::commands,
    error::ApiError,
    web::{
        chrome::Chrome,
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
    response::Response,
};
use copse_entities::community;
use serde::{de::DeserializeOwned, Deserialize};

/// The settings form, as shown and as sent. The long texts are Markdown; what is stored is
/// their sanitised HTML, which Markdown keeps as it is, so the form shows that.
#[derive(Deserialize, Default)]
pub struct SettingsFields {
    #[serde(default)]
    title: String,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    purpose: String,
    #[serde(default)]
    rules: String,
    #[serde(default)]
    decision_making: String,
    #[serde(default)]
    languages: String,
    #[serde(default)]
    membership_policy: String,
    #[serde(default)]
    welcome_template: String,
    #[serde(default)]
    welcome_mode: String,
    #[serde(default)]
    topic_policy: String,
    #[serde(default)]
    reply_policy: String,
    #[serde(default)]
    require_rules_agreement: String,
    #[serde(default)]
    parent: String,
    #[serde(default)]
    parent_members_only: String,
}

/// A closed-set value by its API word.
fn word<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

impl SettingsFields {
    fn of(c: &community::Model) -> Self {
        Self {
            title: c.title.clone(),
            summary: c.summary.clone().unwrap_or_default(),
            purpose: c.purpose.clone().unwrap_or_default(),
            rules: c.rules.clone().unwrap_or_default(),
            decision_making: c.decision_making.clone().unwrap_or_default(),
            languages: c.languages.clone().unwrap_or_default(),
            membership_policy: word(&c.membership_policy),
            welcome_template: c.welcome_template.clone().unwrap_or_default(),
            welcome_mode: word(&c.welcome_mode),
            topic_policy: word(&c.topic_policy),
            reply_policy: word(&c.reply_policy),
            require_rules_agreement: c.require_rules_agreement.to_string(),
            parent: parent_name(c),
            parent_members_only: c.parent_members_only.to_string(),
        }
    }

    /// The settings as the API takes them; every field is sent, so every one is set.
    fn settings(&self) -> Result<CommunitySettings, ApiError> {
        fn choice<T: DeserializeOwned>(
            field: &str,
            v: &str,
            words: &str,
        ) -> Result<Option<T>, ApiError> {
            serde_json::from_value(serde_json::Value::String(v.trim().to_string()))
                .map(Some)
                .map_err(|_| ApiError::invalid(field, format!("{field} must be {words}")))
        }
        let yes_no = |field: &str, v: &str| match v {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(ApiError::invalid(
                field,
                format!("{field} must be true or false"),
            )),
        };
        let agree = yes_no("require_rules_agreement", &self.require_rules_agreement)?;
        // An older form without the network fields leaves them as they are.
        let only = match self.parent_members_only.as_str() {
            "" => None,
            v => Some(yes_no("parent_members_only", v)?),
        };
        let posting = "anyone, members or coordinators";
        Ok(CommunitySettings {
            title: Some(self.title.clone()),
            summary: Some(self.summary.clone()),
            purpose: Some(self.purpose.clone()),
            rules: Some(self.rules.clone()),
            decision_making: Some(self.decision_making.clone()),
            languages: Some(self.languages.clone()),
            membership_policy: choice(
                "membership_policy",
                &self.membership_policy,
                "open, approval or invite",
            )?,
            welcome_template: Some(self.welcome_template.clone()),
            welcome_mode: choice("welcome_mode", &self.welcome_mode, "public, direct or off")?,
            topic_policy: choice("topic_policy", &self.topic_policy, posting)?,
            reply_policy: choice("reply_policy", &self.reply_policy, posting)?,
            require_rules_agreement: Some(agree),
            parent: Some(self.parent.clone()),
            parent_members_only: only,
        })
    }
}

#[derive(Template)]
#[template(path = "desk_settings.html")]
struct SettingsPage {
    chrome: Chrome,
    c: community::Model,
    f: SettingsFields,
    errors: FieldErrors,
    saved: bool,
    /// The communities it may be placed under: name and title.
    parents: Vec<(String, String)>,
}

/// The name of the local community `c` sits under, as the form's `parent` field holds it.
fn parent_name(c: &community::Model) -> String {
    c.parent_ap_id
        .as_ref()
        .and_then(|p| p.0.path_segments()?.next_back().map(str::to_string))
        .unwrap_or_default()
}

async fn render(
    desk: Desk<'_>,
    f: SettingsFields,
    errors: FieldErrors,
    saved: bool,
) -> Result<Response, PageError> {
    let parents = crate::subcommunities::possible_parents(&desk.data, &desk.c, &desk.me.person)
        .await?
        .into_iter()
        .map(|p| (p.name, p.title))
        .collect();
    let page = SettingsPage {
        parents,
        chrome: desk.chrome().await?,
        c: desk.c,
        f,
        errors,
        saved,
    };
    let status = page.errors.status();
    Ok(html_response(status, page.render()?))
}

/// `?saved=1` after a change.
#[derive(Deserialize)]
pub struct SavedQuery {
    #[serde(default)]
    saved: Option<String>,
}

/// `GET /c/{name}/desk/settings`.
pub async fn http_get_settings(
    State(state): State<AppState>,
    Path(name): Path<String>,
    axum::extract::Query(q): axum::extract::Query<SavedQuery>,
    me: SignedIn,
) -> Result<Response, PageError> {
    let desk = Desk::open(&state, &name, &me).await?;
    desk.coordinators_only("change settings")?;
    let f = SettingsFields::of(&desk.c);
    render(desk, f, FieldErrors::default(), q.saved.is_some()).await
}

/// `POST /c/{name}/desk/settings`.
pub async fn http_post_settings(
    State(state): State<AppState>,
    Path(name): Path<String>,
    me: SignedIn,
    form: Form<SettingsFields>,
) -> Result<Response, PageError> {
    let desk = Desk::sent(&state, &name, &me, &form.csrf).await?;
    desk.coordinators_only("change settings")?;
    let f = form.fields;
    let saved = async {
        let s = f.settings()?;
        commands::update_settings(&desk.data, &desk.auth(), &desk.c, s).await
    }
    .await;
    match saved {
        Ok(_) => Ok(desk.back_to("/settings?saved=1")),
        Err(e) => {
            let errors = on_form(e)?;
            render(desk, f, errors, false).await
        }
    }
}
