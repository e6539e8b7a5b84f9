//! Where things are in this server's pages: a community here is `/c/name`, one on another server
//! `/c/name@domain` (the form Lemmy uses).

use crate::{api::lookup::known_community, error::ApiError};
use copse_entities::community;
use copse_federation::{protocol::domain_of, Data};

/// The name a community has in this server's page paths: its own name when it lives here,
/// `name@domain` for one on another server (the form Lemmy uses).
pub fn page_name(c: &community::Model) -> String {
    if c.local {
        c.name.clone()
    } else {
        format!("{}@{}", c.name, domain_of(&c.ap_id.0))
    }
}

/// Where a community's page is on this server, for links in pages.
pub trait PagePath {
    /// `/c/name` or `/c/name@domain`.
    fn page_path(&self) -> String;
}

impl PagePath for community::Model {
    fn page_path(&self) -> String {
        format!("/c/{}", page_name(self))
    }
}

/// The community a page path names: one of this server's by name, or one on another server
/// already known here by `name@domain`. Pages never fetch: finding a new one is
/// `/authorize_interaction`'s job, for signed-in people.
pub async fn named(data: &Data, name: &str) -> Result<community::Model, ApiError> {
    known_community(data, name)
        .await?
        .ok_or_else(|| ApiError::not_found("community"))
}
