-- Sessions end with the right to them: when an account's password changes, it is
-- suspended or deleted, a protocol is switched off or the address is renamed, its
-- open IMAP/POP3/submission sessions are ended through Dovecot's doveadm HTTP API.
-- The request is queued here by a trigger, in the transaction of the change itself,
-- so every way an account changes (every use case, a batch, an operator's SQL)
-- queues it, and a Dovecot that is down delays the kick but loses none. Any instance
-- sends it (SKIP LOCKED and a lease, as for webhooks).
CREATE TABLE dovecot_kicks (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The login name Dovecot knows the sessions by (the A-label address).
    username         text NOT NULL,
    reason           text NOT NULL,
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    done_at          timestamptz
);
CREATE INDEX dovecot_kicks_due_idx ON dovecot_kicks (next_attempt_at) WHERE done_at IS NULL;

CREATE FUNCTION accounts_end_sessions() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    why text;
BEGIN
    IF TG_OP = 'DELETE' THEN
        -- Purging a deleted account: its sessions ended when it was deleted.
        IF OLD.deleted_at IS NULL THEN
            why := 'deleted';
        END IF;
    ELSIF OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL THEN
        why := 'deleted';
    ELSIF NEW.password_changed_at IS DISTINCT FROM OLD.password_changed_at THEN
        -- A new password (a hash upgraded for the same password keeps the date).
        why := 'password';
    ELSIF OLD.status = 'active' AND NEW.status <> 'active' THEN
        why := 'suspended';
    ELSIF (OLD.imap_enabled AND NOT NEW.imap_enabled)
       OR (OLD.pop3_enabled AND NOT NEW.pop3_enabled)
       OR (OLD.smtp_enabled AND NOT NEW.smtp_enabled) THEN
        why := 'protocol';
    ELSIF NEW.address IS DISTINCT FROM OLD.address THEN
        why := 'renamed';
    END IF;
    IF why IS NOT NULL THEN
        INSERT INTO dovecot_kicks (username, reason) VALUES (OLD.address, why);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER accounts_end_sessions AFTER UPDATE OR DELETE ON accounts
    FOR EACH ROW EXECUTE FUNCTION accounts_end_sessions();
