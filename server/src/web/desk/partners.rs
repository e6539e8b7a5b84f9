//! Partners on the desk (coordinators): ask a community, here or elsewhere, to partner; answer
//! the communities that asked; choose for each partner followed what is shared by itself; end a
//! partnership; and share, or pass over, partners' topics and events (the queue, and the
//! latest of theirs). Each form calls the API's own command, refusals beside their field.

use super::{on_form, Desk};
use crate::{
    api::lookup,
    web::{
        error::PageError,
        form::{FieldErrors, Form},
        network::{linked, Linked},
        page::html_response,
        partners::{latest, FromPartner},
        session::SignedIn,
    },
    AppState,
};
use askama::Template;
use axum::{
    extract::{Path, State},
    response::Response,
};
use copse_entities::{community, partnership::ShareMode, post};
use copse_federation::{actions::partners as actions, store::partners};
use sea_orm::EntityTrait;
use serde::Deserialize;

/// A partnership as the desk lists it.
struct Row {
    id: i64,
    other: Linked,
    handle: String,
    follows: bool,
    pending: bool,
    share: &'static str,
}

#[derive(Template)]
#[template(path = "desk_partners.html")]
struct PartnersDesk {
    chrome: crate::web::chrome::Chrome,
    c: community::Model,
    rows: Vec<Row>,
    queue: Vec<post::Model>,
    latest: Vec<FromPartner>,
    errors: FieldErrors,
    handle: String,
}

async fn render(
    desk: Desk<'_>,
    errors: FieldErrors,
    handle: String,
) -> Result<Response, PageError> {
    let (data, c) = (&desk.data, &desk.c);
    let mut rows = Vec::new();
    for p in partners::of(&data.db, c).await? {
        let follows = p.follower_id == c.id;
        let other_id = if follows {
            p.followed_id
        } else {
            p.follower_id
        };
        let Some(other) = community::Entity::find_by_id(other_id)
            .one(&data.db)
            .await?
        else {
            continue;
        };
        let l = linked(data, &other).await?;
        rows.push(Row {
            id: p.id,
            handle: l.handle.trim_start_matches('@').to_string(),
            other: l,
            follows,
            pending: p.pending,
            share: match p.share {
                ShareMode::Off => "off",
                ShareMode::Queue => "queue",
                ShareMode::Auto => "auto",
            },
        });
    }
    let mut queue = Vec::new();
    for s in partners::queued(&data.db, c).await? {
        if let Some(p) = post::Entity::find_by_id(s.post_id).one(&data.db).await? {
            queue.push(p);
        }
    }
    let page = PartnersDesk {
        chrome: desk.chrome().await?,
        latest: latest(data, c).await?,
        c: desk.c.clone(),
        rows,
        queue,
        errors,
        handle,
    };
    let status = page.errors.status();
    Ok(html_response(status, page.render()?))
}

/// `GET /c/{name}/desk/partners`.
pub async fn http_get_partners(
    State(state): State<AppState>,
    Path(name): Path<String>,
    me: SignedIn,
) -> Result<Response, PageError> {
    let desk = Desk::open(&state, &name, &me).await?;
    desk.coordinators_only("look after partners")?;
    render(desk, FieldErrors::default(), String::new()).await
}

/// The desk's partner forms.
#[derive(Deserialize)]
pub struct PartnerFields {
    /// `ask`, `approve`, `decline`, `end`, `share_mode`, `share` or `pass`.
    #[serde(default)]
    action: String,
    /// The other community's handle (`ask`, `end`, `share_mode`).
    #[serde(default)]
    community: String,
    /// A request's row id (`approve`, `decline`).
    #[serde(default)]
    request: i64,
    /// `off`, `queue` or `auto` (`share_mode`).
    #[serde(default)]
    share: String,
    /// A partner's post (`share`, `pass`).
    #[serde(default)]
    post: i64,
}

/// `POST /c/{name}/desk/partners`.
pub async fn http_post_partners(
    State(state): State<AppState>,
    Path(name): Path<String>,
    me: SignedIn,
    form: Form<PartnerFields>,
) -> Result<Response, PageError> {
    let desk = Desk::sent(&state, &name, &me, &form.csrf).await?;
    desk.coordinators_only("look after partners")?;
    let f = form.fields;
    let handle = f.community.trim().to_string();
    let done = async {
        let (data, c, by) = (&desk.data, &desk.c, &desk.me.person);
        let handle = handle.as_str();
        let known = |field: &'static str| async move {
            lookup::known_community(data, handle).await?.ok_or_else(|| {
                crate::error::ApiError::invalid(field, "no community known here by that handle")
            })
        };
        match f.action.as_str() {
            "ask" => {
                if handle.is_empty() {
                    return Err(crate::error::ApiError::invalid(
                        "community",
                        "type a community's handle, like name@server.example",
                    ));
                }
                let other = lookup::resolve_community(data, handle).await?;
                actions::ask(data, by, c, &other)
                    .await
                    .map_err(|e| crate::error::ApiError::from(e).with_field("community"))?;
            }
            "approve" | "decline" => {
                let row = copse_entities::partnership::Entity::find_by_id(f.request)
                    .one(&data.db)
                    .await?
                    .ok_or_else(|| crate::error::ApiError::not_found("request"))?;
                actions::decide(data, by, c, &row, f.action == "approve").await?;
            }
            "end" => {
                let other = known("community").await?;
                actions::end(data, by, c, &other).await?;
            }
            "share_mode" => {
                let other = known("community").await?;
                let mode = serde_json::from_value(serde_json::Value::String(f.share.clone()))
                    .map_err(|_| {
                        crate::error::ApiError::invalid("share", "share must be off, queue or auto")
                    })?;
                let row = partners::between(&data.db, c.id, other.id)
                    .await?
                    .filter(|p| !p.pending)
                    .ok_or_else(|| crate::error::ApiError::not_found("partnership"))?;
                actions::set_share_mode(data, &row, mode).await?;
            }
            "share" | "pass" => {
                let p = post::Entity::find_by_id(f.post)
                    .one(&data.db)
                    .await?
                    .ok_or_else(|| crate::error::ApiError::not_found("post"))?;
                actions::share(data, by, c, &p, f.action == "share").await?;
            }
            _ => return Err(crate::error::ApiError::invalid("action", "unknown action")),
        }
        Ok(())
    }
    .await;
    match done {
        Ok(()) => Ok(desk.back_to("/partners")),
        Err(e) => {
            let errors = on_form(e)?;
            render(desk, errors, handle).await
        }
    }
}
