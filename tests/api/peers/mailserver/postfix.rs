//! The Postfix harness of the mail-server tests: a private Postfix from
//! `deploy/postfix/` (its own config, queue and log under a temp folder, SMTP on a
//! loopback port, no system service touched) reading one test's database as the mail
//! servers' role, delivering into the test's Dovecot homes, and relaying external
//! destinations to an SMTP sink.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::dovecot::{free_port, run, smtp_sink, Dovecot, READER_ROLE};
use crate::helpers::TestApp;

/// The services Postfix needs, none chrooted (the private queue folder holds no
/// copies of /etc or the libraries).
const MASTER_CF: &str = "\
cleanup   unix  n  -  n  -     0  cleanup
qmgr      unix  n  -  n  300   1  qmgr
rewrite   unix  -  -  n  -     -  trivial-rewrite
bounce    unix  -  -  n  -     0  bounce
defer     unix  -  -  n  -     0  bounce
trace     unix  -  -  n  -     0  bounce
verify    unix  -  -  n  -     1  verify
flush     unix  n  -  n  1000? 0  flush
proxymap  unix  -  -  n  -     -  proxymap
smtp      unix  -  -  n  -     -  smtp
relay     unix  -  -  n  -     -  smtp
showq     unix  n  -  n  -     -  showq
error     unix  -  -  n  -     -  error
retry     unix  -  -  n  -     -  error
discard   unix  -  -  n  -     -  discard
lmtp      unix  -  -  n  -     -  lmtp
anvil     unix  -  -  n  -     1  anvil
scache    unix  -  -  n  -     1  scache
postlog   unix-dgram n - n -   1  postlogd
virtual   unix  -  n  n  -     -  virtual
";

pub struct Postfix {
    master: Child,
    dir: PathBuf,
    port: u16,
    /// Messages relayed to external destinations.
    pub sink: Arc<Mutex<Vec<String>>>,
}

impl Drop for Postfix {
    fn drop(&mut self) {
        // Its children follow the master when it goes.
        let _ = self.master.kill();
        let _ = self.master.wait();
    }
}

/// How Postfix hands mail for mailboxes to Dovecot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// As deployed: Postfix's virtual(8) writes the maildir Dovecot serves.
    Maildir,
    /// Over LMTP into Dovecot (`dovecot-lmtpd`), the documented alternative.
    Lmtp,
}

/// Why `send` did not get a message accepted.
#[derive(Debug)]
pub enum Refused {
    /// A recipient refused at `RCPT TO`, with the server's reply (`550 5.1.1 …`).
    Recipient(String),
}

impl Postfix {
    /// Starts a Postfix that reads `app`'s database and delivers into `dovecot`'s
    /// homes; it is stopped when dropped.
    pub async fn start(app: &TestApp, dovecot: &Dovecot, delivery: Delivery) -> Postfix {
        let database = app.database_url.rsplit('/').next().unwrap().to_owned();
        let dir = std::env::temp_dir().join(format!(
            "mailpanel-postfix-{}",
            uuid::Uuid::new_v4().simple()
        ));
        let etc = dir.join("etc");
        std::fs::create_dir_all(&etc).unwrap();
        // Postfix's own user must reach its queue and log below this folder.
        run(Command::new("chmod").args(["0755", dir.to_str().unwrap()]));
        make_queue(&dir.join("spool"), &dir.join("data"));

        let deploy = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/postfix");
        for entry in std::fs::read_dir(&deploy).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap().to_owned();
            if !name.starts_with("pgsql-") {
                continue;
            }
            let map = replaced(
                &std::fs::read_to_string(&path).unwrap(),
                &[
                    ("user = postfix\n", format!("user = {READER_ROLE}\n")),
                    ("password = change-me\n", "password =\n".to_owned()),
                    ("dbname = mailpanel\n", format!("dbname = {database}\n")),
                ],
                &name,
            );
            std::fs::write(etc.join(&name), map).unwrap();
        }

