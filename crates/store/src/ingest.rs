//! Ingesting a transcript document (`tocky transcribe`'s JSON) as a new
//! session, after checking it against the record's rules.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use tocky_core::document::TranscriptDocument;
use tocky_core::text::nfc;

use crate::{
    Error, IngestOutcome, MAX_DOCUMENT_BYTES, Result, SessionMeta, Store, audit, bump_generation,
};

impl Store {
    /// Reads, checks and ingests a `tocky transcribe` JSON file.
    pub fn ingest_file(
        &mut self,
        path: &Path,
        meta: &SessionMeta,
        actor: &str,
    ) -> Result<IngestOutcome> {
        let io = |e| Error::Io {
            path: path.into(),
            source: e,
        };
        let size = std::fs::metadata(path).map_err(io)?.len();
        if size > MAX_DOCUMENT_BYTES {
            return Err(Error::Invalid(format!(
                "{}: {size} bytes is over the {MAX_DOCUMENT_BYTES}-byte limit",
                path.display()
            )));
        }
        let bytes = std::fs::read(path).map_err(io)?;
        let text = String::from_utf8(bytes).map_err(|e| {
            Error::Invalid(format!(
                "{}: not UTF-8 (byte {})",
                path.display(),
                e.utf8_error().valid_up_to()
            ))
        })?;
        let doc = TranscriptDocument::from_json(&text)?;
        self.ingest(&doc, meta, actor)
    }

    /// Stores a transcript as a new session. Ingesting the same audio again
    /// (same SHA-256) changes nothing.
    pub fn ingest(
        &mut self,
        doc: &TranscriptDocument,
        meta: &SessionMeta,
        actor: &str,
    ) -> Result<IngestOutcome> {
        validate(doc)?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let outcome = ingest_in(&tx, doc, meta, actor)?;
        tx.commit()?;
        Ok(outcome)
    }
}

/// Stores a checked ([`validate`]) transcript as a new session within the
/// caller's write transaction, which commits it (a finished job is
/// ingested and marked done in one). Writes nothing when the same audio
/// is in the record already.
pub(crate) fn ingest_in(
    tx: &Connection,
    doc: &TranscriptDocument,
    meta: &SessionMeta,
    actor: &str,
) -> Result<IngestOutcome> {
    // One spelling of the hash, so the same audio is found however it was written.
    let sha256 = doc.source.sha256.to_ascii_lowercase();
    let existing: Option<i64> = tx
        .query_row(
            "SELECT id FROM sessions WHERE audio_sha256 = ?1",
            [&sha256],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(session_id) = existing {
        return Ok(IngestOutcome::AlreadyPresent { session_id });
    }
    let title = meta
        .title
        .clone()
        .unwrap_or_else(|| doc.source.file.clone());
    let generation = bump_generation(tx)?;
    tx.execute(
        "INSERT INTO sessions (title, sitting_date, agenda_item, audio_file, audio_sha256, duration_ms, language)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            nfc(&title),
            meta.sitting_date,
            meta.agenda_item.as_deref().map(nfc),
            doc.source.file,
            sha256,
            i64::try_from(doc.transcript.duration_ms).unwrap_or(i64::MAX),
            doc.transcript.language,
        ],
    )?;
    let session_id = tx.last_insert_rowid();
    {
        let mut insert = tx.prepare(
            "INSERT INTO segments (session_id, seq, start_ms, end_ms, channel, text, words, generation)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        for (seq, s) in doc.transcript.segments.iter().enumerate() {
            let words =
                serde_json::to_string(&s.words).map_err(|e| Error::Invalid(e.to_string()))?;
            insert.execute(params![
                session_id,
                seq as i64,
                s.start_ms as i64,
                s.end_ms as i64,
                s.channel.map(i64::from),
                nfc(s.text.trim()),
                words,
                generation,
            ])?;
        }
    }
    audit(
        tx,
        actor,
        "ingest",
        &format!("session {session_id}"),
        &doc.source.file,
    )?;
    Ok(IngestOutcome::Created {
        session_id,
        segments: doc.transcript.segments.len(),
    })
}

/// Refuses documents that break the record's rules.
pub(crate) fn validate(doc: &TranscriptDocument) -> Result<()> {
    let sha = &doc.source.sha256;
    if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::Invalid(format!(
            "source.sha256 {sha:?} is not a SHA-256"
        )));
    }
    for (i, s) in doc.transcript.segments.iter().enumerate() {
        if s.end_ms < s.start_ms {
            return Err(Error::Invalid(format!(
                "segment {i} ends ({} ms) before it starts ({} ms)",
                s.end_ms, s.start_ms
            )));
        }
        if let Some(w) = s.words.iter().find(|w| w.end_ms < w.start_ms) {
            return Err(Error::Invalid(format!(
                "segment {i}: word {:?} ends before it starts",
                w.text
            )));
        }
        if i64::try_from(s.end_ms).is_err() {
            return Err(Error::Invalid(format!(
                "segment {i}: time {} ms is out of range",
                s.end_ms
            )));
        }
    }
    Ok(())
}
