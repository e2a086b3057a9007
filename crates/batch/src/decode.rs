//! One channel selection of a file decoded, saving checkpoints on the way.

use std::path::Path;
use std::time::{Duration, Instant};

use tocky_asr::{Checkpoint, Engine, ReaderHooks, TranscribeOptions};
use tocky_audio::{AudioReader, ChannelSelection, DecodeOptions};
use tocky_core::transcript::Transcript;

use crate::Result;
use crate::checkpoint::CheckpointFile;

/// Where one channel's checkpoints go while it is decoded.
pub(crate) struct Saving<'a> {
    pub(crate) file: &'a CheckpointFile,
    /// Save the finished channel too.
    pub(crate) keep_finished: bool,
    /// How often, at most.
    pub(crate) every: Duration,
}

/// Decodes one channel selection of `path`, from `resume` when given,
/// saving a checkpoint at most every `saving.every`.
pub(crate) fn decode_channel(
    engine: &Engine,
    path: &Path,
    selection: ChannelSelection,
    opts: &TranscribeOptions,
    saving: Option<Saving<'_>>,
    resume: Option<Checkpoint>,
    progress: &mut dyn FnMut(u64),
) -> Result<Transcript> {
    let mut reader = AudioReader::open(
        path,
        &DecodeOptions {
            channel: selection,
            ..DecodeOptions::default()
        },
    )?;
    let mut last_saved: Option<Instant> = None;
    let mut save_error = None;
    let mut on_checkpoint = |c: &Checkpoint| {
        let Some(saving) = &saving else { return };
        if last_saved.is_some_and(|t| t.elapsed() < saving.every) {
            return;
        }
        last_saved = Some(Instant::now());
        if let Err(e) = saving.file.save(c, None) {
            // Losing resumability is not worth failing the file.
            save_error.get_or_insert(e);
        }
    };
    let hooks = ReaderHooks {
        progress,
        checkpoint: &mut on_checkpoint,
        resume,
    };
    let (t, stats) = engine.transcribe_reader_with(&mut reader, opts, hooks)?;
    if let Some(e) = save_error {
        tracing::warn!(
            "{}: no checkpoint: {}",
            path.display(),
            crate::error_chain(&e)
        );
    }
    tracing::info!("{}: {stats:?}", path.display());
    if reader.skipped_packets() > 0 {
        tracing::warn!(
            "{}: skipped {} damaged packets",
            path.display(),
            reader.skipped_packets()
        );
    }
    if let Some(short) = reader.shortfall() {
        tracing::warn!(
            "{}: {short}; the transcript covers what could be decoded",
            path.display()
        );
    }
    if let Some(saving) = saving.filter(|s| s.keep_finished) {
        let done = Checkpoint {
            decoded_until_ms: t.duration_ms,
            language: Some(t.language.clone()),
            segments: t.segments.clone(),
        };
        if let Err(e) = saving.file.save(&done, Some(t.duration_ms)) {
            tracing::warn!(
                "{}: no checkpoint: {}",
                path.display(),
                crate::error_chain(&e)
            );
        }
    }
    Ok(t)
}
