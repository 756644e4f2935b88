"""Appends one message of about SIZE bytes to INBOX over IMAP (implicit TLS), as a mail
client saving a draft does; for mailpanel's quota tests.

Usage: append.py PORT USER PASSWORD SIZE
Exit status: 0 appended; 1 the login was refused; 3 the server refused the message
(its answer printed, e.g. `[OVERQUOTA] Quota exceeded`); 2 other failure.
"""
import imaplib
import ssl
import sys
import time

port, user, password, size = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
ctx = ssl.create_default_context()
# The test server's certificate is self-signed.
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
line = b"x" * 76 + b"\r\n"
body = line * (size // len(line) + 1)
message = (
    b"From: test@example.org\r\nTo: " + user.encode() + b"\r\nSubject: big\r\n\r\n" + body
)
try:
    c = imaplib.IMAP4_SSL("127.0.0.1", int(port), ssl_context=ctx, timeout=30)
    try:
        c.authenticate("PLAIN", lambda _: f"\0{user}\0{password}".encode("utf-8"))
    except imaplib.IMAP4.error:
        sys.exit(1)
    try:
        typ, data = c.append("INBOX", None, imaplib.Time2Internaldate(time.time()), message)
    except imaplib.IMAP4.error as e:
        print(e)
        sys.exit(3)
    if typ != "OK":
        print(data)
        sys.exit(3)
    c.logout()
except SystemExit:
    raise
except Exception as e:
    print(f"{type(e).__name__}: {e}", file=sys.stderr)
    sys.exit(2)
