-- Trust: vouches and warnings, the node's trust policy, each initiative's derived trust status,
-- the public transparency log, reports and website checks.

-- Vouches and warnings, this node's own and those received from other nodes.
CREATE TABLE trust_statements (
    id uuid PRIMARY KEY,
    -- The ActivityPub id on the issuing node; how other nodes refer to it.
    ap_id text NOT NULL UNIQUE,
    kind text NOT NULL CHECK (kind IN ('vouch', 'warning')),
    initiative_id uuid NOT NULL REFERENCES initiatives (id) ON DELETE CASCADE,
    -- The issuing collective's node domain (`host` or `host:port`).
    collective text NOT NULL,
    -- Whether this node's moderators issued it.
    local boolean NOT NULL,
    -- The moderator who issued it (this node's only).
    author text,
    statement text NOT NULL,
    -- The basis of a vouch or the reason of a warning.
    code text NOT NULL,
    created_at timestamptz NOT NULL,
    withdrawn_at timestamptz,
    withdrawal_reason text
);

CREATE INDEX trust_statements_by_initiative ON trust_statements (initiative_id, created_at);

-- The status derived from the statements and the policy, kept for search; recomputed in the
-- transaction of every write that can change it. No row means unverified.
CREATE TABLE initiative_trust (
    initiative_id uuid PRIMARY KEY REFERENCES initiatives (id) ON DELETE CASCADE,
    status text NOT NULL,              -- verified | vouched | unverified | disputed
    computed_at timestamptz NOT NULL
);

CREATE INDEX initiative_trust_by_status ON initiative_trust (status, initiative_id);

-- The node's trust policy: one row.
CREATE TABLE trust_policy (
    id integer PRIMARY KEY CHECK (id = 1),
    trusted text[] NOT NULL,           -- domains, sorted
    ignored text[] NOT NULL,           -- domains, sorted
    threshold integer NOT NULL,
    warnings_dispute boolean NOT NULL,
    updated_at timestamptz
);

INSERT INTO trust_policy (id, trusted, ignored, threshold, warnings_dispute, updated_at)
VALUES (1, '{}', '{}', 1, true, NULL);

-- What this node's collective did, for everyone to read.
CREATE TABLE transparency_log (
    seq bigserial PRIMARY KEY,
    id uuid NOT NULL UNIQUE,
    at timestamptz NOT NULL,
    action text NOT NULL,
    -- No foreign keys: the log outlives the listings it mentions.
    initiative text,
    initiative_id uuid,
    statement_id uuid,
    ap_id text,
    statement text,
    reason text,
    details jsonb NOT NULL
);

CREATE INDEX transparency_log_by_time ON transparency_log (at, seq);

CREATE TABLE reports (
    seq bigserial PRIMARY KEY,
    id uuid NOT NULL UNIQUE,
    initiative_id uuid NOT NULL REFERENCES initiatives (id) ON DELETE CASCADE,
    reporter jsonb NOT NULL,           -- {kind: user|anonymous|remote, ...}
    category text NOT NULL,
    reason text NOT NULL,
    status text NOT NULL,              -- open | resolved
    created_at timestamptz NOT NULL,
    resolved_at timestamptz,
    resolved_by text,
    resolution text,
    -- The Flag activity a remote report came in.
    activity_id text UNIQUE
);

CREATE INDEX reports_by_status ON reports (status, created_at);

-- The latest rel="me" check of each initiative's website.
CREATE TABLE website_checks (
    initiative_id uuid PRIMARY KEY REFERENCES initiatives (id) ON DELETE CASCADE,
    url text NOT NULL,
    checked_at timestamptz NOT NULL,
    ok boolean NOT NULL,
    detail text NOT NULL
);
