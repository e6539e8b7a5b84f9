//! Notification mail: a worker that sends each notification to the people who chose "each",
//! and one digest a day (UTC) of the days before to those who chose "digest".
//!
//! The queue is the `notification` table itself: a row with no `mailed_at` is still to be
//! mailed, and it is marked only after the SMTP server accepted the mail. Nothing is lost on a
//! restart, and a crash can repeat only the mail being sent when it happened. Rows for people
//! who want no mail are marked as passed over (by `notify`, or here when the choice changed).

pub mod smtp;

use crate::settings::MailSettings;
use crate::AppState;
use chrono::{DateTime, Utc};
use copse_entities::{
    local_user::{self, EmailChoice},
    notification,
};
use copse_federation::{Data, Error};
use sea_orm::{
    sea_query::{Expr, Query},
    ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use smtp::Envelope;

/// Notifications listed in one digest; the rest are counted and left to the page.
const DIGEST_LINES: usize = 100;

/// Notifications sent one by one in a pass.
const EACH_BATCH: u64 = 50;

/// True for an address we are willing to put in a header: `local@domain`, no spaces, no
/// characters that end or open a header field.
pub fn is_address(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    (3..=254).contains(&s.len())
        && !local.is_empty()
        && !domain.is_empty()
        && !domain.contains('@')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && s.chars()
            .all(|c| c.is_ascii_graphic() && !"<>()[],;:\\\"".contains(c))
}

/// A header value as one line: control characters become spaces, and non-ASCII text is
/// encoded (RFC 2047).
fn header_text(s: &str) -> String {
    let line: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(200)
        .collect();
    if line.is_ascii() {
        return line;
    }
    // Encoded words of at most 75 characters: 45 bytes of text each.
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in line.chars() {
        if chunk.len() + c.len_utf8() > 45 {
            words.push(std::mem::take(&mut chunk));
        }
        chunk.push(c);
    }
    words.push(chunk);
    words
        .iter()
        .map(|w| {
            format!(
                "=?utf-8?b?{}?=",
                openssl::base64::encode_block(w.as_bytes())
            )
        })
        .collect::<Vec<_>>()
        .join("\r\n ")
}

/// A whole plain-text message.
fn message(data: &Data, from: &str, to: &str, subject: &str, body: &str) -> String {
    let now = data.clock.now();
    let host = data
        .urls
        .base()
        .host_str()
        .unwrap_or("localhost")
        .to_string();
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {}\r\nDate: {}\r\nMessage-ID: <{}@{host}>\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Transfer-Encoding: 8bit\r\nAuto-Submitted: auto-generated\r\n\r\n{body}",
        header_text(subject),
        now.to_rfc2822(),
        uuid::Uuid::new_v4(),
    )
}

/// A notification's link as an absolute URL.
fn absolute(data: &Data, link: &str) -> String {
    if link.starts_with('/') {
        data.urls
            .base()
            .join(link)
            .map(|u| u.to_string())
            .unwrap_or_else(|_| link.to_string())
    } else {
        link.to_string()
    }
}

/// What ends every mail: where the notifications are, and where the choice is changed.
fn footer(data: &Data) -> String {
    format!(
        "\n--\nAll your notifications: {}\nChoose which mail you get: {}\n",
        absolute(data, "/notifications"),
        absolute(data, "/settings/notifications"),
    )
}

/// The mail for one notification.
fn single(data: &Data, s: &MailSettings, to: &str, n: &notification::Model) -> Envelope {
    let body = format!("{}\n{}\n{}", n.text, absolute(data, &n.link), footer(data));
    Envelope {
        to: to.to_string(),
        message: message(data, &s.from, to, &n.text, &body),
    }
}

/// The digest of `items` (oldest first), `more` others left out.
fn digest(
    data: &Data,
    s: &MailSettings,
    to: &str,
    items: &[notification::Model],
    more: usize,
) -> Envelope {
    let domain = &data.settings.domain;
    let mut body = format!("Your notifications on {domain}:\n\n");
    for n in items {
        body.push_str(&format!(
            "- {}\n  {}\n  {}\n",
            n.text,
            n.created_at.format("%Y-%m-%d %H:%M UTC"),
            absolute(data, &n.link)
        ));
    }
    if more > 0 {
        body.push_str(&format!("\nand {more} more on the notifications page.\n"));
    }
    body.push_str(&footer(data));
    let subject = format!("Your notifications on {domain}");
    Envelope {
        to: to.to_string(),
        message: message(data, &s.from, to, &subject, &body),
    }
}

/// Marks notifications as mailed (or passed over) at `now`.
async fn mark(data: &Data, ids: Vec<i64>, now: DateTime<Utc>) -> Result<(), Error> {
    if ids.is_empty() {
        return Ok(());
    }
    notification::Entity::update_many()
        .col_expr(notification::Column::MailedAt, Expr::value(Some(now)))
        .filter(notification::Column::Id.is_in(ids))
        .filter(notification::Column::MailedAt.is_null())
        .exec(&data.db)
        .await?;
    Ok(())
}

