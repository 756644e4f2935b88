//! Server profiles: host names and endpoints that domains' mail clients use. Admin
//! keys write them; every key may read them (domains name their profile). A change
//! re-reads the profiles in every instance's directory, so auto-configuration follows
//! at once.

use super::{audit, App, Error, Result, Write};
use crate::domain::profile::ServerProfile;
use crate::domain::Caller;
use crate::store;
use crate::store::notify::Touch;
use crate::store::profiles::{ProfileRow, Upserted};

pub const DEFAULT: &str = "default";

/// Whether a save may create, replace, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Save {
    /// `POST`: the name must be free.
    CreateOnly,
    /// `PUT`: creates or replaces (honouring the expected version).
    CreateOrReplace { expected: Option<i32> },
}

#[tracing::instrument(skip_all, fields(profile = %profile.name))]
pub async fn save(
    app: &App,
    caller: &Caller,
    profile: ServerProfile,
    how: Save,
) -> Result<Upserted> {
    let mut write = Write::begin(app, &[Touch::profiles()]).await?;
    let expected = match how {
        Save::CreateOnly => {
            if store::profiles::get(write.db(), &profile.name)
                .await?
                .is_some()
            {
                return Err(Error::Conflict(
                    "a server profile with this name exists; PUT replaces it".into(),
                ));
            }
            None
        }
        Save::CreateOrReplace { expected } => expected,
    };
    let saved = store::profiles::upsert(write.db(), &profile, expected)
        .await?
        .ok_or(Error::PreconditionFailed)?;
    let action = if saved.inserted {
        "server_profile.created"
    } else {
        "server_profile.updated"
    };
    let mut event = audit::by(caller, action);
    event.details = serde_json::json!({ "name": profile.name });
    write.record(&event).await?;
    write.commit().await?;
    Ok(saved)
}

/// Every profile (there are few).
pub async fn list(app: &App) -> Result<Vec<ProfileRow>> {
    Ok(store::profiles::all(&app.pool).await?)
}

pub async fn find(app: &App, name: &str) -> Result<ProfileRow> {
    store::profiles::get(&app.pool, name)
        .await?
        .ok_or_else(|| Error::not_found("server profile"))
}

/// Deletes a profile no domain uses; `default` cannot be deleted.
#[tracing::instrument(skip_all, fields(profile = %name))]
pub async fn delete(app: &App, caller: &Caller, name: &str) -> Result<()> {
    if name == DEFAULT {
        return Err(Error::Conflict(
            "the default profile cannot be deleted".into(),
        ));
    }
    let mut write = Write::begin(app, &[Touch::profiles()]).await?;
    let used = store::profiles::domains_using(write.db(), name).await?;
    if used > 0 {
        return Err(Error::Conflict(format!(
            "{used} domain(s) use this profile; move them first"
        )));
    }
    if !store::profiles::delete(write.db(), name).await? {
        return Err(Error::not_found("server profile"));
    }
    let mut event = audit::by(caller, "server_profile.deleted");
    event.details = serde_json::json!({ "name": name });
    write.record(&event).await?;
    write.commit().await
}
