//! A browser-like HTTP client for tests: keeps cookies (ignoring `Secure`, since tests talk
//! plain HTTP to 127.0.0.1), does not follow redirects, and knows how our forms carry CSRF.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::sync::Mutex;

use reqwest::header::{COOKIE, SET_COOKIE};
use reqwest::{Response, StatusCode};

pub struct TestClient {
    base: String,
    http: reqwest::Client,
    cookies: Mutex<BTreeMap<String, String>>,
}

/// The value of the first `name="csrf"` hidden field in a page.
pub fn csrf_from(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).map(|i| i + marker.len()).expect("page has a CSRF field");
    let end = html[start..].find('"').unwrap() + start;
    html[start..end].to_owned()
}

impl TestClient {
    pub fn new(base: &str) -> Self {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Self { base: base.to_owned(), http, cookies: Mutex::new(BTreeMap::new()) }
    }

    fn cookie_header(&self) -> String {
        self.cookies.lock().unwrap().iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    fn remember(&self, res: &Response) {
        let mut jar = self.cookies.lock().unwrap();
        for v in res.headers().get_all(SET_COOKIE) {
            let text = v.to_str().unwrap();
            let first = text.split(';').next().unwrap();
            let (name, value) = first.split_once('=').unwrap();
            let expired = text.contains("Max-Age=0");
            if expired || value.is_empty() {
                jar.remove(name);
            } else {
                jar.insert(name.to_owned(), value.to_owned());
            }
        }
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.lock().unwrap().get(name).cloned()
    }

    pub fn set_cookie(&self, name: &str, value: &str) {
        self.cookies.lock().unwrap().insert(name.to_owned(), value.to_owned());
    }

    pub fn session_token(&self) -> Option<String> {
        self.cookie("__Host-stepdown_session")
    }

    pub async fn get(&self, path: &str) -> Response {
        let res =
            self.http.get(format!("{}{}", self.base, path)).header(COOKIE, self.cookie_header()).send().await.unwrap();
        self.remember(&res);
        res
    }

    pub async fn get_text(&self, path: &str) -> (StatusCode, String) {
        let res = self.get(path).await;
        let status = res.status();
        (status, res.text().await.unwrap())
    }

    /// Posts a form exactly as given (no CSRF added).
    pub async fn post_raw(&self, path: &str, form: &[(&str, &str)]) -> Response {
        let res = self
            .http
            .post(format!("{}{}", self.base, path))
            .header(COOKIE, self.cookie_header())
            .form(form)
            .send()
            .await
            .unwrap();
        self.remember(&res);
        res
    }

    /// Loads `page` for its CSRF token, then posts `form` to `path` with it.
    pub async fn submit(&self, page: &str, path: &str, form: &[(&str, &str)]) -> Response {
        let (_, html) = self.get_text(page).await;
        let csrf = csrf_from(&html);
        let mut fields: Vec<(&str, &str)> = vec![("csrf", csrf.as_str())];
        fields.extend_from_slice(form);
        self.post_raw(path, &fields).await
    }

    pub async fn login(&self, username: &str, password: &str) -> Response {
        self.submit("/login", "/login", &[("username", username), ("password", password)]).await
    }
}
