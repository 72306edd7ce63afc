-- Search at scale, third step (issue 7). GIN indexes collect new entries in an unsorted
-- "pending list" (fastupdate, up to gin_pending_list_limit, 4 MB by default) until a vacuum or
-- an insert that overflows it merges them in, and every search through the index reads the
-- whole list first. After filling 100k listings the lists of the search indexes held thousands
-- of entries (the name-and-tags index all of them), costing each search tens of milliseconds.
-- Searches matter here far more than the cost of an insert, so the indexes a search uses are
-- updated in place, and what is pending now is merged.
ALTER INDEX initiatives_search SET (fastupdate = off);
ALTER INDEX initiatives_search_title SET (fastupdate = off);
ALTER INDEX initiatives_search_head SET (fastupdate = off);
ALTER INDEX initiatives_categories SET (fastupdate = off);
ALTER INDEX initiatives_region_codes SET (fastupdate = off);

SELECT gin_clean_pending_list('initiatives_search'::regclass);
SELECT gin_clean_pending_list('initiatives_search_title'::regclass);
SELECT gin_clean_pending_list('initiatives_search_head'::regclass);
SELECT gin_clean_pending_list('initiatives_categories'::regclass);
SELECT gin_clean_pending_list('initiatives_region_codes'::regclass);
