//! Loading a model and decoding audio with it.

use std::path::Path;
use std::sync::Once;

use tocky_core::text::nfc;
use whisper_rs::{
    FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters, WhisperState,
};

use crate::error::{Error, Result};
use crate::words::TimedToken;

/// How to load a model.
#[derive(Debug, Clone, Default)]
pub struct EngineOptions {
    /// Use a GPU when tocky was built with one (the `cuda` feature).
    pub use_gpu: bool,
    /// Which GPU, counted from 0.
    pub gpu_device: i32,
    /// Use flash attention (faster on GPUs).
    pub flash_attention: bool,
}

/// How to decode.
#[derive(Debug, Clone)]
pub struct DecodeOptions {
    /// The spoken language as an ISO 639-1 code, or `auto` to detect it.
    pub language: String,
    /// Beam width; 1 decodes greedily.
    pub beam_size: usize,
    /// CPU threads for this decode.
    pub threads: usize,
    /// Text that primes the decoder with domain vocabulary (names, bill titles).
    pub prompt: Option<String>,
    /// Time each word (token timestamps).
    pub word_timestamps: bool,
    /// Encode only this many 20 ms frames of the 30 s window (at most
    /// 1500) instead of all of it: much faster for short audio, slightly
    /// less accurate. Live partials use it; finals do not.
    pub audio_ctx: Option<usize>,
    /// Decode the window as one segment of at most this many tokens: a
    /// bound on the time a decode can take when the model loops (live
    /// partials use it).
    pub max_tokens: Option<usize>,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        Self {
            language: "vi".into(),
            beam_size: 5,
            threads: std::thread::available_parallelism()
                .map_or(2, |n| n.get())
                .min(8),
            prompt: None,
            word_timestamps: true,
            audio_ctx: None,
            max_tokens: None,
        }
    }
}

/// What whisper.cpp reports about a loaded model.
#[derive(Debug, Clone)]
pub struct ModelDescription {
    /// whisper.cpp's name for its size ("base", "large" …).
    pub size: String,
    /// Vocabulary size.
    pub n_vocab: i32,
    /// Mel bands.
    pub n_mels: i32,
    /// Encoder layers.
    pub n_audio_layer: i32,
    /// Whether it is multilingual.
    pub multilingual: bool,
}

/// A loaded model, shareable between threads.
pub struct Engine {
    context: WhisperContext,
}

static LOG_HOOKS: Once = Once::new();

impl Engine {
    /// Loads a whisper.cpp ggml model.
    pub fn load(path: &Path, opts: &EngineOptions) -> Result<Self> {
        if !path.is_file() {
            return Err(Error::ModelMissing { path: path.into() });
        }
        check_model(path)?;
        // Route whisper.cpp's chatter into `tracing` instead of stderr.
        LOG_HOOKS.call_once(whisper_rs::install_logging_hooks);
        let mut params = WhisperContextParameters::default();
        params
            .use_gpu(opts.use_gpu)
            .gpu_device(opts.gpu_device)
            .flash_attn(opts.flash_attention);
        let path_str = path.to_str().ok_or_else(|| Error::ModelLoad {
            path: path.into(),
            reason: "path is not UTF-8".into(),
        })?;
        let context =
            WhisperContext::new_with_params(path_str, params).map_err(|e| Error::ModelLoad {
                path: path.into(),
                reason: e.to_string(),
            })?;
        Ok(Self { context })
    }

    /// What the model is.
    pub fn describe(&self) -> ModelDescription {
        let c = &self.context;
        ModelDescription {
            size: c
                .model_type_readable_str_lossy()
                .map(|s| s.into_owned())
                .unwrap_or_default(),
            n_vocab: c.model_n_vocab(),
            n_mels: c.model_n_mels(),
            n_audio_layer: c.model_n_audio_layer(),
            multilingual: c.is_multilingual(),
        }
    }

    /// The whisper.cpp context, for the low-level calls of forced alignment.
    pub(crate) fn context(&self) -> &WhisperContext {
        &self.context
    }

    /// A decoder state: scratch memory for one stream of windows. Create one
    /// per thread or channel and reuse it across that stream's windows.
    pub fn new_state(&self) -> Result<DecoderState> {
        let state = self
            .context
            .create_state()
            .map_err(|e| Error::Decode(e.to_string()))?;
        Ok(DecoderState { state })
    }

