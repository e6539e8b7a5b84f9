//! Activity bodies as remote servers send them, and waits on what an instance received and
//! on its queues settling.

use super::T;
use crate::{wait_for, TestInstance};
use serde_json::{json, Value};
use std::time::Duration;

/// An activity `{ id, type, actor, object }` with the ActivityStreams context.
pub fn activity(id: impl std::fmt::Display, kind: &str, actor: &url::Url, object: Value) -> Value {
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": id.to_string(), "type": kind, "actor": actor, "object": object
    })
}

/// The same, addressed to the public.
pub fn public_activity(
    id: impl std::fmt::Display,
    kind: &str,
    actor: &url::Url,
    object: Value,
) -> Value {
    let mut a = activity(id, kind, actor, object);
    a["to"] = json!(["https://www.w3.org/ns/activitystreams#Public"]);
    a
}

/// Waits until `i` has received an activity (of the kinds Copse sends to members) that
/// matches `pred`, and returns it.
pub async fn wait_received(i: &TestInstance, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
    let mut found = None;
    let end = tokio::time::Instant::now() + T;
    while found.is_none() {
        for kind in [
            "Create", "Announce", "Add", "Remove", "Invite", "Accept", "Reject", "Block", "Undo",
        ] {
            if let Some(v) = i.received(kind).await.into_iter().find(|v| pred(v)) {
                found = Some(v);
                break;
            }
        }
        assert!(
            tokio::time::Instant::now() < end,
            "{} never received {what}",
            i.name
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    found.unwrap()
}

/// Waits until `i` has nothing left to do: every received activity handled and every
/// delivery made. A test asserts that something did NOT happen only after this.
pub async fn quiet(i: &TestInstance) {
    i.settled().await;
    wait_for("the outbox to drain", T, || async {
        i.queued_deliveries().await == 0
    })
    .await;
    // What the inbox worker handled last may itself have queued a delivery.
    i.settled().await;
    wait_for("the outbox to drain", T, || async {
        i.queued_deliveries().await == 0
    })
    .await;
}
