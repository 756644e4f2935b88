//! Dovecot's doveadm HTTP API (`POST /doveadm/v1`, `Authorization: X-Dovecot-API
//! <base64 of the key>`): ending a user's sessions (`kick`) and forgetting its cached
//! credentials (`authCacheFlush`), on every Dovecot the provider runs.

use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};

/// doveadm's exit code for "no such user": a kick with no session to end.
const EX_NOUSER: i64 = 68;

pub struct Doveadm {
    client: reqwest::Client,
    urls: Vec<String>,
    authorization: SecretString,
}

impl Doveadm {
    /// `urls`: each Dovecot's doveadm HTTP listener, e.g. `http://10.0.0.5:8090`.
    pub fn new(urls: &[String], api_key: &SecretString, timeout: Duration) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let urls = urls
            .iter()
            .map(|u| format!("{}/doveadm/v1", u.trim_end_matches('/')))
            .collect();
        let authorization = SecretString::from(format!(
            "X-Dovecot-API {}",
            STANDARD.encode(api_key.expose_secret())
        ));
        Ok(Self {
            client,
            urls,
            authorization,
        })
    }

    /// Ends every session of these users and flushes their cached credentials, on
    /// every Dovecot; the error names the first that did not do it.
    pub async fn end_sessions(&self, users: &[String]) -> Result<(), String> {
        let mut commands: Vec<Value> = users
            .iter()
            .enumerate()
            .map(|(i, u)| json!(["kick", { "mask": [u] }, format!("kick{i}")]))
            .collect();
        commands.push(json!(["authCacheFlush", { "user": users }, "flush"]));
        for url in &self.urls {
            self.run(url, &commands).await?;
        }
        Ok(())
    }

    async fn run(&self, url: &str, commands: &[Value]) -> Result<(), String> {
        let answer = self
            .client
            .post(url)
            .header("authorization", self.authorization.expose_secret())
            .header("content-type", "application/json")
            .body(serde_json::to_vec(commands).map_err(|e| e.to_string())?)
            .send()
            .await
            .map_err(|e| format!("{url}: {}", crate::http_client::describe(&e)))?;
        let status = answer.status();
        if !status.is_success() {
            return Err(format!("{url}: {status}"));
        }
        let body = answer
            .bytes()
            .await
            .map_err(|e| format!("{url}: {}", crate::http_client::describe(&e)))?;
        let results: Vec<Value> =
            serde_json::from_slice(&body).map_err(|e| format!("{url}: unreadable answer: {e}"))?;
        for result in &results {
            if result[0] == "error" && result[1]["exitCode"].as_i64() != Some(EX_NOUSER) {
                return Err(format!("{url}: {} failed: {}", result[2], result[1]));
            }
        }
        Ok(())
    }
}
