-- Place names in search. A listing is found by the places it works in, not only by its text:
-- the names of its oblasts in both languages, their centres (with the case forms the search
-- cannot reach from the nominative: Львів / Львова), colloquial names (Харківщина), English
-- spellings, and the city it gave (`hromada_domain::search::place_words`). The store writes
-- them with the row into `search_places`, indexed beside the name and tags in every tier.
-- `search_version` says which version of those words a row holds: the store writes the words
-- of older rows (all of them, the first time) again when it opens, since this file cannot
-- compute them.

DROP TRIGGER initiatives_fts_insert;
DROP TRIGGER initiatives_fts_delete;
DROP TRIGGER initiatives_fts_update;
DROP TABLE initiatives_fts;
DROP TABLE initiatives_fts_title;
DROP TABLE initiatives_fts_head;

ALTER TABLE initiatives ADD COLUMN search_places TEXT NOT NULL DEFAULT '';
ALTER TABLE initiatives ADD COLUMN search_version INTEGER NOT NULL DEFAULT 0;
CREATE INDEX initiatives_by_search_version ON initiatives (search_version);

CREATE VIRTUAL TABLE initiatives_fts USING fts5 (
    name,
    tags,
    summary,
    description,
    search_places,
    search_facets,
    content = 'initiatives',
    content_rowid = 'fts_rowid',
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '2 3 4 5 6 7 8 9 10'
);

CREATE VIRTUAL TABLE initiatives_fts_title USING fts5 (
    name,
    tags,
    search_places,
    search_facets,
    content = 'initiatives',
    content_rowid = 'fts_rowid',
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '2 3 4 5 6 7 8 9 10'
);

CREATE VIRTUAL TABLE initiatives_fts_head USING fts5 (
    name,
    tags,
    summary,
    search_places,
    search_facets,
    content = 'initiatives',
    content_rowid = 'fts_rowid',
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '2 3 4 5 6 7 8 9 10'
);

INSERT INTO initiatives_fts (initiatives_fts) VALUES ('rebuild');
INSERT INTO initiatives_fts_title (initiatives_fts_title) VALUES ('rebuild');
INSERT INTO initiatives_fts_head (initiatives_fts_head) VALUES ('rebuild');

CREATE TRIGGER initiatives_fts_insert AFTER INSERT ON initiatives BEGIN
    INSERT INTO initiatives_fts (rowid, name, tags, summary, description, search_places, search_facets)
    VALUES (new.fts_rowid, new.name, new.tags, new.summary, new.description, new.search_places, new.search_facets);
    INSERT INTO initiatives_fts_title (rowid, name, tags, search_places, search_facets)
    VALUES (new.fts_rowid, new.name, new.tags, new.search_places, new.search_facets);
    INSERT INTO initiatives_fts_head (rowid, name, tags, summary, search_places, search_facets)
    VALUES (new.fts_rowid, new.name, new.tags, new.summary, new.search_places, new.search_facets);
END;

CREATE TRIGGER initiatives_fts_delete AFTER DELETE ON initiatives BEGIN
    INSERT INTO initiatives_fts (initiatives_fts, rowid, name, tags, summary, description, search_places, search_facets)
    VALUES ('delete', old.fts_rowid, old.name, old.tags, old.summary, old.description, old.search_places, old.search_facets);
    INSERT INTO initiatives_fts_title (initiatives_fts_title, rowid, name, tags, search_places, search_facets)
    VALUES ('delete', old.fts_rowid, old.name, old.tags, old.search_places, old.search_facets);
    INSERT INTO initiatives_fts_head (initiatives_fts_head, rowid, name, tags, summary, search_places, search_facets)
    VALUES ('delete', old.fts_rowid, old.name, old.tags, old.summary, old.search_places, old.search_facets);
END;

-- Only when indexed text changes: most updates of a listing touch other columns.
CREATE TRIGGER initiatives_fts_update
AFTER UPDATE OF name, tags, summary, description, search_places, search_facets ON initiatives BEGIN
    INSERT INTO initiatives_fts (initiatives_fts, rowid, name, tags, summary, description, search_places, search_facets)
    VALUES ('delete', old.fts_rowid, old.name, old.tags, old.summary, old.description, old.search_places, old.search_facets);
    INSERT INTO initiatives_fts (rowid, name, tags, summary, description, search_places, search_facets)
    VALUES (new.fts_rowid, new.name, new.tags, new.summary, new.description, new.search_places, new.search_facets);
    INSERT INTO initiatives_fts_title (initiatives_fts_title, rowid, name, tags, search_places, search_facets)
    VALUES ('delete', old.fts_rowid, old.name, old.tags, old.search_places, old.search_facets);
    INSERT INTO initiatives_fts_title (rowid, name, tags, search_places, search_facets)
    VALUES (new.fts_rowid, new.name, new.tags, new.search_places, new.search_facets);
    INSERT INTO initiatives_fts_head (initiatives_fts_head, rowid, name, tags, summary, search_places, search_facets)
    VALUES ('delete', old.fts_rowid, old.name, old.tags, old.summary, old.search_places, old.search_facets);
    INSERT INTO initiatives_fts_head (rowid, name, tags, summary, search_places, search_facets)
    VALUES (new.fts_rowid, new.name, new.tags, new.summary, new.search_places, new.search_facets);
END;
