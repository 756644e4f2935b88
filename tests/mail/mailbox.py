"""Puts a message into a mailbox, or counts its messages, over IMAP with implicit TLS,
as a mail client would; for mailpanel's end-to-end tests.

Usage: mailbox.py PORT USER PASSWORD append|count
Prints the INBOX's message count after the action. Exit status 0, or 2 on failure.
"""
import imaplib
import ssl
import sys
import time

port, user, password, action = sys.argv[1:5]
ctx = ssl.create_default_context()
# The test server's certificate is self-signed.
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
try:
    c = imaplib.IMAP4_SSL("127.0.0.1", int(port), ssl_context=ctx, timeout=10)
    c.authenticate("PLAIN", lambda _: f"\0{user}\0{password}".encode("utf-8"))
    if action == "append":
        msg = f"From: {user}\r\nTo: {user}\r\nSubject: kept\r\n\r\nmail of the first owner\r\n"
        c.append("INBOX", None, imaplib.Time2Internaldate(time.time()), msg.encode("utf-8"))
    _, data = c.select("INBOX")
    print(int(data[0]))
    c.logout()
except Exception as e:  # noqa: BLE001 - any failure is a test failure, reported
    print(f"{type(e).__name__}: {e}", file=sys.stderr)
    sys.exit(2)
