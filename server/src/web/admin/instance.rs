//! The admin's pages about the instance: its communities (create one with the API's checks,
//! hand one over to another account), domain blocks (with the command line's normalisation)
//! and the health of the delivery and inbox queues.

use super::AdminUser;
use crate::{
    accounts,
    admin::{self, health::queue_health, AdminError, CommunityRow},
    error::ApiError,
    web::{
        chrome::Chrome,
        error::PageError,
        form::{FieldErrors, Form},
        page::html_response,
        time::When,
    },
    AppState,
};
use askama::Template;
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use copse_entities::local_user;
use copse_federation::actions;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "admin_communities.html")]
struct CommunitiesPage<'a> {
    chrome: Chrome,
    section: &'static str,
    communities: Vec<CommunityRow>,
    name: &'a str,
    title: &'a str,
    summary: &'a str,
    errors: FieldErrors,
    /// The community whose hand-over was refused ("" for none), and why.
    hand_over_for: String,
    hand_over_error: String,
}

/// What the communities page shows besides the list: the create form as sent and its errors,
/// or a refused hand-over.
#[derive(Default)]
struct CommunitiesForm<'a> {
    name: &'a str,
    title: &'a str,
    summary: &'a str,
    errors: FieldErrors,
    hand_over_error: Option<(String, String)>,
}

async fn communities_page(
    state: &AppState,
    me: &AdminUser,
    form: CommunitiesForm<'_>,
) -> Result<Response, PageError> {
    let status = if form.errors.is_empty() && form.hand_over_error.is_none() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let (hand_over_for, hand_over_error) = form.hand_over_error.unwrap_or_default();
    let page = CommunitiesPage {
        chrome: Chrome::load(&state.to_request_data(), Some(&me.0)).await?,
        section: "communities",
        communities: admin::communities(&state.db).await?,
        name: form.name,
        title: form.title,
        summary: form.summary,
        errors: form.errors,
        hand_over_for,
        hand_over_error,
    };
    Ok(html_response(status, page.render()?))
}

/// `GET /admin/communities`.
pub async fn http_get_communities(
    State(state): State<AppState>,
    me: AdminUser,
) -> Result<Response, PageError> {
    communities_page(&state, &me, CommunitiesForm::default()).await
}

/// The new community form.
#[derive(Deserialize)]
pub struct NewCommunityForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    summary: String,
}

/// `POST /admin/communities`: creates a community, the admin its first coordinator, as
/// `POST /api/v1/communities` does.
pub async fn http_post_community(
    State(state): State<AppState>,
    me: AdminUser,
    form: Form<NewCommunityForm>,
) -> Result<Response, PageError> {
    me.check_csrf(&form.csrf)?;
    let f = &form.fields;
    let summary = f.summary.trim();
    let made = accounts::create_community(
        &state.to_request_data(),
        accounts::NewCommunity {
            name: f.name.trim().to_string(),
            title: f.title.clone(),
            summary: (!summary.is_empty()).then(|| summary.to_string()),
            owner: Some(me.0.person.id),
        },
    )
    .await;
    match made {
        Ok(_) => Ok(Redirect::to("/admin/communities").into_response()),
        Err(e) => {
            let form = CommunitiesForm {
                name: &f.name,
                title: &f.title,
                summary: &f.summary,
                errors: FieldErrors::from_error(e)?,
                hand_over_error: None,
            };
            communities_page(&state, &me, form).await
        }
    }
}

/// The hand-over form.
#[derive(Deserialize)]
pub struct HandOverForm {
    #[serde(default)]
    to: String,
}

/// `POST /admin/communities/{name}/hand-over`: makes another local account a coordinator.
pub async fn http_post_hand_over(
    State(state): State<AppState>,
    Path(name): Path<String>,
    me: AdminUser,
    form: Form<HandOverForm>,
) -> Result<Response, PageError> {
    me.check_csrf(&form.csrf)?;
    let data = state.to_request_data();
    let c = crate::api::lookup::local_community(&data, &name).await?;
    let to = form.fields.to.trim().trim_start_matches('@').to_lowercase();
    let done = async {
        let person = accounts::local_person(&state.db, &to)
            .await?
            .ok_or_else(|| ApiError::invalid("to", format!("no local account named {to}")))?;
        let has_account = local_user::Entity::find()
            .filter(local_user::Column::PersonId.eq(person.id))
            .one(&state.db)
            .await?
            .is_some();
        if !has_account {
            return Err(ApiError::invalid(
                "to",
                format!("no local account named {to}"),
            ));
        }
        actions::membership::hand_over(&data, &c, &me.0.person, &person).await?;
        Ok(())
    }
    .await;
    match done {
        Ok(()) => Ok(Redirect::to("/admin/communities").into_response()),
        Err(e) if !e.status.is_server_error() => {
            let form = CommunitiesForm {
                hand_over_error: Some((name, e.message)),
                ..CommunitiesForm::default()
            };
            communities_page(&state, &me, form).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "admin_domains.html")]
struct DomainsPage<'a> {
    chrome: Chrome,
    section: &'static str,
    blocked: Vec<String>,
    domain: &'a str,
    done: Option<String>,
    errors: FieldErrors,
}

