//! Counters of failed credential checks, per address and per client address, in
//! fixed windows. In Postgres, so that all instances share them.

use sqlx::PgExecutor;

#[derive(Debug, Clone, Copy)]
pub struct Limit<'a> {
    pub scope: &'a str,
    pub subject: &'a str,
    pub max_failures: i32,
}

/// Seconds until the first exhausted limit's window ends, if any limit is exhausted.
pub async fn blocked(
    db: impl PgExecutor<'_>,
    limits: &[Limit<'_>],
    window_secs: i64,
) -> sqlx::Result<Option<u64>> {
    let scopes: Vec<&str> = limits.iter().map(|l| l.scope).collect();
    let subjects: Vec<&str> = limits.iter().map(|l| l.subject).collect();
    let maxima: Vec<i32> = limits.iter().map(|l| l.max_failures).collect();
    let wait: Option<f64> = sqlx::query_scalar(
        "SELECT max(extract(epoch FROM f.window_start + make_interval(secs => $4) - now()))::float8
         FROM auth_failures f
         JOIN unnest($1::text[], $2::text[], $3::int[]) AS l(scope, subject, max_failures)
           ON f.scope = l.scope AND f.subject = l.subject
         WHERE f.failures >= l.max_failures AND f.window_start > now() - make_interval(secs => $4)",
    )
    .bind(&scopes)
    .bind(&subjects)
    .bind(&maxima)
    .bind(window_secs as f64)
    .fetch_one(db)
    .await?;
    Ok(wait.map(|w| w.ceil().max(1.0) as u64))
}

/// Counts one failure for each subject, starting a new window where the old one ended.
pub async fn record_failure(
    db: impl PgExecutor<'_>,
    limits: &[Limit<'_>],
    window_secs: i64,
) -> sqlx::Result<()> {
    let scopes: Vec<&str> = limits.iter().map(|l| l.scope).collect();
    let subjects: Vec<&str> = limits.iter().map(|l| l.subject).collect();
    sqlx::query(
        "INSERT INTO auth_failures (scope, subject, window_start, failures)
         SELECT scope, subject, now(), 1 FROM unnest($1::text[], $2::text[]) AS l(scope, subject)
         ON CONFLICT (scope, subject) DO UPDATE SET
            failures = CASE WHEN auth_failures.window_start <= now() - make_interval(secs => $3)
                            THEN 1 ELSE auth_failures.failures + 1 END,
            window_start = CASE WHEN auth_failures.window_start <= now() - make_interval(secs => $3)
                                THEN now() ELSE auth_failures.window_start END",
    )
    .bind(&scopes)
    .bind(&subjects)
    .bind(window_secs as f64)
    .execute(db)
    .await?;
    Ok(())
}

/// Forgets an address's failures after it succeeded.
pub async fn clear(db: impl PgExecutor<'_>, scope: &str, subject: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM auth_failures WHERE scope = $1 AND subject = $2")
        .bind(scope)
        .bind(subject)
        .execute(db)
        .await?;
    Ok(())
}

/// Drops counters whose window has ended.
pub async fn prune(db: impl PgExecutor<'_>, window_secs: i64) -> sqlx::Result<u64> {
    let done = sqlx::query(
        "DELETE FROM auth_failures WHERE window_start <= now() - make_interval(secs => $1)",
    )
    .bind(window_secs as f64)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}
