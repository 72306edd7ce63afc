-- The directory of a Hromada node: initiatives, needs, updates, events, accounts, the audit log
-- and the change feed.
--
-- Conventions: ids are UUIDs as lower-case hyphenated TEXT; timestamps are UTC TEXT in one fixed
-- form, `YYYY-MM-DDTHH:MM:SS.ffffffZ`, so that text order is time order; dates are
-- `YYYY-MM-DD`; booleans are 0/1; nested values (regions, contacts, donation methods, ...) are
-- JSON TEXT, and whatever a search filters on is copied into an indexed column or table.

CREATE TABLE initiatives (
    -- Integer key for the full-text index (FTS5 links rows by integer rowid, and an implicit
    -- rowid may be renumbered by VACUUM, so it is declared).
    fts_rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    handle TEXT NOT NULL,
    -- NULL for the node's own initiatives; the origin node's domain for mirrored ones.
    origin TEXT,
    name TEXT NOT NULL,
    summary TEXT NOT NULL,
    description TEXT NOT NULL,
    categories TEXT NOT NULL,          -- JSON array of category codes, in the given order
    tags TEXT NOT NULL,                -- JSON array of strings (also indexed for search)
    regions TEXT NOT NULL,             -- JSON array of regions
    languages TEXT NOT NULL,           -- JSON array of language codes
    website TEXT,
    contacts TEXT NOT NULL,            -- JSON array
    donation_methods TEXT NOT NULL,    -- JSON array
    -- Whether any donation method takes recurring donations (copied for the filter).
    takes_recurring INTEGER NOT NULL,
    status TEXT NOT NULL,
    discoverable INTEGER NOT NULL,
    manually_approves_followers INTEGER NOT NULL,
    submitter_contact TEXT,
    rejection_reason TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    published_at TEXT
);

-- A handle is unique among local initiatives, and per origin among remote ones.
CREATE UNIQUE INDEX initiatives_local_handle ON initiatives (handle) WHERE origin IS NULL;
CREATE UNIQUE INDEX initiatives_remote_handle ON initiatives (origin, handle) WHERE origin IS NOT NULL;
CREATE INDEX initiatives_status_updated ON initiatives (status, updated_at);

-- Search filters: one row per category and per region code (an oblast code or `abroad`).
CREATE TABLE initiative_categories (
    initiative_id TEXT NOT NULL REFERENCES initiatives (id) ON DELETE CASCADE,
    category TEXT NOT NULL,
    PRIMARY KEY (category, initiative_id)
) WITHOUT ROWID;

CREATE TABLE initiative_regions (
    initiative_id TEXT NOT NULL REFERENCES initiatives (id) ON DELETE CASCADE,
    region_code TEXT NOT NULL,
    PRIMARY KEY (region_code, initiative_id)
) WITHOUT ROWID;

CREATE INDEX initiative_categories_by_initiative ON initiative_categories (initiative_id);
CREATE INDEX initiative_regions_by_initiative ON initiative_regions (initiative_id);