/// The people whose accounts choose `choice` and have an address.
fn choosing(choice: EmailChoice) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(local_user::Column::PersonId)
        .from(local_user::Entity)
        .and_where(local_user::Column::EmailNotifications.eq(choice))
        .and_where(local_user::Column::Email.is_not_null())
        .and_where(local_user::Column::Email.ne(""))
        .to_owned()
}

/// Why a pass of the mailer stopped.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The database failed.
    #[error("database: {0}")]
    Db(#[from] Error),
    /// The database failed.
    #[error("database: {0}")]
    Orm(#[from] sea_orm::DbErr),
    /// The SMTP server did not take a mail.
    #[error("smtp: {0}")]
    Smtp(#[from] smtp::SmtpError),
}

/// One pass: passes over what nobody wants mailed, sends what is due. Returns how many mails
/// went out. A mail the server refuses stops the pass; it is tried again on the next one.
pub async fn send_due(data: &Data, s: &MailSettings) -> Result<usize, MailError> {
    let now = data.clock.now();
    let helo = data
        .urls
        .base()
        .host_str()
        .unwrap_or("localhost")
        .to_string();
    // Choices changed since the rows were written: nobody is mailed what they no longer want.
    let wanted = Condition::any()
        .add(notification::Column::PersonId.in_subquery(choosing(EmailChoice::Each)))
        .add(notification::Column::PersonId.in_subquery(choosing(EmailChoice::Digest)));
    notification::Entity::update_many()
        .col_expr(notification::Column::MailedAt, Expr::value(Some(now)))
        .filter(notification::Column::MailedAt.is_null())
        .filter(wanted.not())
        .exec(&data.db)
        .await?;
    let mut sent = 0;
    let each = notification::Entity::find()
        .filter(notification::Column::MailedAt.is_null())
        .filter(notification::Column::PersonId.in_subquery(choosing(EmailChoice::Each)))
        .order_by_asc(notification::Column::Id)
        .limit(EACH_BATCH)
        .all(&data.db)
        .await?;
    for n in each {
        let Some(to) = address_of(data, n.person_id).await? else {
            continue;
        };
        smtp::send(s, &helo, &single(data, s, &to, &n)).await?;
        mark(data, vec![n.id], data.clock.now()).await?;
        sent += 1;
    }
    // A digest holds everything from before today (UTC), once the day has turned.
    let today = now
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc())
        .unwrap_or(now);
    let people: Vec<i64> = notification::Entity::find()
        .select_only()
        .column(notification::Column::PersonId)
        .distinct()
        .filter(notification::Column::MailedAt.is_null())
        .filter(notification::Column::CreatedAt.lt(today))
        .filter(notification::Column::PersonId.in_subquery(choosing(EmailChoice::Digest)))
        .into_tuple()
        .all(&data.db)
        .await?;
    for person_id in people {
        let Some(to) = address_of(data, person_id).await? else {
            continue;
        };
        let due = notification::Entity::find()
            .filter(notification::Column::PersonId.eq(person_id))
            .filter(notification::Column::MailedAt.is_null())
            .filter(notification::Column::CreatedAt.lt(today))
            .order_by_asc(notification::Column::Id)
            .all(&data.db)
            .await?;
        let shown = due.len().min(DIGEST_LINES);
        let mail = digest(data, s, &to, &due[..shown], due.len() - shown);
        smtp::send(s, &helo, &mail).await?;
        mark(data, due.iter().map(|n| n.id).collect(), data.clock.now()).await?;
        sent += 1;
    }
    Ok(sent)
}

/// The address a person's notifications go to.
async fn address_of(data: &Data, person_id: i64) -> Result<Option<String>, MailError> {
    Ok(local_user::Entity::find()
        .filter(local_user::Column::PersonId.eq(person_id))
        .one(&data.db)
        .await?
        .and_then(|u| u.email)
        .filter(|e| is_address(e)))
}

/// Sends due mail every `mail.poll_interval_ms`, for as long as the instance runs.
pub async fn run_mailer(config: AppState, s: MailSettings) {
    let data = config.to_request_data();
    let pause = std::time::Duration::from_millis(s.poll_interval_ms);
    loop {
        if let Err(e) = send_due(&data, &s).await {
            tracing::warn!("mail: {e}");
        }
        tokio::time::sleep(pause).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_that_could_break_a_header_are_refused() {
        assert!(is_address("ana@example.org"));
        assert!(!is_address("ana@example.org\r\nBcc: x@y.z"));
        assert!(!is_address("ana <ana@example.org>"));
        assert!(!is_address("@example.org"));
        assert!(!is_address("ana@"));
        assert!(!is_address("a@b@c"));
    }

    #[test]
    fn header_text_is_one_line_and_encodes_what_is_not_ascii() {
        assert_eq!(header_text("a\r\nBcc: b"), "a  Bcc: b");
        let h = header_text("Ana replied in “Soil”");
        assert!(h.starts_with("=?utf-8?b?") && !h.contains('“'));
    }
}
