"""Reads one raw message (as an SMTP server received it) on stdin and prints it as
JSON, decoded as a mail client would: {"from", "to", "subject", "parts": [{"type",
"text"}]}. For mailpanel's tests of the mail it sends."""
import email
import email.policy
import json
import sys

msg = email.message_from_bytes(sys.stdin.buffer.read(), policy=email.policy.default)
parts = [
    {"type": p.get_content_type(), "text": p.get_content()}
    for p in msg.walk()
    if not p.is_multipart()
]
json.dump(
    {"from": str(msg["From"]), "to": str(msg["To"]), "subject": str(msg["Subject"]),
     "content_type": msg.get_content_type(), "parts": parts},
    sys.stdout,
)
