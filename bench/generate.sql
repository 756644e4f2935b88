-- Fills a migrated mailpanel database with a provider's worth of data, straight in SQL
-- (the triggers that keep addresses and counters run as for the API's writes):
--   psql -v partners=50 -v customers=20000 -v domains=100000 -v per_domain=10 \
--        -f bench/generate.sql "$DATABASE_URL"
-- partners own the customers round-robin, customers the domains, each domain has
-- `per_domain` accounts (user1@ …) and one alias (info@ → user1@), and the audit
-- events of their creation (the trail and the change feed). Every account's
-- password is `Fahrrad-Kaffee-Wien-2026` as an imported {SHA512-CRYPT} hash (cheap to
-- write; upgraded to Argon2id at the first webmail change).
\set ON_ERROR_STOP on
\timing on

INSERT INTO partners (id, name)
SELECT gen_random_uuid(), 'Partner ' || i FROM generate_series(1, :partners) i;

INSERT INTO customers (id, partner_id, name, external_ref)
SELECT gen_random_uuid(), p.ids[1 + i % :partners], 'Customer ' || i, 'crm-' || lpad(i::text, 6, '0')
FROM (SELECT array_agg(id ORDER BY name) AS ids FROM partners) p, generate_series(1, :customers) i;

INSERT INTO domains (id, name, name_unicode, customer_id, server_profile)
SELECT gen_random_uuid(), 'd' || i || '.example', 'd' || i || '.example',
       c.ids[1 + i % :customers], 'default'
FROM (SELECT array_agg(id ORDER BY id) AS ids FROM customers) c, generate_series(1, :domains) i;

INSERT INTO accounts (id, domain_id, local_part, quota_mb, status, password_hash)
SELECT gen_random_uuid(), d.id, 'user' || j, 1024, 'active',
       '{SHA512-CRYPT}$6$benchsalt$2RR865XmAWyqX3yWYDJbF7E.LC7/0b0ilasrRBvSDVufrhNE55LBaOIDsSHTpet/mINqZY1jtZovWiABzMiiS/'
FROM domains d, generate_series(1, :per_domain) j;

INSERT INTO aliases (id, domain_id, local_part, address, destinations)
SELECT gen_random_uuid(), d.id, 'info', '', ARRAY['user1@' || d.name] FROM domains d;

-- The audit trail and the change feed of all that: a domain.created per domain and an
-- account.created per account, as the API writes them (a transaction per domain would
-- be more realistic for the feed's order; one per statement does not change its plan).
INSERT INTO audit_events (action, channel, actor_role, partner_id, customer_id, domain, details)
SELECT 'domain.created', 'api', 'partner', d.partner_id, d.customer_id, d.name, '{"alias_of": null}'
FROM domains d ORDER BY d.name;

INSERT INTO audit_events (action, channel, actor_role, partner_id, customer_id, domain, account, details)
SELECT 'account.created', 'api', 'partner', d.partner_id, d.customer_id, d.name, a.address, '{}'
FROM accounts a JOIN domains d ON d.id = a.domain_id ORDER BY d.name, a.local_part;

-- VACUUM too: it moves the bulk insert out of the trigram index's pending list,
-- which every search would otherwise scan (autovacuum does it in a live system).
VACUUM ANALYZE;
SELECT (SELECT count(*) FROM partners) AS partners, (SELECT count(*) FROM customers) AS customers,
       (SELECT count(*) FROM domains) AS domains, (SELECT count(*) FROM accounts) AS accounts,
       (SELECT count(*) FROM aliases) AS aliases, (SELECT count(*) FROM audit_events) AS events;
