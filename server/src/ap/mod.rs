//! The ActivityPub endpoints: actors, collections, objects, activities and inboxes, and the
//! content negotiation they share with the pages.

pub mod actors;
pub mod collections;
pub mod inbox;
pub mod negotiation;
pub mod objects;
