//! The mail-server contract, proven with a real Dovecot (`mailserver/dovecot.rs`):
//! Python's own IMAP, POP3 and SMTP clients log in to it with what was set up through
//! the public API, and the mail servers' role reads the views and nothing else.

mod app_passwords;
mod delivery;
pub mod dovecot;
mod postfix;
mod sessions;
mod usage;

use std::sync::{Arc, Mutex};

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{connect, TestApp, MAX, NEW_PASSWORD, STRONG_PASSWORD};
use dovecot::{all, ensure_reader_role, Dovecot, READER_ROLE};

/// A webmail change that must succeed: what the test checks next depends on it.
async fn change_password_ok(app: &TestApp, address: &str, current: &str, new: &str) {
    let res = app.change_password(address, current, new).await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap_or_default()
    );
}

#[tokio::test]
async fn passwords_set_through_mailpanel_log_in_to_a_real_dovecot() {
    let app = TestApp::with_account().await;
    let dovecot = Dovecot::start(&app).await;
    let user = MAX;

    // 1. Every protocol, both encryptions; the two submissions reach the sink.
    let results = dovecot.logins(user, STRONG_PASSWORD).await;
    assert!(all(&results, true), "{results:?}\n{}", dovecot.log());
    assert_eq!(
        dovecot.sink.lock().unwrap().len(),
        2,
        "both submissions relayed"
    );
    assert!(
        dovecot
            .login("imap", "tls", "Max@Mustermann.AT", STRONG_PASSWORD)
            .await,
        "user names are case-insensitive"
    );

    // 2. A webmail change: the old password fails at once everywhere, the new one works.
    let webmail_pw = NEW_PASSWORD;
    change_password_ok(&app, user, STRONG_PASSWORD, webmail_pw).await;
    let old = dovecot.logins(user, STRONG_PASSWORD).await;
    assert!(all(&old, false), "{old:?}");
    let new = dovecot.logins(user, webmail_pw).await;
    assert!(all(&new, true), "{new:?}");

    // 3. A Control Panel set: likewise.
    let panel_pw = "Blauer-Himmel-Graz-2031";
    let res = app.set_password(MAX, panel_pw).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert!(all(&dovecot.logins(user, webmail_pw).await, false));
    assert!(all(&dovecot.logins(user, panel_pw).await, true));

    // 4. POP3 disabled: POP3 refuses, IMAP and SMTP still work.
    app.update_account(MAX, json!({"protocols": {"pop3": false}}))
        .await;
    for (protocol, security, ok) in dovecot.logins(user, panel_pw).await {
        assert_eq!(ok, protocol != "pop3", "{protocol}/{security}");
    }
    app.update_account(MAX, json!({"protocols": {"pop3": true}}))
        .await;

    // 5. Suspended, reactivated, deleted, restored.
    app.update_account(MAX, json!({"status": "suspended"}))
        .await;
    assert!(
        !dovecot.login("imap", "tls", user, panel_pw).await,
        "suspended"
    );
    app.update_account(MAX, json!({"status": "active"})).await;
    assert!(
        dovecot.login("imap", "tls", user, panel_pw).await,
        "reactivated"
    );
    app.delete_account(MAX).await;
    assert!(
        !dovecot.login("imap", "tls", user, panel_pw).await,
        "deleted"
    );
    assert!(
        !dovecot.login("smtp", "tls", user, panel_pw).await,
        "deleted"
    );
    app.restore_account(MAX).await;
    assert!(
        dovecot.login("imap", "tls", user, panel_pw).await,
        "restored, password included"
    );

    // 6. Imported legacy hashes log in, and still do once a webmail change made them Argon2id.
    let sha512 = sha_crypt::sha512_simple(
        STRONG_PASSWORD,
        &sha_crypt::Sha512Params::new(5000).unwrap(),
    )
    .unwrap();
    let bcrypt = bcrypt::hash(STRONG_PASSWORD, 6).unwrap();
    for (local, hash) in [
        ("sha", format!("{{SHA512-CRYPT}}{sha512}")),
        ("blf", format!("{{BLF-CRYPT}}{bcrypt}")),
    ] {
        let res = app.import_account("mustermann.at", local, &hash).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let address = format!("{local}@mustermann.at");
        assert!(
            dovecot
                .login("imap", "tls", &address, STRONG_PASSWORD)
                .await,
            "{local} imported"
        );
        change_password_ok(&app, &address, STRONG_PASSWORD, webmail_pw).await;
        let stored = app.stored_hash(local).await;
        assert!(stored.starts_with("{ARGON2ID}$argon2id$"), "{stored}");
        assert!(
            dovecot
                .login("imap", "starttls", &address, webmail_pw)
                .await,
            "{local} after the change"
        );
        assert!(
            !dovecot
                .login("imap", "starttls", &address, STRONG_PASSWORD)
                .await
        );
    }

    // 7. A password with non-ASCII characters, byte for byte.
    let unicode_pw = "Grüße aus Wien 2026!";
    let res = app.set_password(MAX, unicode_pw).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert!(
        dovecot.login("imap", "tls", user, unicode_pw).await,
        "{}",
        dovecot.log()
    );
    assert!(dovecot.login("smtp", "starttls", user, unicode_pw).await);
    if std::env::var("MAILPANEL_SHOW_DOVECOT_LOG").is_ok() {
        eprintln!("{}", dovecot.log());
    }
}

