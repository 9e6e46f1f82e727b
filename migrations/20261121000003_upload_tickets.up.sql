-- Upload tickets ("upload IDs"): minted by a backend with a secret key, spent
-- by a browser that holds no key. A ticket is consumed in the transaction
-- that commits its file; its row stays as a tombstone so that a late upload
-- hears "used" or "expired" rather than "unknown", and is deleted later.
CREATE TABLE upload_tickets (
    id            TEXT PRIMARY KEY,
    account_id    TEXT   NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    key_id        TEXT   NOT NULL DEFAULT '',
    file_name     TEXT   NOT NULL DEFAULT '',
    mime_types    TEXT   NOT NULL DEFAULT '[]',
    max_file_size BIGINT NOT NULL DEFAULT 0,
    tags          TEXT   NOT NULL DEFAULT '[]',
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    consumed_at   BIGINT,
    file_id       TEXT
);

--bun:split

CREATE INDEX upload_tickets_expires ON upload_tickets (expires_at);

--bun:split

ALTER TABLE uploads ADD COLUMN ticket_id TEXT NOT NULL DEFAULT '';

--bun:split

CREATE INDEX uploads_ticket ON uploads (ticket_id);
