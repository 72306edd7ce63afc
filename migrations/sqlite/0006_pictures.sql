-- An initiative's avatar and header picture: a JSON {name, alt, width, height} naming a file
-- in the media directory (resized, re-encoded, without metadata), or NULL.
ALTER TABLE initiatives ADD COLUMN avatar TEXT;
ALTER TABLE initiatives ADD COLUMN header TEXT;
