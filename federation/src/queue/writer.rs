//! The writer of received activities: the inbox's checks hand each verified activity to it
//! through the context ([`FederationContext::store_received`]), and it stores them
//! (`received_activity` rows) in batches.

use crate::{context::PendingStore, FederationContext};
use copse_entities::received_activity;
use sea_orm::EntityTrait;
use tokio::sync::mpsc::Receiver;

/// Starts the writer of `ctx`'s received activities, unless one runs already. It ends when the
/// last clone of the context (and so of the sender it holds) is dropped.
pub fn spawn(ctx: &FederationContext) {
    let (tx, rx) = tokio::sync::mpsc::channel(4096);
    if ctx.inbox_store.set(tx).is_ok() {
        tokio::spawn(run_writer(ctx.db.clone(), rx));
    }
}

/// Stores received activities in batches: each request waits until its row is committed (so
/// nothing is acknowledged before it is durable), but concurrent requests share one transaction
/// instead of queueing for the database's single writer one by one.
async fn run_writer(db: sea_orm::DatabaseConnection, mut rx: Receiver<PendingStore>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < 256 {
            match rx.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let rows: Vec<received_activity::ActiveModel> =
            batch.iter().map(|(r, _)| r.clone()).collect();
        let result = received_activity::Entity::insert_many(rows)
            .on_conflict_do_nothing_on([received_activity::Column::ApId])
            .exec_with_returning_many(&db)
            .await;
        match result {
            Ok(inserted) => {
                let mut new: std::collections::HashSet<String> = match inserted {
                    sea_orm::TryInsertResult::Inserted(models) => {
                        models.into_iter().map(|m| m.ap_id.to_string()).collect()
                    }
                    _ => Default::default(),
                };
                for (row, reply) in batch {
                    let id = match &row.ap_id {
                        sea_orm::ActiveValue::Set(u) | sea_orm::ActiveValue::Unchanged(u) => {
                            u.to_string()
                        }
                        sea_orm::ActiveValue::NotSet => String::new(),
                    };
                    // The first of several copies in one batch is the new one.
                    let _ = reply.send(Ok(new.remove(&id)));
                }
            }
            Err(e) => {
                let msg = e.to_string();
                for (_, reply) in batch {
                    let _ = reply.send(Err(msg.clone()));
                }
            }
        }
    }
}