-- Full-text index over the initiatives table (external content), kept in sync by triggers.
-- Column order matters: bm25() weights in queries follow it.
CREATE VIRTUAL TABLE initiatives_fts USING fts5 (
    name,
    tags,
    summary,
    description,
    content = 'initiatives',
    content_rowid = 'fts_rowid',
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER initiatives_fts_insert AFTER INSERT ON initiatives BEGIN
    INSERT INTO initiatives_fts (rowid, name, tags, summary, description)
    VALUES (new.fts_rowid, new.name, new.tags, new.summary, new.description);
END;

CREATE TRIGGER initiatives_fts_delete AFTER DELETE ON initiatives BEGIN
    INSERT INTO initiatives_fts (initiatives_fts, rowid, name, tags, summary, description)
    VALUES ('delete', old.fts_rowid, old.name, old.tags, old.summary, old.description);
END;

CREATE TRIGGER initiatives_fts_update AFTER UPDATE ON initiatives BEGIN
    INSERT INTO initiatives_fts (initiatives_fts, rowid, name, tags, summary, description)
    VALUES ('delete', old.fts_rowid, old.name, old.tags, old.summary, old.description);
    INSERT INTO initiatives_fts (rowid, name, tags, summary, description)
    VALUES (new.fts_rowid, new.name, new.tags, new.summary, new.description);
END;

CREATE TABLE needs (
    id TEXT PRIMARY KEY NOT NULL,
    initiative_id TEXT NOT NULL REFERENCES initiatives (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    category TEXT NOT NULL,
    target_amount INTEGER,             -- minor units; NULL when the need has no money target
    target_currency TEXT,
    raised INTEGER NOT NULL,           -- minor units of the target's currency
    deadline TEXT,
    urgency INTEGER NOT NULL,          -- 0 low, 1 normal, 2 high, 3 critical
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CHECK ((target_amount IS NULL) = (target_currency IS NULL))
);

CREATE INDEX needs_by_initiative ON needs (initiative_id, status);
CREATE INDEX needs_open_by_urgency ON needs (urgency, created_at) WHERE status = 'open';

CREATE TABLE updates (
    id TEXT PRIMARY KEY NOT NULL,
    initiative_id TEXT NOT NULL REFERENCES initiatives (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,                -- news | spending_report
    items TEXT,                        -- JSON array of line items of a spending report
    body TEXT NOT NULL,
    need_id TEXT REFERENCES needs (id) ON DELETE SET NULL,
    publish_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE INDEX updates_by_initiative ON updates (initiative_id, publish_at);

CREATE TABLE events (
    id TEXT PRIMARY KEY NOT NULL,
    initiative_id TEXT NOT NULL REFERENCES initiatives (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    starts_at TEXT NOT NULL,
    ends_at TEXT,
    timezone TEXT NOT NULL,
    place TEXT NOT NULL,               -- JSON: a city or an online link
    organiser TEXT NOT NULL,
    beneficiaries TEXT NOT NULL,       -- JSON array of handles, in the given order
    cancelled INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE INDEX events_by_initiative ON events (initiative_id, starts_at);
CREATE INDEX events_by_end ON events (coalesce(ends_at, starts_at)) WHERE cancelled = 0;

-- The handles an event raises funds for (initiatives of the publisher's node), for lookups.
CREATE TABLE event_beneficiaries (
    event_id TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    handle TEXT NOT NULL,
    PRIMARY KEY (handle, event_id)
) WITHOUT ROWID;

CREATE INDEX event_beneficiaries_by_event ON event_beneficiaries (event_id);

-- Ids of deleted objects, so they are never reused and their deletion can be announced.
CREATE TABLE tombstones (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,                -- update | need | event
    deleted_at TEXT NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    -- Stored lower-case; NOCASE also makes the uniqueness case-insensitive.
    username TEXT NOT NULL UNIQUE COLLATE NOCASE,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled INTEGER NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE maintainers (
    -- Keeps the order in which maintainers were added.
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    initiative_id TEXT NOT NULL REFERENCES initiatives (id) ON DELETE CASCADE,
    UNIQUE (user_id, initiative_id)
);

CREATE INDEX maintainers_by_initiative ON maintainers (initiative_id);

CREATE TABLE tokens (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash TEXT NOT NULL UNIQUE,         -- SHA-256 hex of the secret; the secret is never stored
    kind TEXT NOT NULL,                -- api | session
    label TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT,
    revoked_at TEXT
);

CREATE INDEX tokens_by_user ON tokens (user_id, created_at);

CREATE TABLE audit_log (
    -- Insertion order, to order entries with the same time.
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    at TEXT NOT NULL,
    actor TEXT,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    reason TEXT,
    details TEXT NOT NULL              -- JSON
);

CREATE INDEX audit_log_by_time ON audit_log (at, seq);

-- The change feed federation reads. AUTOINCREMENT: a seq is never reused, even after deletes.
CREATE TABLE changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    kind TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    initiative_id TEXT NOT NULL
);
