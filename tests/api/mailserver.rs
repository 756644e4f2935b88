//! The mail-server contract, proven with a real Dovecot: a private instance runs
//! from `deploy/dovecot/` against the test's database (through the `mailserver`
//! views, as a login that has nothing but `mailserver_reader`), and Python's own
//! IMAP, POP3 and SMTP clients log in to it. Everything is set up through the
//! public API.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::helpers::{connect, TestApp, MAX, NEW_PASSWORD, STRONG_PASSWORD};

/// The login the mail servers use: nothing but `mailserver_reader`, as the README
/// tells operators. Roles are cluster-wide, so every test shares this one.
pub const READER_ROLE: &str = "mailpanel_dovecot_test";

/// Creates `READER_ROLE` unless an earlier test (or run) did.
pub async fn ensure_reader_role(app: &TestApp) {
    sqlx::query(&format!(
        "DO $$ BEGIN CREATE ROLE {READER_ROLE} LOGIN IN ROLE mailserver_reader;
         EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
    ))
    .execute(&app.pool)
    .await
    .unwrap();
}

struct Ports {
    imap: u16,
    imaps: u16,
    pop3: u16,
    pop3s: u16,
    submission: u16,
    submissions: u16,
}

pub struct Dovecot {
    child: Child,
    dir: PathBuf,
    ports: Ports,
    /// Messages the relay sink received.
    pub sink: Arc<Mutex<Vec<String>>>,
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn run(cmd: &mut Command) {
    let out = cmd.output().expect("command runs");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A tiny SMTP server that accepts everything Dovecot's submission relays to it.
async fn smtp_sink() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let messages = Arc::new(Mutex::new(Vec::new()));
    let store = messages.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let store = store.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                let _ = write.write_all(b"220 sink ESMTP\r\n").await;
                let mut in_data = false;
                let mut data = String::new();
                while let Ok(Some(line)) = lines.next_line().await {
                    if in_data {
                        if line == "." {
                            in_data = false;
                            store.lock().unwrap().push(std::mem::take(&mut data));
                            let _ = write.write_all(b"250 queued\r\n").await;
                        } else {
                            data.push_str(&line);
                            data.push('\n');
                        }
                        continue;
                    }
                    let verb = line
                        .split_whitespace()
                        .next()
                        .unwrap_or("")
                        .to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" => b"250-sink\r\n250 8BITMIME\r\n",
                        "DATA" => {
                            in_data = true;
                            b"354 go ahead\r\n"
                        }
                        "QUIT" => {
                            let _ = write.write_all(b"221 bye\r\n").await;
                            break;
                        }
                        _ => b"250 ok\r\n",
                    };
                    let _ = write.write_all(reply).await;
                }
            });
        }
    });
    (port, messages)
}

impl Dovecot {
    /// Starts a Dovecot that reads `app`'s database; it is killed when dropped.
    pub async fn start(app: &TestApp) -> Dovecot {
        ensure_reader_role(app).await;
        let database = app.database_url.rsplit('/').next().unwrap().to_owned();

        let dir = std::env::temp_dir().join(format!(
            "mailpanel-dovecot-{}",
            uuid::Uuid::new_v4().simple()
        ));
        for sub in ["run", "state", "home"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        run(Command::new("chmod").args(["0755", dir.to_str().unwrap()]));
        run(Command::new("chmod").args(["0777", dir.join("home").to_str().unwrap()]));
        run(Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "1",
                "-subj",
                "/CN=localhost",
            ])
            .arg("-keyout")
            .arg(dir.join("key.pem"))
            .arg("-out")
            .arg(dir.join("cert.pem")));

