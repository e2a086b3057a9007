//! What live sockets receive ([`LiveEvent`], [`LiveMessage`]) and why they
//! check their login again ([`Revocation`]). A leaf: the state carries
//! these, handlers and the pipelines' outputs make them, and the live
//! route (`live`) sends them.

use std::sync::Arc;

use serde::Serialize;
use tocky_store::{Speaker, StoredSegment};

/// An event, serialised once for every client that receives it.
#[derive(Debug, Clone)]
pub struct LiveEvent {
    /// The session it concerns.
    pub session_id: i64,
    /// The JSON text sent to clients.
    pub json: Arc<str>,
}

/// The messages clients receive.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum LiveMessage<'a> {
    /// A segment was edited or added.
    Segment {
        /// The segment as stored now.
        segment: &'a StoredSegment,
    },
    /// An operation (split, merge, insert, state, bounds, undo) wrote
    /// these segments; those whose state is `removed` left the session.
    Operation {
        /// The operation, for undo.
        operation_id: i64,
        /// What it was.
        kind: &'a str,
        /// The segments as stored now.
        segments: &'a [StoredSegment],
    },
    /// A speaker was added to the session.
    Speaker {
        /// The new speaker.
        speaker: &'a Speaker,
    },
    /// Text that live recognition has not finalised yet.
    Partial {
        /// The audio channel.
        channel: u32,
        /// The channel's speaker, if known.
        speaker_id: Option<i64>,
        /// Where the utterance started (ms).
        start_ms: i64,
        /// The text so far.
        text: &'a str,
    },
}

impl LiveEvent {
    /// Serialises `message` for `session_id`'s watchers.
    pub fn new(session_id: i64, message: &LiveMessage<'_>) -> Self {
        let json = serde_json::to_string(message).unwrap_or_else(|_| "{}".into());
        Self {
            session_id,
            json: json.into(),
        }
    }
}

/// Why live sockets should check their login again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revocation {
    /// This login (the SHA-256 of its token) ended.
    Login(String),
    /// This account's logins ended, or its role changed, or it was removed.
    User(String),
}
