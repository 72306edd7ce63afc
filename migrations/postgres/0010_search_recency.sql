-- Search at scale (issue 7): newest-first pages, and the newest matches a search with words
-- ranks, walk this index and stop early instead of sorting every match.
CREATE INDEX initiatives_by_recency ON initiatives (updated_at DESC, id);
