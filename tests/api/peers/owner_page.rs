//! The mailbox owner's page (`/setup`): in Debian's Chromium, headless, at phone and
//! desktop width (tests/browser/setup_page.mjs), and with hostile input.

use std::path::Path;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{TestApp, MAX};

const EVA: &str = "eva@mustermann.at";

/// Runs the browser script on `url`; screenshots go to `prefix-*.png`.
async fn in_chromium(url: &str, prefix: &Path) -> Value {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let script = root.join("tests/browser/setup_page.mjs");
    assert!(
        root.join("tests/browser/node_modules/playwright-core")
            .exists(),
        "run scripts/test (it installs Chromium and tests/browser's node modules)"
    );
    let out = tokio::process::Command::new("node")
        .arg(script)
        .arg(url)
        .arg(prefix)
        .output()
        .await
        .expect("node runs");
    assert!(
        out.status.success(),
        "the browser script failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the script prints JSON")
}

/// What a QR code in a PNG says (zbarimg, Debian's zbar-tools).
async fn qr_text(png: &Path) -> String {
    let out = tokio::process::Command::new("zbarimg")
        .args(["--quiet", "--raw"])
        .arg(png)
        .output()
        .await
        .expect("zbarimg runs");
    assert!(
        out.status.success(),
        "no QR code found in {}",
        png.display()
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// The servers of the client-settings JSON, as the page marks its table rows up.
fn servers(settings: &Value) -> Vec<Value> {
    ["incoming", "outgoing"]
        .iter()
        .flat_map(|k| settings[k].as_array().unwrap().clone())
        .map(|e| {
            json!({"protocol": e["protocol"], "host": e["host"], "port": e["port"],
                   "security": e["security"], "recommended": e["recommended"]})
        })
        .collect()
}

#[tokio::test]
async fn the_owner_page_shows_the_accounts_settings_in_a_real_browser() {
    let app = TestApp::with_account().await;
    app.create_account("mustermann.at", "eva").await;
    let shots =
        std::env::temp_dir().join(format!("mailpanel-setup-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&shots).unwrap();
    let base = format!("http://{}", app.socket_address());

    for (address, lang) in [(MAX, "de"), (EVA, "en")] {
        let settings = app
            .admin_get_json(&format!(
                "/v1/accounts/{address}/client-settings?lang={lang}"
            ))
            .await;
        let query = format!("emailaddress={}&lang={lang}", address.replace('@', "%40"));
        let prefix = shots.join(lang);
        let seen = in_chromium(&format!("{base}/setup?{query}"), &prefix).await;

        for view in ["phone", "desktop"] {
            let v = &seen[view];
            assert_eq!(v["status"], 200, "{view}: {v}");
            assert_eq!(v["lang"], lang);
            assert_eq!(v["problems"], json!([]), "{lang} {view}: console errors");
            assert!(v["csp"].as_str().unwrap().contains("default-src 'none'"));
            let rows: Vec<Value> = v["rows"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    json!({"protocol": r["protocol"], "host": r["host"], "port": r["port"],
                           "security": r["security"], "recommended": r["recommended"]})
                })
                .collect();
            assert_eq!(
                rows,
                servers(&settings),
                "{lang} {view}: the page and the JSON disagree"
            );
            assert_eq!(v["username"], settings["username"]);
            assert!(
                v["copyButtonsShown"].as_u64().unwrap() > 0,
                "copy buttons where JavaScript runs"
            );
            assert!(
                v["overflow"].as_i64().unwrap() <= 0,
                "{lang} {view}: wider than the screen by {}",
                v["overflow"]
            );
            let serious: Vec<&Value> = v["axe"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|x| matches!(x["impact"].as_str(), Some("serious" | "critical")))
                .collect();
            assert!(serious.is_empty(), "{lang} {view}: {serious:?}");
        }
        assert_eq!(
            seen["print"]["copyButtonsVisible"], 0,
            "printing hides the buttons"
        );

        // The QR code, as the phone's camera sees it, opens the Apple profile.
        let path = format!(
            "/apple/mobileconfig?emailaddress={}",
            address.replace('@', "%40")
        );
        let qr = qr_text(&shots.join(format!("{lang}-phone-qr.png"))).await;
        assert_eq!(qr, format!("{base}{path}"));
        let res = app.request(Method::GET, &path).send().await;
        assert_eq!(res.status(), StatusCode::OK);

        if std::env::var_os("UPDATE_SCREENSHOTS").is_some() {
            let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs");
            std::fs::create_dir_all(&docs).unwrap();
            for view in ["phone", "desktop"] {
                std::fs::copy(
                    shots.join(format!("{lang}-{view}.png")),
                    docs.join(format!("setup-{lang}-{view}.png")),
                )
                .unwrap();
            }
        }
    }
    let _ = std::fs::remove_dir_all(&shots);
}
