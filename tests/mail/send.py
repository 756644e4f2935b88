"""Sends one message over plain SMTP on 127.0.0.1, as a sending mail server would,
with Python's smtplib; for mailpanel's end-to-end mail tests.

Usage: send.py PORT FROM TO[,TO...] SUBJECT [TO_HEADER]
  TO_HEADER  the To: header (default: the recipients), e.g. `undisclosed-recipients:;`
             for a message whose headers are all ASCII although its envelope is not
Exit status: 0 accepted for every recipient; 1 a recipient was refused (each refusal
printed on stderr as `refused CODE MESSAGE`); 2 other failure.
"""
import smtplib
import sys
from email.message import EmailMessage
from email.policy import SMTP, SMTPUTF8

port, sender, to, subject = sys.argv[1:5]
to_header = sys.argv[5] if len(sys.argv) > 5 else None
recipients = to.split(",")
# An international address (Unicode domain or local part) needs SMTPUTF8; ASCII mail
# goes without it, as most mail does, so both paths of the server get exercised.
utf8 = not all(a.isascii() for a in [sender, *recipients])

msg = EmailMessage()
msg["From"] = sender
msg["To"] = to_header or ", ".join(recipients)
msg["Subject"] = subject
msg.set_content(f"mailpanel mail test: {subject}\n")
# SMTPUTF8 leaves the headers in UTF-8; otherwise a non-ASCII subject is RFC 2047
# encoded. Either way CRLF line ends, as SMTP wants.
data = msg.as_bytes(policy=SMTPUTF8 if utf8 else SMTP)

try:
    with smtplib.SMTP("127.0.0.1", int(port), timeout=30) as c:
        refused = c.sendmail(sender, recipients, data, mail_options=["SMTPUTF8"] if utf8 else [])
except smtplib.SMTPRecipientsRefused as e:
    refused = e.recipients
except smtplib.SMTPResponseException as e:
    print(f"{type(e).__name__}: {e.smtp_code} {e.smtp_error.decode('utf-8', 'replace')}", file=sys.stderr)
    sys.exit(2)
except Exception as e:  # noqa: BLE001 - any other failure is a test failure, reported
    print(f"{type(e).__name__}: {e}", file=sys.stderr)
    sys.exit(2)
for _, (code, text) in refused.items():
    print(f"refused {code} {text.decode('utf-8', 'replace')}", file=sys.stderr)
sys.exit(1 if refused else 0)
