-- Issue 4 leftovers: which peers a mirrored listing came through (so unfollowing a peer can
-- purge what only it brought), and deleted local initiatives (their handles stay reserved,
-- their actor URL answers 410).

CREATE TABLE fed_listing_sources (
    initiative_id uuid NOT NULL REFERENCES initiatives (id) ON DELETE CASCADE,
    peer text NOT NULL,                -- host or host:port of the followed node it came from
    PRIMARY KEY (initiative_id, peer)
);

CREATE INDEX fed_listing_sources_by_peer ON fed_listing_sources (peer);

-- Listings mirrored before this migration came from their origin, as far as anyone knows.
INSERT INTO fed_listing_sources (initiative_id, peer)
    SELECT id, origin FROM initiatives WHERE origin IS NOT NULL;

CREATE TABLE deleted_initiatives (
    id uuid PRIMARY KEY,
    handle text NOT NULL UNIQUE,       -- never taken again on this node
    deleted_at timestamptz NOT NULL
);
