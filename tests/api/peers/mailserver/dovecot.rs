//! The Dovecot harness of the mail-server tests: a private Dovecot from
//! `deploy/dovecot/` on loopback ports against one test's database, logging in as a
//! login that has nothing but `mailserver_reader`, plus an SMTP sink for submissions.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::helpers::TestApp;

/// The login the mail servers use: nothing but `mailserver_reader`, as the README
/// tells operators. Roles are cluster-wide, so every test shares this one.
pub const READER_ROLE: &str = "mailpanel_dovecot_test";
/// The test Dovecot's `doveadm_api_key`.
pub const DOVEADM_KEY: &str = "doveadm-test-key";

/// Creates `READER_ROLE` unless an earlier test (or run) did: the mail servers'
/// login, which reads the views and writes Dovecot's reports, as deploy/ says.
pub async fn ensure_reader_role(app: &TestApp) {
    sqlx::query(&format!(
        "DO $$ BEGIN CREATE ROLE {READER_ROLE} LOGIN IN ROLE mailserver_reader, mailserver_reporter;
         EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
    ))
    .execute(&app.pool)
    .await
    .unwrap();
    // A role made by an older run lacks the reporter's grant.
    let _ = sqlx::query(&format!("GRANT mailserver_reporter TO {READER_ROLE}"))
        .execute(&app.pool)
        .await;
}

struct Ports {
    imap: u16,
    imaps: u16,
    pop3: u16,
    pop3s: u16,
    submission: u16,
    submissions: u16,
    lmtp: u16,
    doveadm: u16,
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

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn run(cmd: &mut Command) {
    let out = cmd.output().expect("command runs");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A tiny SMTP server that accepts everything Dovecot's submission relays to it.
pub async fn smtp_sink() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    (port, smtp_sink_on(listener))
}

/// The same sink on a listener the caller bound (e.g. a relay that comes back on its
/// old port).
pub fn smtp_sink_on(listener: tokio::net::TcpListener) -> Arc<Mutex<Vec<String>>> {
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
    messages
}

impl Dovecot {
    /// Starts a Dovecot that reads `app`'s database; it is killed when dropped.
    pub async fn start(app: &TestApp) -> Dovecot {
        // A port picked free may be taken before Dovecot binds it (by any connection
        // on this machine): then it exits, and a second try picks other ports.
        let mut failures = Vec::new();
        for _ in 0..3 {
            match Self::try_start(app).await {
                Ok(dovecot) => return dovecot,
                Err(why) => failures.push(why),
            }
        }
        panic!("dovecot did not start: {failures:#?}");
    }

