//! Passwords (argon2id, in a PHC string) and the limits on failed sign-ins: per account and per
//! address, counted in the database so that they hold across every server process.

use crate::error::ApiError;
use argon2::{
    password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};
use chrono::{Duration, Utc};
use copse_entities::sign_in_failure;
use sea_orm::{
    ActiveValue::NotSet, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    Set,
};
use std::net::IpAddr;

/// Shortest password accepted.
pub const MIN_LENGTH: usize = 10;
/// Longest password accepted (argon2 takes any length; this bounds the work per request).
pub const MAX_LENGTH: usize = 256;
/// Failed sign-ins per account within the window before it waits.
pub const PER_ACCOUNT: u64 = 5;
/// Failed sign-ins per address within the window before it waits.
pub const PER_ADDRESS: u64 = 20;
/// The window failures are counted in.
pub const WINDOW_MINUTES: i64 = 15;

/// What is wrong with a new password, in words for the person choosing it.
pub fn check_new(password: &str) -> Result<(), ApiError> {
    let n = password.chars().count();
    if n < MIN_LENGTH {
        return Err(ApiError::invalid(
            "password",
            format!("use at least {MIN_LENGTH} characters"),
        ));
    }
    if n > MAX_LENGTH {
        return Err(ApiError::invalid(
            "password",
            format!("use at most {MAX_LENGTH} characters"),
        ));
    }
    Ok(())
}

/// Hashes a password, off the async threads (argon2 is slow on purpose).
pub async fn hash(password: &str) -> Result<String, ApiError> {
    let password = password.to_string();
    tokio::task::spawn_blocking(move || {
        let mut salt = [0u8; 16];
        openssl::rand::rand_bytes(&mut salt).map_err(ApiError::internal)?;
        let salt = SaltString::encode_b64(&salt).map_err(ApiError::internal)?;
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(ApiError::internal)
    })
    .await
    .map_err(ApiError::internal)?
}

// A hash of a password nobody knows: checked when the account does not exist, so that an
// unknown name takes as long to refuse as a wrong password.
const NOBODY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$Xh1tYt6Xk3Nv3u0dQW2sYtQbfXr2YgWcQ1t3yZ8Yk3E";

/// True when `password` matches `phc`; with no hash, does the same work and is false.
pub async fn verify(password: &str, phc: Option<&str>) -> Result<bool, ApiError> {
    let password = password.to_string();
    let known = phc.is_some();
    let phc = phc.unwrap_or(NOBODY).to_string();
    tokio::task::spawn_blocking(move || {
        let Ok(parsed) = PasswordHash::new(&phc) else {
            return false;
        };
        known
            && Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
    })
    .await
    .map_err(ApiError::internal)
}

fn keys(account: &str, address: Option<IpAddr>) -> Vec<(String, u64)> {
    let mut keys = vec![(format!("account:{}", account.to_lowercase()), PER_ACCOUNT)];
    if let Some(ip) = address {
        keys.push((format!("address:{ip}"), PER_ADDRESS));
    }
    keys
}

/// `Err` (429) when the account or the address has failed too often lately.
pub async fn check_allowed(
    db: &impl ConnectionTrait,
    account: &str,
    address: Option<IpAddr>,
) -> Result<(), ApiError> {
    let since = Utc::now() - Duration::minutes(WINDOW_MINUTES);
    for (key, limit) in keys(account, address) {
        let n = sign_in_failure::Entity::find()
            .filter(sign_in_failure::Column::Key.eq(key))
            .filter(sign_in_failure::Column::At.gt(since))
            .count(db)
            .await?;
        if n >= limit {
            return Err(ApiError::new(
                axum::http::StatusCode::TOO_MANY_REQUESTS,
                format!("too many failed sign-ins: wait {WINDOW_MINUTES} minutes and try again"),
            ));
        }
    }
    Ok(())
}

/// Records a failed sign-in for the account and the address, and forgets old ones.
pub async fn record_failure(
    db: &impl ConnectionTrait,
    account: &str,
    address: Option<IpAddr>,
) -> Result<(), ApiError> {
    let now = Utc::now();
    for (key, _) in keys(account, address) {
        sign_in_failure::Entity::insert(sign_in_failure::ActiveModel {
            id: NotSet,
            key: Set(key),
            at: Set(now),
        })
        .exec(db)
        .await?;
    }
    sign_in_failure::Entity::delete_many()
        .filter(sign_in_failure::Column::At.lt(now - Duration::minutes(WINDOW_MINUTES)))
        .exec(db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hashed_password_verifies_and_another_does_not() {
        let h = hash("correct horse battery").await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse battery", Some(&h)).await.unwrap());
        assert!(!verify("correct horse batterx", Some(&h)).await.unwrap());
        assert!(!verify("anything", None).await.unwrap());
        // The stand-in hash must parse, or an unknown name would be refused faster.
        assert!(PasswordHash::new(NOBODY).is_ok());
    }

    #[test]
    fn short_and_long_passwords_are_refused_naming_the_field() {
        assert_eq!(
            check_new("short").unwrap_err().field.as_deref(),
            Some("password")
        );
        assert!(check_new(&"x".repeat(MAX_LENGTH + 1)).is_err());
        assert!(check_new("ten chars!").is_ok());
    }
}
