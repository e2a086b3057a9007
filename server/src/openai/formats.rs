//! The five `response_format`s of `/v1/audio/transcriptions`, shaped as
//! OpenAI's answers: `json` (`{"text"}`), `verbose_json` (task, language,
//! duration, text, segments and/or words), and `text`, `srt` and `vtt` as
//! plain text. The subtitles are tocky's own (`tocky transcribe -f srt`).

use std::io::Write;
use std::str::FromStr;

use axum::Json;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tocky_core::render;
use tocky_core::transcript::{Segment, Transcript};

/// What the client asked the answer to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseFormat {
    /// `{"text": …}`.
    Json,
    /// The text alone.
    Text,
    /// SubRip subtitles.
    Srt,
    /// `{"task", "language", "duration", "text", "segments", "words"}`.
    VerboseJson,
    /// WebVTT subtitles.
    Vtt,
}

impl FromStr for ResponseFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "json" => Ok(Self::Json),
            "text" => Ok(Self::Text),
            "srt" => Ok(Self::Srt),
            "verbose_json" => Ok(Self::VerboseJson),
            "vtt" => Ok(Self::Vtt),
            other => Err(format!(
                "response_format {other:?} is not one of json, text, srt, verbose_json, vtt"
            )),
        }
    }
}

/// Which timings `verbose_json` carries (`timestamp_granularities[]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Granularities {
    /// Segments with their times (the default when none is named).
    pub segment: bool,
    /// Words with their times.
    pub word: bool,
}

/// `json`.
#[derive(Debug, Serialize)]
struct Plain {
    text: String,
}

/// `verbose_json`.
#[derive(Debug, Serialize)]
struct Verbose {
    task: &'static str,
    language: String,
    duration: f64,
    text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    segments: Option<Vec<VerboseSegment>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    words: Option<Vec<VerboseWord>>,
}

/// A segment of `verbose_json`. Whisper's token ids are not kept by
/// tocky: `tokens` is empty.
#[derive(Debug, Serialize)]
struct VerboseSegment {
    id: usize,
    /// The segment's start in 10 ms frames (tocky decodes windows cut at
    /// pauses, not fixed 30 s ones, so this is no window offset).
    seek: u64,
    start: f64,
    end: f64,
    text: String,
    tokens: Vec<u32>,
    temperature: f32,
    avg_logprob: f32,
    compression_ratio: f32,
    no_speech_prob: f32,
}

#[derive(Debug, Serialize)]
struct VerboseWord {
    word: String,
    start: f64,
    end: f64,
}

fn seconds(ms: u64) -> f64 {
    ms as f64 / 1000.0
}

/// The language's English name, as OpenAI's `verbose_json` gives it
/// (`vietnamese`); the code itself for languages not listed.
pub fn language_name(code: &str) -> String {
    let name = match code {
        "vi" => "vietnamese",
        "en" => "english",
        "fr" => "french",
        "zh" => "chinese",
        "ja" => "japanese",
        "ko" => "korean",
        "de" => "german",
        "es" => "spanish",
        "ru" => "russian",
        "th" => "thai",
        "lo" => "lao",
        "km" => "khmer",
        other => other,
    };
    name.to_owned()
}

