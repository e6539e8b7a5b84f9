//! Invitation links: made by an admin with an optional expiry and number of uses, listed,
//! revoked, and spent by sign-up. Only the token's SHA-256 is stored; the link is shown once.

use crate::{accounts, error::ApiError};
use chrono::{DateTime, Duration, Utc};
use copse_entities::{local_user, registration_invite};
use sea_orm::{
    sea_query::{Expr, ExprTrait},
    ActiveValue::NotSet,
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Set,
};

/// The longest an invitation may last, in days.
pub const MAX_DAYS: u32 = 365;
/// The most accounts one invitation may make.
pub const MAX_USES: u32 = 1000;

/// What an admin asks for in a new invitation.
#[derive(Debug, Default, Clone)]
pub struct NewInvite {
    /// Who it is for, as a reminder.
    pub note: Option<String>,
    /// Days until it stops working; `None` for never.
    pub days: Option<u32>,
    /// How many accounts it may make; `None` for any number.
    pub max_uses: Option<u32>,
}

/// Makes an invitation and returns it with its token (the `?invite=` of the link).
pub async fn create(
    db: &impl ConnectionTrait,
    by: &local_user::Model,
    new: NewInvite,
) -> Result<(registration_invite::Model, String), ApiError> {
    if new.days.is_some_and(|d| d == 0 || d > MAX_DAYS) {
        return Err(ApiError::invalid(
            "days",
            format!("from 1 to {MAX_DAYS} days, or empty for no expiry"),
        ));
    }
    if new.max_uses.is_some_and(|u| u == 0 || u > MAX_USES) {
        return Err(ApiError::invalid(
            "max_uses",
            format!("from 1 to {MAX_USES} uses, or empty for any number"),
        ));
    }
    let note = new
        .note
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty());
    if note.as_ref().is_some_and(|n| n.chars().count() > 200) {
        return Err(ApiError::invalid("note", "at most 200 characters"));
    }
    let token = accounts::new_token()?;
    let now = Utc::now();
    let row = registration_invite::Entity::insert(registration_invite::ActiveModel {
        id: NotSet,
        token_hash: Set(accounts::token_hash(&token)),
        created_by: Set(by.id),
        note: Set(note),
        created_at: Set(now),
        expires_at: Set(new.days.map(|d| now + Duration::days(i64::from(d)))),
        max_uses: Set(new.max_uses.and_then(|u| i32::try_from(u).ok())),
        uses: Set(0),
        used_at: Set(None),
        revoked_at: Set(None),
    })
    .exec_with_returning(db)
    .await?;
    Ok((row, token))
}

/// Invitations, newest first (the latest 200).
pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<registration_invite::Model>, ApiError> {
    Ok(registration_invite::Entity::find()
        .order_by_desc(registration_invite::Column::Id)
        .limit(200)
        .all(db)
        .await?)
}

/// Revokes an invitation; false when there is none by that id or it was revoked already.
pub async fn revoke(db: &impl ConnectionTrait, id: i64) -> Result<bool, ApiError> {
    let res = registration_invite::Entity::update_many()
        .col_expr(
            registration_invite::Column::RevokedAt,
            Expr::value(Some(Utc::now())),
        )
        .filter(registration_invite::Column::Id.eq(id))
        .filter(registration_invite::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Why an invitation cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No invitation has this code.
    Unknown,
    /// An admin revoked it.
    Revoked,
    /// Its time is up.
    Expired,
    /// It has made all the accounts it may.
    UsedUp,
}

impl Refusal {
    /// What the person who brought it is told.
    pub fn message(self) -> &'static str {
        match self {
            Self::Unknown => "This invitation link is not valid: check that it was copied whole.",
            Self::Revoked => {
                "This invitation link has been withdrawn. Ask whoever sent it for a new one."
            }
            Self::Expired => "This invitation link has expired. Ask whoever sent it for a new one.",
            Self::UsedUp => {
                "This invitation link has been used already. Ask whoever sent it for a new one."
            }
        }
    }
}

