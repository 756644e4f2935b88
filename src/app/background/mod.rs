//! Background work, on every instance: each file says what it drains and what a
//! failure does. None of it changes a caller's objects, so none of it is an
//! `app::Write`: its statements are bookkeeping of its own queues (claims, leases,
//! retries) and upkeep (pruning), one statement or one short transaction each, with
//! no audit event (the change that queued the work had one) and no cache to tell.

pub mod maintenance;
pub mod outbox;
pub mod sessions;
pub mod webhook_delivery;

use std::sync::Arc;

use super::App;

/// Starts every background loop of this instance; each ends when the instance stops.
pub fn spawn_all(app: &Arc<App>) {
    maintenance::spawn(app.clone());
    outbox::spawn(app.clone());
    webhook_delivery::spawn(app.clone());
    sessions::spawn(app.clone());
}
