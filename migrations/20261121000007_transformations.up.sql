-- Named image presets (per account) and the durable record of each render.
-- A preset's version grows with every change; results are stored under a key
-- that includes it, so a changed preset never serves an old result.
CREATE TABLE transformations (
    account_id     TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name           TEXT    NOT NULL,
    width          INTEGER NOT NULL DEFAULT 0,
    height         INTEGER NOT NULL DEFAULT 0,
    fit            TEXT    NOT NULL DEFAULT 'cover',
    format         TEXT    NOT NULL DEFAULT '',
    quality        INTEGER NOT NULL DEFAULT 0,
    strip_metadata BOOLEAN NOT NULL DEFAULT FALSE,
    auto_rotate    BOOLEAN NOT NULL DEFAULT TRUE,
    version        INTEGER NOT NULL DEFAULT 1,
    created_at     BIGINT  NOT NULL,
    updated_at     BIGINT  NOT NULL,
    PRIMARY KEY (account_id, name)
);

--bun:split

-- One row per (file, preset): written pending in the transaction that
-- finishes an image upload, then rendered by the worker pool (or on demand).
CREATE TABLE transform_jobs (
    file_id    TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    account_id TEXT    NOT NULL,
    version    INTEGER NOT NULL,
    status     TEXT    NOT NULL,
    claimed_at BIGINT,
    attempts   INTEGER NOT NULL DEFAULT 0,
    error      TEXT    NOT NULL DEFAULT '',
    width      INTEGER NOT NULL DEFAULT 0,
    height     INTEGER NOT NULL DEFAULT 0,
    size       BIGINT  NOT NULL DEFAULT 0,
    mime       TEXT    NOT NULL DEFAULT '',
    created_at BIGINT  NOT NULL,
    updated_at BIGINT  NOT NULL,
    PRIMARY KEY (file_id, name)
);

--bun:split

CREATE INDEX transform_jobs_pending ON transform_jobs (status, created_at);

--bun:split

CREATE INDEX transform_jobs_preset ON transform_jobs (account_id, name);
