//! What an admin decides about local accounts and who may make one: approving a sign-up,
//! suspending and lifting a suspension, and the registration policy with its question.

use super::AdminError;
use crate::{accounts, error::ApiError};
use copse_entities::{
    local_user::{self, AccountStatus},
    site::{self, Registration},
    web_session,
};
use sea_orm::{sea_query::Expr, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

/// The longest registration question.
pub const QUESTION_MAX_CHARS: usize = 500;

async fn account(db: &impl ConnectionTrait, name: &str) -> Result<local_user::Model, AdminError> {
    let person = accounts::local_person(db, name)
        .await?
        .ok_or_else(|| AdminError::NotFound(format!("no local account named {name}")))?;
    local_user::Entity::find()
        .filter(local_user::Column::PersonId.eq(person.id))
        .one(db)
        .await?
        .ok_or_else(|| AdminError::NotFound(format!("{name} has no account")))
}

/// Moves an account from `from` to `to`; false when it was not in `from`.
async fn change_status(
    db: &impl ConnectionTrait,
    user: &local_user::Model,
    from: AccountStatus,
    to: AccountStatus,
) -> Result<bool, AdminError> {
    let res = local_user::Entity::update_many()
        .col_expr(local_user::Column::Status, Expr::value(to))
        .filter(local_user::Column::Id.eq(user.id))
        .filter(local_user::Column::Status.eq(from))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Approves a sign-up waiting for an admin: the account can sign in from now on.
pub async fn approve(db: &impl ConnectionTrait, name: &str) -> Result<(), AdminError> {
    let user = account(db, name).await?;
    if change_status(db, &user, AccountStatus::Pending, AccountStatus::Active).await? {
        Ok(())
    } else {
        Err(AdminError::Invalid(format!(
            "{name} is not waiting for approval"
        )))
    }
}

/// Suspends an account: it cannot sign in, its sessions end at once, and its tokens are refused
/// (every request checks the account's status). `by` is the admin; nobody suspends themselves,
/// so an instance cannot lose its last admin this way.
pub async fn suspend(
    db: &sea_orm::DatabaseConnection,
    by: &local_user::Model,
    name: &str,
) -> Result<(), AdminError> {
    let user = account(db, name).await?;
    if user.id == by.id {
        return Err(AdminError::Invalid("you cannot suspend yourself".into()));
    }
    let txn = copse_federation::context::begin(db).await?;
    let changed = change_status(&txn, &user, AccountStatus::Active, AccountStatus::Suspended)
        .await?
        || change_status(
            &txn,
            &user,
            AccountStatus::Pending,
            AccountStatus::Suspended,
        )
        .await?;
    if !changed {
        return Err(AdminError::Invalid(format!("{name} is suspended already")));
    }
    // Sessions are deleted, not only refused, so lifting the suspension does not bring back
    // a browser left signed in.
    web_session::Entity::delete_many()
        .filter(web_session::Column::LocalUserId.eq(user.id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}

/// Lifts a suspension: the account can sign in again (its tokens work again).
pub async fn unsuspend(db: &impl ConnectionTrait, name: &str) -> Result<(), AdminError> {
    let user = account(db, name).await?;
    if change_status(db, &user, AccountStatus::Suspended, AccountStatus::Active).await? {
        Ok(())
    } else {
        Err(AdminError::Invalid(format!("{name} is not suspended")))
    }
}

/// Sets who may create an account, and the question asked of those who ask for one; an empty
/// question means the default one.
pub async fn set_registration(
    db: &sea_orm::DatabaseConnection,
    policy: Registration,
    question: &str,
) -> Result<(), ApiError> {
    let question = question.trim();
    if question.chars().count() > QUESTION_MAX_CHARS {
        return Err(ApiError::invalid(
            "question",
            format!("at most {QUESTION_MAX_CHARS} characters"),
        ));
    }
    let site = crate::db::site(db).await?;
    let mut row: site::ActiveModel = site.into();
    row.registration = Set(policy);
    row.registration_question = Set((!question.is_empty()).then(|| question.to_string()));
    site::Entity::update(row).exec(db).await?;
    Ok(())
}
