-- Peers: other Hromada nodes this node follows, is followed by, or both (issue 4).

CREATE TABLE fed_peers (
    domain text PRIMARY KEY,           -- host or host:port, lower-case
    actor_id text NOT NULL,            -- the peer's instance actor
    inbox text NOT NULL,
    outgoing text,                     -- NULL | pending | accepted | rejected
    outgoing_follow_id text,
    outgoing_since timestamptz,
    incoming text,                     -- NULL | pending | accepted
    incoming_follow_id text,
    incoming_since timestamptz,
    last_activity_at timestamptz,
    refuse_relayed boolean NOT NULL DEFAULT false,
    backfill_next text                 -- next directory page to fetch; NULL when none is due
);

