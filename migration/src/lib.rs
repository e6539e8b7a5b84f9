//! Copse database migrations. History is frozen: add a new migration, never edit an old one.

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_initial;
mod m20261122_000002_membership;
mod m20261122_000003_covering_indexes;
mod m20261122_000004_discussions;
mod m20261122_000005_events;
mod m20261122_000006_prune_delivered;
mod m20261122_000007_topic_list_index;
mod m20261122_000008_delivery_batches;
mod m20261122_000009_newest_topics_index;
mod m20261201_000010_post_link;
mod m20261201_000011_activity_post;
mod m20261201_000012_remote_ids;
mod m20261201_000013_instance_software;
mod m20261201_000014_member_choices;
mod m20261201_000015_read_indexes;
mod m20261201_000016_delivery_sequences;
mod m20261203_000017_web_accounts;
mod m20261203_000018_notification_email;
mod m20261203_000019_profiles;
mod m20261203_000021_admin;
mod m20261206_000022_subcommunities;
mod m20261206_000023_partners;

/// All Copse migrations, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_initial::Migration),
            Box::new(m20261122_000002_membership::Migration),
            Box::new(m20261122_000003_covering_indexes::Migration),
            Box::new(m20261122_000004_discussions::Migration),
            Box::new(m20261122_000005_events::Migration),
            Box::new(m20261122_000006_prune_delivered::Migration),
            Box::new(m20261122_000007_topic_list_index::Migration),
            Box::new(m20261122_000008_delivery_batches::Migration),
            Box::new(m20261122_000009_newest_topics_index::Migration),
            Box::new(m20261201_000010_post_link::Migration),
            Box::new(m20261201_000011_activity_post::Migration),
            Box::new(m20261201_000012_remote_ids::Migration),
            Box::new(m20261201_000013_instance_software::Migration),
            Box::new(m20261201_000014_member_choices::Migration),
            Box::new(m20261201_000015_read_indexes::Migration),
            Box::new(m20261201_000016_delivery_sequences::Migration),
            Box::new(m20261203_000017_web_accounts::Migration),
            Box::new(m20261203_000018_notification_email::Migration),
            Box::new(m20261203_000019_profiles::Migration),
            Box::new(m20261203_000021_admin::Migration),
            Box::new(m20261206_000022_subcommunities::Migration),
            Box::new(m20261206_000023_partners::Migration),
        ]
    }
}
