-- Search at scale (issue 7). The filters a search combines with words (status, origin,
-- categories, regions, recurring donations) become tokens of a fifth full-text column, so
-- that FTS5 intersects them with the words inside the index instead of checking rows one by
-- one; the store ranks at most the newest 1,000 matches. One token per value, letters and
-- digits only (the tokenizer splits on anything else): `fstatuspublished`, `foriginlocal`,
-- `foriginremote`, `frecurring`, `fcategory<code>`, `fregion<code>`, codes without `_`/`-`.
-- The store writes the column with the row; this computes it once for the rows already here.

DROP TRIGGER initiatives_fts_insert;
DROP TRIGGER initiatives_fts_delete;
DROP TRIGGER initiatives_fts_update;
DROP TABLE initiatives_fts;

ALTER TABLE initiatives ADD COLUMN search_facets TEXT NOT NULL DEFAULT '';

UPDATE initiatives SET search_facets =
    'fstatus' || status
    || CASE WHEN origin IS NULL THEN ' foriginlocal' ELSE ' foriginremote' END
    || CASE WHEN takes_recurring THEN ' frecurring' ELSE '' END
    || coalesce((SELECT ' ' || group_concat('fcategory' || replace(category, '_', ''), ' ')
                 FROM initiative_categories c WHERE c.initiative_id = initiatives.id), '')
    || coalesce((SELECT ' ' || group_concat('fregion' || replace(region_code, '-', ''), ' ')
                 FROM initiative_regions r WHERE r.initiative_id = initiatives.id), '');

CREATE VIRTUAL TABLE initiatives_fts USING fts5 (
    name,
    tags,
    summary,
    description,
    search_facets,
    content = 'initiatives',
    content_rowid = 'fts_rowid',
    tokenize = 'unicode61 remove_diacritics 2'
);

INSERT INTO initiatives_fts (initiatives_fts) VALUES ('rebuild');

CREATE TRIGGER initiatives_fts_insert AFTER INSERT ON initiatives BEGIN
    INSERT INTO initiatives_fts (rowid, name, tags, summary, description, search_facets)
    VALUES (new.fts_rowid, new.name, new.tags, new.summary, new.description, new.search_facets);
END;

CREATE TRIGGER initiatives_fts_delete AFTER DELETE ON initiatives BEGIN
    INSERT INTO initiatives_fts (initiatives_fts, rowid, name, tags, summary, description, search_facets)
    VALUES ('delete', old.fts_rowid, old.name, old.tags, old.summary, old.description, old.search_facets);
END;

CREATE TRIGGER initiatives_fts_update AFTER UPDATE ON initiatives BEGIN
    INSERT INTO initiatives_fts (initiatives_fts, rowid, name, tags, summary, description, search_facets)
    VALUES ('delete', old.fts_rowid, old.name, old.tags, old.summary, old.description, old.search_facets);
    INSERT INTO initiatives_fts (rowid, name, tags, summary, description, search_facets)
    VALUES (new.fts_rowid, new.name, new.tags, new.summary, new.description, new.search_facets);
END;

-- Newest-first pages without words walk this index and stop after the page.
CREATE INDEX initiatives_by_recency ON initiatives (updated_at DESC, id);
