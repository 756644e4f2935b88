-- A domain's live accounts, their quotas and its aliases, kept on the domain row
-- instead of counted for every row of every list (at 100,000 domains and a million
-- accounts the admin's first page of domains counted 5,000 accounts). Statement-level
-- triggers with transition tables: a batch of 1000 accounts updates its domain once.
-- The limit checks (app/routing.rs) still count under the domain's lock; these are
-- for showing.
ALTER TABLE domains
    ADD COLUMN account_count bigint NOT NULL DEFAULT 0,
    ADD COLUMN alias_count bigint NOT NULL DEFAULT 0,
    ADD COLUMN quota_mb_allocated bigint NOT NULL DEFAULT 0;

UPDATE domains d SET
    account_count = (SELECT count(*) FROM accounts a WHERE a.domain_id = d.id AND a.deleted_at IS NULL),
    quota_mb_allocated = (SELECT coalesce(sum(a.quota_mb), 0) FROM accounts a
                          WHERE a.domain_id = d.id AND a.deleted_at IS NULL),
    alias_count = (SELECT count(*) FROM aliases l WHERE l.domain_id = d.id);

-- Each statement's change per domain: what its new rows add, less what its old rows
-- took (a live account counts, a deleted one does not). Domains whose figures do not
-- change are not touched (a password set locks nothing more).
CREATE FUNCTION accounts_count_in_domains() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE domains d SET account_count = d.account_count + x.n,
                             quota_mb_allocated = d.quota_mb_allocated + x.q
        FROM (SELECT domain_id, count(*) AS n, sum(quota_mb) AS q FROM new_rows
              WHERE deleted_at IS NULL GROUP BY domain_id) x
        WHERE d.id = x.domain_id;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE domains d SET account_count = d.account_count - x.n,
                             quota_mb_allocated = d.quota_mb_allocated - x.q
        FROM (SELECT domain_id, count(*) AS n, sum(quota_mb) AS q FROM old_rows
              WHERE deleted_at IS NULL GROUP BY domain_id) x
        WHERE d.id = x.domain_id;
    ELSE
        UPDATE domains d SET account_count = d.account_count + x.n,
                             quota_mb_allocated = d.quota_mb_allocated + x.q
        FROM (SELECT domain_id, sum(n) AS n, sum(q) AS q FROM (
                  SELECT domain_id, 1 AS n, quota_mb AS q FROM new_rows WHERE deleted_at IS NULL
                  UNION ALL
                  SELECT domain_id, -1, -quota_mb FROM old_rows WHERE deleted_at IS NULL) t
              GROUP BY domain_id) x
        WHERE d.id = x.domain_id AND (x.n <> 0 OR x.q <> 0);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER accounts_count_insert AFTER INSERT ON accounts
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION accounts_count_in_domains();
CREATE TRIGGER accounts_count_update AFTER UPDATE ON accounts
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION accounts_count_in_domains();
CREATE TRIGGER accounts_count_delete AFTER DELETE ON accounts
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION accounts_count_in_domains();

CREATE FUNCTION aliases_count_in_domains() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE domains d SET alias_count = d.alias_count + x.n
        FROM (SELECT domain_id, count(*) AS n FROM new_rows GROUP BY domain_id) x
        WHERE d.id = x.domain_id;
    ELSE
        UPDATE domains d SET alias_count = d.alias_count - x.n
        FROM (SELECT domain_id, count(*) AS n FROM old_rows GROUP BY domain_id) x
        WHERE d.id = x.domain_id;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER aliases_count_insert AFTER INSERT ON aliases
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION aliases_count_in_domains();
CREATE TRIGGER aliases_count_delete AFTER DELETE ON aliases
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION aliases_count_in_domains();

-- A partner's domains in name order come from one index: the partner is kept on the
-- domain (set from its customer; moved with the customer).
ALTER TABLE domains ADD COLUMN partner_id uuid;
UPDATE domains d SET partner_id = c.partner_id FROM customers c WHERE c.id = d.customer_id;
CREATE INDEX domains_partner_name_idx ON domains (partner_id, name) WHERE partner_id IS NOT NULL;

CREATE FUNCTION domains_set_partner() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT partner_id INTO NEW.partner_id FROM customers WHERE id = NEW.customer_id;
    RETURN NEW;
END
$$;
CREATE TRIGGER domains_set_partner BEFORE INSERT OR UPDATE OF customer_id ON domains
    FOR EACH ROW EXECUTE FUNCTION domains_set_partner();

CREATE FUNCTION customers_move_domains() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE domains SET partner_id = NEW.partner_id WHERE customer_id = NEW.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER customers_move_domains AFTER UPDATE OF partner_id ON customers
    FOR EACH ROW WHEN (OLD.partner_id IS DISTINCT FROM NEW.partner_id)
    EXECUTE FUNCTION customers_move_domains();

-- `?q=` searches a substring: trigram indexes serve `ILIKE '%q%'`.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX domains_name_trgm_idx ON domains USING gin (name gin_trgm_ops);
