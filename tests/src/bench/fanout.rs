//! Fan-out: one post to many followers on many instances, through Copse's durable outbox, and
//! the same load through the federation crate's own `SendActivityTask` as the reference peer.

use super::{
    ceilings::Ceilings,
    measure::{Row, Stopwatch},
    sink::Sink,
};
use crate::TestInstance;
use chrono::Utc;
use copse_entities::{community, community_follower, person, DbUrl};
use sea_orm::{
    ActiveValue::NotSet, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set,
};
use serde_json::json;
use std::time::{Duration, Instant};
use url::Url;

/// Adds `followers` remote followers spread over `instances` instances on the sink, with or
/// without shared inboxes.
pub async fn seed_followers(
    db: &impl ConnectionTrait,
    community: &community::Model,
    sink_port: u16,
    followers: usize,
    instances: usize,
    shared: bool,
    tag: &str,
) {
    seed_followers_at(db, community, followers, instances, shared, tag, |i| {
        format!("http://{tag}{i}.localhost:{sink_port}")
    })
    .await
}

/// Adds `followers` remote followers spread over `instances` instances, instance `i` at
/// `base(i)` (scheme, host and port), with or without shared inboxes.
pub async fn seed_followers_at(
    db: &impl ConnectionTrait,
    community: &community::Model,
    followers: usize,
    instances: usize,
    shared: bool,
    tag: &str,
    base: impl Fn(usize) -> String,
) {
    let now = Utc::now();
    let ids: Vec<usize> = (0..followers).collect();
    for chunk in ids.chunks(1000) {
        let people: Vec<person::ActiveModel> = chunk
            .iter()
            .map(|i| {
                let base = base(i % instances);
                let id = format!("{base}/users/u{i}");
                person::ActiveModel {
                    id: NotSet,
                    ap_id: Set(DbUrl(Url::parse(&id).expect("url"))),
                    name: Set(format!("u{i}")),
                    display_name: Set(None),
                    summary: Set(None),
                    inbox: Set(DbUrl(Url::parse(&format!("{id}/inbox")).expect("url"))),
                    shared_inbox: Set(
                        shared.then(|| DbUrl(Url::parse(&format!("{base}/inbox")).expect("url")))
                    ),
                    key_id: Set(DbUrl(Url::parse(&format!("{id}#main-key")).expect("url"))),
                    public_key_pem: Set(String::new()),
                    private_key_pem: Set(None),
                    local: Set(false),
                    published: Set(now),
                    fetched_at: Set(now),
                    ..Default::default()
                }
            })
            .collect();
        let ap_ids: Vec<DbUrl> = people
            .iter()
            .filter_map(|p| p.ap_id.try_as_ref().cloned())
            .collect();
        person::Entity::insert_many(people)
            .exec(db)
            .await
            .expect("people");
        let ids: Vec<i64> = person::Entity::find()
            .select_only()
            .column(person::Column::Id)
            .filter(person::Column::ApId.is_in(ap_ids))
            .into_tuple()
            .all(db)
            .await
            .expect("ids");
        let follows: Vec<community_follower::ActiveModel> = ids
            .into_iter()
            .map(|pid| community_follower::ActiveModel {
                id: NotSet,
                community_id: Set(community.id),
                person_id: Set(pid),
                follow_id: Set(DbUrl(
                    Url::parse(&format!("http://f.localhost/{tag}/{pid}")).expect("url"),
                )),
                pending: Set(false),
                published: Set(now),
                ..Default::default()
            })
            .collect();
        community_follower::Entity::insert_many(follows)
            .exec(db)
            .await
            .expect("follows");
    }
}

