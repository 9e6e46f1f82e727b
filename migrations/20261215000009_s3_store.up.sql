-- The S3 store (issue 14). tusd's s3store names an upload
-- "<fileID>+<multipart upload ID>"; Satchel's upload URL names the file ID
-- alone, and the store keeps its own name here, beside the upload's row
-- ('' until the store has created the upload).
ALTER TABLE uploads ADD COLUMN backend_id TEXT NOT NULL DEFAULT '';

--bun:split

-- The running SHA-256 of unfinished uploads on a store that instances share
-- (S3): the state of the hash (Go's binary marshaling, base64, so that the
-- column is TEXT on both databases) after its first `hashed` bytes, saved
-- once S3 holds them, so that any instance can continue the digest.
CREATE TABLE upload_digests (
    id     TEXT   NOT NULL PRIMARY KEY,
    hashed BIGINT NOT NULL,
    state  TEXT   NOT NULL
);
