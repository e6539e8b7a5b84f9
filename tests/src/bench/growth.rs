//! Growth: the queries behind topic lists (of a typical community and of the largest, which grows
//! with the table), threads, follower inboxes and collections, timed at increasing table sizes. With the right indexes their cost stays flat.

use super::measure::Row;
use crate::TestDb;
use chrono::{Duration as ChronoDuration, Utc};
use copse_entities::{activity, community, community_follower, person, post, DbUrl};
use sea_orm::{
    ActiveValue::NotSet, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use std::time::{Duration, Instant};
use url::Url;

fn url(s: String) -> DbUrl {
    DbUrl(Url::parse(&s).expect("url"))
}

/// Fills a fresh database with `rows` posts and follows, `rows / 100` communities and
/// `rows / 10` people, and `rows / 10` outbox activities. Ids must start at 1 (the posts and
/// follows refer to communities and people by their position).
pub(crate) async fn build(db: &DatabaseConnection, rows: usize) {
    let now = Utc::now();
    let communities = (rows / 100).max(1);
    let people = (rows / 10).max(1);
    let chunk = 1000;
    let mut i = 0;
    while i < communities {
        let end = (i + chunk).min(communities);
        community::Entity::insert_many((i..end).map(|c| community::ActiveModel {
            id: NotSet,
            ap_id: Set(url(format!("http://g.localhost/c/c{c}"))),
            name: Set(format!("c{c}")),
            title: Set(format!("Community {c}")),
            summary: Set(None),
            inbox: Set(url(format!("http://g.localhost/c/c{c}/inbox"))),
            shared_inbox: Set(None),
            key_id: Set(url(format!("http://g.localhost/c/c{c}#main-key"))),
            public_key_pem: Set(String::new()),
            private_key_pem: Set(None),
            local: Set(true),
            manually_approves_followers: Set(false),
            discoverable: Set(true),
            creator_id: Set(None),
            published: Set(now),
            fetched_at: Set(now),
            ..Default::default()
        }))
        .exec(db)
        .await
        .expect("communities");
        i = end;
    }
    i = 0;
    while i < people {
        let end = (i + chunk).min(people);
        person::Entity::insert_many((i..end).map(|p| person::ActiveModel {
            id: NotSet,
            ap_id: Set(url(format!("http://p{}.localhost/u/p{p}", p % 1000))),
            name: Set(format!("p{p}")),
            display_name: Set(None),
            summary: Set(None),
            inbox: Set(url(format!("http://p{}.localhost/u/p{p}/inbox", p % 1000))),
            shared_inbox: Set(Some(url(format!("http://p{}.localhost/inbox", p % 1000)))),
            key_id: Set(url(format!(
                "http://p{}.localhost/u/p{p}#main-key",
                p % 1000
            ))),
            public_key_pem: Set(String::new()),
            private_key_pem: Set(None),
            local: Set(false),
            published: Set(now),
            fetched_at: Set(now),
            ..Default::default()
        }))
        .exec(db)
        .await
        .expect("people");
        i = end;
    }
    i = 0;
    while i < rows {
        let end = (i + chunk).min(rows);
        // Every fourth post is a topic; the three after it are replies in its thread.
        post::Entity::insert_many((i..end).map(|n| post::ActiveModel {
            id: NotSet,
            ap_id: Set(url(format!("http://g.localhost/post/{n}"))),
            community_id: Set(community_of_topic(n / 4, communities)),
            author_id: Set((n % people) as i64 + 1),
            title: Set(format!("Post {n}")),
            content: Set(
                "<p>Some text of a realistic length for a post in a community.</p>".into(),
            ),
            source: Set(None),
            local: Set(true),
            published: Set(now - ChronoDuration::seconds(n as i64)),
            updated: Set(None),
            parent_id: Set((n % 4 != 0).then_some((n - n % 4) as i64 + 1)),
            topic_id: Set((n % 4 != 0).then_some((n - n % 4) as i64 + 1)),
            last_activity: Set(Some(now - ChronoDuration::seconds(n as i64))),
            locked: Set(false),
            pinned: Set(false),
            deleted: Set(false),
            removed: Set(false),
            tags: Set(None),
            url: Set(None),
        }))
        .exec(db)
        .await
        .expect("posts");
        community_follower::Entity::insert_many((i..end).map(|n| {
            community_follower::ActiveModel {
                id: NotSet,
                community_id: Set((n % communities) as i64 + 1),
                person_id: Set(((n / communities) % people) as i64 + 1),
                follow_id: Set(url(format!("http://f.localhost/f/{n}"))),
                pending: Set(false),
                published: Set(now),
                ..Default::default()
            }
        }))
        .exec(db)
        .await
        .expect("follows");
        activity::Entity::insert_many((i..end).step_by(10).map(|n| activity::ActiveModel {
            id: NotSet,
            ap_id: Set(url(format!("http://g.localhost/activities/announce/{n}"))),
            kind: Set("Announce".into()),
            actor: Set(url(format!("http://g.localhost/c/c{}", n % communities))),
            community_id: Set(Some((n % communities) as i64 + 1)),
            post_id: Set(None),
            data: Set("{}".into()),
            public: Set(true),
            published: Set(now),
        }))
        .exec(db)
        .await
        .expect("activities");
        i = end;
    }
}

/// The community of the `topic`-th topic: one in a hundred belong to community 1, the largest,
/// whose topics grow with the table (25 at 10k posts, 2,500 at 1M); the rest are spread evenly.
fn community_of_topic(topic: usize, communities: usize) -> i64 {
    if communities < 2 || topic.is_multiple_of(100) {
        1
    } else {
        (topic % (communities - 1)) as i64 + 2
    }
}

/// A small xorshift generator: the same sequence on every run.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    /// A number below `n`.
    pub(crate) fn next(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// The queries timed, in the order they are reported.
const QUERIES: [&str; 6] = [
    "topic list",
    "topic list of the largest community",
    "newest topics of the largest community",
    "thread",
    "follower inboxes",
    "collections",
];

/// Runs query `name` once on a database of `rows` rows, on a random community or post.
async fn run_query(db: &DatabaseConnection, rows: usize, name: &str, rng: &mut Rng) {
    let communities = (rows / 100).max(1);
    let c = match name {
        "topic list of the largest community" | "newest topics of the largest community" => 1,
        _ => rng.next(communities) as i64 + 1,
    };
    match name {
        "topic list"
        | "topic list of the largest community"
        | "newest topics of the largest community" => {
            // The API's two sorts: "active" (the default) and "new".
            let order = if name.starts_with("newest") {
                post::Column::Published
            } else {
                post::Column::LastActivity
            };
            let page = post::Entity::find()
                .filter(post::Column::CommunityId.eq(c))
                .filter(post::Column::TopicId.is_null())
                .filter(post::Column::Deleted.eq(false))
                .filter(post::Column::Removed.eq(false))
                .order_by_desc(post::Column::Pinned)
                .order_by_desc(order)
                .order_by_desc(post::Column::Id)
                .limit(20)
                .all(db)
                .await
                .expect("topics");
            assert!(!page.is_empty());
        }
        "thread" => {
            let n = rng.next(rows);
            let id = url(format!("http://g.localhost/post/{}", n - n % 4));
            let topic = post::Entity::find()
                .filter(post::Column::ApId.eq(id))
                .one(db)
                .await
                .expect("thread")
                .expect("post exists");
            post::Entity::find()
                .filter(post::Column::TopicId.eq(topic.id))
                .order_by_asc(post::Column::Id)
                .limit(2000)
                .all(db)
                .await
                .expect("replies");
        }
        "follower inboxes" => {
            copse_federation::outbox::announce::follower_inboxes(db, c)
                .await
                .expect("inboxes");
        }
        _ => {
            community_follower::Entity::find()
                .filter(community_follower::Column::CommunityId.eq(c))
                .filter(community_follower::Column::Pending.eq(false))
                .count(db)
                .await
                .expect("count");
            activity::Entity::find()
                .filter(activity::Column::CommunityId.eq(c))
                .filter(activity::Column::Public.eq(true))
                .order_by_desc(activity::Column::Id)
                .limit(20)
                .all(db)
                .await
                .expect("outbox");
        }
    }
}

/// Brings a freshly filled database to the state a running one is in: statistics gathered, and
/// on PostgreSQL the visibility map set (what autovacuum does on its own a little later), so
/// that covering indexes are read without visiting the table. Without it, whether autovacuum
/// has reached a table yet decides the plan, and the timings swing by 2x between runs.
async fn settle(db: &DatabaseConnection) {
    let sql = match db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => {
            "VACUUM (ANALYZE) post, community, person, community_follower, activity"
        }
        _ => "ANALYZE",
    };
    db.execute_unprepared(sql).await.expect("analyze");
    if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        // VACUUM leaves the pages it touched dirty in the buffer cache; the checkpointer would
        // write them soon. Without this, the first queries pay for writing them out as they are
        // evicted (`EXPLAIN (BUFFERS)` showed `written=18` on a 25-row topic list). Needs a
        // superuser or `pg_checkpoint`; without either, the run goes on as it is.
        let _ = db.execute_unprepared("CHECKPOINT").await;
    }
}

