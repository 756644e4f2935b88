//! Sending what the outbox holds (the welcome messages), in the background, on every
//! instance: each claims due messages with `SKIP LOCKED`, so one sends each; a relay
//! that is down only delays them (retries with a doubling wait, for 24 hours).

use std::sync::Arc;
use std::time::Duration;

use crate::app::{autoconfig, App, Result};
use crate::autoconfig::welcome;
use crate::domain::guidance::Language;
use crate::domain::MailAddress;
use crate::mailer::Outgoing;
use crate::store;
use crate::store::outbox::QueuedMail;

/// How long mailpanel keeps trying one message.
const GIVE_UP_SECS: i64 = 24 * 3600;
const MAX_WAIT_SECS: f64 = 3600.0;
const BATCH: i64 = 20;

/// Starts the sender, when a relay is configured.
pub fn spawn(app: Arc<App>) {
    if app.mailer.is_none() {
        return;
    }
    let every = Duration::from_millis(app.settings.outbox_poll_ms);
    tokio::spawn(async move {
        // A new message wakes the sender at once; due retries at the next poll.
        while app.pause(every, Some(&app.outbox_wake)).await {
            match deliver_due(&app).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(sent = n, "sent queued mail"),
                Err(e) if !app.is_stopping() => {
                    tracing::warn!(error = %format!("{e:#}"), "sending queued mail failed")
                }
                Err(_) => {}
            }
        }
    });
}

/// Sends what is due, a batch at a time; the number sent.
pub async fn deliver_due(app: &App) -> Result<usize> {
    let Some(mailer) = app.mailer.as_ref() else {
        return Ok(0);
    };
    let mut sent = 0;
    loop {
        let mut tx = app.pool.begin().await?;
        let due = store::outbox::claim_due(&mut tx, BATCH).await?;
        if due.is_empty() {
            return Ok(sent);
        }
        for mail in due {
            let outcome = match compose(app, &mail) {
                Ok(outgoing) => mailer.send(outgoing).await,
                Err(e) => Err(e),
            };
            match outcome {
                Ok(()) => {
                    store::outbox::mark_sent(&mut tx, mail.id).await?;
                    sent += 1;
                }
                Err(error) => {
                    let wait = retry_wait(app.settings.outbox_retry_secs, mail.attempts);
                    tracing::warn!(id = mail.id, attempts = mail.attempts + 1, %error, "the relay did not take a message");
                    store::outbox::mark_failed(&mut tx, mail.id, &error, wait, GIVE_UP_SECS)
                        .await?;
                }
            }
        }
        tx.commit().await?;
    }
}

/// Messages queued and not yet sent nor given up on, for `/metrics`.
pub async fn pending(app: &App) -> Result<i64> {
    Ok(store::outbox::pending(&app.pool).await?)
}

/// The wait before the next attempt: the base, doubled with each attempt, at most an hour.
fn retry_wait(base_secs: u64, attempts: i32) -> f64 {
    let doubled = base_secs as f64 * 2f64.powi(attempts.clamp(0, 20));
    doubled.min(MAX_WAIT_SECS)
}

/// The message, written now from the domain's current settings.
fn compose(app: &App, mail: &QueuedMail) -> Result<Outgoing, String> {
    let address = MailAddress::parse(&mail.account).map_err(|e| format!("account: {e}"))?;
    let language = if mail.language == "en" {
        Language::En
    } else {
        Language::De
    };
    let settings = autoconfig::owner_settings(app, &address, language)
        .map_err(|e| format!("settings: {e}"))?;
    let message = welcome::render(&settings, language, &app.settings.autoconfig_host)
        .map_err(|e| format!("template: {e}"))?;
    Ok(Outgoing {
        to: mail.recipient.clone(),
        subject: message.subject,
        text: message.text,
        html: message.html,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_wait_doubles_up_to_an_hour() {
        assert_eq!(super::retry_wait(30, 0), 30.0);
        assert_eq!(super::retry_wait(30, 2), 120.0);
        assert_eq!(super::retry_wait(30, 12), 3600.0);
    }
}
