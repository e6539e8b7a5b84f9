//! What other servers send about events: `Join`/`Leave` of our events from any server, answers
//! to our people's joins, a "going" reply from Mastodon, and the events of groups we follow.

mod join;
mod join_answer;
mod remote_event;
mod reply_answer;

pub use join::{verify_join, verify_leave, verify_undo_join};
pub use join_answer::verify_join_answer;
pub use remote_event::{verify_event, verify_remote};
pub use reply_answer::verify_reply_answer;
