//! Passwords: the policy, the Control Panel set, the webmail change in both body
//! formats, the enumeration-safe 401, shared rate limiting, legacy hash upgrades and
//! the bounded hashing queue.

use argon2::password_hash::{PasswordHasher, SaltString};
use base64::Engine as _;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sha2::Digest;

use crate::helpers::{assert_problem, verifies, TestApp, MAX, NEW_PASSWORD, STRONG_PASSWORD};

#[tokio::test]
async fn the_policy_is_published_in_both_languages() {
    let app = TestApp::spawn().await;
    let policy: Value = app
        .call(Method::GET, "/v1/password-policy", None, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(policy["min_length"], 15);
    assert_eq!(policy["max_length"], 128);
    assert_eq!(policy["min_strength_score"], 3);
    let codes: Vec<&str> = policy["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        [
            "password_too_short",
            "password_too_long",
            "password_control_characters",
            "password_contains_local_part",
            "password_too_weak",
            "password_unchanged"
        ]
    );
    assert!(policy["rules"][0]["messages"]["de"]
        .as_str()
        .unwrap()
        .contains("mindestens 15 Zeichen"));
    assert!(policy["rules"][0]["messages"]["en"]
        .as_str()
        .unwrap()
        .contains("at least 15 characters"));
}

#[tokio::test]
async fn the_control_panel_set_enforces_every_rule() {
    let app = TestApp::with_account().await;
    let cases = [
        ("Kurz-2026!".to_owned(), "password_too_short"),
        ("Lang-".repeat(30), "password_too_long"),
        (
            "Fahrrad\u{0}Kaffee-Wien-2026".to_owned(),
            "password_control_characters",
        ),
        (
            "Fahrrad-Kaffee\nWien-2026".to_owned(),
            "password_control_characters",
        ),
        (
            "Fahrrad-MAX-Kaffee-2026".to_owned(),
            "password_contains_local_part",
        ),
        ("passwordpassword1".to_owned(), "password_too_weak"),
        ("mustermann.at.2026".to_owned(), "password_too_weak"),
        (STRONG_PASSWORD.to_owned(), "password_unchanged"),
    ];
    for (password, code) in cases {
        let res = app.set_password(MAX, &password).await;
        let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "password_policy").await;
        assert_eq!(body["errors"][0]["code"], code, "{password:?}: {body}");
        assert_eq!(body["errors"][0]["field"], "password");
        assert!(
            body["errors"][0]["messages"]["de"].is_string()
                && body["errors"][0]["messages"]["en"].is_string()
        );
    }
    assert!(
        verifies(&app.stored_hash("max").await, STRONG_PASSWORD),
        "nothing changed"
    );
}

#[tokio::test]
async fn the_control_panel_sets_a_password_that_is_stored_exactly_as_sent() {
    let app = TestApp::with_account().await;
    // Non-ASCII, leading and trailing spaces: all kept, nothing normalised.
    let password = " Grüße aus Wien 2026! ";
    let res = app.set_password(MAX, password).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let hash = app.stored_hash("max").await;
    assert!(verifies(&hash, password));
    assert!(!verifies(&hash, password.trim()));
    assert!(
        !verifies(&hash, &password.replace('ü', "u\u{308}")),
        "no Unicode normalisation"
    );

    let events = app.audit_events(MAX).await;
    assert_eq!(events["items"][0]["action"], "password.set");
    assert_eq!(events["items"][0]["channel"], "api");
    assert!(!events.to_string().contains("Wien"));
}

#[tokio::test]
async fn the_control_panel_set_respects_reach_and_deletion() {
    let app = TestApp::with_account().await;
    // Another customer's key does not even learn that the account exists.
    let other = app.create_customer("Other", None).await;
    let key = app.customer_key(&other).await;
    let res = app
        .request(Method::PUT, "/v1/accounts/max@mustermann.at/password")
        .key(&key)
        .json(&json!({"password": NEW_PASSWORD}))
        .send()
        .await;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    app.delete_account(MAX).await;
    let res = app.set_password(MAX, NEW_PASSWORD).await;
    assert_problem(res, StatusCode::CONFLICT, "conflict").await;
}

#[tokio::test]
async fn webmail_changes_the_password_by_json_and_by_form() {
    let app = TestApp::with_account().await;
    let res = app
        .change_password("Max@Mustermann.at", STRONG_PASSWORD, NEW_PASSWORD)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap(), json!({"status": "ok"}));
    assert!(verifies(&app.stored_hash("max").await, NEW_PASSWORD));

    let third = "Blauer-Himmel-Graz-2031";
    let res = app.change_password_by_form(MAX, NEW_PASSWORD, third).await;
    assert_eq!(res.status(), StatusCode::OK);
    let hash = app.stored_hash("max").await;
    assert!(verifies(&hash, third) && !verifies(&hash, NEW_PASSWORD));

    let events = app.audit_events(MAX).await;
    assert_eq!(events["items"][0]["action"], "password.changed");
    assert_eq!(events["items"][0]["channel"], "webmail");
    assert_eq!(events["items"][0]["client_addr"], "127.0.0.1");
}