#[tokio::test]
async fn during_repeated_changes_the_latest_acknowledged_password_always_logs_in() {
    let app = TestApp::with_account().await;
    let dovecot = Arc::new(Dovecot::start(&app).await);
    let latest = Arc::new(Mutex::new(STRONG_PASSWORD.to_owned()));

    let prober = {
        let (dovecot, latest) = (dovecot.clone(), latest.clone());
        tokio::spawn(async move {
            let mut logins = 0;
            let mut failures = Vec::new();
            for _ in 0..40 {
                let password = latest.lock().unwrap().clone();
                if !dovecot.login("imap", "tls", MAX, &password).await {
                    // A change may have been acknowledged after we read "latest": only a
                    // failure with the password that is still the latest counts.
                    if *latest.lock().unwrap() == password {
                        failures.push(password);
                    }
                }
                logins += 1;
            }
            (logins, failures)
        })
    };
    let mut current = STRONG_PASSWORD.to_owned();
    for i in 0..12 {
        let next = format!("Fahrrad-Kaffee-Wien-{i}-Linz");
        change_password_ok(&app, MAX, &current, &next).await;
        *latest.lock().unwrap() = next.clone();
        current = next;
    }
    let (logins, failures) = prober.await.unwrap();
    assert!(
        failures.is_empty(),
        "{} of {logins} logins with the latest password failed: {failures:?}",
        failures.len()
    );
}