async fn domains_page(
    state: &AppState,
    me: &AdminUser,
    domain: &str,
    done: Option<String>,
    errors: FieldErrors,
) -> Result<Response, PageError> {
    let page = DomainsPage {
        chrome: Chrome::load(&state.to_request_data(), Some(&me.0)).await?,
        section: "domains",
        blocked: admin::blocked_domains(&state.db).await?,
        domain,
        done,
        errors,
    };
    Ok(html_response(page.errors.status(), page.render()?))
}

/// `GET /admin/domains`.
pub async fn http_get_domains(
    State(state): State<AppState>,
    me: AdminUser,
) -> Result<Response, PageError> {
    domains_page(&state, &me, "", None, FieldErrors::default()).await
}

/// The domain block and unblock forms.
#[derive(Deserialize)]
pub struct DomainForm {
    #[serde(default)]
    domain: String,
}

fn domain_errors(e: AdminError) -> Result<FieldErrors, PageError> {
    let e = match e {
        AdminError::Invalid(m) => ApiError::invalid("domain", m),
        other => other.into(),
    };
    FieldErrors::from_error(e)
}

/// `POST /admin/domains`: blocks a domain, as `copse domain block` does.
pub async fn http_post_block(
    State(state): State<AppState>,
    me: AdminUser,
    form: Form<DomainForm>,
) -> Result<Response, PageError> {
    me.check_csrf(&form.csrf)?;
    let domain = &form.fields.domain;
    match admin::block_domain(&state.db, domain).await {
        Ok(r) => {
            let name = admin::normalize_domain(domain)?;
            let done = if r.newly_blocked {
                format!(
                    "Blocked {name}: {} queued deliveries given up, {} received activities dropped.",
                    r.deliveries_given_up, r.activities_dropped
                )
            } else {
                format!("{name} was blocked already.")
            };
            domains_page(&state, &me, "", Some(done), FieldErrors::default()).await
        }
        Err(e) => domains_page(&state, &me, domain, None, domain_errors(e)?).await,
    }
}

/// `POST /admin/domains/unblock`: lifts a block.
pub async fn http_post_unblock(
    State(state): State<AppState>,
    me: AdminUser,
    form: Form<DomainForm>,
) -> Result<Response, PageError> {
    me.check_csrf(&form.csrf)?;
    let domain = &form.fields.domain;
    match admin::unblock_domain(&state.db, domain).await {
        Ok(true) => Ok(Redirect::to("/admin/domains").into_response()),
        Ok(false) => Err(PageError::not_found("block")),
        Err(e) => domains_page(&state, &me, domain, None, domain_errors(e)?).await,
    }
}

/// A paused instance as the queue page shows it.
struct PausedLine {
    domain: String,
    failures: i32,
    since: Option<When>,
    until: Option<When>,
    last_success: Option<When>,
}

#[derive(Template)]
#[template(path = "admin_queue.html")]
struct QueuePage {
    chrome: Chrome,
    section: &'static str,
    paused: Vec<PausedLine>,
    outbox: i64,
    inbox: i64,
    oldest_outbox: Option<When>,
    oldest_inbox: Option<When>,
    failed_outbox: i64,
    failed_inbox: i64,
}

/// `GET /admin/queue`: paused instances and the backlog.
pub async fn http_get_queue(
    State(state): State<AppState>,
    me: AdminUser,
) -> Result<Response, PageError> {
    let h = queue_health(&state.db).await?;
    let when = |t: Option<chrono::DateTime<chrono::Utc>>| t.map(|t| When::new(t, h.now));
    let paused = h
        .paused
        .iter()
        .map(|i| PausedLine {
            domain: i.domain.clone(),
            failures: i.failure_count,
            since: when(i.failing_since),
            until: when(i.paused_until),
            last_success: when(i.last_success_at),
        })
        .collect();
    let page = QueuePage {
        chrome: Chrome::load(&state.to_request_data(), Some(&me.0)).await?,
        section: "queue",
        paused,
        outbox: h.backlog.outbox,
        inbox: h.backlog.inbox,
        oldest_outbox: when(h.backlog.oldest_outbox),
        oldest_inbox: when(h.backlog.oldest_inbox),
        failed_outbox: h.backlog.failed_outbox,
        failed_inbox: h.backlog.failed_inbox,
    };
    Ok(html_response(StatusCode::OK, page.render()?))
}
