-- Federation: actor keys, remote actors, followers, received activities, items for maintainers
-- and moderators, the durable delivery queue, scheduled posts and domain blocks.
--
-- Local actors are named by a key: `instance` for the node's own actor, else the initiative's
-- UUID as text. Several processes may share this database: workers claim deliveries with
-- FOR UPDATE SKIP LOCKED, and the feed cursor moves by compare-and-set.

CREATE TABLE fed_actor_keys (
    actor text PRIMARY KEY,
    public_key_pem text NOT NULL,
    private_key_pem text NOT NULL,
    created_at timestamptz NOT NULL
);

-- Cached actor documents of other servers (refetched when stale or when a signature fails).
CREATE TABLE fed_remote_actors (
    id text PRIMARY KEY,
    kind text NOT NULL,
    preferred_username text,
    name text,
    inbox text NOT NULL,
    shared_inbox text,
    key_id text NOT NULL,
    public_key_pem text NOT NULL,
    fetched_at timestamptz NOT NULL
);

CREATE TABLE fed_followers (
    local_actor text NOT NULL,
    actor_id text NOT NULL,
    follow_id text NOT NULL,
    inbox text NOT NULL,
    shared_inbox text,
    -- shared_inbox, or inbox when there is none; and its host (name or name:port).
    delivery_inbox text NOT NULL,
    delivery_host text NOT NULL,
    state text NOT NULL,               -- pending | accepted
    created_at timestamptz NOT NULL,
    PRIMARY KEY (local_actor, actor_id)
);

CREATE INDEX fed_followers_by_follow_id ON fed_followers (follow_id);
CREATE INDEX fed_followers_by_actor ON fed_followers (actor_id);

-- Ids of activities already processed (deduplication across inboxes and retries).
CREATE TABLE fed_received (
    activity_id text PRIMARY KEY,
    received_at timestamptz NOT NULL
);

CREATE INDEX fed_received_by_time ON fed_received (received_at);

-- Replies and mentions for maintainers, reports for moderators.
CREATE TABLE fed_inbox_items (
    id uuid PRIMARY KEY,
    kind text NOT NULL,                -- reply | mention | flag
    initiative_id uuid,                -- NULL: for the node's moderators
    activity_id text NOT NULL,
    actor_id text NOT NULL,
    object_id text NOT NULL,
    content_html text NOT NULL,
    in_reply_to text,
    received_at timestamptz NOT NULL
);

CREATE INDEX fed_inbox_items_by_initiative ON fed_inbox_items (initiative_id, received_at);

-- Outgoing activities, exactly as signed and sent.
CREATE TABLE fed_activities (
    id bigserial PRIMARY KEY,
    activity_id text NOT NULL UNIQUE,
    actor text NOT NULL,
    body text NOT NULL,
    created_at timestamptz NOT NULL
);

-- One row per activity and target inbox (shared inboxes, so one per server for most).
CREATE TABLE fed_deliveries (
    id bigserial PRIMARY KEY,
    activity bigint NOT NULL REFERENCES fed_activities (id) ON DELETE CASCADE,
    inbox text NOT NULL,
    host text NOT NULL,
    status text NOT NULL,              -- pending | delivered | rejected | failed | cancelled
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    leased_until timestamptz,
    last_status integer,
    last_error text,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    UNIQUE (activity, inbox)
);

CREATE INDEX fed_deliveries_due ON fed_deliveries (status, next_attempt_at);
CREATE INDEX fed_deliveries_by_host ON fed_deliveries (host, status);

CREATE TABLE fed_hosts (
    host text PRIMARY KEY,
    consecutive_failures integer NOT NULL DEFAULT 0,
    first_failure_at timestamptz,
    last_failure_at timestamptz,
    last_success_at timestamptz,
    last_error text,
    next_probe_at timestamptz
);

-- The change-feed position up to which changes were turned into activities.
CREATE TABLE fed_cursor (
    name text PRIMARY KEY,
    seq bigint NOT NULL
);

INSERT INTO fed_cursor (name, seq) VALUES ('feed', 0);

-- Objects that went out as Create, with the `published` time they were sent with.
CREATE TABLE fed_published (
    object_id uuid PRIMARY KEY,
    kind text NOT NULL,                -- update | need | event
    initiative_id uuid NOT NULL,
    published_at timestamptz NOT NULL,
    deleted boolean NOT NULL DEFAULT false
);

-- Updates published later on purpose: their Create goes out when due.
CREATE TABLE fed_scheduled (
    object_id uuid PRIMARY KEY,
    initiative_id uuid NOT NULL,
    due_at timestamptz NOT NULL
);

CREATE INDEX fed_scheduled_due ON fed_scheduled (due_at);

CREATE TABLE fed_domain_blocks (
    domain text PRIMARY KEY,
    reason text,
    created_at timestamptz NOT NULL
);
