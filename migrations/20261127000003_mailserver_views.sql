-- The mail-server contract: Dovecot and Postfix read these views and nothing else.
-- A role `mailserver_reader` (NOLOGIN) may select them; operators grant it to their
-- mail servers' login role.

-- The full address, kept on the row so that a login's lookup by user name is an
-- index lookup, not a scan of every account. Domains are never renamed, so it is
-- set once, on insert.
ALTER TABLE accounts ADD COLUMN address text;
UPDATE accounts a SET address = a.local_part || '@' || d.name FROM domains d WHERE d.id = a.domain_id;
ALTER TABLE accounts ALTER COLUMN address SET NOT NULL;
CREATE UNIQUE INDEX accounts_address_idx ON accounts (address);

CREATE FUNCTION accounts_set_address() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT NEW.local_part || '@' || d.name INTO NEW.address FROM domains d WHERE d.id = NEW.domain_id;
    RETURN NEW;
END
$$;
CREATE TRIGGER accounts_set_address BEFORE INSERT OR UPDATE OF local_part, domain_id ON accounts
    FOR EACH ROW EXECUTE FUNCTION accounts_set_address();

CREATE SCHEMA mailserver;

-- One row per address and enabled service, only for active, non-deleted accounts.
-- Dovecot asks with %s: imap, pop3, submission; Postfix's SASL through Dovecot: smtp.
CREATE VIEW mailserver.dovecot_passdb AS
    SELECT a.address AS username, s.service, a.password_hash AS password
    FROM accounts a
    CROSS JOIN LATERAL (VALUES ('imap', a.imap_enabled), ('pop3', a.pop3_enabled),
                               ('submission', a.smtp_enabled), ('smtp', a.smtp_enabled)) AS s (service, enabled)
    WHERE s.enabled AND a.status = 'active' AND a.deleted_at IS NULL;

-- Suspended accounts keep receiving mail and keep their data; deleted ones do not.
CREATE VIEW mailserver.dovecot_userdb AS
    SELECT a.address AS username,
           '/var/vmail/' || d.name || '/' || a.local_part AS home,
           '*:storage=' || a.quota_mb || 'M' AS quota_rule
    FROM accounts a JOIN domains d ON d.id = a.domain_id
    WHERE a.deleted_at IS NULL;

CREATE VIEW mailserver.postfix_domains AS
    SELECT d.name AS domain FROM domains d;

CREATE VIEW mailserver.postfix_mailboxes AS
    SELECT a.address, d.name || '/' || a.local_part || '/Maildir/' AS maildir
    FROM accounts a JOIN domains d ON d.id = a.domain_id
    WHERE a.deleted_at IS NULL;

-- Roles are cluster-wide: another database of the cluster may have made it already,
-- possibly at this very moment.
DO $$
BEGIN
    CREATE ROLE mailserver_reader NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END
$$;
GRANT USAGE ON SCHEMA mailserver TO mailserver_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA mailserver TO mailserver_reader;
