-- `?q=` on domains and customers: a substring search whose cost does not grow with
-- the number of rows (issue "Scale"; see docs/scaling.md and store::search).
--
-- Every suffix of a searched text, lower-cased and cut to 16 characters, is a row
-- here, beside the key that orders the list (a domain's name, a customer's id). A
-- text contains `q` exactly when one of its suffixes starts with `q`, so the rows
-- that contain `q` are one range of this table's primary key: a B-tree descent and
-- the matches, whatever the table's size. The trigram indexes these replace read
-- posting lists that grow with every row sharing a trigram with `q` (every customer
-- reference starting `crm-`).
--
-- The key is `C`-collated, so that "starts with" is a range whatever the database's
-- collation. A `q` longer than 16 characters finds a superset by its first 16, which
-- the caller narrows with `ILIKE`.

CREATE FUNCTION search_terms(VARIADIC texts text[]) RETURNS SETOF text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    BEGIN ATOMIC
        SELECT DISTINCT left(substr(lower(t), i), 16) COLLATE "C"
          FROM unnest(texts) AS t, generate_series(1, length(lower(t))) AS i;
    END;

-- A domain's name is unique and never changes; here it has the collation of
-- `domains.name`, so that the terms give names in the list's order.
CREATE TABLE domain_search_terms (
    term text COLLATE "C" NOT NULL,
    name text NOT NULL,
    PRIMARY KEY (term, name)
);

CREATE TABLE customer_search_terms (
    term        text COLLATE "C" NOT NULL,
    customer_id uuid NOT NULL,
    PRIMARY KEY (term, customer_id)
);

-- A domain is found by its ASCII name and by its Unicode form.
CREATE FUNCTION domains_search_terms() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.name = NEW.name
       AND OLD.name_unicode IS NOT DISTINCT FROM NEW.name_unicode THEN
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        DELETE FROM domain_search_terms
         WHERE name = OLD.name AND term IN (SELECT search_terms(OLD.name, OLD.name_unicode));
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO domain_search_terms (term, name)
        SELECT t, NEW.name FROM search_terms(NEW.name, NEW.name_unicode) AS t;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER domains_search_terms AFTER INSERT OR DELETE OR UPDATE OF name, name_unicode
    ON domains FOR EACH ROW EXECUTE FUNCTION domains_search_terms();

-- A customer is found by its name and by its external reference.
CREATE FUNCTION customers_search_terms() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.name = NEW.name
       AND OLD.external_ref IS NOT DISTINCT FROM NEW.external_ref THEN
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        DELETE FROM customer_search_terms
         WHERE customer_id = OLD.id AND term IN (SELECT search_terms(OLD.name, OLD.external_ref));
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO customer_search_terms (term, customer_id)
        SELECT t, NEW.id FROM search_terms(NEW.name, NEW.external_ref) AS t;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER customers_search_terms AFTER INSERT OR DELETE OR UPDATE OF name, external_ref
    ON customers FOR EACH ROW EXECUTE FUNCTION customers_search_terms();

-- What exists already (at 100,000 domains about 10 s; deploy/UPGRADING.md).
INSERT INTO domain_search_terms (term, name)
SELECT t, d.name FROM domains d, search_terms(d.name, d.name_unicode) AS t;
INSERT INTO customer_search_terms (term, customer_id)
SELECT t, c.id FROM customers c, search_terms(c.name, c.external_ref) AS t;

DROP INDEX IF EXISTS domains_name_trgm_idx;
DROP INDEX IF EXISTS customers_name_trgm_idx;
DROP INDEX IF EXISTS customers_external_ref_trgm_idx;
