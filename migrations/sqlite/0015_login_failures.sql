-- Failed logins, counted in the database like the other rate limits (0012), so several node
-- processes on one database enforce one limit and a restart does not forget them (issue 7).
-- Counted over a sliding window per key (`user:<name>` and `ip:<address or /64>`); rows older
-- than the window are deleted as new failures are recorded.

CREATE TABLE login_failures (
    key TEXT NOT NULL,
    failed_at TEXT NOT NULL
);

CREATE INDEX login_failures_by_key ON login_failures (key, failed_at);
CREATE INDEX login_failures_by_time ON login_failures (failed_at);
