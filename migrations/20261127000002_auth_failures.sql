-- Failed webmail password-change attempts, counted per address and per client
-- address in fixed windows. Kept in Postgres so that every instance shares them.
CREATE TABLE auth_failures (
    scope         text NOT NULL CHECK (scope IN ('address', 'client')),
    subject       text NOT NULL,
    window_start  timestamptz NOT NULL DEFAULT now(),
    failures      integer NOT NULL DEFAULT 0,
    PRIMARY KEY (scope, subject)
);
