"""Holds a mail session open the way a phone does, for mailpanel's session tests.

Usage: hold.py PROTOCOL PORT USER PASSWORD
  PROTOCOL  imap | pop3 (implicit TLS on PORT)
Prints "logged in" once the server accepted the login, then keeps the session busy
(NOOP every 50 ms). When the server ends it, prints "cut: <what the client saw>" and
exits 0; a session still open after 60 s prints "still open" and exits 1.
"""
import imaplib
import poplib
import ssl
import sys
import time

protocol, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
ctx = ssl.create_default_context()
# The test server's certificate is self-signed.
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE

if protocol == "imap":
    c = imaplib.IMAP4_SSL("127.0.0.1", port, ssl_context=ctx, timeout=10)
    c.authenticate("PLAIN", lambda _: f"\0{user}\0{password}".encode("utf-8"))
    c.select("INBOX")
    noop = c.noop
else:
    c = poplib.POP3_SSL("127.0.0.1", port, context=ctx, timeout=10)
    c.user(user)
    c.pass_(password)
    noop = c.noop
print("logged in", flush=True)

deadline = time.time() + 60
while time.time() < deadline:
    try:
        answer = noop()
        # imaplib hands an untagged BYE over as an exception on the next command;
        # poplib raises on a closed connection.
    except Exception as e:  # the connection ended: what the test waits for
        print(f"cut: {type(e).__name__}: {e}", flush=True)
        sys.exit(0)
    time.sleep(0.05)
print("still open", flush=True)
sys.exit(1)
