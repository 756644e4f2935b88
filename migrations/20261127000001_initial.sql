-- mailpanel's base tables. Mail servers never read these; they read the views of the
-- schema `mailserver` (a later migration).

CREATE TABLE partners (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    version     integer NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT partners_name_key UNIQUE (name)
);

CREATE TABLE customers (
    id            uuid PRIMARY KEY,
    partner_id    uuid CONSTRAINT customers_partner_id_fkey REFERENCES partners (id) ON DELETE RESTRICT,
    name          text NOT NULL,
    external_ref  text,
    version       integer NOT NULL DEFAULT 1,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX customers_partner_idx ON customers (partner_id, id);
-- A partner's own reference for its customer makes a retried create answer 409
-- instead of creating the customer twice.
CREATE UNIQUE INDEX customers_external_ref_key
    ON customers (coalesce(partner_id, '00000000-0000-0000-0000-000000000000'::uuid), external_ref)
    WHERE external_ref IS NOT NULL;

CREATE TABLE api_keys (
    id            uuid PRIMARY KEY,
    lookup        text NOT NULL UNIQUE,
    secret_hash   bytea NOT NULL,
    role          text NOT NULL CHECK (role IN ('admin', 'partner', 'customer')),
    partner_id    uuid REFERENCES partners (id) ON DELETE CASCADE,
    customer_id   uuid REFERENCES customers (id) ON DELETE CASCADE,
    read_only     boolean NOT NULL DEFAULT false,
    description   text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz,
    revoked_at    timestamptz,
    CONSTRAINT api_keys_owner_check CHECK (
        (role = 'admin' AND partner_id IS NULL AND customer_id IS NULL)
        OR (role = 'partner' AND partner_id IS NOT NULL AND customer_id IS NULL)
        OR (role = 'customer' AND partner_id IS NULL AND customer_id IS NOT NULL)
    )
);
CREATE INDEX api_keys_partner_idx ON api_keys (partner_id);
CREATE INDEX api_keys_customer_idx ON api_keys (customer_id);

CREATE TABLE server_profiles (
    name           text PRIMARY KEY,
    incoming_host  text NOT NULL,
    outgoing_host  text NOT NULL,
    webmail_url    text,
    endpoints      jsonb NOT NULL,
    version        integer NOT NULL DEFAULT 1,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- The provider's help page, with the standard port assignment (RFC 8314): STARTTLS
-- belongs on 143 and 110, implicit TLS on 993, 995 and 465.
INSERT INTO server_profiles (name, incoming_host, outgoing_host, webmail_url, endpoints) VALUES (
    'default', 'mail.ipax.at', 'mail.ipax.at', 'https://webmail.ipax.at/',
    '[{"protocol":"imap","port":993,"security":"tls"},
      {"protocol":"imap","port":143,"security":"starttls"},
      {"protocol":"imap","port":143,"security":"none"},
      {"protocol":"pop3","port":995,"security":"tls"},
      {"protocol":"pop3","port":110,"security":"starttls"},
      {"protocol":"pop3","port":110,"security":"none"},
      {"protocol":"smtp","port":465,"security":"tls"},
      {"protocol":"smtp","port":587,"security":"starttls"},
      {"protocol":"smtp","port":25,"security":"none"}]'
);

CREATE TABLE domains (
    id              uuid PRIMARY KEY,
    name            text NOT NULL,
    customer_id     uuid NOT NULL CONSTRAINT domains_customer_id_fkey REFERENCES customers (id) ON DELETE RESTRICT,
    server_profile  text NOT NULL DEFAULT 'default'
                    CONSTRAINT domains_server_profile_fkey REFERENCES server_profiles (name) ON DELETE RESTRICT,
    version         integer NOT NULL DEFAULT 1,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    -- Stored as the lowercase A-label; unique across the whole system.
    CONSTRAINT domains_name_key UNIQUE (name),
    CONSTRAINT domains_name_lower CHECK (name = lower(name))
);
CREATE INDEX domains_customer_idx ON domains (customer_id, name);

CREATE TABLE accounts (
    id                   uuid PRIMARY KEY,
    domain_id            uuid NOT NULL CONSTRAINT accounts_domain_id_fkey REFERENCES domains (id) ON DELETE CASCADE,
    local_part           text NOT NULL,
    display_name         text,
    quota_mb             integer NOT NULL CHECK (quota_mb > 0),
    status               text NOT NULL CHECK (status IN ('active', 'suspended')),
    imap_enabled         boolean NOT NULL DEFAULT true,
    pop3_enabled         boolean NOT NULL DEFAULT true,
    smtp_enabled         boolean NOT NULL DEFAULT true,
    -- Any Dovecot `{SCHEME}...` string; mail servers verify it as stored.
    password_hash        text NOT NULL CHECK (password_hash LIKE '{%}%'),
    password_changed_at  timestamptz NOT NULL DEFAULT now(),
    version              integer NOT NULL DEFAULT 1,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    -- Soft deletion: gone from the mail servers at once, restorable until purge_after.
    deleted_at           timestamptz,
    purge_after          timestamptz,
    -- Local parts are stored lowercase, so this is the case-insensitive uniqueness of
    -- addresses, also against a concurrent insert. Deleted rows keep their address
    -- until purged, so a deleted address cannot be created anew before then.
    CONSTRAINT accounts_address_key UNIQUE (domain_id, local_part),
    CONSTRAINT accounts_local_part_lower CHECK (local_part = lower(local_part)),
    CONSTRAINT accounts_deleted_check CHECK ((deleted_at IS NULL) = (purge_after IS NULL))
);
CREATE INDEX accounts_purge_idx ON accounts (purge_after) WHERE purge_after IS NOT NULL;

CREATE TABLE audit_events (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at  timestamptz NOT NULL DEFAULT now(),
    action       text NOT NULL,
    channel      text NOT NULL,
    actor_key_id uuid,
    actor_role   text,
    client_addr  text,
    -- Tenancy at the time of the event, kept without foreign keys so that the trail
    -- outlives the objects it describes.
    partner_id   uuid,
    customer_id  uuid,
    domain       text,
    account      text,
    details      jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_events_account_idx ON audit_events (account, id);
CREATE INDEX audit_events_domain_idx ON audit_events (domain, id);
CREATE INDEX audit_events_customer_idx ON audit_events (customer_id, id);
CREATE INDEX audit_events_partner_idx ON audit_events (partner_id, id);
