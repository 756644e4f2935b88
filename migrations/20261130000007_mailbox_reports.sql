-- What Dovecot reports back: each mailbox's use (its quota plugin's `count` backend,
-- copied by quota_clone) and each login's time (the last_login plugin), written
-- through Dovecot's SQL dict. The only tables mail servers write; mailpanel reads them
-- into the account's `usage` and `last_login`. Keyed by the login name Dovecot goes on
-- with (the A-label address); a renamed account is reported anew at its next change.
CREATE TABLE mailserver.mailbox_usage (
    username       text PRIMARY KEY,
    storage_bytes  bigint,
    messages       bigint,
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE mailserver.mailbox_logins (
    username    text PRIMARY KEY,
    -- Unix time, as the last_login plugin writes it.
    last_login  bigint NOT NULL
);

-- Dovecot writes one field per statement; the time of the report is ours to keep.
CREATE FUNCTION mailserver.touch_usage() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;
CREATE TRIGGER mailbox_usage_touch BEFORE INSERT OR UPDATE ON mailserver.mailbox_usage
    FOR EACH ROW EXECUTE FUNCTION mailserver.touch_usage();

-- A role that may write these two tables and nothing else (Dovecot's dict login holds
-- it beside mailserver_reader). Cluster-wide, so perhaps made already.
DO $$
BEGIN
    CREATE ROLE mailserver_reporter NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END
$$;
GRANT USAGE ON SCHEMA mailserver TO mailserver_reporter;
GRANT SELECT, INSERT, UPDATE ON mailserver.mailbox_usage, mailserver.mailbox_logins
    TO mailserver_reporter;
GRANT SELECT ON mailserver.mailbox_usage, mailserver.mailbox_logins TO mailserver_reader;
