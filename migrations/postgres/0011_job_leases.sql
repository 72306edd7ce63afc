-- Background jobs (backfill, website checks, purging old deliveries) run once per node, also
-- when several processes share the database: each is held by one process at a time, which
-- renews its lease while it runs; another process takes over once the lease has expired.

CREATE TABLE job_leases (
    job text PRIMARY KEY,
    holder text NOT NULL,              -- the process holding it (host, pid and a random part)
    taken_at timestamptz NOT NULL,     -- when this holder took it (kept while it renews)
    expires_at timestamptz NOT NULL
);
