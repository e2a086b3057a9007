//! `POST /v1/audio/transcriptions`: a multipart form (`file`, `model`,
//! `language`, `prompt`, `response_format`, `temperature`,
//! `timestamp_granularities[]`), read within bounds, the file written to a
//! temporary file, transcribed on the blocking pool, answered in the
//! format asked for, and audited.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use axum::extract::State;
use axum::extract::multipart::{Field, Multipart, MultipartRejection};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use tocky_core::transcribe::{TranscribeError, TranscribeRequest};
use tocky_store::Role;

use super::auth::Caller;
use super::error::OpenAiError;
use super::formats::{self, Granularities, ResponseFormat};
use super::{OPENAI_DEFAULT_MODEL, resolve};
use crate::conn::Activity;
use crate::state::AppState;

/// The longest text field (a prompt is a few hundred characters).
const MAX_FIELD_BYTES: usize = 16 << 10;
/// What a 503 asks the client to wait, in seconds.
const RETRY_AFTER_S: u64 = 10;
/// How often, at most, a transcription tells its connection it is not
/// idle (more often when the idle timeout is shorter).
const KEEP_ALIVE_EVERY: Duration = Duration::from_secs(5);

/// The form, read.
struct Form {
    file: Option<(String, Vec<u8>)>,
    model: Option<String>,
    language: Option<String>,
    prompt: Option<String>,
    format: ResponseFormat,
    temperature: f32,
    granularities: Granularities,
    granularities_named: bool,
}

/// Where to send what is too large to wait for.
fn too_large(max: usize) -> OpenAiError {
    OpenAiError::too_large(format!(
        "the file is over {} MiB, the most transcribed while the client waits; \
         submit it as a job instead (POST /api/jobs, or `tocky submit`)",
        max >> 20
    ))
}

/// The next chunk of a field; a body over the route's limit is a 413.
async fn chunk(
    field: &mut Field<'_>,
    max: usize,
) -> Result<Option<axum::body::Bytes>, OpenAiError> {
    field.chunk().await.map_err(|e| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            too_large(max)
        } else {
            OpenAiError::invalid(None, format!("the form cannot be read: {}", e.body_text()))
        }
    })
}

/// A text field, at most [`MAX_FIELD_BYTES`].
async fn text(mut field: Field<'_>, name: &'static str, max: usize) -> Result<String, OpenAiError> {
    let mut bytes = Vec::new();
    while let Some(c) = chunk(&mut field, max).await? {
        if bytes.len() + c.len() > MAX_FIELD_BYTES {
            return Err(OpenAiError::invalid(
                Some(name),
                format!("{name} is longer than {MAX_FIELD_BYTES} bytes"),
            ));
        }
        bytes.extend_from_slice(&c);
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| OpenAiError::invalid(Some(name), format!("{name} is not UTF-8 text")))?;
    Ok(text.trim().to_owned())
}

/// A language as Whisper names it: two or three lowercase letters.
fn check_language(code: &str) -> Result<(), OpenAiError> {
    if (2..=3).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_lowercase()) {
        Ok(())
    } else {
        Err(OpenAiError::invalid(
            Some("language"),
            format!("language {code:?} is not an ISO-639-1 code such as \"vi\""),
        ))
    }
}

