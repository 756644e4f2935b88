-- Mail mailpanel sends itself (the welcome message), queued in the same transaction
-- as what it announces, so a relay that is down delays it without failing the write,
-- and a crash loses none. Never holds a password.
CREATE TABLE outbox_mail (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind             text NOT NULL CHECK (kind IN ('welcome')),
    recipient        text NOT NULL,
    -- The address the message is about, and the language it is written in.
    account          text NOT NULL,
    language         text NOT NULL CHECK (language IN ('de', 'en')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz,
    -- Given up on after the retry period; kept for the operator to see.
    failed_at        timestamptz
);
CREATE INDEX outbox_mail_due_idx ON outbox_mail (next_attempt_at)
    WHERE sent_at IS NULL AND failed_at IS NULL;
