//! Migrations run fresh -> up -> down -> up on the test database (SQLite, or PostgreSQL when
//! `COPSE_TEST_DATABASE_URL` is set).

// Tests report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use copse_migration::{Migrator, MigratorTrait};
use copse_tests::TestDb;
use sea_orm::{ConnectOptions, Database};

#[tokio::test]
async fn migrations_go_up_down_and_up_again() {
    let db = TestDb::new().await;
    let conn = Database::connect(ConnectOptions::new(db.url.clone()))
        .await
        .unwrap();
    Migrator::up(&conn, None).await.unwrap();
    assert!(Migrator::get_pending_migrations(&conn)
        .await
        .unwrap()
        .is_empty());
    Migrator::down(&conn, None).await.unwrap();
    assert_eq!(
        Migrator::get_pending_migrations(&conn).await.unwrap().len(),
        Migrator::migrations().len()
    );
    Migrator::up(&conn, None).await.unwrap();
    assert!(Migrator::get_pending_migrations(&conn)
        .await
        .unwrap()
        .is_empty());
}