/// Builds each size in a fresh database and reports the median of each query, and the ratio
/// of the largest size to the smallest.
pub async fn run(db_name: &str, sizes: &[usize], reps: usize) -> Vec<Row> {
    let mut dbs = Vec::new();
    for &rows in sizes {
        let test_db = TestDb::new().await;
        let settings = crate::test_settings("growth.localhost:1", &test_db.url);
        let conn = copse_server::db::connect(&settings).await.expect("connect");
        copse_server::db::migrate(&conn).await.expect("migrate");
        let started = Instant::now();
        build(&conn, rows).await;
        settle(&conn).await;
        eprintln!(
            "  growth: built {rows} rows in {:.1}s",
            started.elapsed().as_secs_f64()
        );
        dbs.push((test_db, conn, rows));
    }
    // Interleaved: each repetition runs a query on every size in turn, so a slow moment of this
    // shared machine falls on all sizes alike. Timed one size after another, the same build
    // gave ratios from 0.9 to 1.9 between runs.
    let mut rngs: Vec<Rng> = dbs.iter().map(|_| Rng(0x9e37_79b9_7f4a_7c15)).collect();
    let mut per_size: Vec<(usize, Vec<(&str, Duration)>)> =
        dbs.iter().map(|(_, _, rows)| (*rows, Vec::new())).collect();
    for name in QUERIES {
        let mut samples: Vec<Vec<Duration>> = vec![Vec::with_capacity(reps); dbs.len()];
        // The first tenth warms the caches and is not counted.
        for rep in 0..reps + reps / 10 {
            for (i, (_, conn, rows)) in dbs.iter().enumerate() {
                let started = Instant::now();
                run_query(conn, *rows, name, &mut rngs[i]).await;
                if rep >= reps / 10 {
                    samples[i].push(started.elapsed());
                }
            }
        }
        for (i, mut s) in samples.into_iter().enumerate() {
            s.sort_unstable();
            per_size[i].1.push((name, s[s.len() / 2]));
        }
    }
    let (small, first) = &per_size[0];
    let (large, last) = &per_size[per_size.len() - 1];
    first
        .iter()
        .zip(last.iter())
        .map(|((name, a), (_, b))| {
            let ratio = b.as_secs_f64() / a.as_secs_f64().max(1e-9);
            let series: Vec<String> = per_size
                .iter()
                .map(|(rows, qs)| {
                    let d = qs
                        .iter()
                        .find(|(n, _)| n == name)
                        .map(|(_, d)| *d)
                        .unwrap_or_default();
                    format!("{rows}: {:.0} µs", d.as_secs_f64() * 1e6)
                })
                .collect();
            let mut row = Row {
                db: db_name.into(),
                scenario: format!("growth: {name}, {small} -> {large} rows"),
                ops: reps as u64,
                per_sec: 1.0 / b.as_secs_f64().max(1e-9),
                ceiling: format!("itself at {small} rows"),
                ratio: Some(ratio),
                cpu_ms_per_op: 0.0,
                p50_ms: b.as_secs_f64() * 1000.0,
                p99_ms: 0.0,
                peak_rss_mb: super::measure::peak_rss_mb(),
                note: format!(
                    "median {}; ratio = large/small (target <= 1.5)",
                    series.join(", ")
                ),
            };
            row.p99_ms = row.p50_ms;
            row
        })
        .collect()
}
