//! Everything ActivityPub in Copse: wire types, HTTP signatures, fetching remote actors, the
//! inbox pipeline, the activities we send and receive, and the durable queues behind them.

pub mod actions;
pub mod activities;
pub mod clock;
pub mod context;
pub mod error;
pub mod fetch;
pub mod html;
pub mod http;
pub mod ids;
pub mod intake;
pub mod limits;
pub mod metrics;
pub mod nodeinfo;
pub mod objects;
pub mod outbox;
pub mod protocol;
pub mod queue;
pub mod rules;
pub mod settings;
pub mod signatures;
pub mod store;
pub mod urls;

pub use context::FederationContext;
pub use error::Error;
pub use settings::FederationSettings;

/// The request context handed to every federation function: the crate's `Data` around ours.
pub type Data = activitypub_federation::config::Data<FederationContext>;
