//! The REST API under `/api/v1`: JSON in and out, `Authorization: Bearer TOKEN`. Handlers
//! change the database and hand events to the federation crate; they never build ActivityPub.
//! Handler files (one per resource) never import each other: what they share lives in
//! `extract`, `lookup`, `fields`, `schema`, `path_params` and `responses` (the parameters and
//! refusals their documentation shares) and the `*views` files; the checked commands that
//! pages call too are in `commands` (and the event ones in `events` and its `participants`).
//! `openapi` gathers every handler's documentation into the OpenAPI document.

pub mod avatar;
pub mod commands;
pub mod communities;
pub mod community_views;
pub mod event_form;
pub mod event_views;
pub mod events;
pub mod extract;
pub mod fields;
pub mod listing;
pub mod lookup;
pub mod member_views;
pub mod membership;
pub mod notification_views;
pub mod notifications;
pub mod openapi;
pub mod partners;
pub mod path_params;
pub mod posts;
pub mod profile;
pub mod reports;
pub mod responses;
pub mod schema;
pub mod tokens;
pub mod views;
