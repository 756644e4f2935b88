-- The change feed (GET /v1/events) reads the audit trail, which every write already
-- records in its own transaction. To be gap-free for a reader following its cursor
-- while transactions commit out of order (on several instances), each event keeps
-- the id of the transaction that wrote it: the feed shows only events of
-- transactions older than every transaction still running, in (transaction, id)
-- order, so nothing can later appear before a cursor already handed out.
ALTER TABLE audit_events ADD COLUMN txid xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX audit_events_feed_idx ON audit_events (txid, id);