    /// Checks options once, before any audio is decoded.
    pub(crate) fn validate(&self, opts: &DecodeOptions) -> Result<()> {
        if opts.beam_size == 0 || opts.beam_size > 16 {
            return Err(Error::InvalidOption(format!(
                "beam size {} (use 1 to 16)",
                opts.beam_size
            )));
        }
        let language = opts.language.as_str();
        if language != "auto" && whisper_rs::get_lang_id(language).is_none() {
            return Err(Error::InvalidOption(format!(
                "unknown language code {language:?}"
            )));
        }
        Ok(())
    }

    /// Decodes one window (at most 30 s) at `temperature`: 0 uses beam search
    /// (or greedy when the beam is 1), above 0 samples `best_of` candidates
    /// (at least one).
    /// whisper.cpp's own fallback (entropy and log-probability thresholds)
    /// stays on underneath. Times are relative to the window.
    pub(crate) fn decode_window(
        &self,
        state: &mut DecoderState,
        samples: &[f32],
        opts: &DecodeOptions,
        temperature: f32,
        best_of: usize,
    ) -> Result<(Vec<DecodedSegment>, String)> {
        if samples.is_empty() {
            return Err(Error::NoAudio);
        }
        let strategy = if temperature > 0.0 {
            SamplingStrategy::Greedy {
                best_of: best_of.clamp(1, 8) as i32,
            }
        } else if opts.beam_size > 1 {
            SamplingStrategy::BeamSearch {
                beam_size: opts.beam_size as i32,
                patience: -1.0,
            }
        } else {
            SamplingStrategy::Greedy { best_of: 1 }
        };
        let mut params = FullParams::new(strategy);
        params.set_n_threads(opts.threads.clamp(1, 64) as i32);
        params.set_language(Some(opts.language.as_str()));
        params.set_translate(false);
        params.set_no_context(true);
        params.set_print_progress(false);
        params.set_print_realtime(false);
        params.set_print_special(false);
        params.set_print_timestamps(false);
        params.set_token_timestamps(opts.word_timestamps);
        if let Some(frames) = opts.audio_ctx {
            params.set_audio_ctx(frames.clamp(1, 1500) as i32);
        }
        if let Some(tokens) = opts.max_tokens {
            params.set_single_segment(true);
            params.set_max_tokens(tokens.clamp(1, 224) as i32);
        }
        params.set_temperature(temperature);
        params.set_temperature_inc(0.2);
        params.set_entropy_thold(2.4);
        params.set_logprob_thold(-1.0);
        params.set_no_speech_thold(0.6);
        params.set_suppress_blank(true);
        if let Some(prompt) = opts.prompt.as_deref().filter(|p| !p.trim().is_empty()) {
            params.set_initial_prompt(prompt);
        }
        let state = &mut state.state;
        state
            .full(params, samples)
            .map_err(|e| Error::Decode(e.to_string()))?;

        let no_speech_prob = self.no_speech_prob(state, opts.threads)?;
        let eot = self.context.token_eot();
        let mut segments = Vec::new();
        for segment in state.as_iter() {
            let text = nfc(segment
                .to_str_lossy()
                .map_err(|e| Error::Decode(e.to_string()))?
                .trim());
            let mut tokens = Vec::new();
            let mut logprob_sum = 0.0f32;
            for i in 0..segment.n_tokens() {
                let Some(token) = segment.get_token(i) else {
                    continue;
                };
                if token.token_id() >= eot {
                    continue; // timestamps, language and task tokens
                }
                let data = token.token_data();
                logprob_sum += data.plog;
                tokens.push(TimedToken {
                    bytes: token.to_bytes().map(<[u8]>::to_vec).unwrap_or_default(),
                    start_ms: centis_to_ms(data.t0),
                    end_ms: centis_to_ms(data.t1),
                    probability: data.p,
                });
            }
            if text.is_empty() {
                continue;
            }
            segments.push(DecodedSegment {
                start_ms: centis_to_ms(segment.start_timestamp()),
                end_ms: centis_to_ms(segment.end_timestamp()),
                text,
                avg_logprob: logprob_sum / tokens.len().max(1) as f32,
                no_speech_prob,
                tokens,
            });
        }
        let language = if opts.language == "auto" {
            whisper_rs::get_lang_str(state.full_lang_id_from_state())
                .unwrap_or("und")
                .to_owned()
        } else {
            opts.language.clone()
        };
        Ok((segments, language))
    }
}

