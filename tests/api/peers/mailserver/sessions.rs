//! Sessions end with the right to them, in a real Dovecot: an IMAP or POP3 session
//! opened before a password set, a suspension, a protocol switched off or the
//! revocation of its app password is cut after it, and a Dovecot whose doveadm API
//! cannot be reached gets the kick once it can.

use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::net::TcpListener;
use tokio::process::{Child, ChildStdout, Command};

use super::dovecot::{Dovecot, DOVEADM_KEY};
use crate::helpers::{TestApp, MAX, NEW_PASSWORD, STRONG_PASSWORD};

/// The network between mailpanel and Dovecot's doveadm listener: forwards while
/// open, refuses connections while closed.
struct Link {
    port: u16,
    open: Arc<AtomicBool>,
    target: Arc<AtomicU16>,
}

impl Link {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let open = Arc::new(AtomicBool::new(true));
        let target = Arc::new(AtomicU16::new(0));
        let (o, t) = (open.clone(), target.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    return;
                };
                if !o.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let to = t.load(Ordering::SeqCst);
                tokio::spawn(async move {
                    if let Ok(mut outbound) =
                        tokio::net::TcpStream::connect(("127.0.0.1", to)).await
                    {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        Self { port, open, target }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn set_open(&self, open: bool) {
        self.open.store(open, Ordering::SeqCst);
    }
}

/// A mail client holding a session open (`tests/mail/hold.py`).
struct Held {
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
}

impl Held {
    async fn open(protocol: &str, port: u16, password: &str) -> Self {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/mail/hold.py");
        let mut child = Command::new("python3")
            .args([script, protocol, &port.to_string(), MAX, password])
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next_line().await.unwrap();
        assert_eq!(first.as_deref(), Some("logged in"), "{protocol} login");
        Self { child, lines }
    }

    /// Waits for the client to see its session end; what it saw, and how long after
    /// `since` (for the note; no figure is asserted).
    async fn cut(mut self, since: Instant) -> (String, Duration) {
        let line = self.lines.next_line().await.unwrap().unwrap_or_default();
        let after = since.elapsed();
        let _ = self.child.wait().await;
        (line, after)
    }

    /// Whether the session is still open `for_a_while` later.
    async fn still_open(&mut self, for_a_while: Duration) -> bool {
        tokio::time::timeout(for_a_while, self.lines.next_line())
            .await
            .is_err()
    }
}

async fn pending_kicks(app: &TestApp) -> f64 {
    let (_, _, text) = app.get_text("/metrics").await;
    text.lines()
        .find_map(|l| l.strip_prefix("mailpanel_dovecot_kicks_pending "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(-1.0)
}

#[tokio::test]
async fn sessions_end_when_the_right_to_them_does() {
    let link = Link::start().await;
    let url = link.url();
    let app = TestApp::with_account_and(|s| {
        s.doveadm_urls = vec![url];
        s.doveadm_api_key = Some(DOVEADM_KEY.to_owned().into());
        s.doveadm_poll_ms = 50;
    })
    .await;
    let dovecot = Dovecot::start(&app).await;
    link.target.store(dovecot.doveadm_port(), Ordering::SeqCst);

    // 1. The Control Panel sets a new password: the IMAP session opened with the old
    //    one ends.
    let held = Held::open("imap", dovecot.imaps_port(), STRONG_PASSWORD).await;
    let res = app.set_password(MAX, NEW_PASSWORD).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let (seen, after) = held.cut(Instant::now()).await;
    assert!(seen.starts_with("cut"), "IMAP after a password set: {seen}");
    eprintln!("imap session cut {after:?} after the password set: {seen}");

    // 2. Suspended: the POP3 session ends too.
    let held = Held::open("pop3", dovecot.pop3s_port(), NEW_PASSWORD).await;
    let res = app
        .update_account(MAX, json!({"status": "suspended"}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let (seen, after) = held.cut(Instant::now()).await;
    assert!(seen.starts_with("cut"), "POP3 after suspension: {seen}");
    eprintln!("pop3 session cut {after:?} after the suspension: {seen}");
    let res = app.update_account(MAX, json!({"status": "active"})).await;
    assert_eq!(res.status(), StatusCode::OK);

    // 3. IMAP switched off for the account: its IMAP session ends.
    let held = Held::open("imap", dovecot.imaps_port(), NEW_PASSWORD).await;
    let res = app
        .update_account(
            MAX,
            json!({"protocols": {"imap": false, "pop3": true, "smtp": true}}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let (seen, after) = held.cut(Instant::now()).await;
    assert!(seen.starts_with("cut"), "IMAP switched off: {seen}");
    eprintln!("imap session cut {after:?} after IMAP was switched off: {seen}");
    let res = app
        .update_account(
            MAX,
            json!({"protocols": {"imap": true, "pop3": true, "smtp": true}}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    // 4. The app password a session was opened with is revoked: the session ends.
    let res = app
        .admin(
            Method::POST,
            "/v1/accounts/max@mustermann.at/app-passwords",
            Some(json!({"name": "Phone", "protocols": ["imap"]})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: serde_json::Value = res.json().await.unwrap();
    let phone = created["password"].as_str().unwrap();
    let held = Held::open("imap", dovecot.imaps_port(), phone).await;
    let path = format!(
        "/v1/accounts/max@mustermann.at/app-passwords/{}",
        created["id"].as_str().unwrap()
    );
    let res = app.admin(Method::DELETE, &path, None).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let (seen, after) = held.cut(Instant::now()).await;
    assert!(
        seen.starts_with("cut"),
        "IMAP after its app password was revoked: {seen}"
    );
    eprintln!("imap session cut {after:?} after its app password was revoked: {seen}");

    // 5. Dovecot's doveadm API cannot be reached: the change still answers at once,
    //    the kick waits (and shows in /metrics), and happens once it can be reached.
    let mut held = Held::open("imap", dovecot.imaps_port(), NEW_PASSWORD).await;
    link.set_open(false);
    let res = app.set_password(MAX, STRONG_PASSWORD).await;
    assert_eq!(
        res.status(),
        StatusCode::NO_CONTENT,
        "the password set is not held up"
    );
    assert!(
        held.still_open(Duration::from_secs(1)).await,
        "nothing can tell Dovecot yet"
    );
    assert!(pending_kicks(&app).await >= 1.0, "the kick waits");
    let reopened = Instant::now();
    link.set_open(true);
    let (seen, after) = held.cut(reopened).await;
    assert!(seen.starts_with("cut"), "IMAP once doveadm is back: {seen}");
    eprintln!("imap session cut {after:?} after doveadm came back: {seen}");
    assert!(
        crate::helpers::eventually(|| async { pending_kicks(&app).await == 0.0 }).await,
        "nothing left waiting"
    );

    // Dovecot's own account of it.
    let log = dovecot.log();
    let kicked: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("kick") || l.contains("Disconnected"))
        .collect();
    eprintln!("dovecot log:\n{}", kicked.join("\n"));
    assert_eq!(
        kicked
            .iter()
            .filter(|l| l.contains("Executing command 'kick'"))
            .count(),
        5,
        "one kick per change, none lost while doveadm was away"
    );
}
