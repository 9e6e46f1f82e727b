-- Multipart sessions (Upload.io style). The session is the unfinished upload
-- of the final file (uploads.parts > 0); each part is an unfinished partial
-- tus upload (uploads.session_id = the final file's ID) listed here.
ALTER TABLE uploads ADD COLUMN parts INTEGER NOT NULL DEFAULT 0;

--bun:split

ALTER TABLE uploads ADD COLUMN session_id TEXT NOT NULL DEFAULT '';

--bun:split

CREATE TABLE multipart_parts (
    file_id      TEXT    NOT NULL,
    idx          INTEGER NOT NULL,
    upload_id    TEXT    NOT NULL,
    range_start  BIGINT  NOT NULL,
    range_end    BIGINT  NOT NULL,
    etag         TEXT    NOT NULL DEFAULT '',
    completed_at BIGINT,
    PRIMARY KEY (file_id, idx)
);

--bun:split

CREATE INDEX multipart_parts_upload ON multipart_parts (upload_id);