#[tokio::test]
async fn the_mail_server_role_reads_the_views_and_nothing_else() {
    let app = TestApp::with_account().await;
    app.create_account("mustermann.at", "gone").await;
    app.delete_account("gone@mustermann.at").await;
    app.update_account(MAX, json!({"protocols": {"pop3": false}}))
        .await;
    ensure_reader_role(&app).await;
    let url = app.database_url.replacen(
        "postgres://postgres@",
        &format!("postgres://{READER_ROLE}@"),
        1,
    );
    let reader = connect(&url, 1).await;

    let services: Vec<String> = sqlx::query_scalar("SELECT service FROM mailserver.dovecot_passdb WHERE username = 'max@mustermann.at' ORDER BY service")
        .fetch_all(&reader)
        .await
        .unwrap();
    assert_eq!(services, ["imap", "smtp", "submission"]);
    let password: String = sqlx::query_scalar("SELECT password FROM mailserver.dovecot_passdb WHERE username = 'max@mustermann.at' LIMIT 1")
        .fetch_one(&reader)
        .await
        .unwrap();
    assert!(password.starts_with("{ARGON2ID}$argon2id$"));
    let gone: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM mailserver.dovecot_passdb WHERE username = 'gone@mustermann.at'",
    )
    .fetch_one(&reader)
    .await
    .unwrap();
    assert_eq!(
        gone, 0,
        "a deleted account is gone from the mail servers at once"
    );
    let (home, quota): (String, String) = sqlx::query_as("SELECT home, quota_rule FROM mailserver.dovecot_userdb WHERE username = 'max@mustermann.at'")
        .fetch_one(&reader)
        .await
        .unwrap();
    // The home is named by the account, not by its address.
    let id: uuid::Uuid = sqlx::query_scalar("SELECT id FROM accounts WHERE address = $1")
        .bind(MAX)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(
        (home.as_str(), quota.as_str()),
        (format!("/var/vmail/{id}").as_str(), "*:storage=2048M")
    );
    let domains: Vec<String> = sqlx::query_scalar("SELECT domain FROM mailserver.postfix_domains")
        .fetch_all(&reader)
        .await
        .unwrap();
    assert_eq!(domains, ["mustermann.at"]);
    let maildir: String = sqlx::query_scalar(
        "SELECT maildir FROM mailserver.postfix_mailboxes WHERE address = 'max@mustermann.at'",
    )
    .fetch_one(&reader)
    .await
    .unwrap();
    assert_eq!(maildir, format!("{id}/Maildir/"));

    for view in [
        "postfix_aliases",
        "postfix_alias_domains",
        "postfix_catch_alls",
    ] {
        let readable = sqlx::query(&format!("SELECT 1 FROM mailserver.{view} LIMIT 1"))
            .execute(&reader)
            .await;
        assert!(readable.is_ok(), "the mail server role cannot read {view}");
    }
    for table in [
        "accounts",
        "domains",
        "aliases",
        "catch_alls",
        "api_keys",
        "audit_events",
    ] {
        let denied = sqlx::query(&format!("SELECT 1 FROM public.{table} LIMIT 1"))
            .execute(&reader)
            .await;
        assert!(denied.is_err(), "the mail server role can read {table}");
    }
    let write = sqlx::query("DELETE FROM mailserver.dovecot_passdb")
        .execute(&reader)
        .await;
    assert!(write.is_err(), "the mail server role can write");
}

/// A mailbox belongs to its account, not to its address: a restored account finds its
/// mail again, while an address purged and created anew starts with an empty mailbox
/// instead of the previous owner's mail.
#[tokio::test]
async fn a_purged_address_created_anew_does_not_open_the_old_mail() {
    let app = TestApp::with_account().await;
    let dovecot = Dovecot::start(&app).await;
    assert_eq!(dovecot.mailbox(MAX, STRONG_PASSWORD, "append").await, 1);

    app.delete_account(MAX).await;
    app.restore_account(MAX).await;
    assert_eq!(dovecot.mailbox(MAX, STRONG_PASSWORD, "count").await, 1);

    app.delete_account(MAX).await;
    // The retention period ends; the next create purges the old account at once.
    sqlx::query("UPDATE accounts SET purge_after = now() - interval '1 second'")
        .execute(&app.pool)
        .await
        .unwrap();
    app.create_account("mustermann.at", "max").await;
    assert_eq!(dovecot.mailbox(MAX, STRONG_PASSWORD, "count").await, 0);
}

/// A user of an international domain may type the address in Unicode, as people do,
/// or as the A-label mail clients send: both log in, to one and the same mailbox.
#[tokio::test]
async fn unicode_and_a_label_user_names_open_one_mailbox() {
    let app = TestApp::spawn().await;
    let c = app.create_customer("Müller", None).await;
    app.create_domain("müller.at", &c).await;
    app.create_account("müller.at", "max").await;
    let dovecot = Dovecot::start(&app).await;
    let unicode = "max@müller.at";
    let a_label = "max@xn--mller-kva.at";
    for user in [unicode, a_label] {
        let results = dovecot.logins(user, STRONG_PASSWORD).await;
        assert!(
            all(&results, true),
            "{user}: {results:?}\n{}",
            dovecot.log()
        );
    }
    assert_eq!(dovecot.mailbox(unicode, STRONG_PASSWORD, "append").await, 1);
    assert_eq!(dovecot.mailbox(a_label, STRONG_PASSWORD, "count").await, 1);
    assert!(!dovecot.login("imap", "tls", unicode, "wrong").await);
}
