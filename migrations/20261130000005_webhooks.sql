-- Webhook subscriptions: the change feed pushed to a partner's (or customer's, or the
-- provider's) receiver. Each subscription follows the feed with its own cursor; moving
-- the cursor and writing the deliveries happen in one transaction, so every event in
-- the owner's reach becomes exactly one delivery per subscription, whichever instance
-- does it.
CREATE TABLE webhooks (
    id               uuid PRIMARY KEY,
    -- The owner, whose reach the events come from: both NULL for the provider.
    partner_id       uuid REFERENCES partners (id) ON DELETE CASCADE,
    customer_id      uuid REFERENCES customers (id) ON DELETE CASCADE,
    url              text NOT NULL,
    -- `*`, `account.*` or `account.created`.
    event_types      text[] NOT NULL,
    active           boolean NOT NULL DEFAULT true,
    -- Why mailpanel switched it off (deliveries failing for the retry period).
    disabled_reason  text,
    disabled_at      timestamptz,
    -- `whsec_…`: the receiver needs the same bytes to check the signature, so it
    -- cannot be stored hashed. Never returned after the create.
    signing_secret   text NOT NULL,
    -- The last feed position (writing transaction, event id) turned into deliveries.
    cursor_txid      xid8 NOT NULL,
    cursor_id        bigint NOT NULL DEFAULT 0,
    version          integer NOT NULL DEFAULT 1,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT webhooks_owner_check CHECK (partner_id IS NULL OR customer_id IS NULL)
);
CREATE INDEX webhooks_partner_idx ON webhooks (partner_id) WHERE partner_id IS NOT NULL;
CREATE INDEX webhooks_customer_idx ON webhooks (customer_id) WHERE customer_id IS NOT NULL;
CREATE INDEX webhooks_active_idx ON webhooks (cursor_txid, cursor_id) WHERE active;

-- One event for one subscription. The body is fixed when the delivery is written;
-- each attempt signs it with that attempt's time.
CREATE TABLE webhook_deliveries (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    webhook_id       uuid NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id         bigint NOT NULL,
    event_type       text NOT NULL,
    payload          text NOT NULL,
    attempts         integer NOT NULL DEFAULT 0,
    -- Also the lease: an attempt moves it past the request's timeout first, so a
    -- crashed instance's attempt is taken up again by another.
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    -- Retries stop (and the subscription is switched off) once this is a day old;
    -- switching the subscription on again restarts it.
    retrying_since   timestamptz NOT NULL DEFAULT now(),
    last_attempt_at  timestamptz,
    last_status      integer,
    last_error       text,
    delivered_at     timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT webhook_deliveries_event_key UNIQUE (webhook_id, event_id)
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (webhook_id, next_attempt_at)
    WHERE delivered_at IS NULL;
CREATE INDEX webhook_deliveries_list_idx ON webhook_deliveries (webhook_id, id DESC);
