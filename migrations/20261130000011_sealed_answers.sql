-- Kept answers are sealed (ChaCha20-Poly1305) under a key derived from the caller's
-- API key and the Idempotency-Key, neither of which the database holds: an answer
-- that shows a secret once (a new API key, a webhook's signing secret) is not
-- readable from the table. Sealed answers go in a column of their own: an older
-- instance still running during the upgrade finds no body there and replays the
-- status without one, never the sealed bytes. Answers kept before this migration
-- stay as they were until they expire (a day).
ALTER TABLE idempotency_keys ADD COLUMN sealed_body bytea;