/// Runs one fan-out and returns its row. The sink must be empty.
pub async fn copse_fanout(
    a: &TestInstance,
    sink: &Sink,
    db_name: &str,
    (followers, instances): (usize, usize),
    shared: bool,
    verify: bool,
    ceilings: &Ceilings,
) -> Row {
    let name = format!("f{}{}", followers, if shared { "s" } else { "p" });
    let community = a.create_community(&name, "Fan-out").await;
    let token = a.create_user(&format!("{name}u")).await;
    let tag = format!("{name}i");
    seed_followers(
        a.db(),
        &community,
        sink.port,
        followers,
        instances,
        shared,
        &tag,
    )
    .await;
    let inboxes = if shared { instances } else { followers };
    let expected = inboxes * 2;
    sink.clear();
    sink.verify_with(verify.then(|| {
        copse_federation::signatures::PublicKey::from_pem(&community.public_key_pem)
            .expect("community key")
    }));
    let sw = Stopwatch::start();
    let started = Instant::now();
    let (status, body) = a
        .api(
            reqwest::Method::POST,
            &format!("/api/v1/communities/{name}/posts"),
            Some(&token),
            Some(json!({ "title": "Fan-out", "content": "to everyone" })),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let posted = started.elapsed();
    let done = sink.wait_for(expected, Duration::from_secs(600)).await;
    let mut lat: Vec<Duration> = sink
        .arrivals()
        .iter()
        .map(|t| t.duration_since(started))
        .collect();
    let first = lat.iter().min().copied().unwrap_or_default();
    let connections = sink.connections();
    let bound = ceilings.delivery_bound(expected, connections);
    let mut row = Row::new(
        db_name,
        &format!(
            "fan-out {followers} followers / {instances} instances, {}",
            if shared {
                "shared inboxes"
            } else {
                "personal inboxes"
            }
        ),
        sink.distinct() as u64,
        &sw,
    )
    .against("sign(all cores)", ceilings.sign_all)
    .latencies(&mut lat);
    row.note = format!(
        "{} deliveries expected{}; duplicates {}; post stored in {} ms, first delivery at {} ms; \
         {connections} connections; sign+transport bound {bound:.0}/s, {:.2} of it",
        expected,
        if done { "" } else { ", NOT ALL ARRIVED" },
        sink.duplicates(),
        posted.as_millis(),
        first.as_millis(),
        row.per_sec / bound,
    );
    row.ops = sink.distinct() as u64;
    assert!(
        done,
        "fan-out did not complete: {} of {expected}",
        sink.distinct()
    );
    assert_eq!(
        sink.bad_signatures(),
        0,
        "every delivery carries a valid signature"
    );
    sink.verify_with(None);
    assert_eq!(
        sink.distinct(),
        expected,
        "exactly one delivery per inbox and activity"
    );
    row
}

/// The federation crate's own sending path on the same load: `SendActivityTask` per inbox.
pub mod reference {
    use super::*;
    use activitypub_federation::{
        activity_sending::SendActivityTask,
        config::{Data, FederationConfig},
        traits::{Activity, Actor, Object},
    };
    use async_trait::async_trait;

    #[derive(Debug, Clone)]
    struct RefActor {
        id: Url,
        public: String,
        private: String,
    }

    #[async_trait]
    impl Object for RefActor {
        type DataType = ();
        type Kind = serde_json::Value;
        type Error = activitypub_federation::error::Error;

        fn id(&self) -> &Url {
            &self.id
        }
        async fn read_from_id(_: Url, _: &Data<()>) -> Result<Option<Self>, Self::Error> {
            Ok(None)
        }
        async fn into_json(self, _: &Data<()>) -> Result<Self::Kind, Self::Error> {
            Ok(serde_json::Value::Null)
        }
        async fn verify(_: &Self::Kind, _: &Url, _: &Data<()>) -> Result<(), Self::Error> {
            Ok(())
        }
        async fn from_json(_: Self::Kind, _: &Data<()>) -> Result<Self, Self::Error> {
            Err(activitypub_federation::error::Error::NotFound)
        }
    }

    impl Actor for RefActor {
        fn public_key_pem(&self) -> &str {
            &self.public
        }
        fn private_key_pem(&self) -> Option<String> {
            Some(self.private.clone())
        }
        fn inbox(&self) -> Url {
            self.id.clone()
        }
    }

    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
    struct RefAnnounce {
        id: Url,
        actor: Url,
        #[serde(rename = "type")]
        kind: String,
        object: serde_json::Value,
    }

    #[async_trait]
    impl Activity for RefAnnounce {
        type DataType = ();
        type Error = activitypub_federation::error::Error;
        fn id(&self) -> &Url {
            &self.id
        }
        fn actor(&self) -> &Url {
            &self.actor
        }
        async fn verify(&self, _: &Data<()>) -> Result<(), Self::Error> {
            Ok(())
        }
        async fn receive(self, _: &Data<()>) -> Result<(), Self::Error> {
            Ok(())
        }
    }

    /// Sends `inboxes` deliveries of one Announce through `SendActivityTask`, 64 at a time on
    /// spawned tasks (both cores), and returns its row.
    pub async fn run(
        sink: &Sink,
        db_name: &str,
        inboxes: usize,
        instances: usize,
        shared: bool,
        sign_ceiling: f64,
    ) -> Row {
        let (public, private) = copse_federation::signatures::generate_keypair().expect("keys");
        let actor = RefActor {
            id: Url::parse("http://reference.localhost/c/net").expect("url"),
            public: public.clone(),
            private,
        };
        let settings = copse_federation::FederationSettings::new("reference.localhost", true);
        let client = copse_federation::http::client(&settings).expect("client");
        let config = FederationConfig::builder()
            .domain("reference.localhost")
            .app_data(())
            .debug(true)
            .client(reqwest_middleware::ClientBuilder::new(client).build())
            .build()
            .await
            .expect("config");
        let data = config.to_request_data();
        let targets: Vec<Url> = (0..inboxes)
            .map(|i| {
                let base = format!("http://ref{}.localhost:{}", i % instances, sink.port);
                Url::parse(&if shared {
                    format!("{base}/inbox")
                } else {
                    format!("{base}/users/u{i}/inbox")
                })
                .expect("url")
            })
            .collect();
        let announce = RefAnnounce {
            id: Url::parse("http://reference.localhost/activities/announce/1").expect("url"),
            actor: actor.id.clone(),
            kind: "Announce".into(),
            object: json!({ "type": "Note", "id": "http://reference.localhost/post/1", "content": "to everyone" }),
        };
        sink.clear();
        let sw = Stopwatch::start();
        let started = Instant::now();
        let tasks = SendActivityTask::prepare(&announce, &actor, targets, &data)
            .await
            .expect("prepare");
        let sem = std::sync::Arc::new(tokio::sync::Semaphore::new(64));
        let mut set = tokio::task::JoinSet::new();
        for task in tasks {
            let permit = sem.clone().acquire_owned().await.expect("permit");
            let data = data.clone();
            set.spawn(async move {
                let r = task.sign_and_send(&data).await;
                drop(permit);
                r
            });
        }
        let mut failures = 0;
        while let Some(r) = set.join_next().await {
            if !matches!(r, Ok(Ok(()))) {
                failures += 1;
            }
        }
        let mut lat: Vec<Duration> = sink
            .arrivals()
            .iter()
            .map(|t| t.duration_since(started))
            .collect();
        Row::new(
            db_name,
            &format!("reference SendActivityTask, {inboxes} inboxes"),
            sink.distinct() as u64,
            &sw,
        )
        .against("sign(all cores)", sign_ceiling)
        .latencies(&mut lat)
        .note(format!("rsa crate signing; {failures} failures"))
    }
}
