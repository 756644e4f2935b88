"""Logs in to a mail server the way mail clients do, with Python's own protocol
clients (imaplib, poplib, smtplib), for mailpanel's end-to-end tests.

Usage: login.py PROTOCOL SECURITY PORT USER PASSWORD
  PROTOCOL  imap | pop3 | smtp      SECURITY  tls | starttls
Exit status: 0 logged in (smtp: and a message was accepted), 1 refused, 2 other failure.
"""
import base64
import imaplib
import poplib
import smtplib
import ssl
import sys

protocol, security, port, user, password = sys.argv[1:6]
port = int(port)
host = "127.0.0.1"
ctx = ssl.create_default_context()
# The test server's certificate is self-signed.
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE

try:
    if protocol == "imap":
        if security == "tls":
            c = imaplib.IMAP4_SSL(host, port, ssl_context=ctx, timeout=10)
        else:
            c = imaplib.IMAP4(host, port, timeout=10)
            c.starttls(ssl_context=ctx)
        # AUTHENTICATE PLAIN carries UTF-8 passwords (LOGIN would need ASCII).
        try:
            c.authenticate("PLAIN", lambda _: f"\0{user}\0{password}".encode("utf-8"))
        except imaplib.IMAP4.error:
            sys.exit(1)
        c.select("INBOX")
        c.logout()
    elif protocol == "pop3":
        if security == "tls":
            c = poplib.POP3_SSL(host, port, context=ctx, timeout=10)
        else:
            c = poplib.POP3(host, port, timeout=10)
            c.stls(context=ctx)
        try:
            c.user(user)
            c.pass_(password)
        except poplib.error_proto:
            sys.exit(1)
        c.stat()
        c.quit()
    elif protocol == "smtp":
        if security == "tls":
            c = smtplib.SMTP_SSL(host, port, context=ctx, timeout=10)
        else:
            c = smtplib.SMTP(host, port, timeout=10)
            c.starttls(context=ctx)
        # smtplib's login() sends ASCII only; send AUTH PLAIN with the UTF-8 bytes.
        c.ehlo()
        token = base64.b64encode(f"\0{user}\0{password}".encode("utf-8")).decode("ascii")
        code, _ = c.docmd("AUTH", "PLAIN " + token)
        if code == 535:
            sys.exit(1)
        if code != 235:
            raise RuntimeError(f"AUTH answered {code}")
        # The envelope sender in A-label form: a user may log in as max@müller.at,
        # but without SMTPUTF8 the address on the envelope must be ASCII.
        local, _, domain = user.rpartition("@")
        sender = f"{local}@{domain.encode('idna').decode('ascii')}"
        msg = f"From: {sender}\r\nTo: sink@example.net\r\nSubject: mailpanel e2e\r\n\r\nsent through port {port}\r\n"
        c.sendmail(sender, ["sink@example.net"], msg.encode("utf-8"))
        c.quit()
    else:
        sys.exit(2)
except SystemExit:
    raise
except Exception as e:  # noqa: BLE001 - any other failure is a test failure, reported
    print(f"{protocol}/{security}:{port}: {type(e).__name__}: {e}", file=sys.stderr)
    sys.exit(2)
sys.exit(0)
