//! The canonical transcript file: JSON, versioned, documented in
//! `docs/transcript-json.md`. SRT, WebVTT and text are rendered from it.

use serde::{Deserialize, Serialize};

pub use crate::error::DocumentError;
use crate::transcript::Transcript;

/// The value of the `schema` field.
pub const SCHEMA: &str = "tocky.transcript";
/// The version this build writes. Readers refuse versions they do not know.
pub const SCHEMA_VERSION: u32 = 1;

/// A transcript with what produced it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TranscriptDocument {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// The schema version, [`SCHEMA_VERSION`] when written by this build.
    pub schema_version: u32,
    /// The audio transcribed.
    pub source: SourceInfo,
    /// How it was transcribed.
    pub decoder: DecoderInfo,
    /// The transcript itself: language, duration and segments.
    #[serde(flatten)]
    pub transcript: Transcript,
}

/// The audio file a transcript comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceInfo {
    /// The file name (no directories: the document may move with it).
    pub file: String,
    /// The SHA-256 of the file's bytes: the key that makes reruns skip it.
    pub sha256: String,
    /// The file's size in bytes.
    pub bytes: u64,
    /// The codec, such as `pcm_s16le`, `flac`, `mp3`.
    pub codec: String,
    /// The source sample rate in Hz.
    pub sample_rate: u32,
    /// The source channel count.
    pub channels: u32,
    /// The channels transcribed: `null` for a downmix, else each channel
    /// decoded separately (segments carry theirs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transcribed_channels: Option<Vec<u32>>,
}

/// The model and settings used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecoderInfo {
    /// The model file's name.
    pub model: String,
    /// The tocky version that wrote the file.
    pub tocky_version: String,
    /// Beam width.
    pub beam_size: u32,
    /// Whether voice activity detection chose what was decoded.
    pub vad: bool,
    /// The prompt given, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
}

impl TranscriptDocument {
    /// A document of the current schema and version.
    pub fn new(source: SourceInfo, decoder: DecoderInfo, transcript: Transcript) -> Self {
        Self {
            schema: SCHEMA.into(),
            schema_version: SCHEMA_VERSION,
            source,
            decoder,
            transcript,
        }
    }

    /// Parses and checks a document.
    pub fn from_json(text: &str) -> Result<Self, DocumentError> {
        #[derive(Deserialize)]
        struct Header {
            schema: String,
            schema_version: u32,
        }
        let header: Header = serde_json::from_str(text)?;
        if header.schema != SCHEMA {
            return Err(DocumentError::WrongSchema(header.schema));
        }
        if header.schema_version != SCHEMA_VERSION {
            return Err(DocumentError::UnsupportedVersion {
                found: header.schema_version,
            });
        }
        Ok(serde_json::from_str(text)?)
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        // Serialising plain data to a String cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcript::Segment;

    fn doc() -> TranscriptDocument {
        TranscriptDocument::new(
            SourceInfo {
                file: "phien-hop.flac".into(),
                sha256: "ab".repeat(32),
                bytes: 1234,
                codec: "flac".into(),
                sample_rate: 48_000,
                channels: 2,
                transcribed_channels: None,
            },
            DecoderInfo {
                model: "ggml-base.bin".into(),
                tocky_version: "0.1.0".into(),
                beam_size: 5,
                vad: true,
                prompt: None,
            },
            Transcript {
                language: "vi".into(),
                duration_ms: 9_000,
                segments: vec![Segment {
                    start_ms: 10,
                    end_ms: 900,
                    text: "Xin chào".into(),
                    ..Segment::default()
                }],
            },
        )
    }

    #[test]
    fn round_trips_with_transcript_fields_at_the_top_level() {
        let json = doc().to_json();
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["schema"], SCHEMA);
        assert_eq!(value["language"], "vi");
        assert_eq!(value["segments"][0]["text"], "Xin chào");
        assert_eq!(TranscriptDocument::from_json(&json).unwrap(), doc());
    }

    #[test]
    fn a_document_with_non_finite_scores_reads_back() {
        // serde_json writes NaN and infinities as `null`, which once made
        // `from_json` refuse a document `to_json` had just written.
        let mut d = doc();
        let segment = &mut d.transcript.segments[0];
        segment.probability = f32::NAN;
        segment.avg_logprob = f32::NEG_INFINITY;
        segment.no_speech_prob = f32::INFINITY;
        segment.words = vec![crate::Word {
            text: "Xin".into(),
            start_ms: 10,
            end_ms: 400,
            probability: f32::NAN,
        }];
        let json = d.to_json();
        assert!(json.contains("\"avg_logprob\": null"), "{json}");
        let back = TranscriptDocument::from_json(&json).unwrap();
        let segment = &back.transcript.segments[0];
        assert!(segment.probability.is_nan());
        assert!(segment.avg_logprob.is_nan());
        assert!(segment.no_speech_prob.is_nan());
        assert!(segment.words[0].probability.is_nan());
        assert_eq!(segment.text, "Xin chào");
        // A number still reads as itself.
        let without = json.replace("\"no_speech_prob\": null", "\"no_speech_prob\": 0.5");
        let back = TranscriptDocument::from_json(&without).unwrap();
        assert_eq!(back.transcript.segments[0].no_speech_prob, 0.5);
    }

    #[test]
    fn other_schemas_and_versions_are_refused() {
        let json = doc().to_json();
        let newer = json.replace("\"schema_version\": 1", "\"schema_version\": 2");
        assert!(matches!(
            TranscriptDocument::from_json(&newer),
            Err(DocumentError::UnsupportedVersion { found: 2 })
        ));
        let other = json.replace("tocky.transcript", "other");
        assert!(matches!(
            TranscriptDocument::from_json(&other),
            Err(DocumentError::WrongSchema(_))
        ));
        assert!(matches!(
            TranscriptDocument::from_json("{"),
            Err(DocumentError::Invalid(_))
        ));
    }
}
