//! What an operator does from the command line besides creating things: new API tokens, the
//! lists of accounts and communities, and domain blocks. A block takes effect at once in every
//! process on the database: the inbox refuses the domain, nothing is fetched from it, its
//! queued deliveries are given up, and activities it sent that are not yet applied are dropped.
//! The admin pages call the same functions, and those in the submodules: accounts (approve,
//! suspend), registration (policy, invitation links) and queue health.

pub mod health;
pub mod invites;
pub mod people;

use crate::accounts;
use copse_entities::{
    community::{self, MembershipPolicy},
    community_follower::{self, Role},
    delivery, instance, local_user, person,
    received_activity::{self, InboxStatus},
    DbUrl,
};
use copse_federation::{protocol::domain_of, queue::delivery::BLOCKED};
use sea_orm::{
    sea_query::{Expr, OnConflict},
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
};

/// Why an operator's command did nothing.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The database failed.
    #[error("database: {0}")]
    Db(#[from] DbErr),
    /// No such account or community.
    #[error("{0}")]
    NotFound(String),
    /// A value that cannot be used.
    #[error("{0}")]
    Invalid(String),
}

impl From<AdminError> for crate::error::ApiError {
    fn from(e: AdminError) -> Self {
        match e {
            AdminError::Db(e) => e.into(),
            AdminError::NotFound(m) => Self::new(axum::http::StatusCode::NOT_FOUND, m),
            AdminError::Invalid(m) => Self::new(axum::http::StatusCode::UNPROCESSABLE_ENTITY, m),
        }
    }
}

/// Gives a local account a new API token and returns it; the old one stops working at once.
pub async fn new_token(db: &impl ConnectionTrait, name: &str) -> Result<String, AdminError> {
    let person = accounts::local_person(db, name)
        .await?
        .ok_or_else(|| AdminError::NotFound(format!("no local user named {name}")))?;
    let token = accounts::new_token().map_err(|e| AdminError::Invalid(e.message))?;
    let res = local_user::Entity::update_many()
        .col_expr(
            local_user::Column::TokenHash,
            Expr::value(accounts::token_hash(&token)),
        )
        .filter(local_user::Column::PersonId.eq(person.id))
        .exec(db)
        .await?;
    if res.rows_affected != 1 {
        return Err(AdminError::NotFound(format!("{name} has no account")));
    }
    Ok(token)
}

/// A local account, as `user list` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct UserRow {
    /// Its name.
    pub name: String,
    /// Its actor id.
    pub id: DbUrl,
    /// Instance administrator.
    pub admin: bool,
    /// Whether it may sign in.
    pub status: local_user::AccountStatus,
    /// The answer to the sign-up question, when it asked for approval.
    pub answer: Option<String>,
    /// When it was created.
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// Every local account, by name.
pub async fn users(db: &impl ConnectionTrait) -> Result<Vec<UserRow>, AdminError> {
    let accounts = local_user::Entity::find().all(db).await?;
    let people = accounts::people_by_id(db, accounts.iter().map(|u| u.person_id)).await?;
    let mut rows: Vec<UserRow> = accounts
        .into_iter()
        .filter_map(|u| {
            let p: &person::Model = people.get(&u.person_id)?;
            Some(UserRow {
                name: p.name.clone(),
                id: p.ap_id.clone(),
                admin: u.admin,
                status: u.status,
                answer: u.sign_up_answer,
                created_at: u.created_at,
            })
        })
        .collect();
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(rows)
}

/// A local community, as `community list` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct CommunityRow {
    /// Its name.
    pub name: String,
    /// Its title.
    pub title: String,
    /// Its actor id.
    pub id: DbUrl,
    /// Accepted members, local and remote.
    pub members: u64,
    /// How people join.
    pub policy: MembershipPolicy,
    /// Names of its coordinators.
    pub coordinators: Vec<String>,
}

/// Every local community, by name.
pub async fn communities(db: &impl ConnectionTrait) -> Result<Vec<CommunityRow>, AdminError> {
    let list = community::Entity::find()
        .filter(community::Column::Local.eq(true))
        .order_by_asc(community::Column::Name)
        .all(db)
        .await?;
    let mut rows = Vec::with_capacity(list.len());
    for c in list {
        let members = community_follower::Entity::find()
            .filter(community_follower::Column::CommunityId.eq(c.id))
            .filter(community_follower::Column::Pending.eq(false))
            .count(db)
            .await?;
        let coordinator_ids: Vec<i64> = community_follower::Entity::find()
            .filter(community_follower::Column::CommunityId.eq(c.id))
            .filter(community_follower::Column::Pending.eq(false))
            .filter(community_follower::Column::Role.eq(Role::Coordinator))
            .all(db)
            .await?
            .into_iter()
            .map(|m| m.person_id)
            .collect();
        let mut coordinators: Vec<String> = accounts::people_by_id(db, coordinator_ids)
            .await?
            .into_values()
            .map(|p| p.name)
            .collect();
        coordinators.sort();
        rows.push(CommunityRow {
            name: c.name,
            title: c.title,
            id: c.ap_id,
            members,
            policy: c.membership_policy,
            coordinators,
        });
    }
    Ok(rows)
}

