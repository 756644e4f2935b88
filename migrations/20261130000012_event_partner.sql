-- An event about a partner's customer is the partner's too, also where the writer
-- knew only the customer (a customer's own API keys and webhooks): the audit trail
-- and the change feed show a partner what is recorded under it (store::audit,
-- store::events), so the partner is filled in from the customer as the event is
-- written, and once for the events written before.
CREATE FUNCTION audit_events_fill_partner() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT partner_id INTO NEW.partner_id FROM customers WHERE id = NEW.customer_id;
    RETURN NEW;
END $$;

CREATE TRIGGER audit_events_fill_partner BEFORE INSERT ON audit_events
    FOR EACH ROW WHEN (NEW.partner_id IS NULL AND NEW.customer_id IS NOT NULL)
    EXECUTE FUNCTION audit_events_fill_partner();

UPDATE audit_events e SET partner_id = c.partner_id
FROM customers c
WHERE e.partner_id IS NULL AND e.customer_id = c.id AND c.partner_id IS NOT NULL;