        let (sink_port, sink) = smtp_sink().await;
        let ports = Ports {
            imap: free_port(),
            imaps: free_port(),
            pop3: free_port(),
            pop3s: free_port(),
            submission: free_port(),
            submissions: free_port(),
        };
        let deploy = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/dovecot");
        let d = dir.to_str().unwrap();
        let sql = std::fs::read_to_string(deploy.join("dovecot-sql.conf.ext"))
            .unwrap()
            .replace(
                "connect = host=127.0.0.1 dbname=mailpanel user=dovecot password=change-me",
                &format!("connect = host=127.0.0.1 dbname={database} user={READER_ROLE}"),
            );
        std::fs::write(dir.join("dovecot-sql.conf.ext"), sql).unwrap();
        let replacements = [
            (
                "/etc/dovecot/dovecot-sql.conf.ext".to_owned(),
                format!("{d}/dovecot-sql.conf.ext"),
            ),
            (
                "</etc/dovecot/tls/fullchain.pem".to_owned(),
                format!("<{d}/cert.pem"),
            ),
            (
                "</etc/dovecot/tls/privkey.pem".to_owned(),
                format!("<{d}/key.pem"),
            ),
            ("listen = *, ::".to_owned(), "listen = 127.0.0.1".to_owned()),
            (
                "port = 143\n".to_owned(),
                format!("port = {}\n", ports.imap),
            ),
            (
                "port = 993\n".to_owned(),
                format!("port = {}\n", ports.imaps),
            ),
            (
                "port = 110\n".to_owned(),
                format!("port = {}\n", ports.pop3),
            ),
            (
                "port = 995\n".to_owned(),
                format!("port = {}\n", ports.pop3s),
            ),
            (
                "port = 587\n".to_owned(),
                format!("port = {}\n", ports.submission),
            ),
            (
                "port = 465\n".to_owned(),
                format!("port = {}\n", ports.submissions),
            ),
            (
                "submission_relay_port = 25".to_owned(),
                format!("submission_relay_port = {sink_port}"),
            ),
            (
                "mail_uid = vmail".to_owned(),
                "mail_uid = nobody".to_owned(),
            ),
            (
                "mail_gid = vmail".to_owned(),
                "mail_gid = nogroup".to_owned(),
            ),
            // Homes from the userdb view live under /var/vmail; here, in the test's folder.
            (
                "userdb {\n  driver = sql\n".to_owned(),
                format!("userdb {{\n  driver = sql\n  override_fields = home={d}/home/%d/%n\n"),
            ),
        ];
        let mut conf = std::fs::read_to_string(deploy.join("dovecot.conf")).unwrap();
        for (from, to) in &replacements {
            assert!(
                conf.contains(from.as_str()),
                "deploy/dovecot/dovecot.conf no longer has {from:?}"
            );
            conf = conf.replace(from.as_str(), to);
        }
        conf.push_str(&format!(
            "\nbase_dir = {d}/run\nstate_dir = {d}/state\nlog_path = {d}/dovecot.log\nauth_verbose = yes\nhostname = mail.test\nssl_dh = </usr/share/dovecot/dh.pem\n\
             # Refused logins are part of the test: no delay, no growing penalty.\nauth_failure_delay = 0\nlogin_trusted_networks = 127.0.0.0/8\n"
        ));
        std::fs::write(dir.join("dovecot.conf"), conf).unwrap();

        let child = Command::new("dovecot")
            .args(["-F", "-c"])
            .arg(dir.join("dovecot.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("dovecot starts (apt-get install dovecot-core dovecot-imapd dovecot-pop3d dovecot-pgsql dovecot-submissiond)");
        let mut dovecot = Dovecot {
            child,
            dir,
            ports,
            sink,
        };
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", dovecot.ports.submissions)).is_ok() {
                return dovecot;
            }
            if let Ok(Some(status)) = dovecot.child.try_wait() {
                panic!("dovecot exited ({status}): {}", dovecot.log());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("dovecot did not listen: {}", dovecot.log());
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("dovecot.log")).unwrap_or_default()
    }

    /// Logs in with Python's client for the protocol; true when the server accepted.
    pub async fn login(&self, protocol: &str, security: &str, user: &str, password: &str) -> bool {
        let port = match (protocol, security) {
            ("imap", "tls") => self.ports.imaps,
            ("imap", _) => self.ports.imap,
            ("pop3", "tls") => self.ports.pop3s,
            ("pop3", _) => self.ports.pop3,
            ("smtp", "tls") => self.ports.submissions,
            _ => self.ports.submission,
        };
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mail/login.py");
        let out = tokio::process::Command::new("python3")
            .arg(script)
            .args([protocol, security, &port.to_string(), user, password])
            .output()
            .await
            .expect("python3 runs");
        match out.status.code() {
            Some(0) => true,
            Some(1) => false,
            _ => panic!(
                "{protocol}/{security} login failed oddly: {}\n{}",
                String::from_utf8_lossy(&out.stderr),
                self.log()
            ),
        }
    }

    /// Every protocol over both kinds of encryption.
    pub async fn logins(
        &self,
        user: &str,
        password: &str,
    ) -> Vec<(&'static str, &'static str, bool)> {
        let mut out = Vec::new();
        for protocol in ["imap", "pop3", "smtp"] {
            for security in ["tls", "starttls"] {
                out.push((
                    protocol,
                    security,
                    self.login(protocol, security, user, password).await,
                ));
            }
        }
        out
    }
}

/// True when every login's outcome is `expected`.
pub fn all(results: &[(&str, &str, bool)], expected: bool) -> bool {
    results.iter().all(|(_, _, ok)| *ok == expected)
}

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
        let res = app
            .admin(
                reqwest::Method::POST,
                "/v1/domains/mustermann.at/accounts",
                Some(json!({"local_part": local, "password_hash": hash})),
            )
            .await;
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
    assert_eq!(
        (home.as_str(), quota.as_str()),
        ("/var/vmail/mustermann.at/max", "*:storage=2048M")
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
    assert_eq!(maildir, "mustermann.at/max/Maildir/");

    for table in ["accounts", "domains", "api_keys", "audit_events"] {
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