async fn read_form(mut multipart: Multipart, max: usize) -> Result<Form, OpenAiError> {
    let mut form = Form {
        file: None,
        model: None,
        language: None,
        prompt: None,
        format: ResponseFormat::Json,
        temperature: 0.0,
        granularities: Granularities::default(),
        granularities_named: false,
    };
    loop {
        let field = multipart.next_field().await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                too_large(max)
            } else {
                OpenAiError::invalid(None, format!("the form cannot be read: {}", e.body_text()))
            }
        })?;
        let Some(mut field) = field else { break };
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "file" => {
                let file_name = field.file_name().unwrap_or("audio").to_owned();
                let mut bytes = Vec::new();
                while let Some(c) = chunk(&mut field, max).await? {
                    if bytes.len() + c.len() > max {
                        return Err(too_large(max));
                    }
                    bytes.extend_from_slice(&c);
                }
                form.file = Some((file_name, bytes));
            }
            "model" => form.model = Some(text(field, "model", max).await?),
            "language" => {
                let code = text(field, "language", max).await?.to_ascii_lowercase();
                if !code.is_empty() {
                    check_language(&code)?;
                    form.language = Some(code);
                }
            }
            "prompt" => {
                let prompt = text(field, "prompt", max).await?;
                form.prompt = (!prompt.is_empty()).then(|| tocky_core::text::nfc(&prompt));
            }
            "response_format" => {
                let f = text(field, "response_format", max).await?;
                form.format = f
                    .parse()
                    .map_err(|e: String| OpenAiError::invalid(Some("response_format"), e))?;
            }
            "temperature" => {
                let t = text(field, "temperature", max).await?;
                form.temperature = t
                    .parse::<f32>()
                    .ok()
                    .filter(|t| (0.0..=1.0).contains(t))
                    .ok_or_else(|| {
                        OpenAiError::invalid(
                            Some("temperature"),
                            format!("temperature {t:?} is not a number from 0 to 1"),
                        )
                    })?;
            }
            "timestamp_granularities[]" | "timestamp_granularities" => {
                form.granularities_named = true;
                match text(field, "timestamp_granularities", max).await?.as_str() {
                    "word" => form.granularities.word = true,
                    "segment" => form.granularities.segment = true,
                    other => {
                        return Err(OpenAiError::invalid(
                            Some("timestamp_granularities"),
                            format!("timestamp granularity {other:?} is not word or segment"),
                        ));
                    }
                }
            }
            // Fields of newer APIs (stream, include[] …) are read and left.
            _ => while chunk(&mut field, max).await?.is_some() {},
        }
    }
    Ok(form)
}

/// The upload on disk for the decoder, removed when dropped.
struct TempAudio(PathBuf);

impl TempAudio {
    /// Writes `bytes` to a new file in the temporary directory, named at
    /// random with the upload's extension (a hint to the decoder).
    fn write(file_name: &str, bytes: &[u8]) -> std::io::Result<Self> {
        let mut random = [0u8; 16];
        getrandom::fill(&mut random).map_err(std::io::Error::other)?;
        let ext: String = std::path::Path::new(file_name)
            .extension()
            .and_then(|e| e.to_str())
            .filter(|e| e.len() <= 8 && e.bytes().all(|b| b.is_ascii_alphanumeric()))
            .map(|e| format!(".{}", e.to_ascii_lowercase()))
            .unwrap_or_default();
        let path = std::env::temp_dir().join(format!("tocky-upload-{}{ext}", hex::encode(random)));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        let mut file = options.open(&path)?;
        let temp = Self(path);
        std::io::Write::write_all(&mut file, bytes)?;
        Ok(temp)
    }
}

