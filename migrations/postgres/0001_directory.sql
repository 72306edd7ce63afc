-- The directory of a Hromada node: initiatives, needs, updates, events, accounts, the audit log
-- and the change feed.
--
-- Nested values (regions, contacts, donation methods, ...) are jsonb; whatever a search filters
-- on is an indexed column or array.

CREATE TABLE initiatives (
    id uuid PRIMARY KEY,
    handle text NOT NULL,
    -- NULL for the node's own initiatives; the origin node's domain for mirrored ones.
    origin text,
    name text NOT NULL,
    summary text NOT NULL,
    description text NOT NULL,
    categories text[] NOT NULL,        -- category codes, in the given order
    tags text[] NOT NULL,
    regions jsonb NOT NULL,
    -- The regions' filter codes (an oblast code or `abroad`), copied for the filter.
    region_codes text[] NOT NULL,
    languages text[] NOT NULL,
    website text,
    contacts jsonb NOT NULL,
    donation_methods jsonb NOT NULL,
    -- Whether any donation method takes recurring donations (copied for the filter).
    takes_recurring boolean NOT NULL,
    status text NOT NULL,
    discoverable boolean NOT NULL,
    manually_approves_followers boolean NOT NULL,
    submitter_contact text,
    rejection_reason text,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    published_at timestamptz,
    -- Weighted search document: name A, tags B, summary C, description D. Written by the store
    -- from text it lower-cases itself, because the database's own lower-casing depends on its
    -- locale (under the C locale it leaves Cyrillic alone). Config `simple`: PostgreSQL has no
    -- Ukrainian stemmer, and searches match words by prefix instead.
    search tsvector NOT NULL
);

-- A handle is unique among local initiatives, and per origin among remote ones.
CREATE UNIQUE INDEX initiatives_local_handle ON initiatives (handle) WHERE origin IS NULL;
CREATE UNIQUE INDEX initiatives_remote_handle ON initiatives (origin, handle) WHERE origin IS NOT NULL;
CREATE INDEX initiatives_status_updated ON initiatives (status, updated_at);
CREATE INDEX initiatives_categories ON initiatives USING gin (categories);
CREATE INDEX initiatives_region_codes ON initiatives USING gin (region_codes);
CREATE INDEX initiatives_search ON initiatives USING gin (search);

CREATE TABLE needs (
    id uuid PRIMARY KEY,
    initiative_id uuid NOT NULL REFERENCES initiatives (id) ON DELETE CASCADE,
    title text NOT NULL,
    description text NOT NULL,
    category text NOT NULL,
    target_amount bigint,              -- minor units; NULL when the need has no money target
    target_currency text,
    raised bigint NOT NULL,            -- minor units of the target's currency
    deadline date,
    urgency smallint NOT NULL,         -- 0 low, 1 normal, 2 high, 3 critical
    status text NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    CHECK ((target_amount IS NULL) = (target_currency IS NULL))
);

CREATE INDEX needs_by_initiative ON needs (initiative_id, status);
CREATE INDEX needs_open_by_urgency ON needs (urgency, created_at) WHERE status = 'open';

CREATE TABLE updates (
    id uuid PRIMARY KEY,
    initiative_id uuid NOT NULL REFERENCES initiatives (id) ON DELETE CASCADE,
    kind text NOT NULL,                -- news | spending_report
    items jsonb,                       -- line items of a spending report
    body text NOT NULL,
    need_id uuid REFERENCES needs (id) ON DELETE SET NULL,
    publish_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE INDEX updates_by_initiative ON updates (initiative_id, publish_at);

CREATE TABLE events (
    id uuid PRIMARY KEY,
    initiative_id uuid NOT NULL REFERENCES initiatives (id) ON DELETE CASCADE,
    title text NOT NULL,
    description text NOT NULL,
    starts_at timestamptz NOT NULL,
    ends_at timestamptz,
    timezone text NOT NULL,
    place jsonb NOT NULL,              -- a city or an online link
    organiser text NOT NULL,
    -- Handles of initiatives on the publisher's node the event raises funds for, in order.
    beneficiaries text[] NOT NULL,
    cancelled boolean NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE INDEX events_by_initiative ON events (initiative_id, starts_at);
CREATE INDEX events_by_beneficiary ON events USING gin (beneficiaries);
CREATE INDEX events_by_end ON events ((coalesce(ends_at, starts_at))) WHERE NOT cancelled;

-- Ids of deleted objects, so they are never reused and their deletion can be announced.
CREATE TABLE tombstones (
    id uuid PRIMARY KEY,
    kind text NOT NULL,                -- update | need | event
    deleted_at timestamptz NOT NULL
);

CREATE TABLE users (
    id uuid PRIMARY KEY,
    username text NOT NULL,            -- stored lower-case
    role text NOT NULL,
    password_hash text NOT NULL,
    disabled boolean NOT NULL,
    created_at timestamptz NOT NULL
);

CREATE UNIQUE INDEX users_username ON users (lower(username));

CREATE TABLE maintainers (
    -- Keeps the order in which maintainers were added.
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    initiative_id uuid NOT NULL REFERENCES initiatives (id) ON DELETE CASCADE,
    UNIQUE (user_id, initiative_id)
);

CREATE INDEX maintainers_by_initiative ON maintainers (initiative_id);

CREATE TABLE tokens (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash text NOT NULL UNIQUE,         -- SHA-256 hex of the secret; the secret is never stored
    kind text NOT NULL,                -- api | session
    label text NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz,
    revoked_at timestamptz
);

CREATE INDEX tokens_by_user ON tokens (user_id, created_at);

CREATE TABLE audit_log (
    -- Insertion order, to order entries with the same time.
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id uuid NOT NULL UNIQUE,
    at timestamptz NOT NULL,
    actor text,
    action text NOT NULL,
    subject text NOT NULL,
    reason text,
    details jsonb NOT NULL
);

CREATE INDEX audit_log_by_time ON audit_log (at, seq);

-- The change feed federation reads. Writers take an advisory lock before appending (see the
-- store's feed module), so seq order is also commit order and a reader never skips a row.
CREATE TABLE changes (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at timestamptz NOT NULL,
    kind text NOT NULL,
    entity_id uuid NOT NULL,
    initiative_id uuid NOT NULL
);
