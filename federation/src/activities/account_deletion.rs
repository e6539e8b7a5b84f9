//! A person deletes their account: Mastodon sends a `Delete` whose object is the actor itself,
//! signed by the actor, and answers 410 Gone for the actor from then on (Lemmy sends the same,
//! with `removeData`). Copse believes it only when a fetch of the actor answers 404 or 410.
//!
//! Their memberships end (announced as `Remove` from the members collection, as a departure),
//! their answers to events are withdrawn (places go to the waiting lists), their reactions and
//! votes are taken back, and their posts become tombstones, as the author's own deletion would
//! make them: threads keep their shape, the text goes. Events they organised stay, since
//! their community holds them. The person is kept, marked deleted.

use super::receive::{ignore, Applied, Receive, Verified};
use crate::rules::{membership::remove_member, withdrawals::withdraw_everywhere};
use crate::store::lookup::community_by_row_id;
use crate::{
    fetch::{cached_actor, fetch_json, ActorRef},
    protocol::ObjectActivity,
    Data, Error,
};
use async_trait::async_trait;
use copse_entities::{
    community_follower, community_invite, event, person, post, reaction, received_activity,
};
use sea_orm::{
    sea_query::{Expr, Query},
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
};

/// A `Delete` of the actor by itself.
pub async fn verify_account_deletion(
    data: &Data,
    delete: ObjectActivity,
) -> Result<Verified, Error> {
    let person = match cached_actor(&data.db, &delete.actor).await? {
        Some(ActorRef::Person(p)) => p,
        _ => return ignore("a community deleting itself is not applied"),
    };
    if person.local {
        return Err(Error::InvalidActivity(
            "a local account is deleted here".into(),
        ));
    }
    if person.deleted_at.is_some() {
        return ignore("the account was already deleted");
    }
    // The signature proves the key, not that the account is gone: ask its server.
    match fetch_json(data, &delete.actor).await {
        Err(Error::NotFound) => {}
        Ok(_) => return ignore("the actor still exists at its server"),
        Err(e) => return Err(e),
    }
    Verified::apply(Gone(person))
}

/// A remote account its server confirmed deleted.
struct Gone(person::Model);

#[async_trait]
impl Receive for Gone {
    async fn receive(
        self: Box<Self>,
        data: &Data,
        _row: &received_activity::Model,
        txn: &DatabaseTransaction,
    ) -> Result<Applied, Error> {
        forget(txn, data, &self.0).await?;
        Ok(Applied::Done)
    }
}

/// Applies an account deletion inside the caller's transaction.
async fn forget(txn: &impl ConnectionTrait, data: &Data, who: &person::Model) -> Result<(), Error> {
    let memberships = community_follower::Entity::find()
        .filter(community_follower::Column::PersonId.eq(who.id))
        .all(txn)
        .await?;
    for m in memberships {
        let c = community_by_row_id(txn, m.community_id).await?;
        let why = Some("account deleted".to_string());
        remove_member(txn, data, &c, who, who, &m, why).await?;
    }
    community_invite::Entity::delete_many()
        .filter(community_invite::Column::Invitee.eq(who.ap_id.clone()))
        .exec(txn)
        .await?;
    withdraw_everywhere(txn, data, who).await?;
    reaction::Entity::delete_many()
        .filter(reaction::Column::PersonId.eq(who.id))
        .exec(txn)
        .await?;
    let now = data.clock.now();
    let events = Query::select()
        .column(event::Column::PostId)
        .from(event::Entity)
        .to_owned();
    post::Entity::update_many()
        .col_expr(post::Column::Deleted, Expr::value(true))
        .col_expr(post::Column::Content, Expr::value(String::new()))
        .col_expr(post::Column::Source, Expr::value(Option::<String>::None))
        .col_expr(post::Column::Tags, Expr::value(Option::<String>::None))
        .col_expr(post::Column::Updated, Expr::value(Some(now)))
        .filter(post::Column::AuthorId.eq(who.id))
        .filter(post::Column::Deleted.eq(false))
        .filter(post::Column::Id.not_in_subquery(events))
        .exec(txn)
        .await?;
    person::Entity::update_many()
        .col_expr(person::Column::DeletedAt, Expr::value(Some(now)))
        .filter(person::Column::Id.eq(who.id))
        .exec(txn)
        .await?;
    Ok(())
}
