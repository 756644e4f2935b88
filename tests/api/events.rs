//! The change feed: in reach, in order, and gap-free for a reader that follows the
//! cursor while writes commit out of order on two instances.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{TestApp, STRONG_PASSWORD};

/// One read of the feed after `after` with `key`.
async fn read(app: &TestApp, key: &str, after: Option<&str>) -> Value {
    let path = match after {
        Some(c) => format!("/v1/events?limit=500&after={c}"),
        None => "/v1/events?limit=500".to_owned(),
    };
    let res = app.call(Method::GET, &path, Some(key), None).await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

/// Reads from `after` until the page holds an event about `address` (or 20 s pass).
async fn read_until(app: &TestApp, key: &str, after: Option<&str>, address: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let page = read(app, key, after).await;
        let found = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["subject"]["address"] == address);
        if found || Instant::now() > deadline {
            return page;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_partner_reads_its_own_changes_in_order_and_nothing_of_another() {
    let app = TestApp::spawn().await;
    let t = app.tenants().await;
    let key = app.partner_key(&t.partner_a).await;
    // The feed waits for every older transaction of the cluster, other tests' too;
    // the fixture's last write for partner A is its account.
    let page = read_until(&app, &key, None, "max@a.example").await;
    let events = page["items"].as_array().unwrap();
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert!(types.contains(&"account.created"), "{types:?}");
    assert!(types.contains(&"domain.created"), "{types:?}");
    for e in events {
        assert_ne!(e["subject"]["domain"], "b.example", "{e}");
        assert_ne!(e["subject"]["partner_id"], json!(t.partner_b), "{e}");
    }
    let ids: Vec<i64> = events.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_eq!(ids, sorted, "oldest first");

    // Following the cursor: only what is new.
    let cursor = page["next_cursor"].as_str().unwrap().to_owned();
    app.create_alias("a.example", "info", &["max@a.example"])
        .await;
    app.create_alias("b.example", "info", &["eva@b.example"])
        .await;
    let next = read_until(&app, &key, Some(&cursor), "info@a.example").await;
    let types: Vec<(&str, &str)> = next["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap(),
                e["subject"]["address"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(types, [("alias.created", "info@a.example")]);

    let res = app
        .call(Method::GET, "/v1/events?after=bm9wZQ", Some(&key), None)
        .await;
    assert_eq!(
        res.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "a cursor this feed never gave"
    );
}

#[tokio::test]
async fn a_reader_following_the_cursor_misses_and_repeats_nothing_while_two_instances_write() {
    let first = TestApp::with_domain().await;
    let second = first.second_instance().await;
    const WRITERS: usize = 8;
    const EACH: usize = 15;
    // Everything below plus one slow write: it takes its place in the trail first
    // and commits last, as a write held up on another instance would.
    const EXPECTED: usize = WRITERS * EACH + 1;
    let mut slow = first.pool.begin().await.unwrap();
    sqlx::query(
        "INSERT INTO audit_events (action, channel, domain, account) \
         VALUES ('account.created', 'api', 'mustermann.at', 'slow@mustermann.at')",
    )
    .execute(&mut *slow)
    .await
    .unwrap();

    let reader = {
        let key = first.admin_key.clone();
        let base = first.socket_address().to_owned();
        let client = reqwest::Client::new();
        tokio::spawn(async move {
            let mut seen: Vec<(i64, String)> = Vec::new();
            let mut cursor: Option<String> = None;
            let deadline = Instant::now() + Duration::from_secs(60);
            while Instant::now() < deadline {
                let url = match &cursor {
                    Some(c) => format!("http://{base}/v1/events?limit=7&after={c}"),
                    None => format!("http://{base}/v1/events?limit=7"),
                };
                let page: Value = client
                    .get(url)
                    .bearer_auth(&key)
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                for e in page["items"].as_array().unwrap() {
                    if e["type"] == "account.created" {
                        seen.push((
                            e["id"].as_i64().unwrap(),
                            e["subject"]["address"].as_str().unwrap().to_owned(),
                        ));
                    }
                }
                cursor = page["next_cursor"].as_str().map(str::to_owned).or(cursor);
                if seen.len() >= EXPECTED {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            seen
        })
    };

    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let app = if w % 2 == 0 { &first } else { &second };
            async move {
                for i in 0..EACH {
                    let body =
                        json!({"local_part": format!("w{w}n{i}"), "password": STRONG_PASSWORD});
                    let res = app
                        .admin(
                            Method::POST,
                            "/v1/domains/mustermann.at/accounts",
                            Some(body),
                        )
                        .await;
                    assert_eq!(res.status(), StatusCode::CREATED);
                }
            }
        })
        .collect();
    futures_util::future::join_all(writers).await;
    // The reader has had time to pass the slow write's place if it could.
    tokio::time::sleep(Duration::from_millis(300)).await;
    slow.commit().await.unwrap();

    let seen = reader.await.unwrap();
    let addresses: HashSet<&str> = seen.iter().map(|(_, a)| a.as_str()).collect();
    assert_eq!(
        seen.len(),
        EXPECTED,
        "every create once: {} seen",
        seen.len()
    );
    assert_eq!(addresses.len(), EXPECTED, "none twice");
    assert!(
        addresses.contains("slow@mustermann.at"),
        "the write that committed last"
    );
}

#[tokio::test]
async fn events_come_in_transaction_order_also_where_the_id_gains_a_digit() {
    // Transaction ids 9 and 10, long finished: as text, "10" sorts before "9".
    let app = TestApp::spawn().await;
    let mut ids = Vec::new();
    for txid in ["10", "9"] {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO audit_events (action, channel, details, txid)
             VALUES ('partner.updated', 'api', '{}', $1::text::xid8) RETURNING id",
        )
        .bind(txid)
        .fetch_one(&app.pool)
        .await
        .unwrap();
        ids.push(id);
    }
    let page = read(&app, &app.admin_key, None).await;
    let order: Vec<i64> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        order[..2],
        [ids[1], ids[0]],
        "txid 9, then 10, then the rest"
    );
}

#[tokio::test]
async fn a_partner_sees_what_its_customers_own_keys_record() {
    // A customer's key is written knowing only the customer; its events are still
    // the partner's, and not another partner's.
    let app = TestApp::spawn().await;
    let t = app.tenants().await;
    let res = app
        .admin(
            Method::POST,
            "/v1/api-keys",
            Some(json!({"role": "customer", "customer_id": t.customer_a, "description": "CP"})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: Value = res.json().await.unwrap();
    let key_id = created["id"].as_str().unwrap().to_owned();
    let names_the_key = |e: &Value| e["details"]["key_id"] == key_id.as_str();

    let a = app.partner_key(&t.partner_a).await;
    let b = app.partner_key(&t.partner_b).await;
    for (key, sees) in [(&a, true), (&b, false)] {
        let res = app
            .call(Method::GET, "/v1/audit-events?limit=500", Some(key), None)
            .await;
        let trail: Value = res.json().await.unwrap();
        let found = trail["items"].as_array().unwrap().iter().any(names_the_key);
        assert_eq!(found, sees, "audit trail");
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    let in_feed = |page: &Value| {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["type"] == "api_key.created" && e["data"]["key_id"] == key_id.as_str())
    };
    loop {
        if in_feed(&read(&app, &a, None).await) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "partner A's feed never showed the key"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!in_feed(&read(&app, &b, None).await), "partner B's feed");
}
