-- Search at scale, third step (issue 7). A page without words walks the listings newest first
-- and keeps the public ones; with the status in the recency index the walk reads a listing's
-- row only when it is on the page, not for every listing it passes or skips (page 50 passed
-- 1,000 rows, each a seek into the table).
CREATE INDEX initiatives_by_recency_and_status ON initiatives (updated_at DESC, id, status);
DROP INDEX initiatives_by_recency;
