//! The schema, as migrations applied in order (tracked by SQLite's
//! `user_version`). A migration, once released, is never edited: changes
//! are new migrations appended here.

use rusqlite_migration::{M, Migrations};

/// Every migration, oldest first.
pub(crate) fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(
            r#"
CREATE TABLE sessions (
    id            INTEGER PRIMARY KEY,
    title         TEXT NOT NULL,
    sitting_date  TEXT,
    agenda_item   TEXT,
    audio_file    TEXT,
    -- The audio's SHA-256: what makes ingesting the same transcript twice a no-op.
    audio_sha256  TEXT UNIQUE,
    duration_ms   INTEGER NOT NULL DEFAULT 0 CHECK (duration_ms >= 0),
    language      TEXT NOT NULL DEFAULT 'vi',
    status        TEXT NOT NULL DEFAULT 'draft'
                  CHECK (status IN ('live', 'draft', 'reviewed', 'published')),
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE speakers (
    id          INTEGER PRIMARY KEY,
    session_id  INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    seat        TEXT,
    channel     INTEGER,
    UNIQUE (session_id, name)
);

CREATE TABLE segments (
    id             INTEGER PRIMARY KEY,
    session_id     INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    seq            INTEGER NOT NULL,
    start_ms       INTEGER NOT NULL CHECK (start_ms >= 0),
    end_ms         INTEGER NOT NULL CHECK (end_ms >= start_ms),
    channel        INTEGER,
    speaker_id     INTEGER REFERENCES speakers(id) ON DELETE SET NULL,
    text           TEXT NOT NULL,
    -- Words with times and probabilities, as JSON.
    words          TEXT NOT NULL DEFAULT '[]',
    version        INTEGER NOT NULL DEFAULT 1,
    review_status  TEXT NOT NULL DEFAULT 'draft' CHECK (review_status IN ('draft', 'reviewed')),
    updated_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (session_id, seq)
);
CREATE INDEX segments_by_time ON segments (session_id, start_ms);

-- Every edit of a segment: who, when, before and after.
CREATE TABLE revisions (
    id              INTEGER PRIMARY KEY,
    segment_id      INTEGER NOT NULL REFERENCES segments(id) ON DELETE CASCADE,
    version         INTEGER NOT NULL,
    author          TEXT NOT NULL,
    created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    text_before     TEXT NOT NULL,
    text_after      TEXT NOT NULL,
    speaker_before  INTEGER,
    speaker_after   INTEGER,
    status_before   TEXT NOT NULL,
    status_after    TEXT NOT NULL,
    UNIQUE (segment_id, version)
);

CREATE TABLE audit_log (
    id       INTEGER PRIMARY KEY,
    at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    actor    TEXT NOT NULL,
    action   TEXT NOT NULL,
    subject  TEXT,
    detail   TEXT
);

-- Bumped by every write that changes what search must find, so that an
-- index can tell whether it is stale.
CREATE TABLE generation (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    value  INTEGER NOT NULL
);
INSERT INTO generation (id, value) VALUES (1, 0);
"#,
        ),
        // Accounts for the review server, and their logins.
        M::up(
            r#"
CREATE TABLE users (
    name           TEXT PRIMARY KEY,
    -- An argon2id hash in PHC string form; never the password.
    password_hash  TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('admin', 'stenographer', 'reader')),
    created_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- A logged-in browser: the SHA-256 of its cookie's token (a stolen copy of
-- the database does not log anyone in), its CSRF token and its expiry.
CREATE TABLE logins (
    token_sha256  TEXT PRIMARY KEY,
    user_name     TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    csrf_token    TEXT NOT NULL,
    expires_at    INTEGER NOT NULL
);
CREATE INDEX logins_by_expiry ON logins (expires_at);
"#,
        ),
        // What lets an index catch up instead of trusting a bare counter:
        // the generation at which each segment last changed, and the
        // generation from which an index must be rebuilt whole (the record
        // was replaced: a restore, or this migration, which cannot know
        // what older indexes missed).
        M::up(
            r#"
ALTER TABLE segments ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;
CREATE INDEX segments_by_generation ON segments (generation);
ALTER TABLE generation ADD COLUMN rebuild_from INTEGER NOT NULL DEFAULT 0;
UPDATE generation SET value = value + 1, rebuild_from = value + 1 WHERE id = 1;
"#,
        ),
        // The people who speak in the Assembly, kept across sittings, and
        // a session's speakers pointing at them. Existing speakers keep
        // every column; their person is unknown (NULL) until linked.
        M::up(
            r#"
CREATE TABLE persons (
    id          INTEGER PRIMARY KEY,
    -- The Assembly's own stable id (e.g. "dbqh-0123"): what a re-import matches on.
    key         TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    delegation  TEXT,
    seat        TEXT,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- What a person is, and when: offices change between and within terms.
CREATE TABLE person_roles (
    id          INTEGER PRIMARY KEY,
    person_id   INTEGER NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
    role        TEXT NOT NULL CHECK (role IN ('delegate', 'chair', 'vice_chair',
                    'secretary_general', 'minister', 'invited')),
    title       TEXT,
    valid_from  TEXT,
    valid_to    TEXT,
    CHECK (valid_from IS NULL OR valid_to IS NULL OR valid_from <= valid_to)
);
CREATE INDEX person_roles_by_person ON person_roles (person_id);

ALTER TABLE speakers ADD COLUMN person_id INTEGER REFERENCES persons(id) ON DELETE SET NULL;
CREATE INDEX speakers_by_person ON speakers (person_id);
"#,
        ),
        // The sitting's record: segment operations (split, merge, insert,
        // not speech, bounds) kept whole for undo, whether a segment's words
        // follow its text, agenda items and scene notes.
        M::up(
            r#"
-- 'speech' is in the record and search; 'not_speech' is hidden from both
-- but listed, to be restored; 'removed' is out of the record by an
-- operation (merged into the segment before it, or made by an operation
-- since undone) and kept only so that the operation can be undone or redone.
ALTER TABLE segments ADD COLUMN state TEXT NOT NULL DEFAULT 'speech'
    CHECK (state IN ('speech', 'not_speech', 'removed'));
-- 1 when `words` are the words of the current text, timed against the
-- current bounds; 0 after an edit, until re-alignment catches up.
ALTER TABLE segments ADD COLUMN words_aligned INTEGER NOT NULL DEFAULT 1
    CHECK (words_aligned IN (0, 1));

-- An operation over several rows, with the rows as they were before and
-- after (JSON), which is what undoing it needs. Per-segment revisions
-- made by an operation point at it.
CREATE TABLE operations (
    id          INTEGER PRIMARY KEY,
    session_id  INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    author      TEXT NOT NULL,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    before      TEXT NOT NULL,
    after       TEXT NOT NULL,
    -- The operation that undid this one, if any.
    undone_by   INTEGER REFERENCES operations(id)
);
CREATE INDEX operations_by_session ON operations (session_id);
ALTER TABLE revisions ADD COLUMN operation_id INTEGER REFERENCES operations(id);

-- The sitting's agenda, in order. An item starts at a segment and runs to
-- the next item's start; an item not started yet has no start.
CREATE TABLE agenda_items (
    id                INTEGER PRIMARY KEY,
    session_id        INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    position          INTEGER NOT NULL,
    title             TEXT NOT NULL,
    reference         TEXT,
    start_segment_id  INTEGER REFERENCES segments(id) ON DELETE SET NULL,
    version           INTEGER NOT NULL DEFAULT 1,
    UNIQUE (session_id, position)
);
CREATE UNIQUE INDEX agenda_items_by_start ON agenda_items (start_segment_id)
    WHERE start_segment_id IS NOT NULL;

-- What the record prints between speeches: applause, the gavel, a vote.
CREATE TABLE scene_notes (
    id          INTEGER PRIMARY KEY,
    session_id  INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    at_ms       INTEGER NOT NULL CHECK (at_ms >= 0),
    kind        TEXT NOT NULL CHECK (kind IN ('applause', 'gavel', 'vote', 'other')),
    text        TEXT NOT NULL,
    version     INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX scene_notes_by_time ON scene_notes (session_id, at_ms);
"#,
        ),
        // The workflow of a sitting (docs/workflow.md): the editor role,
        // where each sitting stands, its published versions (frozen) and
        // the corrections each lists against the one before, and the log
        // of its steps. Sessions marked `reviewed` before start `checked`;
        // those marked `published` start `approved`, since no frozen
        // version of them exists: an editor publishes their version 1.
        M::up(
            r#"
-- SQLite cannot change a CHECK: users is rebuilt (foreign keys are off
-- while migrating, so logins stay), every account kept.
CREATE TABLE users_new (
    name           TEXT PRIMARY KEY,
    password_hash  TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('admin', 'editor', 'stenographer', 'reader')),
    created_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
INSERT INTO users_new (name, password_hash, role, created_at)
    SELECT name, password_hash, role, created_at FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;

ALTER TABLE sessions ADD COLUMN workflow TEXT NOT NULL DEFAULT 'draft'
    CHECK (workflow IN ('draft', 'checked', 'approved', 'published', 'final'));
UPDATE sessions SET workflow = CASE status
    WHEN 'reviewed' THEN 'checked' WHEN 'published' THEN 'approved' ELSE 'draft' END;

-- A published version of a sitting's record: its content (JSON, as
-- served) and that content's SHA-256 never change; a provisional version
-- may become final, once.
CREATE TABLE record_versions (
    id            INTEGER PRIMARY KEY,
    session_id    INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    number        INTEGER NOT NULL CHECK (number >= 1),
    state         TEXT NOT NULL DEFAULT 'provisional' CHECK (state IN ('provisional', 'final')),
    content       TEXT NOT NULL,
    sha256        TEXT NOT NULL,
    published_by  TEXT NOT NULL,
    published_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    note          TEXT,
    finalised_by  TEXT,
    finalised_at  TEXT,
    UNIQUE (session_id, number)
);
CREATE TRIGGER record_versions_frozen
    BEFORE UPDATE OF session_id, number, content, sha256, published_by, published_at, note
    ON record_versions
BEGIN
    SELECT RAISE(ABORT, 'a published version is never changed');
END;
CREATE TRIGGER record_versions_final_stays
    BEFORE UPDATE OF state ON record_versions WHEN OLD.state = 'final'
BEGIN
    SELECT RAISE(ABORT, 'a final version is never changed');
END;

-- What a version changed against the one before: where (a segment, a
-- scene note or an agenda item, and the moment), what (text before and
-- after) and why.
CREATE TABLE corrections (
    id          INTEGER PRIMARY KEY,
    version_id  INTEGER NOT NULL REFERENCES record_versions(id) ON DELETE CASCADE,
    target      TEXT NOT NULL CHECK (target IN ('segment', 'note', 'agenda_item')),
    target_id   INTEGER NOT NULL,
    change      TEXT NOT NULL CHECK (change IN ('text', 'speaker', 'added', 'removed')),
    at_ms       INTEGER,
    before      TEXT,
    after       TEXT,
    reason      TEXT
);
CREATE INDEX corrections_by_version ON corrections (version_id);
CREATE INDEX corrections_by_target ON corrections (target, target_id);

-- Every step of a sitting's workflow: who, when, from and to, and the
-- version it published or finalised.
CREATE TABLE workflow_log (
    id          INTEGER PRIMARY KEY,
    session_id  INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    at          TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    actor       TEXT NOT NULL,
    from_state  TEXT NOT NULL,
    to_state    TEXT NOT NULL,
    version_id  INTEGER REFERENCES record_versions(id) ON DELETE SET NULL,
    note        TEXT
);
CREATE INDEX workflow_log_by_session ON workflow_log (session_id);

-- A change to what the record prints (whatever wrote it: an edit, an
-- operation, an undo) sends a checked, approved or published sitting back
-- to draft: the next version must be checked and approved again.
-- Re-timed words and review marks made in draft change nothing here.
CREATE TRIGGER reopen_segment_insert AFTER INSERT ON segments
BEGIN
    INSERT INTO workflow_log (session_id, actor, from_state, to_state, note)
        SELECT id, 'tocky', workflow, 'draft', 'the record changed' FROM sessions
        WHERE id = NEW.session_id AND workflow != 'draft';
    INSERT INTO audit_log (actor, action, subject, detail)
        SELECT 'tocky', 'workflow', 'session ' || id, workflow || ' -> draft: the record changed'
        FROM sessions WHERE id = NEW.session_id AND workflow != 'draft';
    UPDATE sessions SET workflow = 'draft' WHERE id = NEW.session_id AND workflow != 'draft';
END;
CREATE TRIGGER reopen_segment_update AFTER UPDATE ON segments
    WHEN OLD.text IS NOT NEW.text OR OLD.speaker_id IS NOT NEW.speaker_id
        OR OLD.state IS NOT NEW.state OR OLD.start_ms IS NOT NEW.start_ms
        OR OLD.end_ms IS NOT NEW.end_ms OR OLD.review_status IS NOT NEW.review_status
BEGIN
    INSERT INTO workflow_log (session_id, actor, from_state, to_state, note)
        SELECT id, 'tocky', workflow, 'draft', 'the record changed' FROM sessions
        WHERE id = NEW.session_id AND workflow != 'draft';
    INSERT INTO audit_log (actor, action, subject, detail)
        SELECT 'tocky', 'workflow', 'session ' || id, workflow || ' -> draft: the record changed'
        FROM sessions WHERE id = NEW.session_id AND workflow != 'draft';
    UPDATE sessions SET workflow = 'draft' WHERE id = NEW.session_id AND workflow != 'draft';
END;
CREATE TRIGGER reopen_segment_delete AFTER DELETE ON segments
BEGIN
    INSERT INTO workflow_log (session_id, actor, from_state, to_state, note)
        SELECT id, 'tocky', workflow, 'draft', 'the record changed' FROM sessions
        WHERE id = OLD.session_id AND workflow != 'draft';
    INSERT INTO audit_log (actor, action, subject, detail)
        SELECT 'tocky', 'workflow', 'session ' || id, workflow || ' -> draft: the record changed'
        FROM sessions WHERE id = OLD.session_id AND workflow != 'draft';
    UPDATE sessions SET workflow = 'draft' WHERE id = OLD.session_id AND workflow != 'draft';
END;
CREATE TRIGGER reopen_speaker_update AFTER UPDATE ON speakers
    WHEN OLD.name IS NOT NEW.name OR OLD.person_id IS NOT NEW.person_id
BEGIN
    INSERT INTO workflow_log (session_id, actor, from_state, to_state, note)
        SELECT id, 'tocky', workflow, 'draft', 'the record changed' FROM sessions
        WHERE id = NEW.session_id AND workflow != 'draft';
    INSERT INTO audit_log (actor, action, subject, detail)
        SELECT 'tocky', 'workflow', 'session ' || id, workflow || ' -> draft: the record changed'
        FROM sessions WHERE id = NEW.session_id AND workflow != 'draft';
    UPDATE sessions SET workflow = 'draft' WHERE id = NEW.session_id AND workflow != 'draft';
END;
CREATE TRIGGER reopen_agenda_insert AFTER INSERT ON agenda_items
BEGIN
    INSERT INTO workflow_log (session_id, actor, from_state, to_state, note)
        SELECT id, 'tocky', workflow, 'draft', 'the record changed' FROM sessions
        WHERE id = NEW.session_id AND workflow != 'draft';
    INSERT INTO audit_log (actor, action, subject, detail)
        SELECT 'tocky', 'workflow', 'session ' || id, workflow || ' -> draft: the record changed'
        FROM sessions WHERE id = NEW.session_id AND workflow != 'draft';
    UPDATE sessions SET workflow = 'draft' WHERE id = NEW.session_id AND workflow != 'draft';
END;
CREATE TRIGGER reopen_agenda_update AFTER UPDATE ON agenda_items
    WHEN OLD.title IS NOT NEW.title OR OLD.reference IS NOT NEW.reference
        OR OLD.position IS NOT NEW.position OR OLD.start_segment_id IS NOT NEW.start_segment_id
BEGIN
    INSERT INTO workflow_log (session_id, actor, from_state, to_state, note)
        SELECT id, 'tocky', workflow, 'draft', 'the record changed' FROM sessions
        WHERE id = NEW.session_id AND workflow != 'draft';
    INSERT INTO audit_log (actor, action, subject, detail)
        SELECT 'tocky', 'workflow', 'session ' || id, workflow || ' -> draft: the record changed'
        FROM sessions WHERE id = NEW.session_id AND workflow != 'draft';
    UPDATE sessions SET workflow = 'draft' WHERE id = NEW.session_id AND workflow != 'draft';
END;
CREATE TRIGGER reopen_agenda_delete AFTER DELETE ON agenda_items
BEGIN
    INSERT INTO workflow_log (session_id, actor, from_state, to_state, note)
        SELECT id, 'tocky', workflow, 'draft', 'the record changed' FROM sessions
        WHERE id = OLD.session_id AND workflow != 'draft';
    INSERT INTO audit_log (actor, action, subject, detail)
        SELECT 'tocky', 'workflow', 'session ' || id, workflow || ' -> draft: the record changed'
        FROM sessions WHERE id = OLD.session_id AND workflow != 'draft';
    UPDATE sessions SET workflow = 'draft' WHERE id = OLD.session_id AND workflow != 'draft';
END;
CREATE TRIGGER reopen_note_insert AFTER INSERT ON scene_notes
BEGIN
    INSERT INTO workflow_log (session_id, actor, from_state, to_state, note)
        SELECT id, 'tocky', workflow, 'draft', 'the record changed' FROM sessions
        WHERE id = NEW.session_id AND workflow != 'draft';
    INSERT INTO audit_log (actor, action, subject, detail)
        SELECT 'tocky', 'workflow', 'session ' || id, workflow || ' -> draft: the record changed'
        FROM sessions WHERE id = NEW.session_id AND workflow != 'draft';
    UPDATE sessions SET workflow = 'draft' WHERE id = NEW.session_id AND workflow != 'draft';
END;
CREATE TRIGGER reopen_note_update AFTER UPDATE ON scene_notes
    WHEN OLD.at_ms IS NOT NEW.at_ms OR OLD.kind IS NOT NEW.kind OR OLD.text IS NOT NEW.text
BEGIN
    INSERT INTO workflow_log (session_id, actor, from_state, to_state, note)
        SELECT id, 'tocky', workflow, 'draft', 'the record changed' FROM sessions
        WHERE id = NEW.session_id AND workflow != 'draft';
    INSERT INTO audit_log (actor, action, subject, detail)
        SELECT 'tocky', 'workflow', 'session ' || id, workflow || ' -> draft: the record changed'
        FROM sessions WHERE id = NEW.session_id AND workflow != 'draft';
    UPDATE sessions SET workflow = 'draft' WHERE id = NEW.session_id AND workflow != 'draft';
END;
CREATE TRIGGER reopen_note_delete AFTER DELETE ON scene_notes
BEGIN
    INSERT INTO workflow_log (session_id, actor, from_state, to_state, note)
        SELECT id, 'tocky', workflow, 'draft', 'the record changed' FROM sessions
        WHERE id = OLD.session_id AND workflow != 'draft';
    INSERT INTO audit_log (actor, action, subject, detail)
        SELECT 'tocky', 'workflow', 'session ' || id, workflow || ' -> draft: the record changed'
        FROM sessions WHERE id = OLD.session_id AND workflow != 'draft';
    UPDATE sessions SET workflow = 'draft' WHERE id = OLD.session_id AND workflow != 'draft';
END;
"#,
        )
        .foreign_key_check(),
        // API keys, and transcription jobs with their leases (the SQL is
        // long enough to live in its own file).
        M::up(include_str!("schema/v7_jobs_and_tokens.sql")).foreign_key_check(),
    ])
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    #[test]
    fn migrations_are_valid() {
        assert!(super::migrations().validate().is_ok());
    }

    #[test]
    fn upgrading_makes_older_indexes_rebuild() {
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        let migrations = super::migrations();
        migrations.to_version(&mut conn, 2).unwrap();
        conn.execute("UPDATE generation SET value = 41", [])
            .unwrap();
        migrations.to_latest(&mut conn).unwrap();
        let (value, rebuild_from): (i64, i64) = conn
            .query_row("SELECT value, rebuild_from FROM generation", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        // An index at 41 may have missed changes: it must rebuild, not catch up.
        assert_eq!((value, rebuild_from), (42, 42));
    }

    /// A record made before the people registry opens with every session,
    /// speaker and segment it had, the segments still pointing at their
    /// speakers, and no speaker linked to a person.
    #[test]
    fn upgrading_to_the_people_registry_keeps_every_speaker() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v3.db");
        {
            let mut conn = rusqlite::Connection::open(&path).unwrap();
            super::migrations().to_version(&mut conn, 3).unwrap();
            conn.execute_batch(
                "INSERT INTO sessions (id, title) VALUES (1, 'Phiên họp sáng'), (2, 'Phiên chiều');
                 INSERT INTO speakers (id, session_id, name, seat, channel) VALUES
                     (10, 1, 'Nguyễn Văn A', '12', 3),
                     (11, 1, 'Trần Thị B', NULL, NULL),
                     (12, 2, 'Nguyễn Văn A', 'A-7', 1);
                 INSERT INTO segments (session_id, seq, start_ms, end_ms, speaker_id, text) VALUES
                     (1, 0, 0, 1000, 10, 'xin chào'),
                     (1, 1, 1000, 2000, 11, 'cảm ơn'),
                     (2, 0, 0, 1000, 12, 'đồng ý');",
            )
            .unwrap();
        }
        let store = crate::Store::open(&path).unwrap();
        let mut speakers = store.speakers(1).unwrap();
        speakers.extend(store.speakers(2).unwrap());
        let seen: Vec<_> = speakers
            .iter()
            .map(|s| {
                (
                    s.id,
                    s.name.as_str(),
                    s.seat.as_deref(),
                    s.channel,
                    s.person_id,
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                (10, "Nguyễn Văn A", Some("12"), Some(3), None),
                (11, "Trần Thị B", None, None, None),
                (12, "Nguyễn Văn A", Some("A-7"), Some(1), None),
            ]
        );
        let speaker_of = |session| -> Vec<Option<i64>> {
            store
                .segments(session)
                .unwrap()
                .iter()
                .map(|s| s.speaker_id)
                .collect()
        };
        assert_eq!(speaker_of(1), [Some(10), Some(11)]);
        assert_eq!(speaker_of(2), [Some(12)]);
        let broken: i64 = store
            .conn
            .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(broken, 0);
    }
    /// Accounts and their logins survive the rebuild that adds the editor
    /// role, and sessions' old statuses map onto the workflow.
    #[test]
    fn upgrading_to_the_workflow_keeps_accounts_and_maps_statuses() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v5.db");
        {
            let mut conn = rusqlite::Connection::open(&path).unwrap();
            super::migrations().to_version(&mut conn, 5).unwrap();
            conn.execute_batch(
                "INSERT INTO users (name, password_hash, role) VALUES
                     ('admin', '$argon2id$a', 'admin'), ('lan', '$argon2id$b', 'stenographer');
                 INSERT INTO logins (token_sha256, user_name, csrf_token, expires_at)
                     VALUES ('t', 'lan', 'c', 99);
                 INSERT INTO sessions (id, title, status) VALUES
                     (1, 'a', 'draft'), (2, 'b', 'reviewed'), (3, 'c', 'published'), (4, 'd', 'live');",
            )
            .unwrap();
        }
        let store = crate::Store::open(&path).unwrap();
        let users: Vec<_> = store
            .users()
            .unwrap()
            .into_iter()
            .map(|u| (u.name, u.role))
            .collect();
        assert_eq!(
            users,
            [
                ("admin".to_owned(), crate::Role::Admin),
                ("lan".to_owned(), crate::Role::Stenographer)
            ]
        );
        assert_eq!(store.login("t", 0).unwrap().unwrap().0.name, "lan");
        let states: Vec<_> = [1, 2, 3, 4]
            .iter()
            .map(|id| store.session(*id).unwrap().workflow)
            .collect();
        assert_eq!(states, ["draft", "checked", "approved", "draft"]);
        let fk_on: i64 = store
            .conn
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        assert_eq!(fk_on, 1);
    }
    /// A backup made before the workflow is restored and brought up to
    /// date the same way, its accounts and logins kept.
    #[test]
    fn restoring_a_backup_from_before_the_workflow_keeps_its_logins() {
        let dir = tempfile::tempdir().unwrap();
        let old = dir.path().join("v5.db");
        {
            let mut conn = rusqlite::Connection::open(&old).unwrap();
            super::migrations().to_version(&mut conn, 5).unwrap();
            conn.execute_batch(
                "INSERT INTO users (name, password_hash, role) VALUES ('lan', '$argon2id$b', 'stenographer');
                 INSERT INTO logins (token_sha256, user_name, csrf_token, expires_at)
                     VALUES ('t', 'lan', 'c', 99);",
            )
            .unwrap();
        }
        let mut store = crate::Store::open(&dir.path().join("tocky.db")).unwrap();
        store.restore(&old).unwrap();
        assert_eq!(store.login("t", 0).unwrap().unwrap().0.name, "lan");
        let fk_on: i64 = store
            .conn
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        assert_eq!(fk_on, 1);
        assert!(store.workflow(1).is_err(), "no session 1 in that backup");
    }
    /// A record from before jobs and API keys opens with its sessions and
    /// accounts, and with no job or key yet.
    #[test]
    fn upgrading_to_jobs_and_api_keys_keeps_the_record() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v6.db");
        {
            let mut conn = rusqlite::Connection::open(&path).unwrap();
            super::migrations().to_version(&mut conn, 6).unwrap();
            conn.execute_batch(
                "INSERT INTO users (name, password_hash, role) VALUES ('lan', '$argon2id$b', 'editor');
                 INSERT INTO sessions (id, title, audio_sha256) VALUES (1, 'Phiên họp sáng', 'ab');
                 INSERT INTO segments (session_id, seq, start_ms, end_ms, text) VALUES (1, 0, 0, 9, 'xin chào');",
            )
            .unwrap();
        }
        let store = crate::Store::open(&path).unwrap();
        assert_eq!(store.users().unwrap()[0].role, crate::Role::Editor);
        assert_eq!(store.session(1).unwrap().title, "Phiên họp sáng");
        assert_eq!(store.segments(1).unwrap()[0].text, "xin chào");
        assert!(store.api_tokens().unwrap().is_empty());
        let jobs: i64 = store
            .conn
            .query_row("SELECT count(*) FROM jobs", [], |r| r.get(0))
            .unwrap();
        assert_eq!(jobs, 0);
    }
}
