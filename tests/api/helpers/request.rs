//! The one request builder of the tests, and the generic calls built on it: every
//! request a test sends goes through `TestApp::request`.

use reqwest::{Method, Response, StatusCode};
use serde_json::Value;

use super::TestApp;

/// A request being built: `app.request(Method::POST, "/v1/…").key(&k).json(&body)
/// .header(..).send().await`. Every request of the tests goes through it.
#[must_use = "a request does nothing until it is sent"]
pub struct TestRequest {
    inner: reqwest::RequestBuilder,
}

impl TestRequest {
    /// Authenticates with this API key.
    pub fn key(self, key: &str) -> Self {
        self.with(|r| r.bearer_auth(key))
    }

    /// A JSON body, with its content type.
    pub fn json(self, body: &Value) -> Self {
        self.with(|r| r.json(body))
    }

    /// A form body, as a browser sends an HTML form.
    pub fn form(self, fields: &[(&str, &str)]) -> Self {
        self.with(|r| r.form(fields))
    }

    /// These bytes as the body, exactly (malformed input included).
    pub fn body(self, body: impl Into<reqwest::Body>) -> Self {
        self.with(|r| r.body(body))
    }

    pub fn content_type(self, content_type: &str) -> Self {
        self.header("content-type", content_type)
    }

    pub fn header(self, name: &str, value: &str) -> Self {
        self.with(|r| r.header(name, value))
    }

    pub async fn send(self) -> Response {
        self.inner.send().await.expect("request sent")
    }

    fn with(self, f: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder) -> Self {
        Self {
            inner: f(self.inner),
        }
    }
}

impl TestApp {
    /// `host:port` of the instance, for tests that speak raw TCP.
    pub fn socket_address(&self) -> &str {
        self.base.trim_start_matches("http://")
    }

    pub fn request(&self, method: Method, path: &str) -> TestRequest {
        TestRequest {
            inner: self.client.request(method, format!("{}{path}", self.base)),
        }
    }

    /// Sends a request with an optional key and JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<&Value>,
    ) -> Response {
        let mut req = self.request(method, path);
        if let Some(key) = key {
            req = req.key(key);
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        req.send().await
    }

    /// Sends a request as the admin.
    pub async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> Response {
        self.call(method, path, Some(&self.admin_key), body.as_ref())
            .await
    }

    /// GETs as the admin and reads the answer as JSON.
    pub async fn admin_get_json(&self, path: &str) -> Value {
        self.admin(Method::GET, path, None)
            .await
            .json()
            .await
            .unwrap()
    }

    /// GETs as the admin until the answer satisfies `ready` (what background work or a
    /// mail server does shows a moment later), or 20 s pass; the last answer.
    pub async fn admin_get_json_once(&self, path: &str, ready: impl Fn(&Value) -> bool) -> Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let answer = self.admin_get_json(path).await;
            if ready(&answer) || std::time::Instant::now() > deadline {
                return answer;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// GETs without a key (the public endpoints): status, content type and body.
    pub async fn get_text(&self, path: &str) -> (StatusCode, String, String) {
        let res = self.request(Method::GET, path).send().await;
        let status = res.status();
        let content_type = res
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (status, content_type, res.text().await.unwrap())
    }
}
