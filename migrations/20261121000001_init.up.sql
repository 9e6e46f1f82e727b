-- Satchel's first schema. Portable across SQLite and PostgreSQL: times are
-- BIGINT microseconds since the Unix epoch, booleans are BOOLEAN, JSON is TEXT.
CREATE TABLE accounts (
    id         TEXT PRIMARY KEY,
    name       TEXT   NOT NULL,
    created_at BIGINT NOT NULL
);

--bun:split

CREATE TABLE api_keys (
    id                 TEXT PRIMARY KEY,
    account_id         TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind               TEXT    NOT NULL,
    hash               TEXT    NOT NULL UNIQUE,
    hint               TEXT    NOT NULL,
    name               TEXT    NOT NULL DEFAULT '',
    origins            TEXT    NOT NULL DEFAULT '[]',
    max_file_size      BIGINT  NOT NULL DEFAULT 0,
    mime_types         TEXT    NOT NULL DEFAULT '[]',
    uploads_per_minute INTEGER NOT NULL DEFAULT 0,
    created_at         BIGINT  NOT NULL,
    revoked_at         BIGINT
);

--bun:split

CREATE INDEX api_keys_account ON api_keys (account_id, created_at);

--bun:split

-- Uploads that have started but not finished. A row moves to files in the
-- transaction that finishes the upload.
CREATE TABLE uploads (
    id         TEXT PRIMARY KEY,
    account_id TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    key_id     TEXT    NOT NULL DEFAULT '',
    name       TEXT    NOT NULL DEFAULT '',
    mime       TEXT    NOT NULL DEFAULT '',
    tags       TEXT    NOT NULL DEFAULT '[]',
    size       BIGINT  NOT NULL,
    partial    BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT  NOT NULL,
    expires_at BIGINT  NOT NULL
);

--bun:split

CREATE INDEX uploads_expires ON uploads (expires_at);

--bun:split

CREATE TABLE files (
    id          TEXT PRIMARY KEY,
    account_id  TEXT   NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name        TEXT   NOT NULL,
    mime        TEXT   NOT NULL,
    size        BIGINT NOT NULL,
    sha256      TEXT   NOT NULL,
    tags        TEXT   NOT NULL DEFAULT '[]',
    uploaded_at BIGINT NOT NULL
);

--bun:split

CREATE INDEX files_account_time ON files (account_id, uploaded_at DESC, id DESC);

--bun:split

-- One row per searchable tag of a file, for keyset listing by tag.
CREATE TABLE file_tags (
    account_id  TEXT   NOT NULL,
    file_id     TEXT   NOT NULL REFERENCES files (id) ON DELETE CASCADE,
    name        TEXT   NOT NULL,
    uploaded_at BIGINT NOT NULL,
    PRIMARY KEY (file_id, name)
);

--bun:split

CREATE INDEX file_tags_lookup ON file_tags (account_id, name, uploaded_at DESC, file_id DESC);
