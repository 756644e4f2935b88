//! Limits on what one client can hold: a client that trickles its request head or
//! its body, a byte at a time, is cut off while every other client is served.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::TestApp;

/// Sends `head` and then `trickle` one byte per 100 ms, until the server answers or
/// closes; returns what it answered and how many bytes of `trickle` it took.
async fn trickle(app: &TestApp, head: &str, trickle: &[u8]) -> (String, usize) {
    let mut stream = TcpStream::connect(app.socket_address()).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    for (sent, byte) in trickle.iter().enumerate() {
        let mut buf = [0u8; 4096];
        match tokio::time::timeout(Duration::from_millis(100), stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (String::from_utf8_lossy(&answer).into(), sent),
            Ok(Ok(n)) => {
                answer.extend_from_slice(&buf[..n]);
                // Let the rest of the answer arrive, then report it.
                let _ = tokio::time::timeout(
                    Duration::from_millis(500),
                    stream.read_to_end(&mut answer),
                )
                .await;
                return (String::from_utf8_lossy(&answer).into(), sent);
            }
            Err(_) => {}
        }
        if stream.write_all(&[*byte]).await.is_err() {
            return (String::from_utf8_lossy(&answer).into(), sent);
        }
    }
    (String::from_utf8_lossy(&answer).into(), trickle.len())
}

#[tokio::test]
async fn a_client_trickling_its_head_is_cut_off_and_holds_no_worker() {
    let app = TestApp::spawn_with(|s| {
        s.workers = 1;
        s.head_timeout_ms = 500;
    })
    .await;
    let headers = b"X-Slow: ".repeat(40);
    let slow = trickle(&app, "GET /healthz HTTP/1.1\r\n", &headers);
    let fast = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        app.call(Method::GET, "/healthz", None, None).await.status()
    };
    let ((_, sent), status) = tokio::join!(slow, fast);
    // The one worker served another client while the slow one was still sending, and
    // the slow one was cut off long before it had sent its 320 bytes.
    assert_eq!(status, StatusCode::OK);
    assert!(sent < 320, "the server waited for the whole trickle");
}

#[tokio::test]
async fn a_client_trickling_its_body_gets_408_and_holds_no_worker() {
    let app = TestApp::spawn_with(|s| {
        s.workers = 1;
        s.body_timeout_ms = 500;
    })
    .await;
    let body = format!("{{\"name\":\"{}\"}}", "x".repeat(150));
    let head = format!(
        "POST /v1/partners HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        app.admin_key,
        body.len()
    );
    let slow = trickle(&app, &head, body.as_bytes());
    let fast = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        app.call(Method::GET, "/healthz", None, None).await.status()
    };
    let ((answer, sent), status) = tokio::join!(slow, fast);
    assert_eq!(status, StatusCode::OK);
    assert!(sent < body.len(), "the server waited for the whole body");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("request_timeout"), "{answer}");
    // Nothing was written.
    let partners: i64 = sqlx::query_scalar("SELECT count(*) FROM partners")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(partners, 0);
}
