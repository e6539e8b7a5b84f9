//! The Copse server: configuration, the HTTP routes (ActivityPub, REST API, HTML pages), the
//! command line, and the wiring that starts an instance. `start` is what `main` and the tests
//! both call, so a test can run several instances in one process.

pub mod accounts;
pub mod admin;
pub mod ap;
pub mod api;
pub mod cache;
pub mod current;
pub mod db;
pub mod error;
pub mod error_page;
pub mod feeds;
pub mod html;
pub mod ical;
pub mod limits;
pub mod mail;
pub mod markdown;
pub mod metrics;
pub mod network_map;
pub mod remote_ids;
pub mod router;
pub mod settings;
pub mod subcommunities;
pub mod web;
pub mod wellknown;

use activitypub_federation::config::FederationConfig;
use copse_federation::{queue, FederationContext};
use sea_orm::DatabaseConnection;
use settings::Settings;
use std::{net::SocketAddr, time::Duration};
use tokio::{net::TcpListener, task::JoinSet};

/// The state every handler gets.
pub type AppState = FederationConfig<FederationContext>;

/// A running instance. Dropping it (or `stop`) ends its server and workers.
pub struct Instance {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its configuration and federation context.
    pub config: AppState,
    /// Settings it was started with.
    pub settings: Settings,
    /// Where `/metrics` is served, when `[metrics]` is enabled.
    pub metrics_addr: Option<SocketAddr>,
    tasks: JoinSet<()>,
}

impl Instance {
    /// The database.
    pub fn db(&self) -> &DatabaseConnection {
        &self.config.db
    }

    /// The federation context as handlers see it.
    pub fn data(&self) -> copse_federation::Data {
        self.config.to_request_data()
    }

    /// Stops serving and working at once, as a crash would (queued work stays in the database).
    pub async fn stop(mut self) {
        self.tasks.shutdown().await;
    }
}

/// Why an instance could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database could not be opened or migrated.
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    /// Federation setup failed.
    #[error("federation: {0}")]
    Federation(#[from] copse_federation::Error),
    /// The listener failed.
    #[error("listener: {0}")]
    Io(#[from] std::io::Error),
}

/// Connects, migrates and builds the federation context, without serving.
pub async fn prepare(settings: &Settings) -> Result<AppState, StartError> {
    context(db::connect(settings).await?, settings).await
}

/// Migrates an open database and builds the federation context on it.
pub async fn context(db: DatabaseConnection, settings: &Settings) -> Result<AppState, StartError> {
    db::migrate(&db).await?;
    let site = db::site(&db).await?;
    let ctx = FederationContext::new(db, settings.federation_settings(), &site.private_key_pem)?;
    queue::writer::spawn(&ctx);
    Ok(ctx.into_config().await?)
}

/// Binds a listening socket with a deep accept queue. Tokio's `bind` asks for 128 pending
/// connections; a post announced to a thousand servers brings them all back for the object in
/// the same second, and connections beyond the queue are dropped and retried a second later.
/// The kernel caps the figure at `net.core.somaxconn`.
pub fn listen(addr: std::net::SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(4096)
}

/// Starts an instance on a bound listener: serves HTTP and runs the configured queue workers.
pub async fn start(settings: Settings, listener: TcpListener) -> Result<Instance, StartError> {
    let config = prepare(&settings).await?;
    let addr = listener.local_addr()?;
    let mut tasks = JoinSet::new();
    spawn_workers(&mut tasks, &config, &settings);
    let metrics_addr = metrics::spawn(&mut tasks, &config, &settings)?;
    let app = router::router(config.clone(), &settings.http);
    let header_timeout = Duration::from_secs(settings.http.header_read_timeout_seconds);
    tasks.spawn(serve(listener, app, header_timeout));
    Ok(Instance {
        addr,
        config,
        settings,
        metrics_addr,
        tasks,
    })
}

/// Spawns the delivery and inbox workers the settings ask for, and the reminders and the mailer
/// with the inbox workers.
pub fn spawn_workers(tasks: &mut JoinSet<()>, config: &AppState, settings: &Settings) {
    for _ in 0..settings.federation.delivery_workers {
        tasks.spawn(queue::delivery::run_worker((**config).clone()));
    }
    for _ in 0..settings.federation.inbox_workers {
        tasks.spawn(copse_federation::activities::worker::run_worker(
            config.clone(),
        ));
    }
    // Reminders go with the inbox workers: processes that only serve HTTP send none.
    if settings.federation.inbox_workers > 0 {
        tasks.spawn(copse_federation::actions::events::run_reminders(
            config.clone(),
        ));
        // One mailer per process that works the queues, so a mail is sent once.
        if settings.mail.enabled() {
            tasks.spawn(mail::run_mailer(config.clone(), settings.mail.clone()));
        }
    }
}

/// Our own accept loop: `axum::serve` sets no timer, so hyper's header timeout would be inert
/// and a client trickling bytes could hold a connection forever.
async fn serve(listener: TcpListener, app: axum::Router, header_timeout: Duration) {
    use hyper_util::rt::{TokioIo, TokioTimer};
    let mut conns = JoinSet::new();
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        // Handlers and limits that need the client's address find it in the request.
        let service =
            hyper_util::service::TowerToHyperService::new(tower::ServiceExt::map_request(
                app.clone(),
                move |mut req: axum::http::Request<hyper::body::Incoming>| {
                    req.extensions_mut()
                        .insert(axum::extract::ConnectInfo(peer));
                    req
                },
            ));
        conns.spawn(async move {
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .serve_connection(TokioIo::new(stream), service);
            let _ = conn.await;
        });
        // Reap finished connections so the set does not grow.
        while conns.try_join_next().is_some() {}
    }
}
