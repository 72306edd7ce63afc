-- Place names in search. A listing is found by the places it works in, not only by its text:
-- the names of its oblasts in both languages, their centres (with the case forms the search
-- cannot reach from the nominative: Львів / Львова), colloquial names (Харківщина), English
-- spellings, and the city it gave (`hromada_domain::search::place_words`). The store writes
-- them into the search document with the tags (weight B), so they count in every tier.
-- `search_version` says which version of those words a row's document holds: the store
-- writes the documents of older rows (all of them, the first time) again when it opens,
-- since this file cannot compute them.
ALTER TABLE initiatives ADD COLUMN search_version integer NOT NULL DEFAULT 0;
CREATE INDEX initiatives_by_search_version ON initiatives (search_version);
