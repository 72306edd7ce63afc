-- Mirrored objects (a listing or an update, by their ActivityPub id) that were stored without
-- some of their pictures because the origin could not serve them then (down, timing out,
-- 5xx). A background job fetches the object again from `due_at`, on a growing interval, until
-- every picture is copied or it gives up; so a picture is not lost because its origin was down
-- when the listing arrived.

CREATE TABLE fed_missing_pictures (
    object_url text PRIMARY KEY,
    attempts integer NOT NULL DEFAULT 0,
    noted_at timestamptz NOT NULL,
    due_at timestamptz NOT NULL
);

CREATE INDEX fed_missing_pictures_due ON fed_missing_pictures (due_at);
