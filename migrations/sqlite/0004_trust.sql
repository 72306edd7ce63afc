-- Trust: vouches and warnings, the node's trust policy, each initiative's derived trust status,
-- the public transparency log, reports and website checks. Conventions as in 0001.

-- Vouches and warnings, this node's own and those received from other nodes.
CREATE TABLE trust_statements (
    id TEXT PRIMARY KEY NOT NULL,
    -- The ActivityPub id on the issuing node; how other nodes refer to it.
    ap_id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,                -- vouch | warning
    initiative_id TEXT NOT NULL REFERENCES initiatives (id) ON DELETE CASCADE,
    -- The issuing collective's node domain (`host` or `host:port`).
    collective TEXT NOT NULL,
    -- 1 when this node's moderators issued it.
    local INTEGER NOT NULL,
    -- The moderator who issued it (this node's only).
    author TEXT,
    statement TEXT NOT NULL,
    -- The basis of a vouch or the reason of a warning.
    code TEXT NOT NULL,
    created_at TEXT NOT NULL,
    withdrawn_at TEXT,
    withdrawal_reason TEXT,
    CHECK (kind IN ('vouch', 'warning'))
);

CREATE INDEX trust_statements_by_initiative ON trust_statements (initiative_id, created_at);

-- The status derived from the statements and the policy, kept for search; recomputed in the
-- transaction of every write that can change it. No row means unverified.
CREATE TABLE initiative_trust (
    initiative_id TEXT PRIMARY KEY NOT NULL REFERENCES initiatives (id) ON DELETE CASCADE,
    status TEXT NOT NULL,              -- verified | vouched | unverified | disputed
    computed_at TEXT NOT NULL
);

CREATE INDEX initiative_trust_by_status ON initiative_trust (status, initiative_id);

-- The node's trust policy: one row.
CREATE TABLE trust_policy (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    trusted TEXT NOT NULL,             -- JSON array of domains, sorted
    ignored TEXT NOT NULL,             -- JSON array of domains, sorted
    threshold INTEGER NOT NULL,
    warnings_dispute INTEGER NOT NULL,
    updated_at TEXT
);

INSERT INTO trust_policy (id, trusted, ignored, threshold, warnings_dispute, updated_at)
VALUES (1, '[]', '[]', 1, 1, NULL);

-- What this node's collective did, for everyone to read.
CREATE TABLE transparency_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    at TEXT NOT NULL,
    action TEXT NOT NULL,
    -- No foreign keys: the log outlives the listings it mentions.
    initiative TEXT,
    initiative_id TEXT,
    statement_id TEXT,
    ap_id TEXT,
    statement TEXT,
    reason TEXT,
    details TEXT NOT NULL              -- JSON
);

CREATE INDEX transparency_log_by_time ON transparency_log (at, seq);

CREATE TABLE reports (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    initiative_id TEXT NOT NULL REFERENCES initiatives (id) ON DELETE CASCADE,
    reporter TEXT NOT NULL,            -- JSON: {kind: user|anonymous|remote, ...}
    category TEXT NOT NULL,
    reason TEXT NOT NULL,
    status TEXT NOT NULL,              -- open | resolved
    created_at TEXT NOT NULL,
    resolved_at TEXT,
    resolved_by TEXT,
    resolution TEXT,
    -- The Flag activity a remote report came in.
    activity_id TEXT UNIQUE
);

CREATE INDEX reports_by_status ON reports (status, created_at);

-- The latest rel="me" check of each initiative's website.
CREATE TABLE website_checks (
    initiative_id TEXT PRIMARY KEY NOT NULL REFERENCES initiatives (id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    checked_at TEXT NOT NULL,
    ok INTEGER NOT NULL,
    detail TEXT NOT NULL
);
