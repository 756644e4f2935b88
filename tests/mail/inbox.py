"""Lists a mailbox's INBOX over IMAP with implicit TLS, as a mail client would; for
mailpanel's end-to-end mail tests.

Usage: inbox.py PORT USER PASSWORD
Prints the Subject of each INBOX message, one per line, oldest first.
Exit status: 0; 1 the login was refused; 2 other failure.
"""
import email
import email.policy
import imaplib
import ssl
import sys

port, user, password = sys.argv[1:4]
ctx = ssl.create_default_context()
# The test server's certificate is self-signed.
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
try:
    c = imaplib.IMAP4_SSL("127.0.0.1", int(port), ssl_context=ctx, timeout=10)
    # AUTHENTICATE PLAIN carries UTF-8 (LOGIN would need ASCII), so `max@müller.at`
    # logs in as typed.
    try:
        c.authenticate("PLAIN", lambda _: f"\0{user}\0{password}".encode("utf-8"))
    except imaplib.IMAP4.error:
        sys.exit(1)
    _, data = c.select("INBOX", readonly=True)
    subjects = []
    if int(data[0]):
        _, items = c.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        for item in items:
            if isinstance(item, tuple):
                # Raw UTF-8 (mail received with SMTPUTF8) or RFC 2047 words: both decoded.
                head = email.message_from_string(item[1].decode("utf-8", "replace"), policy=email.policy.default)
                subjects.append(str(head["Subject"] or ""))
    c.logout()
except SystemExit:
    raise
except Exception as e:  # noqa: BLE001 - any other failure is a test failure, reported
    print(f"{type(e).__name__}: {e}", file=sys.stderr)
    sys.exit(2)
for s in subjects:
    print(s)