impl Engine {
    /// The probability of Whisper's no-speech token at the start of the
    /// transcript, given the window just encoded: OpenAI's definition.
    /// (whisper.cpp's own figure is read after the task tokens, where the
    /// token is almost never likely, so it reads ~0 even on pure noise.)
    fn no_speech_prob(&self, state: &mut WhisperState, threads: usize) -> Result<f32> {
        let sot = self.context.token_sot();
        state
            .decode(&[sot], 0, threads.max(1))
            .map_err(|e| Error::Decode(e.to_string()))?;
        let logits = state
            .get_logits()
            .map_err(|e| Error::Decode(e.to_string()))?;
        let nosp = usize::try_from(self.context.token_nosp()).unwrap_or(usize::MAX);
        let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let total: f32 = logits.iter().map(|l| (l - max).exp()).sum();
        Ok(logits.get(nosp).map_or(0.0, |l| (l - max).exp() / total))
    }
}

/// Refuses a model file whisper.cpp would misread: its loader trusts the
/// header (allocating from it, copying tensor dimensions without a bound)
/// and accepts a file without tensors, so a damaged or hostile file could
/// abort the process or exhaust memory instead of failing.
fn check_model(path: &Path) -> Result<()> {
    let invalid = |source| Error::ModelInvalid {
        path: path.into(),
        source,
    };
    let file = std::fs::File::open(path)
        .map_err(|e| invalid(tocky_models::Error::io("opening", path, e)))?;
    let info = tocky_models::read_info(std::io::BufReader::new(file)).map_err(invalid)?;
    tocky_models::check_loadable(&info).map_err(invalid)
}

/// Decoder scratch memory for one stream of windows.
pub struct DecoderState {
    state: WhisperState,
}

/// One segment as whisper.cpp decoded it, times relative to its window.
#[derive(Debug, Clone)]
pub(crate) struct DecodedSegment {
    pub(crate) start_ms: u64,
    pub(crate) end_ms: u64,
    pub(crate) text: String,
    pub(crate) tokens: Vec<TimedToken>,
    pub(crate) avg_logprob: f32,
    pub(crate) no_speech_prob: f32,
}

/// whisper.cpp times are in centiseconds.
fn centis_to_ms(t: i64) -> u64 {
    u64::try_from(t).unwrap_or(0) * 10
}

#[cfg(test)]
mod tests {
    use super::*;
    use tocky_models::ggml::GgmlWriter;
    use tocky_models::{GgmlType, Hparams};

    /// Whisper base's header, filters and a vocabulary, and no tensors.
    fn header_only_model() -> Vec<u8> {
        let h = Hparams {
            n_vocab: 51865,
            n_audio_ctx: 1500,
            n_audio_state: 512,
            n_audio_head: 8,
            n_audio_layer: 6,
            n_text_ctx: 448,
            n_text_state: 512,
            n_text_head: 8,
            n_text_layer: 6,
            n_mels: 80,
            ftype: GgmlType::F16.id(),
        };
        let mut out = Vec::new();
        let mut w = GgmlWriter::new(&mut out, &h).unwrap();
        w.mel_filters(80, 201, &vec![0.0; 80 * 201]).unwrap();
        w.vocabulary(&[b"a".to_vec()]).unwrap();
        w.finish().unwrap();
        out
    }

    #[test]
    fn a_model_whisper_cpp_would_misread_is_refused_before_it_loads() {
        let dir = tempfile::tempdir().unwrap();
        // whisper.cpp itself loads a file without tensors as an "empty
        // model for testing", which then decodes from unset weights.
        let empty = dir.path().join("empty.bin");
        std::fs::write(&empty, header_only_model()).unwrap();
        let err = Engine::load(&empty, &EngineOptions::default())
            .err()
            .expect("a model without tensors is refused");
        assert!(
            matches!(&err, Error::ModelInvalid { path, .. } if *path == empty),
            "{err:?}"
        );
        assert!(err.to_string().contains("0 tensors"), "{err}");

        // A cut file is named as such.
        let cut = dir.path().join("cut.bin");
        std::fs::write(&cut, &header_only_model()[..100]).unwrap();
        let err = Engine::load(&cut, &EngineOptions::default())
            .err()
            .expect("a cut model is refused");
        assert!(err.to_string().contains("truncated"), "{err}");
    }
}
