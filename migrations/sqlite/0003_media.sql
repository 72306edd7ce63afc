-- Photos attached to updates: a JSON array of {name, alt, width, height}; the files themselves
-- live in the data directory (`media/`), resized and stripped of metadata.
ALTER TABLE updates ADD COLUMN photos TEXT NOT NULL DEFAULT '[]';
