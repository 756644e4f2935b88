//! One write, the same way every time: begin a transaction, change rows, record the
//! audit event, announce what was touched to every instance (`NOTIFY`, delivered at
//! commit), commit, then refresh this instance's caches before the answer goes out.

use sqlx::{PgConnection, Postgres, Transaction};

use super::{App, Result};
use crate::store;
use crate::store::audit::NewEvent;
use crate::store::notify::Touch;

pub struct Write<'a> {
    app: &'a App,
    tx: Transaction<'static, Postgres>,
    touched: Vec<Touch>,
}

impl<'a> Write<'a> {
    /// Begins a write that changes what `touches` names, so that every instance
    /// refreshes it once the write is committed.
    pub async fn begin(app: &'a App, touches: &[Touch]) -> Result<Self> {
        Ok(Self {
            app,
            tx: app.pool.begin().await?,
            touched: touches.to_vec(),
        })
    }

    /// The transaction's connection, for store calls.
    pub fn db(&mut self) -> &mut PgConnection {
        &mut self.tx
    }

    /// Records the audit event of this write.
    pub async fn record(&mut self, event: &NewEvent<'_>) -> Result<()> {
        store::audit::record(&mut *self.tx, event).await?;
        Ok(())
    }

    /// Announces, commits and refreshes this instance's caches.
    pub async fn commit(mut self) -> Result<()> {
        for touch in &self.touched {
            store::notify::announce(&mut *self.tx, touch).await?;
        }
        self.tx.commit().await?;
        for touch in &self.touched {
            self.app.caches.refresh(&self.app.pool, touch).await;
        }
        Ok(())
    }
}
