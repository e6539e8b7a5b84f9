//! What every page's header shows: the instance, the person signed in, their communities and
//! their unread notifications, and the token the sign-out form carries.

use super::{paths::PagePath, session::SignedIn};
use crate::error::ApiError;
use copse_entities::{community, community_follower};
use copse_federation::Data;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

/// How many notifications the person has not read (the page is web/notifications.rs).
pub async fn unread_count(data: &Data, s: &SignedIn) -> Result<u64, ApiError> {
    Ok(copse_federation::store::notifications::unread_count(&data.db, s.person.id).await?)
}

/// A community in the header's list.
#[derive(Clone, Debug)]
pub struct CommunityLink {
    /// Its page.
    pub href: String,
    /// Its title.
    pub title: String,
}

/// The person signed in, as the header shows them.
#[derive(Clone, Debug)]
pub struct Me {
    /// Their handle on this instance.
    pub name: String,
    /// What they are called.
    pub display_name: String,
    /// Communities they belong to.
    pub communities: Vec<CommunityLink>,
    /// Notifications not yet read.
    pub unread: u64,
    /// An instance admin.
    pub admin: bool,
    /// The session's CSRF token, for the forms on the page.
    pub csrf: String,
}

/// The header of every page.
#[derive(Clone, Debug)]
pub struct Chrome {
    /// The instance's domain.
    pub domain: String,
    /// The person signed in, if any.
    pub me: Option<Me>,
}

impl Chrome {
    /// The header for a page seen by `viewer`.
    pub async fn load(data: &Data, viewer: Option<&SignedIn>) -> Result<Self, ApiError> {
        let me = match viewer {
            None => None,
            Some(s) => {
                let ids: Vec<i64> = community_follower::Entity::find()
                    .select_only()
                    .column(community_follower::Column::CommunityId)
                    .filter(community_follower::Column::PersonId.eq(s.person.id))
                    .filter(community_follower::Column::Pending.eq(false))
                    .limit(50)
                    .into_tuple()
                    .all(&data.db)
                    .await?;
                let communities = community::Entity::find()
                    .filter(community::Column::Id.is_in(ids))
                    .order_by_asc(community::Column::Title)
                    .all(&data.db)
                    .await?
                    .into_iter()
                    .map(|c| CommunityLink {
                        href: c.page_path(),
                        title: c.title,
                    })
                    .collect();
                Some(Me {
                    name: s.person.name.clone(),
                    display_name: s
                        .person
                        .display_name
                        .clone()
                        .unwrap_or_else(|| s.person.name.clone()),
                    communities,
                    unread: unread_count(data, s).await?,
                    admin: s.user.admin,
                    csrf: s.session.csrf_token.clone(),
                })
            }
        };
        Ok(Self {
            domain: data.settings.domain.clone(),
            me,
        })
    }

    /// The CSRF token for forms on the page: the session's, empty when signed out (signed-out
    /// pages carry no forms that change anything, except sign-in and sign-up, which have their
    /// own).
    pub fn csrf(&self) -> &str {
        self.me.as_ref().map(|m| m.csrf.as_str()).unwrap_or("")
    }
}
