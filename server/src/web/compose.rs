//! Starting a topic from a community's page.

use super::{
    chrome::Chrome,
    error::PageError,
    form::{FieldErrors, Form},
    page::html_response,
    paths::{named, page_name},
    session::SignedIn,
    topic::PostFormPage,
};
use crate::{
    api::{
        fields::{check_body, check_link, check_title},
        lookup::render_post,
    },
    error::ApiError,
    AppState,
};
use askama::Template;
use axum::{
    extract::{Path, State},
    response::{IntoResponse, Redirect, Response},
};
use copse_entities::community;
use copse_federation::{
    actions::posts::{self, NewPost},
    Data,
};
use serde::Deserialize;

async fn form_page(
    data: &Data,
    me: &SignedIn,
    c: &community::Model,
    f: NewTopic,
    errors: FieldErrors,
) -> Result<Response, PageError> {
    let heading = format!("New topic in {}", c.title);
    let page = PostFormPage {
        chrome: Chrome::load(data, Some(me)).await?,
        heading: &heading,
        action: format!("/c/{}/new", page_name(c)),
        back: format!("/c/{}", page_name(c)),
        title: Some(f.title),
        url: Some(f.url),
        content: f.content,
        button: "Publish",
        errors,
    };
    let status = page.errors.status();
    Ok(html_response(status, page.render()?))
}

/// `GET /c/{name}/new`.
pub async fn http_get_new_topic(
    State(state): State<AppState>,
    Path(name): Path<String>,
    me: SignedIn,
) -> Result<Response, PageError> {
    let data = state.to_request_data();
    let c = named(&data, &name).await?;
    if let Some(why) =
        copse_federation::rules::posting::refusal(&data.db, &c, &me.person, None).await?
    {
        return Err(PageError::forbidden(why));
    }
    form_page(&data, &me, &c, NewTopic::default(), FieldErrors::default()).await
}

/// The new-topic form.
#[derive(Deserialize, Default)]
pub struct NewTopic {
    #[serde(default)]
    title: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    content: String,
}

/// `POST /c/{name}/new`: publishes the topic and opens it.
pub async fn http_post_new_topic(
    State(state): State<AppState>,
    Path(name): Path<String>,
    me: SignedIn,
    form: Form<NewTopic>,
) -> Result<Response, PageError> {
    me.check_csrf(&form.csrf)?;
    let data = state.to_request_data();
    let c = named(&data, &name).await?;
    let f = form.fields;
    let published = async {
        let title = check_title(&f.title)?;
        let url = check_link(Some(&f.url))?;
        check_body(&f.content)?;
        let (html, tags) = render_post(&data, &c, &f.content).await?;
        let new = NewPost {
            title,
            html,
            tags,
            source: f.content.clone(),
            url,
        };
        Ok::<_, ApiError>(posts::publish(&data, &c, &me.person, None, new).await?)
    }
    .await;
    match published {
        Ok(row) => Ok(Redirect::to(&format!("/post/{}", row.id)).into_response()),
        Err(e) => {
            let errors = FieldErrors::from_error(e)?;
            form_page(&data, &me, &c, f, errors).await
        }
    }
}
