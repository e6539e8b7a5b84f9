//! Connecting to the database, applying migrations, and the instance's own keys.

use crate::settings::Settings;
use chrono::Utc;
use copse_entities::site;
use copse_migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbErr, EntityTrait, Set,
    Statement,
};
use std::time::Duration;

/// Opens the configured database. For SQLite: creates the file and its folder, and sets WAL,
/// a busy timeout and `synchronous=NORMAL`.
pub async fn connect(settings: &Settings) -> Result<DatabaseConnection, DbErr> {
    let url = &settings.database.url;
    if let Some(path) = sqlite_path(url) {
        if let Some(dir) = std::path::Path::new(&path).parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir)
                    .map_err(|e| DbErr::Custom(format!("cannot create {}: {e}", dir.display())))?;
            }
        }
    }
    let mut opts = ConnectOptions::new(url.clone());
    opts.max_connections(settings.database.max_connections)
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(10))
        // sqlx pings a connection on every checkout by default: a second round trip to the
        // connection's thread (SQLite) or the server for each statement. An in-process SQLite
        // connection cannot be dropped by a network; a PostgreSQL one is checked once it has
        // been idle long enough for a proxy or firewall to have closed it.
        .test_before_acquire(false)
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|o| {
            o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(5))
                .foreign_keys(true)
                // Reads through a memory map rather than a read() call per page, and a 16 MB page
                // cache per connection rather than 2 MB: a database of a million posts keeps
                // its index pages hot.
                .pragma("mmap_size", "268435456")
                .pragma("cache_size", "-16384")
                .create_if_missing(true)
        });
    if !url.starts_with("sqlite:") {
        opts.test_before_acquire_if_idle_for(Duration::from_secs(30));
    }
    Database::connect(opts).await
}

/// Opens a database that `copse migrate` or `copse serve` has set up, and refuses any other:
/// a missing SQLite file is not created (`mode=rwc` would), and a database without Copse's
/// tables is not filled, so a mistyped URL does not leave an empty database behind.
pub async fn connect_existing(settings: &Settings) -> Result<DatabaseConnection, DbErr> {
    let url = &settings.database.url;
    let first = |what: String| {
        DbErr::Custom(format!(
            "{what}: run `copse migrate` or `copse serve` first (database.url is {})",
            redacted(url)
        ))
    };
    if let Some(path) = sqlite_path(url) {
        if !std::path::Path::new(&path).exists() {
            return Err(first(format!("there is no database at {path}")));
        }
    }
    let db = connect(settings).await?;
    let backend = db.get_database_backend();
    let set_up = db
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT COUNT(*) FROM seaql_migrations",
        ))
        .await
        .is_ok();
    if !set_up {
        return Err(first("the database has no Copse tables".to_string()));
    }
    Ok(db)
}

/// The database URL without its password, to print.
pub fn redacted(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

/// The file path of a `sqlite:` URL, if it names a file.
fn sqlite_path(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| path.to_string())
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// Returns the instance actor's keys, generating them on first start.
pub async fn site(db: &DatabaseConnection) -> Result<site::Model, DbErr> {
    if let Some(s) = site::Entity::find_by_id(1).one(db).await? {
        return Ok(s);
    }
    let (public, private) = copse_federation::signatures::generate_keypair()
        .map_err(|e| DbErr::Custom(format!("key generation failed: {e}")))?;
    let row = site::ActiveModel {
        id: Set(1),
        public_key_pem: Set(public),
        private_key_pem: Set(private),
        created_at: Set(Utc::now()),
        ..Default::default()
    };
    // Two processes starting at once: the second insert fails, and both read the winner.
    let _ = site::Entity::insert(row).exec(db).await;
    site::Entity::find_by_id(1)
        .one(db)
        .await?
        .ok_or_else(|| DbErr::Custom("site row missing".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_paths_are_read_from_urls() {
        assert_eq!(
            sqlite_path("sqlite://data/copse.db?mode=rwc").as_deref(),
            Some("data/copse.db")
        );
        assert_eq!(
            sqlite_path("sqlite:///tmp/x.db").as_deref(),
            Some("/tmp/x.db")
        );
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("postgres://x"), None);
    }

    #[test]
    fn passwords_are_not_printed() {
        assert_eq!(
            redacted("postgres://copse:s3cret@db.example:5432/copse"),
            "postgres://copse:***@db.example:5432/copse"
        );
        assert_eq!(
            redacted("postgres://copse@127.0.0.1/copse"),
            "postgres://copse@127.0.0.1/copse"
        );
        assert_eq!(
            redacted("sqlite://data/copse.db?mode=rwc"),
            "sqlite://data/copse.db?mode=rwc"
        );
    }
}
