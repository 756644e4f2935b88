-- Lists that stay flat at a million accounts (issue "Scale"; see docs/scaling.md).
-- On a large audit trail these take a while and block its writes meanwhile:
-- deploy/UPGRADING.md shows how to build them beforehand without blocking (the
-- statements below then skip them).

-- The change feed of a partner and of a customer, in the feed's order
-- (store::events::after); profile events are everyone's, so every reader's feed
-- merges them in from the last index.
CREATE INDEX IF NOT EXISTS audit_events_partner_feed_idx ON audit_events (partner_id, txid, id)
    WHERE partner_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS audit_events_customer_feed_idx ON audit_events (customer_id, txid, id)
    WHERE customer_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS audit_events_profile_feed_idx ON audit_events (txid, id)
    WHERE action LIKE 'server\_profile.%';

-- The admin's customer search (`?q=` on name or external reference).
CREATE INDEX IF NOT EXISTS customers_name_trgm_idx ON customers USING gin (name gin_trgm_ops);
CREATE INDEX IF NOT EXISTS customers_external_ref_trgm_idx ON customers USING gin (external_ref gin_trgm_ops);
