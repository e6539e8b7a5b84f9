//! WebFinger and NodeInfo.

use crate::{accounts, api::extract::ApiQuery, error::ApiError, AppState};
use axum::{
    extract::State,
    http::{header, HeaderValue},
    response::{IntoResponse, Response},
    Json,
};
use copse_entities::{local_user, post};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde::Deserialize;
use serde_json::json;
use url::Url;

/// `?resource=`
#[derive(Debug, Deserialize)]
pub struct WebfingerQuery {
    /// `acct:name@domain` or an actor URL.
    pub resource: String,
}

/// `GET /.well-known/webfinger`: communities, people and the instance actor share one `acct:`
/// name space (Mastodon speaks only `acct:`).
pub async fn http_get_webfinger(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<WebfingerQuery>,
) -> Result<Response, ApiError> {
    let data = state.to_request_data();
    let domain = data.settings.domain.to_ascii_lowercase();
    let urls = &data.urls;
    let instance_name = urls.base().host_str().unwrap_or_default().to_string();
    let name = if let Some(acct) = q.resource.strip_prefix("acct:") {
        let (name, host) = acct
            .rsplit_once('@')
            .ok_or_else(|| ApiError::bad_field("resource", "expected acct:name@domain"))?;
        if host.to_ascii_lowercase() != domain {
            return Err(ApiError::not_found("account"));
        }
        name.to_string()
    } else {
        let url = Url::parse(&q.resource)
            .map_err(|_| ApiError::bad_field("resource", "expected acct:name@domain or a URL"))?;
        if url == urls.instance_actor() {
            instance_name.clone()
        } else {
            let path = url.path().to_string();
            path.strip_prefix("/c/")
                .or_else(|| path.strip_prefix("/u/"))
                .map(str::to_string)
                .ok_or_else(|| ApiError::not_found("account"))?
        }
    };
    let (href, kind) = if name == instance_name {
        (urls.instance_actor(), "Application")
    } else if accounts::local_community(&data.db, &name).await?.is_some() {
        (urls.community(&name), "Group")
    } else if accounts::local_person(&data.db, &name).await?.is_some() {
        (urls.person(&name), "Person")
    } else {
        return Err(ApiError::not_found("account"));
    };
    let mut links = vec![
        json!({ "rel": "self", "type": "application/activity+json", "href": href,
                "properties": { "https://www.w3.org/ns/activitystreams#type": kind } }),
        json!({ "rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": href }),
    ];
    if kind == "Person" {
        // Where a community's "follow from your own server" box on another server (Mastodon's
        // remote follow, or Copse's own) sends this person: their page for joining it here.
        let mut template = urls.base().clone();
        template.set_path("/authorize_interaction");
        links.push(json!({
            "rel": "http://ostatus.org/schema/1.0/subscribe",
            "template": format!("{template}?uri={{uri}}"),
        }));
    }
    let body = json!({
        "subject": format!("acct:{name}@{}", data.settings.domain),
        "aliases": [href],
        "links": links,
    });
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/jrd+json; charset=utf-8"),
        )],
        Json(body),
    )
        .into_response())
}

/// `GET /.well-known/nodeinfo`, with the FEP-2677 application actor link.
pub async fn http_get_nodeinfo_links(State(state): State<AppState>) -> Json<serde_json::Value> {
    let urls = &state.urls;
    let mut nodeinfo = urls.base().clone();
    nodeinfo.set_path("/nodeinfo/2.1");
    Json(json!({
        "links": [
            { "rel": "http://nodeinfo.diaspora.software/ns/schema/2.1", "href": nodeinfo },
            { "rel": "https://www.w3.org/ns/activitystreams#Application", "href": urls.instance_actor() }
        ]
    }))
}

/// `GET /nodeinfo/2.1`
pub async fn http_get_nodeinfo(State(state): State<AppState>) -> Result<Response, ApiError> {
    let users = local_user::Entity::find().count(&state.db).await?;
    let posts = post::Entity::find()
        .filter(post::Column::Local.eq(true))
        .count(&state.db)
        .await?;
    let body = json!({
        "version": "2.1",
        "software": {
            "name": "copse",
            "version": env!("CARGO_PKG_VERSION")
        },
        "protocols": ["activitypub"],
        "services": { "inbound": [], "outbound": [] },
        "openRegistrations": false,
        "usage": { "users": { "total": users }, "localPosts": posts },
        "metadata": { "nodeName": state.settings.domain }
    });
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(
                "application/json; profile=\"http://nodeinfo.diaspora.software/ns/schema/2.1#\"",
            ),
        )],
        Json(body),
    )
        .into_response())
}
