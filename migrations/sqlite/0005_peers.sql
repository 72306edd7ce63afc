-- Peers: other Hromada nodes this node follows, is followed by, or both (issue 4).
-- Timestamps as fixed-width UTC TEXT, as in 0001.

CREATE TABLE fed_peers (
    domain TEXT PRIMARY KEY NOT NULL,  -- host or host:port, lower-case
    actor_id TEXT NOT NULL,            -- the peer's instance actor
    inbox TEXT NOT NULL,
    outgoing TEXT,                     -- NULL | pending | accepted | rejected
    outgoing_follow_id TEXT,
    outgoing_since TEXT,
    incoming TEXT,                     -- NULL | pending | accepted
    incoming_follow_id TEXT,
    incoming_since TEXT,
    last_activity_at TEXT,
    refuse_relayed INTEGER NOT NULL DEFAULT 0,
    backfill_next TEXT                 -- next directory page to fetch; NULL when none is due
);

