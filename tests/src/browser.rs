//! A real headless Chromium driven over WebDriver, with a small API that acts as a person
//! would: go to a page, fill a field by its label, click a button or link by its text, read
//! what is shown. Each [`Browser`] has its own `chromedriver` on a free loopback port and its
//! own profile, so tests in one process run side by side. A test that panics leaves
//! screenshots at 1280 and 390 px wide in `target/browser-screenshots/`.
//!
//! Chromium is Debian's `/usr/bin/chromium` (`COPSE_CHROMIUM` overrides), the driver Debian's
//! `/usr/bin/chromedriver` (`COPSE_CHROMEDRIVER` overrides). When either is missing the tests
//! say so and pass, unless `COPSE_REQUIRE_BROWSER=1`.

use fantoccini::{elements::Element, Client, ClientBuilder, Locator};
use serde_json::json;
use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};
use url::Url;

/// What the browser tests print, or fail with, when the browser is not installed.
pub const MISSING: &str = "notice: chromium and chromium-driver are not installed \
     (apt-get install chromium chromium-driver): browser tests skipped";

/// The widths screenshots are taken at: a desktop and a phone.
pub const WIDTHS: [u32; 2] = [1280, 390];

/// How long a step waits for what it looks for to appear.
const STEP: Duration = Duration::from_secs(15);

/// The window height used at every width.
const HEIGHT: u32 = 900;

/// A browser for one test; dropping it ends the session and the driver.
pub struct Browser {
    client: Option<Client>,
    driver: Child,
    test: String,
    _profile: tempfile::TempDir,
}

fn program(var: &str, default: &str) -> PathBuf {
    std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(default))
}

