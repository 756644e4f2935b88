-- Mail routing: aliases, forwarding, catch-all, alias domains, package limits, and
-- the views Postfix reads them from. Also the Unicode forms of international
-- addresses, so that `max@müller.at` logs in and receives mail like
-- `max@xn--mller-kva.at`.

-- The Unicode form of the name (UTS #46 ToUnicode). The service writes it with every
-- new domain and fills it in for older ones when it starts.
ALTER TABLE domains
    ADD COLUMN name_unicode  text,
    -- An alias domain: `x@this` is delivered as `x@target`. It holds no accounts or
    -- aliases of its own, and its target is never an alias domain itself.
    ADD COLUMN alias_of      uuid CONSTRAINT domains_alias_of_fkey REFERENCES domains (id) ON DELETE RESTRICT,
    -- What a hosting package sells; NULL is unlimited.
    ADD COLUMN max_accounts  integer CONSTRAINT domains_max_accounts_check CHECK (max_accounts >= 0),
    ADD COLUMN max_aliases   integer CONSTRAINT domains_max_aliases_check CHECK (max_aliases >= 0),
    ADD COLUMN max_quota_mb  bigint  CONSTRAINT domains_max_quota_mb_check CHECK (max_quota_mb >= 0),
    ADD CONSTRAINT domains_alias_of_self CHECK (alias_of <> id);
CREATE INDEX domains_name_unicode_idx ON domains (name_unicode);
CREATE INDEX domains_alias_of_idx ON domains (alias_of) WHERE alias_of IS NOT NULL;

-- Forwarding of an account: NULL is none; with keep_copy the mailbox keeps a copy.
ALTER TABLE accounts
    ADD COLUMN forward_to         text[] CONSTRAINT accounts_forward_to_check CHECK (cardinality(forward_to) >= 1),
    ADD COLUMN forward_keep_copy  boolean NOT NULL DEFAULT true,
    -- The address with the domain in Unicode, for international domains only: the
    -- user name a mail client may send as typed.
    ADD COLUMN address_unicode    text;
CREATE UNIQUE INDEX accounts_address_unicode_idx ON accounts (address_unicode);

CREATE TABLE aliases (
    id               uuid PRIMARY KEY,
    domain_id        uuid NOT NULL CONSTRAINT aliases_domain_id_fkey REFERENCES domains (id) ON DELETE CASCADE,
    local_part       text NOT NULL,
    address          text NOT NULL,
    address_unicode  text,
    -- Addresses (A-label, lowercase), local or external, without duplicates.
    destinations     text[] NOT NULL CONSTRAINT aliases_destinations_check CHECK (cardinality(destinations) >= 1),
    active           boolean NOT NULL DEFAULT true,
    description      text,
    version          integer NOT NULL DEFAULT 1,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT aliases_address_key UNIQUE (domain_id, local_part),
    CONSTRAINT aliases_local_part_lower CHECK (local_part = lower(local_part))
);
CREATE UNIQUE INDEX aliases_address_idx ON aliases (address);
CREATE UNIQUE INDEX aliases_address_unicode_idx ON aliases (address_unicode);

-- One per domain: mail for addresses that are neither account nor alias.
CREATE TABLE catch_alls (
    domain_id     uuid PRIMARY KEY CONSTRAINT catch_alls_domain_id_fkey REFERENCES domains (id) ON DELETE CASCADE,
    destinations  text[] NOT NULL CONSTRAINT catch_alls_destinations_check CHECK (cardinality(destinations) >= 1),
    version       integer NOT NULL DEFAULT 1,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Both address forms, kept on the row (accounts and aliases alike) so that a mail
-- server's lookup by either is an index lookup.
CREATE OR REPLACE FUNCTION accounts_set_address() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT NEW.local_part || '@' || d.name,
           CASE WHEN d.name_unicode IS NOT NULL AND d.name_unicode <> d.name
                THEN NEW.local_part || '@' || d.name_unicode END
      INTO NEW.address, NEW.address_unicode
      FROM domains d WHERE d.id = NEW.domain_id;
    RETURN NEW;
END
$$;
CREATE TRIGGER aliases_set_address BEFORE INSERT OR UPDATE OF local_part, domain_id ON aliases
    FOR EACH ROW EXECUTE FUNCTION accounts_set_address();

-- When a domain learns its Unicode name, its addresses learn theirs.
CREATE FUNCTION domains_unicode_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE accounts SET local_part = local_part WHERE domain_id = NEW.id;
    UPDATE aliases SET local_part = local_part WHERE domain_id = NEW.id;
    RETURN NEW;
END
$$;
CREATE TRIGGER domains_unicode_changed AFTER UPDATE OF name_unicode ON domains
    FOR EACH ROW WHEN (OLD.name_unicode IS DISTINCT FROM NEW.name_unicode)
    EXECUTE FUNCTION domains_unicode_changed();

-- Dovecot: a user may log in with either form; `canonical_username` is the A-label
-- address, which Dovecot goes on with (as `user`), so both forms open one mailbox.
CREATE OR REPLACE VIEW mailserver.dovecot_passdb AS
    SELECT a.address AS username, s.service, a.password_hash AS password, a.address AS canonical_username
    FROM accounts a
    CROSS JOIN LATERAL (VALUES ('imap', a.imap_enabled), ('pop3', a.pop3_enabled),
                               ('submission', a.smtp_enabled), ('smtp', a.smtp_enabled)) AS s (service, enabled)
    WHERE s.enabled AND a.status = 'active' AND a.deleted_at IS NULL
    UNION ALL
    SELECT a.address_unicode, s.service, a.password_hash, a.address
    FROM accounts a
    CROSS JOIN LATERAL (VALUES ('imap', a.imap_enabled), ('pop3', a.pop3_enabled),
                               ('submission', a.smtp_enabled), ('smtp', a.smtp_enabled)) AS s (service, enabled)
    WHERE a.address_unicode IS NOT NULL AND s.enabled AND a.status = 'active' AND a.deleted_at IS NULL;

-- `canonical_username` lets a listing (Dovecot's iterate_query) name each mailbox once.
CREATE OR REPLACE VIEW mailserver.dovecot_userdb AS
    SELECT a.address AS username, '/var/vmail/' || a.id AS home, '*:storage=' || a.quota_mb || 'M' AS quota_rule,
           a.address AS canonical_username
    FROM accounts a
    WHERE a.deleted_at IS NULL
    UNION ALL
    SELECT a.address_unicode, '/var/vmail/' || a.id, '*:storage=' || a.quota_mb || 'M', a.address
    FROM accounts a
    WHERE a.address_unicode IS NOT NULL AND a.deleted_at IS NULL;

-- Postfix: every hosted domain, alias domains included, in both forms.
CREATE OR REPLACE VIEW mailserver.postfix_domains AS
    SELECT d.name AS domain FROM domains d
    UNION ALL
    SELECT d.name_unicode FROM domains d WHERE d.name_unicode IS NOT NULL AND d.name_unicode <> d.name;

-- Postfix's virtual_alias_maps, by full address (`%s`). Every live mailbox maps to
-- itself (plus its forwarding), so that a catch-all, looked up only after every
-- full address missed, never takes an account's mail; an active alias maps to its
-- destinations; the Unicode form of either maps to the A-label address.
CREATE VIEW mailserver.postfix_aliases AS
    SELECT a.address,
           array_to_string(CASE WHEN a.forward_to IS NULL THEN ARRAY[a.address]
                                WHEN a.forward_keep_copy THEN a.address || a.forward_to
                                ELSE a.forward_to END, ',') AS destinations
    FROM accounts a WHERE a.deleted_at IS NULL
    UNION ALL
    SELECT a.address_unicode, a.address FROM accounts a
    WHERE a.address_unicode IS NOT NULL AND a.deleted_at IS NULL
    UNION ALL
    SELECT l.address, array_to_string(l.destinations, ',') FROM aliases l WHERE l.active
    UNION ALL
    SELECT l.address_unicode, l.address FROM aliases l WHERE l.address_unicode IS NOT NULL AND l.active;

-- Alias domains, by domain (`%d`) and local part (`%u`): `x@alias` is `x@target` for
-- every live account and active alias of the target, and for nothing else, so an
-- unknown recipient of an alias domain is refused like any other. (Each branch is
-- an index lookup by name, then by domain and local part.)
CREATE VIEW mailserver.postfix_alias_domains AS
    SELECT ad.name AS domain, a.local_part, a.address AS destination
    FROM domains ad JOIN accounts a ON a.domain_id = ad.alias_of AND a.deleted_at IS NULL
    UNION ALL
    SELECT ad.name_unicode, a.local_part, a.address
    FROM domains ad JOIN accounts a ON a.domain_id = ad.alias_of AND a.deleted_at IS NULL
    WHERE ad.name_unicode <> ad.name
    UNION ALL
    SELECT ad.name, l.local_part, l.address
    FROM domains ad JOIN aliases l ON l.domain_id = ad.alias_of AND l.active
    UNION ALL
    SELECT ad.name_unicode, l.local_part, l.address
    FROM domains ad JOIN aliases l ON l.domain_id = ad.alias_of AND l.active
    WHERE ad.name_unicode <> ad.name;

-- Catch-alls, by domain (`%d`), for the key `@domain` only (`address`): a domain's
-- own, and its target's for an alias domain; in both name forms.
CREATE VIEW mailserver.postfix_catch_alls AS
    SELECT d.name AS domain, '@' || d.name AS address, array_to_string(c.destinations, ',') AS destinations
    FROM domains d JOIN catch_alls c ON c.domain_id = coalesce(d.alias_of, d.id)
    UNION ALL
    SELECT d.name_unicode, '@' || d.name_unicode, array_to_string(c.destinations, ',')
    FROM domains d JOIN catch_alls c ON c.domain_id = coalesce(d.alias_of, d.id)
    WHERE d.name_unicode <> d.name;

-- Addresses that are held but take no mail, by domain (`%d`) and local part (`%u`):
-- a deleted account that can still be restored, and an inactive alias. Postfix
-- refuses them at RCPT TO (check_recipient_access), so neither the domain's
-- catch-all nor an alias domain's takes their mail: the catch-all only gets
-- addresses that are neither account nor alias.
CREATE VIEW mailserver.postfix_recipient_access AS
    SELECT d.name AS domain, a.local_part, '550 5.1.1 Mailbox unavailable'::text AS action
    FROM domains d JOIN accounts a ON a.domain_id = d.id AND a.deleted_at IS NOT NULL
    UNION ALL
    SELECT d.name_unicode, a.local_part, '550 5.1.1 Mailbox unavailable'
    FROM domains d JOIN accounts a ON a.domain_id = d.id AND a.deleted_at IS NOT NULL
    WHERE d.name_unicode <> d.name
    UNION ALL
    SELECT d.name, l.local_part, '550 5.1.1 Mailbox unavailable'
    FROM domains d JOIN aliases l ON l.domain_id = d.id AND NOT l.active
    UNION ALL
    SELECT d.name_unicode, l.local_part, '550 5.1.1 Mailbox unavailable'
    FROM domains d JOIN aliases l ON l.domain_id = d.id AND NOT l.active
    WHERE d.name_unicode <> d.name
    UNION ALL
    SELECT ad.name, a.local_part, '550 5.1.1 Mailbox unavailable'
    FROM domains ad JOIN accounts a ON a.domain_id = ad.alias_of AND a.deleted_at IS NOT NULL
    UNION ALL
    SELECT ad.name_unicode, a.local_part, '550 5.1.1 Mailbox unavailable'
    FROM domains ad JOIN accounts a ON a.domain_id = ad.alias_of AND a.deleted_at IS NOT NULL
    WHERE ad.name_unicode <> ad.name
    UNION ALL
    SELECT ad.name, l.local_part, '550 5.1.1 Mailbox unavailable'
    FROM domains ad JOIN aliases l ON l.domain_id = ad.alias_of AND NOT l.active
    UNION ALL
    SELECT ad.name_unicode, l.local_part, '550 5.1.1 Mailbox unavailable'
    FROM domains ad JOIN aliases l ON l.domain_id = ad.alias_of AND NOT l.active
    WHERE ad.name_unicode <> ad.name;

GRANT SELECT ON ALL TABLES IN SCHEMA mailserver TO mailserver_reader;
