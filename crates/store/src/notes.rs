//! Scene notes: what the record prints between speeches (applause, the
//! chair's gavel, a vote), each at a moment of the sitting's audio.

use serde::{Deserialize, Serialize};

/// What a scene note records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SceneKind {
    /// Applause in the hall.
    Applause,
    /// The chair's gavel.
    Gavel,
    /// A vote.
    Vote,
    /// Anything else the record should print.
    Other,
}

impl SceneKind {
    /// Every kind, in the order documented.
    pub const ALL: [Self; 4] = [Self::Applause, Self::Gavel, Self::Vote, Self::Other];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Applause => "applause",
            Self::Gavel => "gavel",
            Self::Vote => "vote",
            Self::Other => "other",
        }
    }

    /// Reads a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A scene note, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SceneNote {
    /// Its id.
    pub id: i64,
    /// Its session.
    pub session_id: i64,
    /// When, in ms from the start of the sitting's audio: the record
    /// prints it between the speeches either side of this moment.
    pub at_ms: i64,
    /// What it records.
    pub kind: SceneKind,
    /// Its text (such as "Hội trường vỗ tay"), NFC.
    pub text: String,
    /// Incremented by every change; a change must name the version it
    /// changes.
    pub version: i64,
}
