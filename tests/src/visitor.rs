//! A person in a browser as HTTP sees them: cookies kept from one request to the next, forms
//! posted with the CSRF token their page carries, redirects seen rather than followed. The
//! headless-browser tests click through the same pages; this is for the many checks that need
//! no rendering (refusals, limits, cookies).

use crate::TestInstance;
use std::collections::BTreeMap;

/// A page as a browser got it.
#[derive(Debug)]
pub struct Page {
    /// Status code.
    pub status: u16,
    /// `Location`, for redirects.
    pub location: Option<String>,
    /// The `Set-Cookie` headers, as sent.
    pub set_cookies: Vec<String>,
    /// The HTML.
    pub body: String,
}

impl Page {
    /// The value of the page's first `csrf` field.
    pub fn csrf(&self) -> String {
        let at = self
            .body
            .find("name=\"csrf\" value=\"")
            .unwrap_or_else(|| panic!("no csrf field in:\n{}", self.body));
        let rest = &self.body[at + "name=\"csrf\" value=\"".len()..];
        rest[..rest.find('"').unwrap_or(0)].to_string()
    }
}

/// One browser's cookies on one instance.
pub struct Visitor<'a> {
    inst: &'a TestInstance,
    cookies: BTreeMap<String, String>,
}

impl<'a> Visitor<'a> {
    /// A browser that has never been to the instance.
    pub fn new(inst: &'a TestInstance) -> Self {
        Self {
            inst,
            cookies: BTreeMap::new(),
        }
    }

    /// A cookie the browser holds.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies.get(name).map(String::as_str)
    }

    /// Sets a cookie as another site (or an attacker on the network) might plant it.
    pub fn plant_cookie(&mut self, name: &str, value: &str) {
        self.cookies.insert(name.into(), value.into());
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn read(&mut self, res: reqwest::Response) -> Page {
        let status = res.status().as_u16();
        let location = res
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(String::from);
        let set_cookies: Vec<String> = res
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(String::from)
            .collect();
        for c in &set_cookies {
            let first = c.split(';').next().unwrap_or_default();
            let (name, value) = first.split_once('=').unwrap_or((first, ""));
            if value.is_empty() || c.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.into(), value.into());
            }
        }
        let body = res.text().await.unwrap_or_default();
        Page {
            status,
            location,
            set_cookies,
            body,
        }
    }

    /// `GET path` as a browser asks for a page.
    pub async fn get(&mut self, path: &str) -> Page {
        let res = self
            .inst
            .client
            .get(self.inst.url(path))
            .header("accept", "text/html,application/xhtml+xml")
            .header("cookie", self.cookie_header())
            .send()
            .await
            .expect("GET");
        self.read(res).await
    }

    /// Posts a form as it is, without adding a token.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let body = serde_urlencoded::to_string(fields).expect("form");
        let res = self
            .inst
            .client
            .post(self.inst.url(path))
            .header("accept", "text/html")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cookie", self.cookie_header())
            .body(body)
            .send()
            .await
            .expect("POST");
        self.read(res).await
    }

    /// Posts a `multipart/form-data` form as it is (no token added): text `fields`, and
    /// `files` as `(field, file name, bytes)`.
    pub async fn post_multipart(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &str, &[u8])],
    ) -> Page {
        let boundary = "----copse-test-boundary-7MA4YWxkTrZu0gW";
        let mut body = Vec::new();
        for (name, value) in fields {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
                )
                .as_bytes(),
            );
        }
        for (name, filename, bytes) in files {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let res = self
            .inst
            .client
            .post(self.inst.url(path))
            .header("accept", "text/html")
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .header("cookie", self.cookie_header())
            .body(body)
            .send()
            .await
            .expect("POST");
        self.read(res).await
    }

    /// Opens `page`, then posts `fields` to `action` with the token that page's form carries,
    /// as a person filling the form in would.
    pub async fn submit(&mut self, page: &str, action: &str, fields: &[(&str, &str)]) -> Page {
        let form = self.get(page).await;
        assert_eq!(form.status, 200, "{page}: {}", form.body);
        let csrf = form.csrf();
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post(action, &all).await
    }

    /// Signs in with a name and password; panics unless it works.
    pub async fn sign_in(&mut self, name: &str, password: &str) {
        let res = self
            .submit(
                "/signin",
                "/signin",
                &[("name", name), ("password", password), ("next", "/")],
            )
            .await;
        assert_eq!(res.status, 303, "sign-in refused: {}", res.body);
    }
}

/// Creates an account that signs in with `password`; returns its command-line token.
pub async fn account_with_password(inst: &TestInstance, name: &str, password: &str) -> String {
    let hash = copse_server::web::passwords::hash(password)
        .await
        .expect("hash");
    let (_, token) = copse_server::accounts::create_account(
        &inst.data(),
        copse_server::accounts::NewAccount {
            name,
            password_hash: Some(hash),
            ..Default::default()
        },
    )
    .await
    .expect("create account");
    token
}

/// Creates an instance admin's account that signs in with `password`; returns its
/// command-line token.
pub async fn admin_with_password(inst: &TestInstance, name: &str, password: &str) -> String {
    let hash = copse_server::web::passwords::hash(password)
        .await
        .expect("hash");
    let (_, token) = copse_server::accounts::create_account(
        &inst.data(),
        copse_server::accounts::NewAccount {
            name,
            admin: true,
            password_hash: Some(hash),
            ..Default::default()
        },
    )
    .await
    .expect("create admin account");
    token
}