    async fn try_start(app: &TestApp) -> Result<Dovecot, String> {
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
            lmtp: free_port(),
            doveadm: free_port(),
        };
        let deploy = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/dovecot");
        let d = dir.to_str().unwrap();
        let sql = std::fs::read_to_string(deploy.join("dovecot-sql.conf.ext"))
            .unwrap()
            .replace(
                "connect = host=127.0.0.1 dbname=mailpanel user=dovecot password=change-me",
                &format!("connect = host=127.0.0.1 dbname={database} user={READER_ROLE}"),
            )
            // The view's homes, under the test's folder instead of /var/vmail.
            .replace(
                "user_query = SELECT home, quota_rule",
                &format!(
                    "user_query = SELECT replace(home, '/var/vmail/', '{}/home/') AS home, quota_rule",
                    dir.display()
                ),
            );
        assert!(
            sql.contains("AS home, quota_rule"),
            "deploy/dovecot's user_query changed"
        );
        std::fs::write(dir.join("dovecot-sql.conf.ext"), sql).unwrap();
        let dict = std::fs::read_to_string(deploy.join("dovecot-dict-sql.conf.ext"))
            .unwrap()
            .replace(
                "connect = host=127.0.0.1 dbname=mailpanel user=dovecot password=change-me",
                &format!("connect = host=127.0.0.1 dbname={database} user={READER_ROLE}"),
            );
        assert!(
            dict.contains(READER_ROLE),
            "deploy/dovecot's dict connect line changed"
        );
        std::fs::write(dir.join("dovecot-dict-sql.conf.ext"), dict).unwrap();
        let used = std::fs::read_to_string(deploy.join("dovecot-sql-app-used.conf.ext"))
            .unwrap()
            .replace(
                "connect = host=127.0.0.1 dbname=mailpanel user=dovecot password=change-me",
                &format!("connect = host=127.0.0.1 dbname={database} user={READER_ROLE}"),
            );
        assert!(
            used.contains(READER_ROLE),
            "deploy/dovecot's app-used connect line changed"
        );
        std::fs::write(dir.join("dovecot-sql-app-used.conf.ext"), used).unwrap();
        let replacements = [
            (
                "/etc/dovecot/dovecot-sql.conf.ext".to_owned(),
                format!("{d}/dovecot-sql.conf.ext"),
            ),
            (
                "/etc/dovecot/dovecot-sql-app-used.conf.ext".to_owned(),
                format!("{d}/dovecot-sql-app-used.conf.ext"),
            ),
            (
                "/etc/dovecot/dovecot-dict-sql.conf.ext".to_owned(),
                format!("{d}/dovecot-dict-sql.conf.ext"),
            ),
            (
                "    mode = 0660\n    user = vmail\n    group = vmail\n".to_owned(),
                "    mode = 0666\n".to_owned(),
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
            ("port = 24\n".to_owned(), format!("port = {}\n", ports.lmtp)),
            (
                "port = 8090\n".to_owned(),
                format!("port = {}\n", ports.doveadm),
            ),
            (
                "doveadm_api_key = change-me-too".to_owned(),
                format!("doveadm_api_key = {DOVEADM_KEY}"),
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
                return Ok(dovecot);
            }
            if let Ok(Some(status)) = dovecot.child.try_wait() {
                let mut stderr = String::new();
                if let Some(mut pipe) = dovecot.child.stderr.take() {
                    let _ = std::io::Read::read_to_string(&mut pipe, &mut stderr);
                }
                return Err(format!(
                    "dovecot exited ({status}): {stderr}{}",
                    dovecot.log()
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("dovecot did not listen: {}", dovecot.log());
    }

    /// The doveadm HTTP API's port (loopback).
    pub fn doveadm_port(&self) -> u16 {
        self.ports.doveadm
    }

    /// Implicit-TLS ports of IMAP and POP3.
    pub fn imaps_port(&self) -> u16 {
        self.ports.imaps
    }

    pub fn pop3s_port(&self) -> u16 {
        self.ports.pop3s
    }

    /// Where Postfix delivers to this Dovecot (LMTP, loopback).
    pub fn lmtp_port(&self) -> u16 {
        self.ports.lmtp
    }

    /// The folder under which the mailbox homes are (`/var/vmail` in production).
    pub fn homes(&self) -> PathBuf {
        self.dir.join("home")
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

    /// Appends a message to the user's INBOX (`append`) or not (`count`); the INBOX's
    /// message count afterwards.
    pub async fn mailbox(&self, user: &str, password: &str, action: &str) -> u32 {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mail/mailbox.py");
        let out = tokio::process::Command::new("python3")
            .arg(script)
            .args([&self.ports.imaps.to_string(), user, password, action])
            .output()
            .await
            .expect("python3 runs");
        assert!(
            out.status.success(),
            "mailbox {action} failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            self.log()
        );
        String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
    }

    /// The subjects of the messages in the user's INBOX, read over IMAP.
    pub async fn subjects(&self, user: &str, password: &str) -> Vec<String> {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mail/inbox.py");
        let out = tokio::process::Command::new("python3")
            .arg(script)
            .args([&self.ports.imaps.to_string(), user, password])
            .output()
            .await
            .expect("python3 runs");
        assert!(
            out.status.success(),
            "reading {user}'s INBOX failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            self.log()
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .collect()
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
