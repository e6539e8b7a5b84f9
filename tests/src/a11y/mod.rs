//! Basic accessibility checks of a page open in the [`Browser`]: labels on every field,
//! one `h1` and headings in order, names on links, buttons and images, WCAG AA colour contrast
//! of every piece of text, and no page wider than the window. `audit.js` runs them in the page.

use crate::browser::Browser;

/// The checks, run in the page; they return the problems found.
const AUDIT: &str = include_str!("audit.js");

/// The accessibility problems of the page the browser shows, one line each.
pub async fn problems(b: &Browser) -> Vec<String> {
    let found = b.run_script(AUDIT).await;
    serde_json::from_value(found).expect("the audit returns a list of strings")
}