        let (sink_port, sink) = smtp_sink().await;
        let port = free_port();
        let d = dir.display();
        // The deployed snippet, with this folder for /etc/postfix and the Dovecot's
        // homes for /var/vmail; SMTP AUTH is Dovecot's test of its own.
        let snippet = replaced(
            &std::fs::read_to_string(deploy.join("main.cf.snippet")).unwrap(),
            &[
                ("/etc/postfix/", format!("{d}/etc/")),
                (
                    "virtual_mailbox_base = /var/vmail\n",
                    format!("virtual_mailbox_base = {}\n", dovecot.homes().display()),
                ),
                ("static:5000", "static:65534".to_owned()),
                (
                    "smtpd_sasl_auth_enable = yes",
                    "smtpd_sasl_auth_enable = no".to_owned(),
                ),
            ],
            "main.cf.snippet",
        );
        let main_cf = format!(
            "compatibility_level = 3.6\n\
             queue_directory = {d}/spool\n\
             data_directory = {d}/data\n\
             maillog_file = {d}/postfix.log\n\
             maillog_file_prefixes = {d}\n\
             myhostname = mx.test\n\
             mydestination =\n\
             inet_interfaces = loopback-only\n\
             inet_protocols = ipv4\n\
             alias_maps =\n\
             alias_database =\n\
             local_recipient_maps =\n\
             {snippet}\n\
             # The test's client is any sender on the internet, not a local relay.\n\
             mynetworks =\n\
             relayhost = [127.0.0.1]:{sink_port}\n\
             # Retry at once what could not go out, not after minutes.\n\
             queue_run_delay = 1s\n\
             minimal_backoff_time = 1s\n\
             maximal_backoff_time = 2s\n"
        );
        let main_cf = match delivery {
            Delivery::Maildir => main_cf,
            Delivery::Lmtp => replaced(
                &main_cf,
                &[(
                    "virtual_transport = virtual\n",
                    format!(
                        "virtual_transport = lmtp:inet:127.0.0.1:{}\n",
                        dovecot.lmtp_port()
                    ),
                )],
                "main.cf.snippet",
            ),
        };
        std::fs::write(etc.join("main.cf"), main_cf).unwrap();
        std::fs::write(
            etc.join("master.cf"),
            format!("127.0.0.1:{port} inet n - n - - smtpd\n{MASTER_CF}"),
        )
        .unwrap();

        let master = Command::new("/usr/lib/postfix/sbin/master")
            .arg("-c")
            .arg(&etc)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("postfix starts (apt-get install postfix postfix-pgsql)");
        let mut postfix = Postfix {
            master,
            dir,
            port,
            sink,
        };
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return postfix;
            }
            if let Ok(Some(status)) = postfix.master.try_wait() {
                panic!("postfix exited ({status}): {}", postfix.log());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("postfix did not listen: {}", postfix.log());
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("postfix.log")).unwrap_or_default()
    }

    /// Sends one message as a mail server on the internet would (plain SMTP, with
    /// SMTPUTF8 when an address needs it).
    pub async fn send(&self, from: &str, to: &[&str], subject: &str) -> Result<(), Refused> {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mail/send.py");
        let out = tokio::process::Command::new("python3")
            .arg(script)
            .args([&self.port.to_string(), from, &to.join(","), subject])
            .output()
            .await
            .expect("python3 runs");
        let stderr = String::from_utf8_lossy(&out.stderr).trim().to_owned();
        match out.status.code() {
            Some(0) => Ok(()),
            Some(1) => Err(Refused::Recipient(stderr)),
            _ => panic!("sending {subject:?} failed: {stderr}\n{}", self.log()),
        }
    }
}

/// The queue layout `postfix post-install create-missing` makes, without its two
/// seconds of `postconf` calls.
fn make_queue(queue: &Path, data: &Path) {
    let install = |owner: &str, group: &str, mode: &str, path: &Path| {
        run(Command::new("install")
            .args(["-d", "-o", owner, "-g", group, "-m", mode])
            .arg(path));
    };
    install("root", "root", "0755", queue);
    install("root", "root", "0755", &queue.join("pid"));
    for sub in [
        "active", "bounce", "corrupt", "defer", "deferred", "flush", "hold", "incoming", "private",
        "saved", "trace",
    ] {
        install("postfix", "root", "0700", &queue.join(sub));
    }
    install("postfix", "postdrop", "0730", &queue.join("maildrop"));
    install("postfix", "postdrop", "0710", &queue.join("public"));
    install("postfix", "root", "0700", data);
}

/// `text` with each `from` replaced, failing when the deployed file lacks one.
fn replaced(text: &str, replacements: &[(&str, String)], file: &str) -> String {
    let mut out = text.to_owned();
    for (from, to) in replacements {
        assert!(
            out.contains(from),
            "deploy/postfix/{file} no longer has {from:?}"
        );
        out = out.replace(from, to);
    }
    out
}