impl Drop for TempAudio {
    fn drop(&mut self) {
        // A file left behind is only a stray temporary file.
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Waits for `work`, telling the connection every few seconds that the
/// server is busy for it: nothing moves while the model runs, and the idle
/// timeout would otherwise close the connection under a long file.
async fn keep_alive<T>(
    activity: Option<Activity>,
    every: Duration,
    work: tokio::task::JoinHandle<T>,
) -> Result<T, tokio::task::JoinError> {
    tokio::pin!(work);
    let mut tick = tokio::time::interval(every.max(Duration::from_millis(100)));
    loop {
        tokio::select! {
            done = &mut work => return done,
            _ = tick.tick() => {
                if let Some(a) = &activity {
                    a.touch();
                }
            }
        }
    }
}

/// The file's name as the transcript and the audit log keep it: its last
/// component, without control characters, at most 200 bytes.
fn clean_file_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let mut clean: String = last.chars().filter(|c| !c.is_control()).collect();
    while clean.len() > 200 {
        clean.pop();
    }
    if clean.is_empty() {
        "audio".into()
    } else {
        clean
    }
}

/// `POST /v1/audio/transcriptions`.
pub(super) async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    activity: Option<Extension<Activity>>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, OpenAiError> {
    caller.require(Role::Stenographer)?;
    let activity = activity.map(|Extension(a)| a);
    let max = state.config().limits.transcription_max_bytes;
    let announced = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if announced.is_some_and(|n| n > max.saturating_add(super::FORM_OVERHEAD_BYTES)) {
        return Err(too_large(max));
    }
    let multipart = multipart.map_err(|e| {
        OpenAiError::invalid(
            None,
            format!(
                "send a multipart/form-data body with a file field ({})",
                e.body_text()
            ),
        )
    })?;
    let Some(transcription) = state.transcription() else {
        return Err(OpenAiError::unavailable(
            "model_not_loaded",
            "no model is loaded: this server runs without one (tocky serve --no-retime, \
             or no model installed)",
            None,
        ));
    };
    // Before the body is read: a full queue costs no upload.
    let admitted = Arc::clone(&transcription.admitted)
        .try_acquire_owned()
        .map_err(|_| {
            OpenAiError::unavailable(
                "server_busy",
                "transcriptions are queued; try again shortly",
                Some(RETRY_AFTER_S),
            )
        })?;
    let form = read_form(multipart, max).await?;
    let Some((file_name, bytes)) = form.file else {
        return Err(OpenAiError::invalid(
            Some("file"),
            "the form has no file field",
        ));
    };
    if bytes.is_empty() {
        return Err(OpenAiError::invalid(Some("file"), "the file is empty"));
    }
    let Some(asked) = form.model.filter(|m| !m.is_empty()) else {
        return Err(OpenAiError::invalid(
            Some("model"),
            format!("the form has no model (use {OPENAI_DEFAULT_MODEL:?} or GET /v1/models)"),
        ));
    };
    let model = resolve(&transcription.service.models(), &asked).ok_or_else(|| {
        OpenAiError::invalid(
            Some("model"),
            format!("the model {asked:?} is not loaded on this server (GET /v1/models)"),
        )
    })?;
    if form.granularities_named && form.format != ResponseFormat::VerboseJson {
        return Err(OpenAiError::invalid(
            Some("timestamp_granularities"),
            "timestamp_granularities needs response_format verbose_json",
        ));
    }
    let file_name = clean_file_name(&file_name);
    let request_name = file_name.clone();
    let request = move |audio: PathBuf| TranscribeRequest {
        audio,
        file_name: request_name,
        language: form.language,
        prompt: form.prompt,
        temperature: form.temperature,
        model: model.id,
        word_timestamps: form.granularities.word,
    };
    let running = Arc::clone(&transcription.running)
        .acquire_owned()
        .await
        .map_err(OpenAiError::internal)?;
    let service = Arc::clone(&transcription.service);
    let size = bytes.len();
    // The places go with the work: a client that leaves does not free the
    // model before its transcription ends.
    let task = tokio::task::spawn_blocking(move || {
        let _places = (admitted, running);
        let temp = TempAudio::write(&file_name, &bytes)
            .map_err(|e| TranscribeError::Failed(format!("writing the upload: {e}")))?;
        drop(bytes);
        service.transcribe(&request(temp.0.clone()))
    });
    let every = KEEP_ALIVE_EVERY.min(state.config().limits.idle_timeout() / 2);
    let heard = keep_alive(activity, every, task)
        .await
        .map_err(OpenAiError::internal)?;
    let detail = match &heard {
        Ok(doc) => format!(
            "{size} bytes, {} ms of audio: {} segments",
            doc.transcript.duration_ms,
            doc.transcript.segments.len()
        ),
        Err(e) => format!("{size} bytes: failed: {e}"),
    };
    let actor = caller.actor();
    state
        .with_store(move |store, _| Ok(store.audit(&actor, "transcribe", "api", &detail)?))
        .await?;
    match heard {
        Ok(doc) => Ok(formats::render(
            &doc.transcript,
            form.format,
            form.granularities,
            form.temperature,
        )),
        Err(TranscribeError::NotAudio(m)) => Err(OpenAiError::invalid(
            Some("file"),
            format!("the file could not be decoded as audio: {m}"),
        )),
        Err(TranscribeError::UnknownModel(m)) => Err(OpenAiError::invalid(
            Some("model"),
            format!("the model {m:?} is not loaded on this server"),
        )),
        Err(TranscribeError::Failed(m)) => {
            Err(OpenAiError::internal(format!("transcription: {m}")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_cleaned() {
        assert_eq!(clean_file_name("../../etc/a.wav"), "a.wav");
        assert_eq!(clean_file_name("C:\\x\\b.mp3"), "b.mp3");
        assert_eq!(clean_file_name("a\nb.wav"), "ab.wav");
        assert_eq!(clean_file_name(""), "audio");
        assert!(clean_file_name(&"é".repeat(300)).len() <= 200);
    }

    #[test]
    fn languages_are_codes() {
        assert!(check_language("vi").is_ok());
        assert!(check_language("haw").is_ok());
        assert!(check_language("vietnamese").is_err());
        assert!(check_language("v1").is_err());
    }
}
