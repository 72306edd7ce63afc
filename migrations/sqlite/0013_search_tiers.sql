-- Search at scale, second step (issue 7). Two findings at 100k listings:
-- * A prefix query (`"help"*`) without a prefix index of that length makes FTS5 read and merge
--   the whole doclist of every word with that prefix before returning the first row, so
--   `LIMIT 20` saved nothing (10–30 ms for a word in most listings). Prefix indexes for 2 to 10
--   letters let FTS5 walk the matches lazily, newest row first, and stop after the page.
-- * bm25() first counts, for every phrase of the query (the facet tokens included), all the
--   documents that hold it, so ranking even 20 rows of a frequent word cost 20–50 ms.
-- The store now ranks by *where* the words are, without bm25: listings with every word in the
-- name or tags first, then in the name, tags or summary, then anywhere, newest first within
-- each tier. Each tier is one more full-text table over the same rows (external content, so
-- only the index is stored) and a lazy query that stops after the page.

DROP TRIGGER initiatives_fts_insert;
DROP TRIGGER initiatives_fts_delete;
DROP TRIGGER initiatives_fts_update;
DROP TABLE initiatives_fts;

CREATE VIRTUAL TABLE initiatives_fts USING fts5 (
    name,
    tags,
    summary,
    description,
    search_facets,
    content = 'initiatives',
    content_rowid = 'fts_rowid',
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '2 3 4 5 6 7 8 9 10'
);

-- Tier 1: the name and tags (and the facets, so filters apply inside the index here too).
CREATE VIRTUAL TABLE initiatives_fts_title USING fts5 (
    name,
    tags,
    search_facets,
    content = 'initiatives',
    content_rowid = 'fts_rowid',
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '2 3 4 5 6 7 8 9 10'
);

-- Tier 2: the name, tags and summary.
CREATE VIRTUAL TABLE initiatives_fts_head USING fts5 (
    name,
    tags,
    summary,
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
    INSERT INTO initiatives_fts (rowid, name, tags, summary, description, search_facets)
    VALUES (new.fts_rowid, new.name, new.tags, new.summary, new.description, new.search_facets);
    INSERT INTO initiatives_fts_title (rowid, name, tags, search_facets)
    VALUES (new.fts_rowid, new.name, new.tags, new.search_facets);
    INSERT INTO initiatives_fts_head (rowid, name, tags, summary, search_facets)
    VALUES (new.fts_rowid, new.name, new.tags, new.summary, new.search_facets);
END;

CREATE TRIGGER initiatives_fts_delete AFTER DELETE ON initiatives BEGIN
    INSERT INTO initiatives_fts (initiatives_fts, rowid, name, tags, summary, description, search_facets)
    VALUES ('delete', old.fts_rowid, old.name, old.tags, old.summary, old.description, old.search_facets);
    INSERT INTO initiatives_fts_title (initiatives_fts_title, rowid, name, tags, search_facets)
    VALUES ('delete', old.fts_rowid, old.name, old.tags, old.search_facets);
    INSERT INTO initiatives_fts_head (initiatives_fts_head, rowid, name, tags, summary, search_facets)
    VALUES ('delete', old.fts_rowid, old.name, old.tags, old.summary, old.search_facets);
END;

-- Only when indexed text changes: most updates of a listing touch other columns.
CREATE TRIGGER initiatives_fts_update
AFTER UPDATE OF name, tags, summary, description, search_facets ON initiatives BEGIN
    INSERT INTO initiatives_fts (initiatives_fts, rowid, name, tags, summary, description, search_facets)
    VALUES ('delete', old.fts_rowid, old.name, old.tags, old.summary, old.description, old.search_facets);
    INSERT INTO initiatives_fts (rowid, name, tags, summary, description, search_facets)
    VALUES (new.fts_rowid, new.name, new.tags, new.summary, new.description, new.search_facets);
    INSERT INTO initiatives_fts_title (initiatives_fts_title, rowid, name, tags, search_facets)
    VALUES ('delete', old.fts_rowid, old.name, old.tags, old.search_facets);
    INSERT INTO initiatives_fts_title (rowid, name, tags, search_facets)
    VALUES (new.fts_rowid, new.name, new.tags, new.search_facets);
    INSERT INTO initiatives_fts_head (initiatives_fts_head, rowid, name, tags, summary, search_facets)
    VALUES ('delete', old.fts_rowid, old.name, old.tags, old.summary, old.search_facets);
    INSERT INTO initiatives_fts_head (rowid, name, tags, summary, search_facets)
    VALUES (new.fts_rowid, new.name, new.tags, new.summary, new.search_facets);
END;