#[tokio::test]
async fn webmail_judges_the_new_password_only_after_the_current_one() {
    let app = TestApp::with_account().await;
    let res = app
        .change_password_by_form(MAX, STRONG_PASSWORD, "kurz")
        .await;
    let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "password_policy").await;
    assert_eq!(body["errors"][0]["field"], "new_password");
    let res = app
        .change_password(MAX, STRONG_PASSWORD, STRONG_PASSWORD)
        .await;
    let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "password_policy").await;
    assert_eq!(body["errors"][0]["code"], "password_unchanged");
    // Without the current password, nothing is said about the new one.
    let res = app.change_password(MAX, "wrong", "kurz").await;
    assert_problem(res, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
}

#[tokio::test]
async fn unknown_wrong_suspended_and_deleted_all_answer_the_same_401() {
    let app = TestApp::with_account().await;
    app.create_account("mustermann.at", "suspended").await;
    app.update_account("suspended@mustermann.at", json!({"status": "suspended"}))
        .await;
    app.create_account("mustermann.at", "deleted").await;
    app.delete_account("deleted@mustermann.at").await;

    let mut answers = Vec::new();
    for (address, current) in [
        ("nobody@mustermann.at", STRONG_PASSWORD),
        ("max@mustermann.at", "Falsches-Passwort-123"),
        ("suspended@mustermann.at", STRONG_PASSWORD),
        ("deleted@mustermann.at", STRONG_PASSWORD),
        ("max@unknown-domain.at", STRONG_PASSWORD),
        ("not an address", STRONG_PASSWORD),
        ("max\u{0}@mustermann.at", STRONG_PASSWORD),
        ("\u{0}", "\u{0}"),
    ] {
        let res = app.change_password(address, current, NEW_PASSWORD).await;
        let headers = res.headers().clone();
        let mut body = assert_problem(res, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
        assert!(!headers.contains_key("www-authenticate"));
        // The request id differs by design; everything else must not.
        body.as_object_mut().unwrap().remove("request_id");
        answers.push(body);
    }
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:#?}");
    // And none of them changed anything.
    assert!(verifies(
        &app.stored_hash("suspended").await,
        STRONG_PASSWORD
    ));
    assert!(verifies(&app.stored_hash("deleted").await, STRONG_PASSWORD));
}

#[tokio::test]
async fn failures_are_limited_per_address_across_instances() {
    let first = TestApp::with_account_and(|s| {
        s.webmail_max_failures_per_address = 3;
        s.webmail_window_secs = 600;
    })
    .await;
    // A second instance on the same database, with the same limits.
    let second = first
        .second_instance_with(|s| {
            s.webmail_max_failures_per_address = 3;
            s.webmail_window_secs = 600;
        })
        .await;

    for app in [&first, &second, &first] {
        let res = app.change_password(MAX, "wrong", NEW_PASSWORD).await;
        assert_problem(res, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    }
    for app in [&second, &first] {
        // Even the right password is refused until the window ends.
        let res = app
            .change_password(MAX, STRONG_PASSWORD, NEW_PASSWORD)
            .await;
        let retry: u64 = res.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=600).contains(&retry), "{retry}");
        assert_problem(res, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    }
    // Other addresses are not affected by this address's limit.
    first.create_account("mustermann.at", "eva").await;
    let res = second
        .change_password("eva@mustermann.at", STRONG_PASSWORD, NEW_PASSWORD)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn failures_are_limited_per_client_and_forwarded_for_is_believed_only_from_trusted_proxies() {
    let app = TestApp::with_account_and(|s| {
        s.webmail_max_failures_per_client = 2;
        s.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    // A wrong login from `client`, as the proxy on 127.0.0.1 forwards it.
    let attempt = |client: &'static str, address: &'static str| {
        app.request(Method::POST, "/v1/password-change")
            .header("x-forwarded-for", &format!("{client}, 127.0.0.1"))
            .json(&json!({"address": address, "current_password": "wrong", "new_password": NEW_PASSWORD}))
            .send()
    };
    assert_eq!(
        attempt("203.0.113.5", "a@mustermann.at").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        attempt("203.0.113.5", "b@mustermann.at").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        attempt("203.0.113.5", "c@mustermann.at").await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // Another client behind the same proxy is not blocked.
    assert_eq!(
        attempt("198.51.100.7", "d@mustermann.at").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

/// The same password hashed in every scheme an import may bring, each under the local
/// part its account is imported as.
fn legacy_hashes(password: &str) -> Vec<(&'static str, String)> {
    let sha512 =
        sha_crypt::sha512_simple(password, &sha_crypt::Sha512Params::new(5000).unwrap()).unwrap();
    let sha256 =
        sha_crypt::sha256_simple(password, &sha_crypt::Sha256Params::new(5000).unwrap()).unwrap();
    let bcrypt = bcrypt::hash(password, 5).unwrap();
    let salt = b"saltsaltsalt1234";
    let mut ssha = sha2::Sha512::digest([password.as_bytes(), salt].concat()).to_vec();
    ssha.extend_from_slice(salt);
    let ssha = base64::engine::general_purpose::STANDARD.encode(ssha);
    let argon2i = argon2::Argon2::new(
        argon2::Algorithm::Argon2i,
        argon2::Version::V0x13,
        argon2::Params::new(4096, 3, 1, None).unwrap(),
    )
    .hash_password(
        password.as_bytes(),
        &SaltString::generate(&mut rand::rngs::OsRng),
    )
    .unwrap()
    .to_string();
    let old_argon2id = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon2::Params::new(4096, 3, 1, None).unwrap(),
    )
    .hash_password(
        password.as_bytes(),
        &SaltString::generate(&mut rand::rngs::OsRng),
    )
    .unwrap()
    .to_string();
    vec![
        ("sha512", format!("{{SHA512-CRYPT}}{sha512}")),
        ("sha256", format!("{{SHA256-CRYPT}}{sha256}")),
        ("blf", format!("{{BLF-CRYPT}}{bcrypt}")),
        ("ssha", format!("{{SSHA512}}{ssha}")),
        ("argon2i", format!("{{ARGON2I}}{argon2i}")),
        ("oldargon", format!("{{ARGON2ID}}{old_argon2id}")),
    ]
}

#[tokio::test]
async fn imported_legacy_hashes_verify_and_are_upgraded_to_current_argon2id() {
    let app = TestApp::with_account().await;
    for (local, hash) in legacy_hashes(STRONG_PASSWORD) {
        let res = app
            .admin(
                Method::POST,
                "/v1/domains/mustermann.at/accounts",
                Some(json!({"local_part": local, "password_hash": hash})),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED, "{local}");
        let address = format!("{local}@mustermann.at");
        // A refused new password still proves the current one: the hash is upgraded.
        let res = app.change_password(&address, STRONG_PASSWORD, "kurz").await;
        assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "password_policy").await;
        let upgraded = app.stored_hash(local).await;
        assert!(
            upgraded.starts_with("{ARGON2ID}$argon2id$v=19$m=19456,t=2,p=1$"),
            "{local}: {upgraded}"
        );
        assert!(verifies(&upgraded, STRONG_PASSWORD), "{local}");

        let res = app
            .change_password(&address, STRONG_PASSWORD, NEW_PASSWORD)
            .await;
        assert_eq!(res.status(), StatusCode::OK, "{local}");
        assert!(
            verifies(&app.stored_hash(local).await, NEW_PASSWORD),
            "{local}"
        );
    }
    // A legacy hash changed directly (no refused attempt first) also ends as Argon2id.
    let (_, hash) = legacy_hashes(STRONG_PASSWORD).remove(0);
    app.admin(
        Method::POST,
        "/v1/domains/mustermann.at/accounts",
        Some(json!({"local_part": "direct", "password_hash": hash})),
    )
    .await;
    let res = app
        .change_password_by_form("direct@mustermann.at", STRONG_PASSWORD, NEW_PASSWORD)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(verifies(&app.stored_hash("direct").await, NEW_PASSWORD));
    let actions = app.audit_actions("sha512@mustermann.at").await;
    assert_eq!(
        actions,
        [
            "password.changed",
            "password.hash_upgraded",
            "account.created"
        ]
    );
}

#[tokio::test]
async fn a_full_hashing_queue_answers_503_with_retry_after() {
    let app = TestApp::with_account_and(|s| {
        s.hash_concurrency = 1;
        s.hash_queue = 0;
    })
    .await;
    for i in 0..8 {
        app.create_account("mustermann.at", &format!("u{i}")).await;
    }
    let sets: Vec<(String, String)> = (0..8)
        .map(|i| (format!("u{i}@mustermann.at"), format!("{NEW_PASSWORD}-{i}")))
        .collect();
    // All at once, so that they meet in the hashing pool.
    let calls = sets
        .iter()
        .map(|(address, password)| app.set_password(address, password));
    let responses = futures_util::future::join_all(calls).await;
    let mut overloaded = 0;
    for res in responses {
        match res.status() {
            StatusCode::NO_CONTENT => {}
            StatusCode::SERVICE_UNAVAILABLE => {
                overloaded += 1;
                assert_eq!(res.headers()["retry-after"], "1");
                assert_problem(res, StatusCode::SERVICE_UNAVAILABLE, "overloaded").await;
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert!(
        overloaded > 0,
        "eight hashes at once never filled a queue of one"
    );
}