/// How much zlib shrinks the text, as Whisper measures it: a ratio far
/// above 2.4 means the decoder repeated itself.
fn compression_ratio(text: &str) -> f32 {
    if text.is_empty() {
        return 0.0;
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    let compressed = z.write_all(text.as_bytes()).and_then(|()| z.finish());
    match compressed {
        Ok(c) if !c.is_empty() => text.len() as f32 / c.len() as f32,
        _ => 0.0,
    }
}

fn verbose_segment(id: usize, s: &Segment, temperature: f32) -> VerboseSegment {
    VerboseSegment {
        id,
        seek: s.start_ms / 10,
        start: seconds(s.start_ms),
        end: seconds(s.end_ms),
        text: s.text.clone(),
        tokens: Vec::new(),
        temperature,
        avg_logprob: s.avg_logprob,
        compression_ratio: compression_ratio(&s.text),
        no_speech_prob: s.no_speech_prob,
    }
}

fn plain_text(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
}

/// `transcript` answered in `format`.
pub fn render(
    transcript: &Transcript,
    format: ResponseFormat,
    granularities: Granularities,
    temperature: f32,
) -> Response {
    let text = transcript.text();
    match format {
        ResponseFormat::Json => Json(Plain { text }).into_response(),
        ResponseFormat::Text => plain_text(text + "\n"),
        ResponseFormat::Srt => plain_text(render::srt(transcript)),
        ResponseFormat::Vtt => plain_text(render::vtt(transcript)),
        ResponseFormat::VerboseJson => {
            // As OpenAI: segments unless only words were asked for.
            let segments = (granularities.segment || !granularities.word).then(|| {
                transcript
                    .segments
                    .iter()
                    .enumerate()
                    .map(|(i, s)| verbose_segment(i, s, temperature))
                    .collect()
            });
            let words = granularities.word.then(|| {
                transcript
                    .segments
                    .iter()
                    .flat_map(|s| &s.words)
                    .map(|w| VerboseWord {
                        word: w.text.clone(),
                        start: seconds(w.start_ms),
                        end: seconds(w.end_ms),
                    })
                    .collect()
            });
            Json(Verbose {
                task: "transcribe",
                language: language_name(&transcript.language),
                duration: seconds(transcript.duration_ms),
                text,
                segments,
                words,
            })
            .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use tocky_core::Word;

    fn transcript() -> Transcript {
        let word = |text: &str, start_ms, end_ms| Word {
            text: text.into(),
            start_ms,
            end_ms,
            probability: 0.9,
        };
        Transcript {
            language: "vi".into(),
            duration_ms: 4_000,
            segments: vec![Segment {
                start_ms: 500,
                end_ms: 1_800,
                text: "Xin chào".into(),
                words: vec![word("Xin", 500, 900), word("chào", 900, 1_800)],
                avg_logprob: -0.25,
                no_speech_prob: f32::NAN,
                ..Segment::default()
            }],
        }
    }

    async fn body(r: Response) -> String {
        let bytes = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn verbose_json_has_openai_fields() {
        let both = Granularities {
            segment: true,
            word: true,
        };
        let r = render(&transcript(), ResponseFormat::VerboseJson, both, 0.0);
        let v: serde_json::Value = serde_json::from_str(&body(r).await).unwrap();
        assert_eq!(v["task"], "transcribe");
        assert_eq!(v["language"], "vietnamese");
        assert_eq!(v["duration"], 4.0);
        assert_eq!(v["text"], "Xin chào");
        let s = &v["segments"][0];
        for key in [
            "id",
            "seek",
            "start",
            "end",
            "text",
            "tokens",
            "temperature",
            "avg_logprob",
            "compression_ratio",
            "no_speech_prob",
        ] {
            assert!(s.get(key).is_some(), "{key} in {s}");
        }
        assert_eq!(s["start"], 0.5);
        assert_eq!(s["seek"], 50);
        // JSON has no NaN: null, as serde writes it.
        assert!(s["no_speech_prob"].is_null());
        assert_eq!(v["words"][1]["word"], "chào");
        assert_eq!(v["words"][1]["end"], 1.8);

        let words_only = Granularities {
            segment: false,
            word: true,
        };
        let r = render(&transcript(), ResponseFormat::VerboseJson, words_only, 0.0);
        let v: serde_json::Value = serde_json::from_str(&body(r).await).unwrap();
        assert!(v.get("segments").is_none());
        let r = render(
            &transcript(),
            ResponseFormat::VerboseJson,
            Granularities::default(),
            0.0,
        );
        let v: serde_json::Value = serde_json::from_str(&body(r).await).unwrap();
        assert!(v.get("words").is_none());
        assert_eq!(v["segments"].as_array().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn text_formats_are_plain() {
        let t = transcript();
        let g = Granularities::default();
        let r = render(&t, ResponseFormat::Text, g, 0.0);
        assert!(
            r.headers()[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/plain")
        );
        assert_eq!(body(r).await, "Xin chào\n");
        assert_eq!(
            body(render(&t, ResponseFormat::Srt, g, 0.0)).await,
            render::srt(&t)
        );
        assert_eq!(
            body(render(&t, ResponseFormat::Vtt, g, 0.0)).await,
            render::vtt(&t)
        );
        assert_eq!(
            body(render(&t, ResponseFormat::Json, g, 0.0)).await,
            r#"{"text":"Xin chào"}"#
        );
        assert!("xml".parse::<ResponseFormat>().is_err());
    }

    #[test]
    fn repetition_compresses_well() {
        let looped = "một hai ba ".repeat(40);
        assert!(compression_ratio(&looped) > 2.4);
        assert!(compression_ratio("Xin chào các đại biểu") < 2.0);
        assert_eq!(compression_ratio(""), 0.0);
    }
}
