-- Search at scale, second step (issue 7). Ranking every candidate with ts_rank read each one's
-- whole search document (most are TOASTed: decompressed row by row), and a weight-restricted
-- query (`'help':*AB`) would have to recheck the same documents. The store now ranks by *where*
-- the words are: every word in the name or tags first, then in the name, tags or summary, then
-- anywhere; newest update first within each tier. The first two tiers get small documents of
-- their own, derived from the weighted one (name A, tags B, summary C), each with its GIN
-- index, so a tier is one indexed query that stops after the page.
ALTER TABLE initiatives
    ADD COLUMN search_title tsvector GENERATED ALWAYS AS (ts_filter(search, '{a,b}')) STORED,
    ADD COLUMN search_head tsvector GENERATED ALWAYS AS (ts_filter(search, '{a,b,c}')) STORED;

CREATE INDEX initiatives_search_title ON initiatives USING gin (search_title);
CREATE INDEX initiatives_search_head ON initiatives USING gin (search_head);
