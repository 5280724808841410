-- Head office's console sessions and sign-in attempts (issue 19: "sessions
-- and login rate limits live in the database too, never on a node"):
-- behind a load balancer a person's next request may reach another node,
-- and a node restarted must not sign everyone out or forget who has been
-- guessing passwords. Small tables every node reads and writes: Citus
-- reference tables.

-- A session: the SHA-256 digest of the id in the cookie (never the id
-- itself), the person's name (each node reads their account from its own
-- [[users]]), the form token, and the times that end it (idle, lifetime).
CREATE TABLE console_sessions (
    digest bytea NOT NULL CHECK (length(digest) = 32),
    user_name text NOT NULL,
    csrf text NOT NULL,
    opened_at timestamptz NOT NULL,
    used_at timestamptz NOT NULL,
    PRIMARY KEY (digest)
);
CREATE INDEX console_sessions_by_user ON console_sessions (user_name);

-- Sign-in attempts per client address, as a GCRA token bucket: `tat` is
-- the theoretical arrival time of the next attempt; an attempt is allowed
-- while tat - now() stays within the burst.
CREATE TABLE console_sign_ins (
    address text COLLATE "C" NOT NULL,
    tat timestamptz NOT NULL,
    PRIMARY KEY (address)
);
