//! Sending one signed webhook request. The receiver's address is checked where the
//! connection is made, not only when the subscription was written: every name is
//! resolved through [`GuardedResolver`], which drops the addresses the provider does
//! not deliver to, so a name that later points into the provider's network (DNS
//! rebinding) is refused too. Redirects are not followed.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use secrecy::{ExposeSecret, SecretString};

use crate::domain::webhook::AddressPolicy;

pub struct WebhookClient {
    client: reqwest::Client,
    policy: Arc<AddressPolicy>,
}

/// Why one attempt failed; `status` when the receiver answered.
#[derive(Debug)]
pub struct Failure {
    pub status: Option<u16>,
    pub error: String,
}

impl Failure {
    fn before_sending(error: impl Into<String>) -> Self {
        Self {
            status: None,
            error: error.into(),
        }
    }
}

impl WebhookClient {
    pub fn new(policy: AddressPolicy, timeout: Duration) -> anyhow::Result<Self> {
        let policy = Arc::new(policy);
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(GuardedResolver(policy.clone())))
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("mailpanel-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { client, policy })
    }

    /// POSTs `body` to `url`, signed as Standard Webhooks describes: `webhook-id`,
    /// `webhook-timestamp` (now) and `webhook-signature` (`v1,` and the base64
    /// HMAC-SHA256 of `id.timestamp.body`). A 2xx answer is a delivery; its status.
    pub async fn post(
        &self,
        url: &str,
        message_id: &str,
        body: &str,
        secret: &SecretString,
    ) -> Result<u16, Failure> {
        let parsed = url::Url::parse(url).map_err(|e| Failure::before_sending(e.to_string()))?;
        if let Some(ip) = self.policy.refuses_name(&parsed) {
            return Err(Failure::before_sending(format!(
                "refused: {ip} is a private or loopback address, which this provider does not deliver to"
            )));
        }
        let signer = standardwebhooks::Webhook::new(secret.expose_secret())
            .map_err(|e| Failure::before_sending(format!("signing secret: {e}")))?;
        let timestamp = chrono::Utc::now().timestamp();
        let signature = signer
            .sign(message_id, timestamp, body.as_bytes())
            .map_err(|e| Failure::before_sending(format!("signing: {e}")))?;
        let answer = self
            .client
            .post(parsed)
            .header("content-type", "application/json")
            .header("webhook-id", message_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body.to_owned())
            .send()
            .await
            .map_err(|e| Failure::before_sending(crate::http_client::describe(&e)))?;
        let status = answer.status();
        if status.is_success() {
            Ok(status.as_u16())
        } else {
            let why = if status.is_redirection() {
                "redirects are not followed; give the final URL"
            } else {
                "the receiver did not answer 2xx"
            };
            Err(Failure {
                status: Some(status.as_u16()),
                error: format!("{status}: {why}"),
            })
        }
    }
}

/// The system's resolver, keeping only addresses the policy permits.
struct GuardedResolver(Arc<AddressPolicy>);

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.0.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| policy.permits(a.ip()))
                .collect();
            if allowed.is_empty() {
                let shown: Vec<String> = found.iter().map(|a| a.ip().to_string()).collect();
                return Err(format!(
                    "refused: {host} resolves to {}, private or loopback addresses, which this provider does not deliver to",
                    shown.join(", ")
                )
                .into());
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}
