-- API keys for scripts and OpenAI-compatible clients: only the SHA-256 of
-- each secret is kept (a stolen copy of the database authenticates no one).
-- Times are Unix seconds. A revoked key stays listed; its name may be used
-- again by a new key.
CREATE TABLE api_tokens (
    id             INTEGER PRIMARY KEY,
    name           TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('admin', 'editor', 'stenographer', 'reader')),
    secret_sha256  TEXT NOT NULL UNIQUE,
    created_by     TEXT,
    created_at     INTEGER NOT NULL,
    last_used_at   INTEGER,
    revoked_at     INTEGER,
    revoked_by     TEXT
);
CREATE UNIQUE INDEX api_tokens_live_name ON api_tokens (name) WHERE revoked_at IS NULL;

-- Transcription jobs (docs: ARCHITECTURE.md, "Jobs"). The server keeps the
-- audio's bytes under its media directory; a job records where, and what
-- it is. Times are Unix milliseconds. A running job holds a lease (a
-- worker, a random token, an expiry) renewed by heartbeats; a job whose
-- lease expired is queued again, its checkpoint (opaque JSON a worker
-- uploads) kept so that the next worker resumes.
CREATE TABLE jobs (
    id                INTEGER PRIMARY KEY,
    audio_sha256      TEXT NOT NULL CHECK (length(audio_sha256) = 64),
    audio_name        TEXT NOT NULL,
    audio_bytes       INTEGER NOT NULL CHECK (audio_bytes >= 0),
    -- Relative to the media directory.
    audio_path        TEXT NOT NULL,
    -- JobSettings as JSON, written by one serializer so that equal
    -- settings are equal text (duplicates are found by it).
    settings          TEXT NOT NULL,
    title             TEXT,
    sitting_date      TEXT,
    agenda_item       TEXT,
    -- Higher first; the oldest first within a priority.
    priority          INTEGER NOT NULL DEFAULT 0,
    state             TEXT NOT NULL DEFAULT 'queued'
                      CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    progress          REAL NOT NULL DEFAULT 0 CHECK (progress >= 0 AND progress <= 1),
    session_id        INTEGER REFERENCES sessions(id) ON DELETE SET NULL,
    failure           TEXT,
    attempts          INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts      INTEGER NOT NULL CHECK (max_attempts >= 1),
    submitted_by      TEXT,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    worker            TEXT,
    lease_token       TEXT,
    lease_expires_at  INTEGER,
    checkpoint        TEXT
);
CREATE INDEX jobs_queue ON jobs (state, priority DESC, id);
CREATE INDEX jobs_by_audio ON jobs (audio_sha256);
CREATE INDEX jobs_by_submitter ON jobs (submitted_by, id);