/// The XPath string literal for `s` (XPath 1.0 has no escapes, so quotes are spliced in).
fn xpath_literal(s: &str) -> String {
    if !s.contains('"') {
        format!("\"{s}\"")
    } else if !s.contains('\'') {
        format!("'{s}'")
    } else {
        let parts: Vec<String> = s.split('"').map(|p| format!("\"{p}\"")).collect();
        format!("concat({})", parts.join(", '\"', "))
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

impl Browser {
    /// Starts Chromium for the test `test` (its name, used for screenshots). Returns `None`,
    /// after printing [`MISSING`], when Chromium or its driver is not installed; panics with
    /// that message instead when `COPSE_REQUIRE_BROWSER=1`.
    ///
    /// Needs a multi-threaded runtime (`#[tokio::test(flavor = "multi_thread")]`): the
    /// screenshots and the session's end are taken while dropping.
    pub async fn start(test: &str) -> Option<Self> {
        let chromium = program("COPSE_CHROMIUM", "/usr/bin/chromium");
        let driver = program("COPSE_CHROMEDRIVER", "/usr/bin/chromedriver");
        if !chromium.is_file() || !driver.is_file() {
            if std::env::var("COPSE_REQUIRE_BROWSER").as_deref() == Ok("1") {
                panic!("{MISSING}");
            }
            println!("{MISSING}");
            return None;
        }
        assert_eq!(
            tokio::runtime::Handle::current().runtime_flavor(),
            tokio::runtime::RuntimeFlavor::MultiThread,
            "browser tests need #[tokio::test(flavor = \"multi_thread\")]"
        );
        let profile = tempfile::tempdir().expect("profile dir");
        // The port is free when asked, but another process may take it before the driver
        // binds it: try a few.
        for _ in 0..5 {
            let port = free_port();
            let mut child = Command::new(&driver)
                .arg(format!("--port={port}"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start chromedriver");
            match connect(port, &chromium, profile.path()).await {
                Some(client) => {
                    let browser = Self {
                        client: Some(client),
                        driver: child,
                        test: test.to_string(),
                        _profile: profile,
                    };
                    browser.set_width(WIDTHS[0]).await;
                    return Some(browser);
                }
                None => {
                    let _ = child.kill();
                    let _ = child.wait();
                }
            }
        }
        panic!("chromedriver did not start a Chromium session");
    }

    fn client(&self) -> &Client {
        self.client.as_ref().expect("a session")
    }

    /// Opens `url` and waits for it to load.
    pub async fn goto(&self, url: &Url) {
        self.client()
            .goto(url.as_str())
            .await
            .unwrap_or_else(|e| panic!("open {url}: {e}"));
    }

    /// The address the browser shows.
    pub async fn url(&self) -> Url {
        self.client().current_url().await.expect("current url")
    }

    /// The page's title.
    pub async fn title(&self) -> String {
        self.client().title().await.expect("title")
    }

    /// The text of the page, as a person reads it.
    pub async fn text(&self) -> String {
        self.client()
            .find(Locator::Css("body"))
            .await
            .expect("a body")
            .text()
            .await
            .expect("body text")
    }

    /// Signs in on `inst` as `name` with `password`, and waits for the page that follows.
    pub async fn sign_in(&self, inst: &crate::TestInstance, name: &str, password: &str) {
        self.goto(&inst.url("/signin")).await;
        self.fill("Name", name).await;
        // Enter in the password field sends the form (the header has a "Sign in" link too).
        self.fill("Password", &format!("{password}\u{e007}")).await;
        self.wait_for_text("Sign out").await;
    }

    /// Waits until the page shows `needle`; panics with the page's text otherwise.
    pub async fn wait_for_text(&self, needle: &str) {
        let end = tokio::time::Instant::now() + STEP;
        loop {
            let text = match self.client().find(Locator::Css("body")).await {
                Ok(body) => body.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            if text.contains(needle) {
                return;
            }
            if tokio::time::Instant::now() > end {
                panic!("the page never showed {needle:?}; it shows:\n{text}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the page no longer shows `needle` (a button gone once it did its work);
    /// panics with the page's text otherwise.
    pub async fn wait_for_gone(&self, needle: &str) {
        let end = tokio::time::Instant::now() + STEP;
        loop {
            let text = match self.client().find(Locator::Css("body")).await {
                Ok(body) => body.text().await.ok(),
                Err(_) => None,
            };
            if text.as_ref().is_some_and(|t| !t.contains(needle)) {
                return;
            }
            if tokio::time::Instant::now() > end {
                panic!(
                    "the page still shows {needle:?}:\n{}",
                    text.unwrap_or_default()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits for an element matching `xpath` that is shown; `what` names it in the panic.
    async fn find_shown(&self, xpath: &str, what: &str) -> Element {
        let end = tokio::time::Instant::now() + STEP;
        loop {
            if let Ok(list) = self.client().find_all(Locator::XPath(xpath)).await {
                for e in list {
                    if e.is_displayed().await.unwrap_or(false) {
                        return e;
                    }
                }
            }
            if tokio::time::Instant::now() > end {
                panic!(
                    "no {what} on {}; the page shows:\n{}",
                    self.url().await,
                    self.text().await
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The field whose `<label>` reads `label`: the one it names with `for`, or the one inside it.
    async fn field(&self, label: &str) -> Element {
        let l = xpath_literal(label);
        let xpath = format!(
            "//*[(self::input or self::textarea or self::select) and \
             (@id = //label[normalize-space() = {l}]/@for \
             or ancestor::label[normalize-space() = {l} or normalize-space(text()[1]) = {l}])]"
        );
        self.find_shown(&xpath, &format!("field labelled {label:?}"))
            .await
    }

    /// Types `value` into the field labelled `label`, replacing what was there.
    pub async fn fill(&self, label: &str, value: &str) {
        let field = self.field(label).await;
        field.clear().await.expect("clear the field");
        field.send_keys(value).await.expect("type into the field");
    }

    /// What the field labelled `label` holds.
    pub async fn value(&self, label: &str) -> String {
        self.field(label)
            .await
            .prop("value")
            .await
            .expect("field value")
            .unwrap_or_default()
    }

    /// The HTML inside the first element matching the CSS selector `css`, once it is shown.
    pub async fn html_of(&self, css: &str) -> String {
        let end = tokio::time::Instant::now() + STEP;
        loop {
            if let Ok(e) = self.client().find(Locator::Css(css)).await {
                if e.is_displayed().await.unwrap_or(false) {
                    return e.html(true).await.expect("inner HTML");
                }
            }
            if tokio::time::Instant::now() > end {
                panic!("no {css} shown; the page shows:\n{}", self.text().await);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Clicks the link, button or disclosure (`<summary>`) whose visible text is `text`.
    pub async fn click(&self, text: &str) {
        self.click_under("", text).await;
    }

    /// Clicks the link or button whose visible text is `text` inside the element whose id or
    /// `aria-label` is `within`: one row of a list where every row has the same buttons, or
    /// one navigation bar of two that both have the link.
    pub async fn click_in(&self, within: &str, text: &str) {
        let w = xpath_literal(within);
        let scope = format!("//*[@id = {w} or @aria-label = {w}]");
        self.click_under(&scope, text).await;
    }

    async fn click_under(&self, scope: &str, text: &str) {
        let t = xpath_literal(text);
        let xpath = format!(
            "{scope}//a[normalize-space() = {t}] | {scope}//button[normalize-space() = {t}] \
             | {scope}//summary[normalize-space() = {t}] \
             | {scope}//input[(@type = 'submit' or @type = 'button') and @value = {t}]"
        );
        let e = self
            .find_shown(&xpath, &format!("link or button {text:?}"))
            .await;
        e.click()
            .await
            .unwrap_or_else(|err| panic!("click {text:?}: {err}"));
    }

    /// Picks the option whose text is `option` in the drop-down labelled `label`.
    pub async fn choose(&self, label: &str, option: &str) {
        let xpath = format!(".//option[normalize-space() = {}]", xpath_literal(option));
        self.field(label)
            .await
            .select_by(Locator::XPath(&xpath))
            .await
            .unwrap_or_else(|e| panic!("choose {option:?} in {label:?}: {e}"));
    }

    /// Sets what the field labelled `label` holds, as its own input would, and tells the page
    /// it changed. For date and time fields: the order in which Chromium takes their parts
    /// typed depends on its locale, while their value is always `2030-06-15T18:00`.
    pub async fn set_value(&self, label: &str, value: &str) {
        let field = serde_json::to_value(self.field(label).await).expect("the field");
        self.client()
            .execute(
                "arguments[0].value = arguments[1];\
                 arguments[0].dispatchEvent(new Event('input', { bubbles: true }));\
                 arguments[0].dispatchEvent(new Event('change', { bubbles: true }));",
                vec![field, json!(value)],
            )
            .await
            .unwrap_or_else(|e| panic!("set {label:?}: {e}"));
    }

    /// Sets the window's width (its height stays the same), e.g. 390 for a phone.
    pub async fn set_width(&self, width: u32) {
        self.client()
            .set_window_size(width, HEIGHT)
            .await
            .expect("set the window size");
    }

    /// Runs `script` (a function body) in the page and returns what it returns.
    pub async fn run_script(&self, script: &str) -> serde_json::Value {
        self.client()
            .execute(script, Vec::new())
            .await
            .unwrap_or_else(|e| panic!("run a script in the page: {e}"))
    }

    /// Presses Tab, as a person moving through the page with the keyboard does, and returns
    /// the element that has the focus then: its tag, and its label's text or its own text.
    pub async fn tab(&self) -> String {
        let active = self.client().active_element().await.expect("the focus");
        active.send_keys("\u{e004}").await.expect("press Tab");
        let now = self
            .run_script(
                "const e = document.activeElement; \
                 const l = e.id && document.querySelector(`label[for=\"${CSS.escape(e.id)}\"]`); \
                 return e.tagName.toLowerCase() + ' ' + (l ? l.textContent : e.textContent).trim();",
            )
            .await;
        now.as_str().unwrap_or_default().to_string()
    }

    /// Types `keys` into the element that has the focus ("\u{e007}" is Enter).
    pub async fn type_here(&self, keys: &str) {
        let active = self.client().active_element().await.expect("the focus");
        active.send_keys(keys).await.expect("type");
    }

    /// Whether the element with the focus shows it (an outline or a shadow).
    pub async fn focus_is_visible(&self) -> bool {
        self.run_script(
            "const s = getComputedStyle(document.activeElement); \
             return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== 'none';",
        )
        .await
        .as_bool()
        .unwrap_or(false)
    }

    /// Where screenshots go: `target/browser-screenshots/`, beside the test binary's `debug/`.
    pub fn screenshot_dir() -> PathBuf {
        let exe = std::env::current_exe().unwrap_or_default();
        // target/debug/deps/<test binary>
        exe.ancestors()
            .nth(3)
            .map(|t| t.join("browser-screenshots"))
            .unwrap_or_else(|| PathBuf::from("target/browser-screenshots"))
    }

    /// Saves screenshots of the current page at every width in [`WIDTHS`] and returns their
    /// paths.
    pub async fn screenshots(&self) -> Vec<PathBuf> {
        save_screenshots(self.client(), &self.test).await
    }
}

/// Saves screenshots of what `client` shows at every width in [`WIDTHS`], named for `test`.
async fn save_screenshots(client: &Client, test: &str) -> Vec<PathBuf> {
    let dir = Browser::screenshot_dir();
    let _ = std::fs::create_dir_all(&dir);
    let mut saved = Vec::new();
    for width in WIDTHS {
        let path = dir.join(format!("{test}-{width}.png"));
        if client.set_window_size(width, HEIGHT).await.is_err() {
            continue;
        }
        if let Ok(png) = client.screenshot().await {
            if std::fs::write(&path, png).is_ok() {
                saved.push(path);
            }
        }
    }
    saved
}

/// Opens a Chromium session through the driver on `port`, waiting for the driver to listen.
async fn connect(port: u16, chromium: &Path, profile: &Path) -> Option<Client> {
    let caps = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": chromium,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                format!("--user-data-dir={}", profile.display()),
                format!("--window-size={},{HEIGHT}", WIDTHS[0]),
            ],
        },
    });
    let caps = match caps {
        serde_json::Value::Object(m) => m,
        _ => unreachable!("an object"),
    };
    let end = tokio::time::Instant::now() + Duration::from_secs(10);
    let address = format!("http://127.0.0.1:{port}");
    while tokio::time::Instant::now() < end {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return ClientBuilder::native()
                .capabilities(caps)
                .connect(&address)
                .await
                .map_err(|e| println!("chromedriver on {port}: {e}"))
                .ok();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    None
}

impl Drop for Browser {
    fn drop(&mut self) {
        let failed = std::thread::panicking();
        if let Some(client) = self.client.take() {
            let handle = tokio::runtime::Handle::try_current()
                .ok()
                .filter(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
            if let Some(handle) = handle {
                let test = self.test.clone();
                tokio::task::block_in_place(|| {
                    handle.block_on(async {
                        if failed {
                            for p in save_screenshots(&client, &test).await {
                                eprintln!("screenshot of the failed page: {}", p.display());
                            }
                        }
                        // Ending the session quits Chromium; killing the driver alone would not.
                        let _ = tokio::time::timeout(Duration::from_secs(10), client.close()).await;
                    })
                });
            }
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::xpath_literal;

    #[test]
    fn quotes_in_a_text_are_kept_in_the_xpath() {
        assert_eq!(xpath_literal("Go"), "\"Go\"");
        assert_eq!(xpath_literal("say \"hi\""), "'say \"hi\"'");
        assert_eq!(
            xpath_literal("it's \"x\""),
            "concat(\"it's \", '\"', \"x\", '\"', \"\")"
        );
    }
}
