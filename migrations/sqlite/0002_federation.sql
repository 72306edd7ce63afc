-- Federation: actor keys, remote actors, followers, received activities, items for maintainers
-- and moderators, the durable delivery queue, scheduled posts and domain blocks.
--
-- Same conventions as 0001: UUIDs as TEXT, timestamps as fixed-width UTC TEXT
-- (`YYYY-MM-DDTHH:MM:SS.ffffffZ`, so text order is time order). Local actors are named by a
-- key: `instance` for the node's own actor, else the initiative's UUID.

CREATE TABLE fed_actor_keys (
    actor TEXT PRIMARY KEY NOT NULL,
    public_key_pem TEXT NOT NULL,
    private_key_pem TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- Cached actor documents of other servers (refetched when stale or when a signature fails).
CREATE TABLE fed_remote_actors (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    preferred_username TEXT,
    name TEXT,
    inbox TEXT NOT NULL,
    shared_inbox TEXT,
    key_id TEXT NOT NULL,
    public_key_pem TEXT NOT NULL,
    fetched_at TEXT NOT NULL
);

CREATE TABLE fed_followers (
    local_actor TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    follow_id TEXT NOT NULL,
    inbox TEXT NOT NULL,
    shared_inbox TEXT,
    -- shared_inbox, or inbox when there is none; and its host (name or name:port).
    delivery_inbox TEXT NOT NULL,
    delivery_host TEXT NOT NULL,
    state TEXT NOT NULL,               -- pending | accepted
    created_at TEXT NOT NULL,
    PRIMARY KEY (local_actor, actor_id)
) WITHOUT ROWID;

CREATE INDEX fed_followers_by_follow_id ON fed_followers (follow_id);
CREATE INDEX fed_followers_by_actor ON fed_followers (actor_id);

-- Ids of activities already processed (deduplication across inboxes and retries).
CREATE TABLE fed_received (
    activity_id TEXT PRIMARY KEY NOT NULL,
    received_at TEXT NOT NULL
);

CREATE INDEX fed_received_by_time ON fed_received (received_at);

-- Replies and mentions for maintainers, reports for moderators.
CREATE TABLE fed_inbox_items (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,                -- reply | mention | flag
    initiative_id TEXT,                -- NULL: for the node's moderators
    activity_id TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    object_id TEXT NOT NULL,
    content_html TEXT NOT NULL,
    in_reply_to TEXT,
    received_at TEXT NOT NULL
);

CREATE INDEX fed_inbox_items_by_initiative ON fed_inbox_items (initiative_id, received_at);

-- Outgoing activities, exactly as signed and sent.
CREATE TABLE fed_activities (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    activity_id TEXT NOT NULL UNIQUE,
    actor TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- One row per activity and target inbox (shared inboxes, so one per server for most).
CREATE TABLE fed_deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    activity INTEGER NOT NULL REFERENCES fed_activities (id) ON DELETE CASCADE,
    inbox TEXT NOT NULL,
    host TEXT NOT NULL,
    status TEXT NOT NULL,              -- pending | delivered | rejected | failed | cancelled
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    leased_until TEXT,
    last_status INTEGER,
    last_error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (activity, inbox)
);

CREATE INDEX fed_deliveries_due ON fed_deliveries (status, next_attempt_at);
CREATE INDEX fed_deliveries_by_host ON fed_deliveries (host, status);

CREATE TABLE fed_hosts (
    host TEXT PRIMARY KEY NOT NULL,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    first_failure_at TEXT,
    last_failure_at TEXT,
    last_success_at TEXT,
    last_error TEXT,
    next_probe_at TEXT
);

-- The change-feed position up to which changes were turned into activities.
CREATE TABLE fed_cursor (
    name TEXT PRIMARY KEY NOT NULL,
    seq INTEGER NOT NULL
);

INSERT INTO fed_cursor (name, seq) VALUES ('feed', 0);

-- Objects that went out as Create, with the `published` time they were sent with.
CREATE TABLE fed_published (
    object_id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,                -- update | need | event
    initiative_id TEXT NOT NULL,
    published_at TEXT NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0
);

-- Updates published later on purpose: their Create goes out when due.
CREATE TABLE fed_scheduled (
    object_id TEXT PRIMARY KEY NOT NULL,
    initiative_id TEXT NOT NULL,
    due_at TEXT NOT NULL
);

CREATE INDEX fed_scheduled_due ON fed_scheduled (due_at);

CREATE TABLE fed_domain_blocks (
    domain TEXT PRIMARY KEY NOT NULL,
    reason TEXT,
    created_at TEXT NOT NULL
);
