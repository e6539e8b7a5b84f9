//! Reports received (`Flag`).

use crate::activities::receive::ignore;
use crate::activities::receive::require_signer;
use crate::store::posts::{post_by_ap_id, store_report};
use crate::{
    fetch::{cached_actor, ActorRef},
    html::sanitize_html,
    objects::text::text_of,
    protocol::ObjectActivity,
    queue::inbox::mark_done,
    Data, Error,
};
use copse_entities::{community, received_activity};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use std::collections::BTreeMap;

/// `Flag` from any server (Mastodon sends them from its instance actor): a report in the queue
/// of each local community whose post, member or self it names.
pub async fn receive_flag(
    data: &Data,
    row: &received_activity::Model,
    flag: ObjectActivity,
) -> Result<(), Error> {
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
        return ignore(data, row, "nothing reported belongs to a community here").await;
    }
    let reason = flag
        .content
        .or(flag.summary)
        .map(|t| text_of(&sanitize_html(&t)).chars().take(5000).collect());
    let txn = crate::context::begin(&data.db).await?;
    for cid in local {
        let (post_id, person_id) = found.get(&cid).copied().unwrap_or_default();
        store_report(
            &txn,
            &flag.id,
            cid,
            &flag.actor,
            post_id,
            person_id,
            reason.clone(),
        )
        .await?;
    }
    mark_done(&txn, row.id).await?;
    txn.commit().await?;
    Ok(())
}
