//! The federation context: settings, database, HTTP client, keys and queue wake-ups. No global
//! state: one process can hold several instances, which the tests rely on.

use crate::{signatures::SigningKey, urls::Urls, Error};
// queue/delivery.rs still names the settings by this path.
pub use crate::settings::FederationSettings;
use sea_orm::{DatabaseBackend, DatabaseConnection};
use std::{collections::HashMap, sync::Arc};
use tokio::sync::{Notify, RwLock};
use url::Url;

/// Shared state of one instance, cheap to clone.
#[derive(Clone)]
pub struct FederationContext {
    /// The database.
    pub db: DatabaseConnection,
    /// Settings.
    pub settings: Arc<FederationSettings>,
    /// Builds our URLs.
    pub urls: Urls,
    /// The HTTP client for fetches.
    pub client: reqwest::Client,
    /// The HTTP client for deliveries.
    pub deliveries: crate::http::deliver::DeliveryClient,
    /// The instance actor's key, which signs fetches.
    pub instance_key: SigningKey,
    /// Wakes delivery workers when deliveries are queued.
    pub outbox_wake: Arc<Notify>,
    /// Wakes inbox workers when activities arrive.
    pub inbox_wake: Arc<Notify>,
    /// The time, which tests can fix.
    pub clock: crate::clock::Clock,
    /// What this instance's workers and inbox did since it started, for `/metrics`.
    pub metrics: Arc<crate::metrics::Counters>,
    /// Private keys of local actors, by actor id, read once from the database.
    pub(crate) signing_keys: Arc<RwLock<HashMap<Url, SigningKey>>>,
    /// Domains whose last delivery succeeded, and when that was recorded in the database, so a
    /// fan-out to a thousand healthy instances does not write a thousand health rows per batch.
    pub(crate) healthy: Arc<std::sync::Mutex<HashMap<String, std::time::Instant>>>,
    /// Parsed public keys by key id and PEM, so verifying does not re-read PEM every time.
    pub(crate) public_keys:
        Arc<std::sync::Mutex<HashMap<Url, (String, crate::signatures::PublicKey)>>>,
    /// Taken around the queue's own writes on SQLite; see `queue_write_gate`.
    queue_writes: Arc<tokio::sync::Mutex<()>>,
    /// Hands received activities to the batching writer, once `queue::writer::spawn` started it.
    pub(crate) inbox_store: Arc<std::sync::OnceLock<tokio::sync::mpsc::Sender<PendingStore>>>,
}

/// One received activity waiting to be stored, and where to say whether it was new (or why it
/// could not be stored).
pub(crate) type PendingStore = (
    copse_entities::received_activity::ActiveModel,
    tokio::sync::oneshot::Sender<Result<bool, String>>,
);

impl FederationContext {
    /// Builds the context. The instance key is the PEM stored in `site`.
    pub fn new(
        db: DatabaseConnection,
        settings: FederationSettings,
        instance_private_pem: &str,
    ) -> Result<Self, Error> {
        let urls = Urls::new(&settings.domain, settings.debug)?;
        let client = crate::http::client(&settings)?;
        let deliveries = crate::http::deliver::DeliveryClient::new(&settings)?;
        let instance_key = SigningKey::from_pem(urls.instance_key_id(), instance_private_pem)?;
        Ok(Self {
            db,
            settings: Arc::new(settings),
            urls,
            client,
            deliveries,
            instance_key,
            outbox_wake: Arc::new(Notify::new()),
            inbox_wake: Arc::new(Notify::new()),
            clock: crate::clock::Clock::default(),
            metrics: Arc::default(),
            signing_keys: Arc::default(),
            healthy: Arc::default(),
            public_keys: Arc::default(),
            queue_writes: Arc::default(),
            inbox_store: Arc::default(),
        })
    }

    /// Lets one of this process's queue workers write at a time on SQLite, which has one writer
    /// at a time anyway. Left to SQLite, a worker that finds the database busy sleeps 1, 2, 5,
    /// 10… ms between tries: in the fan-out benchmark claims took up to 27 ms and recording a
    /// batch up to 78 ms, while the write itself takes 2. PostgreSQL locks rows; no gate there.
    pub(crate) async fn queue_write_gate(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match self.db.get_database_backend() {
            DatabaseBackend::Sqlite => Some(self.queue_writes.lock().await),
            _ => None,
        }
    }

    /// The parsed public key for a key id and PEM, from the cache when the PEM is unchanged.
    pub fn public_key(
        &self,
        key_id: &Url,
        pem: &str,
    ) -> Result<crate::signatures::PublicKey, Error> {
        let mut cache = self.public_keys.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((cached_pem, key)) = cache.get(key_id) {
            if cached_pem == pem {
                return Ok(key.clone());
            }
        }
        let key = crate::signatures::PublicKey::from_pem(pem)?;
        if cache.len() > 100_000 {
            cache.clear();
        }
        cache.insert(key_id.clone(), (pem.to_string(), key.clone()));
        Ok(key)
    }

    /// Stores a received activity (batched with concurrent ones); false when its id was seen
    /// before. Fails when no writer was started for this context.
    pub async fn store_received(
        &self,
        row: copse_entities::received_activity::ActiveModel,
    ) -> Result<bool, Error> {
        let stopped = || Error::Db(sea_orm::DbErr::Custom("inbox writer stopped".into()));
        let writer = self
            .inbox_store
            .get()
            .ok_or_else(|| Error::Db(sea_orm::DbErr::Custom("inbox writer not started".into())))?;
        let (tx, rx) = tokio::sync::oneshot::channel();
        writer.send((row, tx)).await.map_err(|_| stopped())?;
        rx.await
            .map_err(|_| stopped())?
            .map_err(|e| Error::Db(sea_orm::DbErr::Custom(e)))
    }

    /// Wraps the context in the federation crate's configuration, whose `Data` handlers use.
    pub async fn into_config(
        self,
    ) -> Result<activitypub_federation::config::FederationConfig<Self>, Error> {
        let domain = self.settings.domain.clone();
        let debug = self.settings.debug;
        activitypub_federation::config::FederationConfig::builder()
            .domain(domain)
            .app_data(self)
            .debug(debug)
            .build()
            .await
            .map_err(|e| Error::Crypto(e.to_string()))
    }
}

/// Begins a write transaction. On SQLite it is `BEGIN IMMEDIATE`: a deferred transaction that
/// upgrades to a write can fail with SQLITE_BUSY without waiting on the busy timeout.
pub async fn begin(
    db: &DatabaseConnection,
) -> Result<sea_orm::DatabaseTransaction, sea_orm::DbErr> {
    use sea_orm::{SqliteTransactionMode, TransactionOptions, TransactionTrait};
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}
