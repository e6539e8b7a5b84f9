//! Reports received (`Flag`).

use crate::activities::receive::{ignore, require_signer, Applied, Receive, Verified};
use crate::store::posts::{post_by_ap_id, store_report};
use crate::{
    fetch::{cached_actor, ActorRef},
    html::sanitize_html,
    objects::text::text_of,
    protocol::ObjectActivity,
    Data, Error,
};
use async_trait::async_trait;
use copse_entities::{community, received_activity};
use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QuerySelect};
use std::collections::BTreeMap;

/// `Flag` from any server (Mastodon sends them from its instance actor): a report in the queue
/// of each local community whose post, member or self it names.
pub async fn verify_flag(
    data: &Data,
    row: &received_activity::Model,
    flag: ObjectActivity,
) -> Result<Verified, Error> {
    require_signer(row, &flag.actor, "Flag")?;
    // community id -> (post, person)
    let mut found: BTreeMap<i64, (Option<i64>, Option<i64>)> = BTreeMap::new();
    let mut people = Vec::new();
    for id in flag.object.iter().take(50) {
        if let Some(p) = post_by_ap_id(&data.db, id).await? {
            let e = found.entry(p.community_id).or_default();
            e.0.get_or_insert(p.id);
            e.1.get_or_insert(p.author_id);
            continue;
        }
        match cached_actor(&data.db, id).await? {
            Some(ActorRef::Community(c)) => {
                found.entry(c.id).or_default();
            }
            Some(ActorRef::Person(p)) => people.push(p),
            None => {}
        }
    }
    // A report that names posts goes only to their communities: the reporter's text is about
    // them, and facilitators of unrelated communities the person belongs to have no business
    // reading it (Mastodon names the account beside its statuses).
    // Without posts, it goes to the communities the person is an accepted member of.
    let names_posts = found.values().any(|(post, _)| post.is_some());
    for p in people.iter().filter(|_| !names_posts) {
        use copse_entities::community_follower as member;
        let ids: Vec<i64> = member::Entity::find()
            .select_only()
            .column(member::Column::CommunityId)
            .filter(member::Column::PersonId.eq(p.id))
            .filter(member::Column::Pending.eq(false))
            .limit(20)
            .into_tuple()
            .all(&data.db)
            .await?;
        for cid in ids {
            found.entry(cid).or_default().1.get_or_insert(p.id);
        }
    }
    let local: Vec<i64> = community::Entity::find()
        .select_only()
        .column(community::Column::Id)
        .filter(community::Column::Id.is_in(found.keys().copied()))
        .filter(community::Column::Local.eq(true))
        .into_tuple()
        .all(&data.db)
        .await?;
    if local.is_empty() {
        return ignore("nothing reported belongs to a community here");
    }
    let reason = flag
        .content
        .clone()
        .or_else(|| flag.summary.clone())
        .map(|t| text_of(&sanitize_html(&t)).chars().take(5000).collect());
    let reports = local
        .into_iter()
        .map(|cid| (cid, found.get(&cid).copied().unwrap_or_default()))
        .collect();
    Verified::apply(Flag {
        flag,
        reason,
        reports,
    })
}

/// A report's community, and the post and person it names there.
type Report = (i64, (Option<i64>, Option<i64>));

/// A checked `Flag`: one report per local community, naming its post and person.
struct Flag {
    flag: ObjectActivity,
    reason: Option<String>,
    reports: Vec<Report>,
}

#[async_trait]
impl Receive for Flag {
    async fn receive(
        self: Box<Self>,
        _: &Data,
        _: &received_activity::Model,
        txn: &DatabaseTransaction,
    ) -> Result<Applied, Error> {
        let flag = &self.flag;
        for (cid, (post_id, person_id)) in self.reports {
            store_report(
                txn,
                &flag.id,
                cid,
                &flag.actor,
                post_id,
                person_id,
                self.reason.clone(),
            )
            .await?;
        }
        Ok(Applied::Done)
    }
}
