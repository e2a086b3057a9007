//! Whole-file transcription for the server ([`TranscribeAudio`]): one
//! uploaded file through [`transcribe_file`], with the settings of
//! `tocky transcribe`'s defaults, so that a client of the server's
//! OpenAI-compatible API gets the text `tocky transcribe` prints.

use std::path::Path;
use std::sync::Arc;

use tocky_asr::{DecodeOptions, Engine, Guards, TranscribeOptions};
use tocky_audio::vad::VadOptions;
use tocky_core::document::TranscriptDocument;
use tocky_core::transcribe::{ServedModel, TranscribeAudio, TranscribeError, TranscribeRequest};

use crate::{BatchOptions, CancelToken, Channels, Error, FileJob, JobResult, ModelId};

/// The language decoded when a request names none: the Assembly's.
pub const DEFAULT_LANGUAGE: &str = "vi";

/// A loaded model that transcribes whole files, as `tocky transcribe`
/// does with its default settings (beam 5, voice activity detection,
/// the channels mixed).
pub struct BatchTranscriber {
    engine: Arc<Engine>,
    model: ModelId,
    served: ServedModel,
    threads: usize,
}

impl BatchTranscriber {
    /// A transcriber on `engine`, loaded from `model_path`, which clients
    /// name `id`. `threads` is the decoder's thread count (`tocky
    /// transcribe` uses every core).
    pub fn new(engine: Arc<Engine>, model_path: &Path, id: &str, threads: usize) -> Self {
        let created = std::fs::metadata(model_path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
        Self {
            engine,
            model: ModelId::of(model_path),
            served: ServedModel {
                id: id.to_owned(),
                created,
            },
            threads: threads.max(1),
        }
    }

    /// The options of one request: `tocky transcribe`'s defaults with the
    /// request's language and prompt.
    fn options(&self, request: &TranscribeRequest) -> BatchOptions {
        BatchOptions {
            formats: Vec::new(),
            output_dir: None,
            channels: Channels::Downmix,
            force: true,
            transcribe: TranscribeOptions {
                decode: DecodeOptions {
                    language: request
                        .language
                        .clone()
                        .unwrap_or_else(|| DEFAULT_LANGUAGE.to_owned()),
                    threads: self.threads,
                    prompt: request.prompt.clone(),
                    // Always timed: segments need their words' times
                    // anyway, and the caller drops what was not asked for.
                    word_timestamps: true,
                    ..DecodeOptions::default()
                },
                vad: Some(VadOptions::default()),
                guards: Guards::default(),
            },
            model: self.model.clone(),
            workers: 1,
            checkpoint_every: crate::CHECKPOINT_EVERY,
        }
    }
}

impl TranscribeAudio for BatchTranscriber {
    fn models(&self) -> Vec<ServedModel> {
        vec![self.served.clone()]
    }

    fn transcribe(
        &self,
        request: &TranscribeRequest,
    ) -> Result<TranscriptDocument, TranscribeError> {
        if request.model != self.served.id {
            return Err(TranscribeError::UnknownModel(request.model.clone()));
        }
        let job = FileJob {
            source: request.audio.clone(),
            stem: "upload".into(),
            declared_ms: None,
        };
        let opts = self.options(request);
        let result =
            crate::transcribe_file(&self.engine, &job, &opts, &CancelToken::new(), &mut |_| {});
        match result {
            Ok(JobResult::Done { doc, .. }) => {
                let mut doc = *doc;
                // The temporary file's name means nothing to the client.
                doc.source.file = request.file_name.clone();
                Ok(doc)
            }
            // Nothing is skipped without an output directory.
            Ok(JobResult::Skipped { .. }) => Err(TranscribeError::Failed(
                "the file was skipped, not transcribed".into(),
            )),
            // The temporary file's path is the server's business.
            Err(e @ Error::Audio(_)) => Err(TranscribeError::NotAudio(
                crate::error_chain(&e)
                    .replace(&request.audio.display().to_string(), &request.file_name),
            )),
            Err(e) => Err(TranscribeError::Failed(crate::error_chain(&e))),
        }
    }
}
