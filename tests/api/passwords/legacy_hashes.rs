//! Imported legacy hashes (SHA-crypt, bcrypt, SSHA512, Argon2i, weak Argon2id) verify
//! at the webmail change and are upgraded to the current Argon2id.

use argon2::password_hash::{PasswordHasher, SaltString};
use base64::Engine as _;
use reqwest::{Method, StatusCode};
use serde_json::json;
use sha2::Digest;

use crate::helpers::{assert_problem, verifies, TestApp, NEW_PASSWORD, STRONG_PASSWORD};

/// A PHC hash with parameters older than the service's (m=4096, t=3).
fn older_argon2(algorithm: argon2::Algorithm, password: &str) -> String {
    let params = argon2::Params::new(4096, 3, 1, None).unwrap();
    argon2::Argon2::new(algorithm, argon2::Version::V0x13, params)
        .hash_password(
            password.as_bytes(),
            &SaltString::generate(&mut rand::rngs::OsRng),
        )
        .unwrap()
        .to_string()
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
    let argon2i = older_argon2(argon2::Algorithm::Argon2i, password);
    let old_argon2id = older_argon2(argon2::Algorithm::Argon2id, password);
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
        let res = app.import_account("mustermann.at", local, &hash).await;
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