/// The `host[:port]` a block applies to, from a domain or a URL on it, lower-cased as the
/// `instance` table keeps it.
pub fn normalize_domain(input: &str) -> Result<String, AdminError> {
    let input = input.trim();
    let bad = || {
        AdminError::Invalid(format!(
            "{input} is not a domain: give a host name like social.example, with a port if it has one"
        ))
    };
    let url = if input.contains("://") {
        url::Url::parse(input).map_err(|_| bad())?
    } else if input.contains('/') || input.contains('@') || input.is_empty() {
        return Err(bad());
    } else {
        url::Url::parse(&format!("https://{input}/")).map_err(|_| bad())?
    };
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad());
    }
    Ok(domain_of(&url))
}

/// What a new block did to work already queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BlockReport {
    /// False when the domain was blocked already.
    pub newly_blocked: bool,
    /// Queued deliveries to the domain, now given up.
    pub deliveries_given_up: u64,
    /// Received activities from the domain not yet applied, now dropped.
    pub activities_dropped: u64,
}

/// Blocks a domain. Deliveries to it still inside batches are given up when their batch is
/// sent, since the workers read the blocks before every part.
pub async fn block_domain(
    db: &sea_orm::DatabaseConnection,
    domain: &str,
) -> Result<BlockReport, AdminError> {
    let domain = normalize_domain(domain)?;
    let txn = copse_federation::context::begin(db).await?;
    let before = instance::Entity::find()
        .filter(instance::Column::Domain.eq(&domain))
        .one(&txn)
        .await?;
    instance::Entity::insert(instance::ActiveModel {
        blocked: Set(true),
        ..instance::ActiveModel::for_domain(&domain)
    })
    .on_conflict(
        OnConflict::column(instance::Column::Domain)
            .update_column(instance::Column::Blocked)
            .to_owned(),
    )
    .exec(&txn)
    .await?;
    let given_up = delivery::Entity::update_many()
        .col_expr(
            delivery::Column::Status,
            Expr::value(delivery::DeliveryStatus::Failed),
        )
        .col_expr(
            delivery::Column::LastError,
            Expr::value(Some(BLOCKED.to_string())),
        )
        .filter(delivery::Column::Domain.eq(&domain))
        .filter(delivery::Column::Status.eq(delivery::DeliveryStatus::Pending))
        .exec(&txn)
        .await?
        .rows_affected;
    // Activities are kept by actor id; the domain is that id's host[:port].
    let pending = received_activity::Entity::find()
        .filter(received_activity::Column::Status.eq(InboxStatus::Pending))
        .all(&txn)
        .await?;
    let from_domain: Vec<i64> = pending
        .iter()
        .filter(|r| domain_of(&r.actor.0) == domain)
        .map(|r| r.id)
        .collect();
    let mut dropped = 0;
    for chunk in from_domain.chunks(500) {
        dropped += received_activity::Entity::update_many()
            .col_expr(
                received_activity::Column::Status,
                Expr::value(InboxStatus::Done),
            )
            .col_expr(
                received_activity::Column::LastError,
                Expr::value(Some(format!("ignored: {BLOCKED}"))),
            )
            .filter(received_activity::Column::Id.is_in(chunk.iter().copied()))
            .filter(received_activity::Column::Status.eq(InboxStatus::Pending))
            .exec(&txn)
            .await?
            .rows_affected;
    }
    txn.commit().await?;
    Ok(BlockReport {
        newly_blocked: !before.is_some_and(|i| i.blocked),
        deliveries_given_up: given_up,
        activities_dropped: dropped,
    })
}

/// Lifts a block; false when the domain was not blocked. Deliveries given up stay given up.
pub async fn unblock_domain(db: &impl ConnectionTrait, domain: &str) -> Result<bool, AdminError> {
    let domain = normalize_domain(domain)?;
    let res = instance::Entity::update_many()
        .col_expr(instance::Column::Blocked, Expr::value(false))
        .filter(instance::Column::Domain.eq(&domain))
        .filter(instance::Column::Blocked.eq(true))
        .exec(db)
        .await?;
    Ok(res.rows_affected > 0)
}

/// Blocked domains, in order.
pub async fn blocked_domains(db: &impl ConnectionTrait) -> Result<Vec<String>, AdminError> {
    Ok(instance::Entity::find()
        .filter(instance::Column::Blocked.eq(true))
        .order_by_asc(instance::Column::Domain)
        .all(db)
        .await?
        .into_iter()
        .map(|i| i.domain)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_are_read_as_the_instance_table_keeps_them() {
        assert_eq!(
            normalize_domain("Social.Example").unwrap(),
            "social.example"
        );
        assert_eq!(
            normalize_domain("https://social.example/@ana").unwrap(),
            "social.example"
        );
        assert_eq!(
            normalize_domain("evil.localhost:3000").unwrap(),
            "evil.localhost:3000"
        );
        assert_eq!(
            normalize_domain("social.example.").unwrap(),
            "social.example"
        );
        for bad in ["", "ana@social.example", "social.example/path", "https://"] {
            assert!(normalize_domain(bad).is_err(), "{bad}");
        }
    }
}
