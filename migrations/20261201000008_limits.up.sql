-- Limits that hold on every route (issue 12).
-- An upload carries the limits it was created under, because the requests
-- that follow (tus PATCH) are authorised by the upload URL alone: the largest
-- size it may reach (0: none), what was left of its account's storage quota
-- (0: no quota), and the media-type rules its bytes must meet (a JSON array
-- of pattern lists, each of which must allow the type).
ALTER TABLE uploads ADD COLUMN max_size BIGINT NOT NULL DEFAULT 0;

--bun:split

ALTER TABLE uploads ADD COLUMN quota_left BIGINT NOT NULL DEFAULT 0;

--bun:split

ALTER TABLE uploads ADD COLUMN mime_rules TEXT NOT NULL DEFAULT '[]';

--bun:split

-- Unfinished uploads counted per key (the per-key cap on open uploads).
CREATE INDEX uploads_key ON uploads (key_id);

--bun:split

-- Storage quota: the bytes of an account's files, kept in step by the
-- transactions that commit and delete files, and the account's quota
-- (NULL: the server's default; 0: none).
ALTER TABLE accounts ADD COLUMN bytes_used BIGINT NOT NULL DEFAULT 0;

--bun:split

ALTER TABLE accounts ADD COLUMN storage_quota BIGINT;

--bun:split

UPDATE accounts SET bytes_used = COALESCE((SELECT SUM(size) FROM files WHERE files.account_id = accounts.id), 0);

--bun:split

-- A key's cap on its unfinished uploads (NULL: the server's default).
ALTER TABLE api_keys ADD COLUMN max_pending_uploads INTEGER;