/// What an invitation allows at `now`.
pub fn state(invite: &registration_invite::Model, now: DateTime<Utc>) -> Result<(), Refusal> {
    if invite.revoked_at.is_some() {
        Err(Refusal::Revoked)
    } else if invite.expires_at.is_some_and(|at| at <= now) {
        Err(Refusal::Expired)
    } else if invite.max_uses.is_some_and(|m| invite.uses >= m) {
        Err(Refusal::UsedUp)
    } else {
        Ok(())
    }
}

/// The invitation a code names, if it can be used now.
pub async fn check(
    db: &impl ConnectionTrait,
    code: &str,
) -> Result<Result<registration_invite::Model, Refusal>, ApiError> {
    let found = registration_invite::Entity::find()
        .filter(registration_invite::Column::TokenHash.eq(accounts::token_hash(code.trim())))
        .one(db)
        .await?;
    Ok(match found {
        None => Err(Refusal::Unknown),
        Some(i) => state(&i, Utc::now()).map(|()| i),
    })
}

/// Takes one use of an invitation, if it still has one: a single conditional update, so two
/// sign-ups at once cannot both take its last use.
pub async fn claim(db: &impl ConnectionTrait, id: i64) -> Result<bool, ApiError> {
    let now = Utc::now();
    let res = registration_invite::Entity::update_many()
        .col_expr(
            registration_invite::Column::Uses,
            Expr::col(registration_invite::Column::Uses).add(1),
        )
        .col_expr(registration_invite::Column::UsedAt, Expr::value(Some(now)))
        .filter(registration_invite::Column::Id.eq(id))
        .filter(registration_invite::Column::RevokedAt.is_null())
        .filter(
            Condition::any()
                .add(registration_invite::Column::ExpiresAt.is_null())
                .add(registration_invite::Column::ExpiresAt.gt(now)),
        )
        .filter(
            Condition::any()
                .add(registration_invite::Column::MaxUses.is_null())
                .add(
                    Expr::col(registration_invite::Column::Uses)
                        .lt(Expr::col(registration_invite::Column::MaxUses)),
                ),
        )
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Gives back a use taken by [`claim`] when the account could not be made after all.
pub async fn give_back(db: &impl ConnectionTrait, id: i64) -> Result<(), ApiError> {
    registration_invite::Entity::update_many()
        .col_expr(
            registration_invite::Column::Uses,
            Expr::col(registration_invite::Column::Uses).sub(1),
        )
        .filter(registration_invite::Column::Id.eq(id))
        .filter(registration_invite::Column::Uses.gt(0))
        .exec(db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invite() -> registration_invite::Model {
        registration_invite::Model {
            id: 1,
            token_hash: String::new(),
            created_by: 1,
            note: None,
            created_at: Utc::now(),
            expires_at: None,
            max_uses: Some(2),
            uses: 0,
            used_at: None,
            revoked_at: None,
        }
    }

    #[test]
    fn an_invitation_works_until_revoked_expired_or_used_up() {
        let now = Utc::now();
        assert_eq!(state(&invite(), now), Ok(()));
        let used = registration_invite::Model {
            uses: 2,
            ..invite()
        };
        assert_eq!(state(&used, now), Err(Refusal::UsedUp));
        let unlimited = registration_invite::Model {
            uses: 50,
            max_uses: None,
            ..invite()
        };
        assert_eq!(state(&unlimited, now), Ok(()));
        let expired = registration_invite::Model {
            expires_at: Some(now - Duration::seconds(1)),
            ..invite()
        };
        assert_eq!(state(&expired, now), Err(Refusal::Expired));
        let revoked = registration_invite::Model {
            revoked_at: Some(now),
            ..expired
        };
        assert_eq!(state(&revoked, now), Err(Refusal::Revoked));
    }
}
