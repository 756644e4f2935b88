//! Ending sessions that lost their right: the kicks the `accounts` trigger queued in
//! the changing transaction, sent to Dovecot in the background by every instance. A
//! Dovecot that cannot be reached delays them (retried with a doubling wait, at most
//! a minute apart, for a day); the API call that caused them has long answered.

use std::sync::Arc;
use std::time::Duration;

use crate::app::{App, Result};
use crate::store;

const BATCH: i64 = 100;
const GIVE_UP_SECS: f64 = 24.0 * 3600.0;
const MAX_WAIT_SECS: f64 = 60.0;

/// Starts the sender, when a Dovecot is configured.
pub fn spawn(app: Arc<App>) {
    if app.doveadm.is_none() {
        return;
    }
    let every = Duration::from_millis(app.settings.doveadm_poll_ms);
    tokio::spawn(async move {
        while app.pause(every, None).await {
            match send_due(&app).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(kicked = n, "ended sessions in Dovecot"),
                Err(e) if !app.is_stopping() => {
                    tracing::warn!(error = %format!("{e:#}"), "ending sessions failed")
                }
                Err(_) => {}
            }
        }
    });
}

/// Sends what is due, a batch at a time; the number of kicks done.
pub async fn send_due(app: &App) -> Result<usize> {
    let Some(doveadm) = app.doveadm.as_ref() else {
        return Ok(0);
    };
    let lease = app.settings.doveadm_timeout_ms as f64 / 1000.0 + 5.0;
    let mut done = 0;
    loop {
        let due = store::kicks::take_due(&app.pool, BATCH, lease).await?;
        if due.is_empty() {
            return Ok(done);
        }
        let ids: Vec<i64> = due.iter().map(|k| k.id).collect();
        let mut users: Vec<String> = due.iter().map(|k| k.username.clone()).collect();
        users.sort();
        users.dedup();
        match doveadm.end_sessions(&users).await {
            Ok(()) => {
                store::kicks::mark_done(&app.pool, &ids).await?;
                for k in &due {
                    tracing::info!(user = %k.username, reason = %k.reason, "sessions ended");
                }
                done += due.len();
            }
            Err(error) => {
                let attempts = due.iter().map(|k| k.attempts).max().unwrap_or(0);
                let wait = retry_wait(attempts);
                tracing::warn!(%error, kicks = due.len(), retry_in_secs = wait, "Dovecot did not end sessions");
                store::kicks::mark_failed(&app.pool, &ids, &error, wait, GIVE_UP_SECS).await?;
                return Ok(done);
            }
        }
    }
}

/// Kicks queued and not yet sent, for `/metrics`.
pub async fn pending(app: &App) -> Result<i64> {
    Ok(store::kicks::pending(&app.pool).await?)
}

/// One second, doubled per attempt, at most a minute.
fn retry_wait(attempts: i32) -> f64 {
    2f64.powi(attempts.clamp(0, 10)).min(MAX_WAIT_SECS)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_wait_doubles_up_to_a_minute() {
        assert_eq!(super::retry_wait(0), 1.0);
        assert_eq!(super::retry_wait(3), 8.0);
        assert_eq!(super::retry_wait(9), 60.0);
    }
}
