-- Rate limits shared by every process on this database (issue 2): submissions and reports are
-- counted per client and fixed window here rather than in a process's memory, so several node
-- processes behind one reverse proxy enforce one limit. A row lives until its window ends.
-- (API token expiry, the other part of this change, needed no schema change: tokens.expires_at
-- exists since 0001.)

CREATE TABLE rate_limit_hits (
    key text NOT NULL,            -- e.g. `submit:ip:192.0.2.1`
    window_start timestamptz NOT NULL,
    window_end timestamptz NOT NULL,
    hits integer NOT NULL,
    PRIMARY KEY (key, window_start)
);

CREATE INDEX rate_limit_hits_by_end ON rate_limit_hits (window_end);
