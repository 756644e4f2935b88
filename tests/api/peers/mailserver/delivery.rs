//! Mail routed by a real Postfix from `deploy/postfix/`, as the API set it up, read
//! back over IMAP from the real Dovecot: aliases, catch-all, forwarding, alias
//! domains, refusals at RCPT TO, deletion and restore, purge, rename, and
//! international addresses. (Limits under concurrency and loops are the API's:
//! `routing.rs`.)

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::dovecot::Dovecot;
use super::postfix::{Delivery, Postfix, Refused};
use crate::helpers::{TestApp, MAX, STRONG_PASSWORD};

const EVA: &str = "eva@mustermann.at";
const SENDER: &str = "someone@example.org";

/// Whether a message with this subject reaches the user's INBOX within a few
/// seconds (delivery is asynchronous: queue, then maildir).
async fn arrives(dovecot: &Dovecot, user: &str, subject: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if dovecot
            .subjects(user, STRONG_PASSWORD)
            .await
            .iter()
            .any(|s| s == subject)
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

async fn has(dovecot: &Dovecot, user: &str, subject: &str) -> bool {
    dovecot
        .subjects(user, STRONG_PASSWORD)
        .await
        .iter()
        .any(|s| s == subject)
}

async fn relayed(postfix: &Postfix, subject: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if postfix
            .sink
            .lock()
            .unwrap()
            .iter()
            .any(|m| m.contains(subject))
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// `max@müller.at`, of the customer that owns `mustermann.at`.
async fn international_mailbox(app: &TestApp) {
    let domain = app.admin_get_json("/v1/domains/mustermann.at").await;
    app.create_domain("müller.at", domain["customer_id"].as_str().unwrap())
        .await;
    app.create_account("müller.at", "max").await;
}

/// Sends and expects every recipient accepted.
async fn send(postfix: &Postfix, to: &str, subject: &str) {
    if let Err(e) = postfix.send(SENDER, &[to], subject).await {
        panic!("{subject}: {e:?}\n{}", postfix.log());
    }
}

/// Sends and expects the recipient refused at RCPT TO with a permanent 5xx.
async fn refused(postfix: &Postfix, to: &str, subject: &str) -> String {
    match postfix.send(SENDER, &[to], subject).await {
        Err(Refused::Recipient(reply)) => {
            assert!(reply.starts_with("refused 5"), "{to}: {reply}");
            reply
        }
        Ok(()) => panic!("{to} was accepted\n{}", postfix.log()),
    }
}

fn log_lines(postfix: &Postfix, needle: &str) -> String {
    postfix
        .log()
        .lines()
        .filter(|l| l.contains(needle))
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn postfix_delivers_mail_as_the_routes_say() {
    let app = TestApp::with_account().await;
    app.create_account("mustermann.at", "eva").await;
    let dovecot = Dovecot::start(&app).await;
    let postfix = Postfix::start(&app, &dovecot, Delivery::Maildir).await;

    // 1. An alias with two local destinations and an external one.
    app.create_alias("mustermann.at", "team", &[MAX, EVA, "partner@example.net"])
        .await;
    send(&postfix, "team@mustermann.at", "1 alias").await;
    assert!(arrives(&dovecot, MAX, "1 alias").await, "{}", postfix.log());
    assert!(arrives(&dovecot, EVA, "1 alias").await);
    assert!(relayed(&postfix, "1 alias").await, "{}", postfix.log());
    eprintln!(
        "step 1, Postfix's log:\n{}",
        log_lines(&postfix, "orig_to=<team@")
    );

    // 5. An unknown recipient is refused at RCPT TO, not accepted and bounced.
    let reply = refused(&postfix, "nobody@mustermann.at", "5 unknown").await;
    eprintln!(
        "step 5, the client saw: {reply}\nPostfix's log:\n{}",
        log_lines(&postfix, "nobody@")
    );
    assert!(log_lines(&postfix, "NOQUEUE: reject: RCPT").contains("nobody@mustermann.at"));

    // 6. A deleted account's address is refused; restored, it receives again.
    app.create_account("mustermann.at", "gone").await;
    app.delete_account("gone@mustermann.at").await;
    refused(&postfix, "gone@mustermann.at", "6 deleted").await;
    app.restore_account("gone@mustermann.at").await;
    send(&postfix, "gone@mustermann.at", "6 restored").await;
    assert!(arrives(&dovecot, "gone@mustermann.at", "6 restored").await);

    // 2. The catch-all takes unknown addresses, never an account's or an alias's mail.
    app.create_account("mustermann.at", "catch").await;
    let res = app
        .admin(
            Method::PUT,
            "/v1/domains/mustermann.at/catch-all",
            Some(json!({"destinations": ["catch@mustermann.at"]})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    send(&postfix, "random@mustermann.at", "2 random").await;
    assert!(arrives(&dovecot, "catch@mustermann.at", "2 random").await);
    send(&postfix, MAX, "2 for max").await;
    send(&postfix, "team@mustermann.at", "2 for team").await;
    assert!(arrives(&dovecot, MAX, "2 for max").await);
    assert!(arrives(&dovecot, EVA, "2 for team").await);
    for subject in ["2 for max", "2 for team"] {
        assert!(
            !has(&dovecot, "catch@mustermann.at", subject).await,
            "{subject}"
        );
    }
    // Nor for a held address that takes no mail: an inactive alias, a deleted
    // account that can still be restored. Both are refused.
    let res = app
        .admin(
            Method::PATCH,
            "/v1/aliases/team@mustermann.at",
            Some(json!({"active": false})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    refused(&postfix, "team@mustermann.at", "2 paused alias").await;
    app.delete_account("gone@mustermann.at").await;
    refused(&postfix, "gone@mustermann.at", "2 deleted").await;
    refused(&postfix, "gone+news@mustermann.at", "2 deleted, with a tag").await;
    app.admin(
        Method::PATCH,
        "/v1/aliases/team@mustermann.at",
        Some(json!({"active": true})),
    )
    .await;
    send(&postfix, "eva+news@mustermann.at", "2 tagged").await;
    assert!(
        arrives(&dovecot, EVA, "2 tagged").await,
        "{}",
        postfix.log()
    );

    // 3. Forwarding, keeping a copy and not.
    app.update_account(MAX, json!({"forwarding": {"to": [EVA], "keep_copy": true}}))
        .await;
    send(&postfix, MAX, "3 kept").await;
    assert!(arrives(&dovecot, EVA, "3 kept").await);
    assert!(arrives(&dovecot, MAX, "3 kept").await);
    app.update_account(
        MAX,
        json!({"forwarding": {"to": [EVA], "keep_copy": false}}),
    )
    .await;
    send(&postfix, MAX, "3 passed on").await;
    assert!(arrives(&dovecot, EVA, "3 passed on").await);
    assert!(!has(&dovecot, MAX, "3 passed on").await);
    app.update_account(MAX, json!({"forwarding": null})).await;

    // 4. An alias domain: x@mustermann.com is x@mustermann.at.
    let res = app
        .admin(
            Method::POST,
            "/v1/domains",
            Some(json!({"name": "mustermann.com", "alias_of": "mustermann.at"})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    send(&postfix, "max@mustermann.com", "4 alias domain").await;
    assert!(
        arrives(&dovecot, MAX, "4 alias domain").await,
        "{}",
        postfix.log()
    );

    // 7. Purged and created anew: the new mailbox is empty.
    app.create_account("mustermann.at", "old").await;
    send(&postfix, "old@mustermann.at", "7 first owner").await;
    assert!(arrives(&dovecot, "old@mustermann.at", "7 first owner").await);
    app.delete_account("old@mustermann.at").await;
    sqlx::query("UPDATE accounts SET purge_after = now() - interval '1 second' WHERE deleted_at IS NOT NULL")
        .execute(&app.pool)
        .await
        .unwrap();
    app.create_account("mustermann.at", "old").await;
    assert_eq!(
        dovecot.subjects("old@mustermann.at", STRONG_PASSWORD).await,
        Vec::<String>::new()
    );

    // 8. Renamed: the mail is there under the new address; the old one, kept as an
    // alias, still delivers.
    let res = app
        .admin(
            Method::POST,
            &format!("/v1/accounts/{MAX}/rename"),
            Some(json!({"local_part": "maximilian", "keep_old_as_alias": true})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let renamed = "maximilian@mustermann.at";
    assert!(
        has(&dovecot, renamed, "1 alias").await,
        "the mail moved with the account"
    );
    send(&postfix, MAX, "8 old address").await;
    assert!(arrives(&dovecot, renamed, "8 old address").await);

    // 9. International: both forms log in, and mail to both arrives.
    international_mailbox(&app).await;
    for user in ["max@müller.at", "max@xn--mller-kva.at"] {
        assert!(
            dovecot.login("imap", "tls", user, STRONG_PASSWORD).await,
            "{user}"
        );
    }
    send(&postfix, "max@müller.at", "9 unicode").await;
    send(&postfix, "max@xn--mller-kva.at", "9 a-label").await;
    for subject in ["9 unicode", "9 a-label"] {
        assert!(
            arrives(&dovecot, "max@müller.at", subject).await,
            "{subject}\n{}",
            postfix.log()
        );
    }
}

/// The same routes delivered over LMTP into Dovecot, for a Dovecot whose LMTP offers
/// SMTPUTF8 (2.3's does not, so mail sent with SMTPUTF8 to a Unicode address would
/// bounce there; see deploy/postfix/main.cf.snippet): aliases with local and
/// external destinations, refusal at RCPT TO, alias domains, and the A-label form
/// of an international address.
#[tokio::test]
async fn postfix_delivers_over_lmtp_into_dovecot() {
    let app = TestApp::with_account().await;
    app.create_account("mustermann.at", "eva").await;
    international_mailbox(&app).await;
    let res = app
        .admin(
            Method::POST,
            "/v1/domains",
            Some(json!({"name": "mustermann.com", "alias_of": "mustermann.at"})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let dovecot = Dovecot::start(&app).await;
    let postfix = Postfix::start(&app, &dovecot, Delivery::Lmtp).await;

    app.create_alias("mustermann.at", "team", &[MAX, EVA, "partner@example.net"])
        .await;
    send(&postfix, "team@mustermann.at", "lmtp alias").await;
    assert!(
        arrives(&dovecot, MAX, "lmtp alias").await,
        "{}",
        postfix.log()
    );
    assert!(arrives(&dovecot, EVA, "lmtp alias").await);
    assert!(relayed(&postfix, "lmtp alias").await);
    assert!(log_lines(&postfix, "orig_to=<team@").contains("relay=127.0.0.1[127.0.0.1]:"));
    refused(&postfix, "nobody@mustermann.at", "lmtp unknown").await;
    send(&postfix, "eva@mustermann.com", "lmtp alias domain").await;
    assert!(arrives(&dovecot, EVA, "lmtp alias domain").await);
    send(&postfix, "max@xn--mller-kva.at", "lmtp a-label").await;
    assert!(arrives(&dovecot, "max@müller.at", "lmtp a-label").await);
    assert!(
        dovecot.log().contains("lmtp("),
        "Dovecot's LMTP delivered: {}",
        dovecot.log()
    );
}
