-- The last version of each remote object this node relayed to its peers (the object's
-- `updated` time, or `deleted`). Written in the transaction that queues the relay, so a
-- version is relayed once however many deliveries of it arrive, and a relay that could not be
-- queued (storing failed after the object was taken in) is queued on the sender's retry.

CREATE TABLE fed_relay_marks (
    object_url text PRIMARY KEY,
    version text NOT NULL,
    relayed_at timestamptz NOT NULL
);
