-- Multipart sessions without a second copy of the bytes (issue 14). A
-- session's storage (the filestore's file, S3's multipart upload, named on
-- the session's upload row in backend_id) exists from the begin; each part's
-- bytes go straight into it. A part's row now records those bytes: their
-- SHA-256 ('' until stored) and the store's tag for them (S3: the part's
-- ETag; '' for the filestore). tus_upload says whether the part has a tus
-- upload of its own, created when its URL is first used over tus (HEAD,
-- PATCH); the parts of sessions begun before this migration all have one,
-- hence the default.
ALTER TABLE multipart_parts ADD COLUMN sha256 TEXT NOT NULL DEFAULT '';

--bun:split

ALTER TABLE multipart_parts ADD COLUMN store_tag TEXT NOT NULL DEFAULT '';

--bun:split

ALTER TABLE multipart_parts ADD COLUMN tus_upload BOOLEAN NOT NULL DEFAULT TRUE;
