//! CTranslate2 Whisper → whisper.cpp ggml conversion.
//!
//! The mapping follows whisper.cpp's own `convert-pt-to-ggml.py` applied to
//! the PyTorch names that CTranslate2 renamed and fused:
//! - self-attention `linear_0` is Q, K and V stacked by rows; cross-attention
//!   `linear_1` is K and V. They are split back, and the key bias, which
//!   CTranslate2 fills with zeros because Whisper has none, is dropped after
//!   checking that it is zero: whisper.cpp would refuse an extra tensor.
//! - weights of two or more dimensions are written as f16; vectors,
//!   positional embeddings and the convolution biases (shaped `(n, 1)`, as
//!   whisper.cpp broadcasts them) as f32.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, Write};
use std::path::Path;

use crate::ct2::{Ct2Model, Ct2Variable};
use crate::error::{Error, Result};
use crate::ggml::{GgmlType, GgmlWriter, Hparams};
use crate::mel::{N_FREQ_BINS, filters};
use crate::vocab::decode_vocabulary;
use tocky_core::atomic::AtomicFile;

/// Whisper's attention head width, used when a model omits `num_heads`.
const HEAD_DIM: usize = 64;

/// What a conversion produced.
#[derive(Debug, Clone)]
pub struct ConvertReport {
    /// The hyperparameters written.
    pub hparams: Hparams,
    /// Tensors written.
    pub tensors: usize,
    /// Bytes written.
    pub bytes: u64,
}

/// Converts the CTranslate2 Whisper model in `model_bin` (with its
/// `vocabulary.txt`) to a ggml file at `out`, atomically: the output appears
/// complete or not at all.
pub fn convert_files(model_bin: &Path, vocabulary: &Path, out: &Path) -> Result<ConvertReport> {
    let file = File::open(model_bin).map_err(|e| Error::io("opening", model_bin, e))?;
    let mut model = Ct2Model::open(BufReader::new(file))?;
    let vocab = std::fs::read(vocabulary).map_err(|e| Error::io("reading", vocabulary, e))?;
    let target = AtomicFile::create(out).map_err(|e| Error::io("creating", out, e))?;
    let report = {
        let mut writer = BufWriter::with_capacity(
            1 << 20,
            target
                .file()
                .map_err(|e| Error::io("creating", target.partial_path(), e))?,
        );
        let report = convert(&mut model, &vocab, &mut writer).map_err(|e| match e {
            // Name the file when the disk fills up mid-write.
            Error::Stream(io) if io.kind() == std::io::ErrorKind::StorageFull => {
                Error::io("writing", target.partial_path(), io)
            }
            other => other,
        })?;
        writer
            .flush()
            .map_err(|e| Error::io("writing", target.partial_path(), e))?;
        report
    };
    target
        .commit()
        .map_err(|e| Error::io("committing", out, e))?;
    Ok(report)
}

/// Converts an opened CTranslate2 Whisper model and its vocabulary text,
/// writing the ggml file to `out`.
pub fn convert<R: Read + Seek, W: Write>(
    model: &mut Ct2Model<R>,
    vocabulary: &[u8],
    out: W,
) -> Result<ConvertReport> {
    if model.spec != "WhisperSpec" {
        return Err(Error::NotWhisper {
            spec: model.spec.clone(),
        });
    }
    if let Some(v) = model
        .variables()
        .iter()
        .find(|v| v.name.ends_with("weight_scale"))
    {
        return Err(Error::UnsupportedDtype {
            name: v.name.clone(),
            dtype: "int8 (quantized)".into(),
        });
    }
    let hparams = hyperparameters(model)?;
    let tokens = decode_vocabulary(vocabulary)?;
    if tokens.len() > hparams.n_vocab as usize {
        return Err(Error::Vocabulary(format!(
            "{} ordinary tokens but the embedding has only {} rows",
            tokens.len(),
            hparams.n_vocab
        )));
    }

    let mut w = GgmlWriter::new(out, &hparams)?;
    let n_mels = hparams.n_mels as usize;
    w.mel_filters(n_mels, N_FREQ_BINS, &filters(n_mels))?;
    w.vocabulary(&tokens)?;

    let variables: Vec<Ct2Variable> = model.variables().to_vec();
    let mut written = std::collections::HashSet::new();
    for var in &variables {
        if var.shape.is_empty() {
            continue; // configuration scalars: activation, num_heads, alignment heads …
        }
        if var.is_empty() {
            return Err(Error::BadShape {
                name: var.name.clone(),
                shape: var.shape.clone(),
                expected: "no zero dimension (a Whisper weight is never empty)".into(),
            });
        }
        let data = model.read_f32(var)?;
        for (name, shape, values) in map_variable(var, data)? {
            if !written.insert(name.clone()) {
                return Err(Error::Malformed {
                    format: "CTranslate2",
                    reason: format!("{} maps to {name}, which was already written", var.name),
                });
            }
            w.tensor(&name, &shape, ggml_type(&name, &shape), &values)?;
        }
    }
    let (tensors, bytes) = w.finish()?;
    // whisper.cpp loads exactly this many tensors and no others.
    let expected = 11 + 15 * hparams.n_audio_layer as usize + 24 * hparams.n_text_layer as usize;
    if tensors != expected {
        return Err(Error::Malformed {
            format: "CTranslate2",
            reason: format!(
                "{tensors} tensors converted where whisper.cpp expects {expected} \
                 ({} encoder and {} decoder layers): some variables are missing",
                hparams.n_audio_layer, hparams.n_text_layer
            ),
        });
    }
    Ok(ConvertReport {
        hparams,
        tensors,
        bytes,
    })
}

/// f16 for matrices, f32 for vectors, positional embeddings and conv biases.
fn ggml_type(name: &str, shape: &[usize]) -> GgmlType {
    let keep_f32 = shape.len() < 2
        || name.ends_with("positional_embedding")
        || name == "encoder.conv1.bias"
        || name == "encoder.conv2.bias";
    if keep_f32 {
        GgmlType::F32
    } else {
        GgmlType::F16
    }
}

fn hyperparameters<R: Read + Seek>(model: &mut Ct2Model<R>) -> Result<Hparams> {
    let dims = |model: &Ct2Model<R>, name: &str, rank: usize| -> Result<Vec<usize>> {
        let v = model.require(name)?;
        // A zero dimension holds no data, so it could claim any size in
        // the others (such as billions of mel bands) at no cost in the file.
        if v.shape.len() != rank || v.shape.contains(&0) {
            return Err(Error::BadShape {
                name: name.to_owned(),
                shape: v.shape.clone(),
                expected: format!("{rank} non-zero dimensions"),
            });
        }
        Ok(v.shape.clone())
    };
    let embed = dims(model, "decoder/embeddings/weight", 2)?;
    let audio_pos = dims(model, "encoder/position_encodings/encodings", 2)?;
    let text_pos = dims(model, "decoder/position_encodings/encodings", 2)?;
    let conv1 = dims(model, "encoder/conv1/weight", 3)?;
    let (n_audio_state, n_text_state) = (audio_pos[1], text_pos[1]);
    let n_audio_head = heads(model, "encoder/num_heads", n_audio_state)?;
    let n_text_head = heads(model, "decoder/num_heads", n_text_state)?;

    let h = Hparams {
        n_vocab: int(embed[0])?,
        n_audio_ctx: int(audio_pos[0])?,
        n_audio_state: int(n_audio_state)?,
        n_audio_head: int(n_audio_head)?,
        n_audio_layer: int(count_layers(model, "encoder/")?)?,
        n_text_ctx: int(text_pos[0])?,
        n_text_state: int(n_text_state)?,
        n_text_head: int(n_text_head)?,
        n_text_layer: int(count_layers(model, "decoder/")?)?,
        n_mels: int(conv1[1])?,
        ftype: GgmlType::F16.id(),
    };
    if embed[1] != n_text_state || conv1[0] != n_audio_state {
        return Err(Error::BadShape {
            name: "decoder/embeddings/weight".into(),
            shape: embed,
            expected: format!("(n_vocab, {n_text_state}) with conv1 of width {n_audio_state}"),
        });
    }
    if h.n_audio_layer == 0 || h.n_text_layer == 0 {
        return Err(Error::MissingVariable {
            name: "encoder/layer_0 or decoder/layer_0".into(),
        });
    }
    Ok(h)
}

fn heads<R: Read + Seek>(model: &mut Ct2Model<R>, name: &str, n_state: usize) -> Result<usize> {
    let stored = match model.variable(name).cloned() {
        Some(v) => Some(model.read_int_scalar(&v)?),
        None => None,
    };
    let n = match stored {
        Some(n) => usize::try_from(n).unwrap_or(0),
        None => n_state / HEAD_DIM,
    };
    if n == 0 || !n_state.is_multiple_of(n) {
        return Err(Error::Malformed {
            format: "CTranslate2",
            reason: format!("{name} = {n} does not divide the width {n_state}"),
        });
    }
    Ok(n)
}

fn int(v: usize) -> Result<i32> {
    i32::try_from(v).map_err(|_| Error::Malformed {
        format: "CTranslate2",
        reason: format!("dimension {v} is too large"),
    })
}

/// Layers are counted from `layer_N/` names: `encoder/layer_norm` also
/// starts with `layer_` but is not a layer.
fn count_layers<R: Read + Seek>(model: &Ct2Model<R>, prefix: &str) -> Result<usize> {
    let indices: BTreeSet<usize> = model
        .variables()
        .iter()
        .filter_map(|v| v.name.strip_prefix(prefix)?.strip_prefix("layer_"))
        .filter_map(|rest| rest.split_once('/')?.0.parse::<usize>().ok())
        .collect();
    // Layers must be numbered 0..n: a gap would leave a block whisper.cpp never loads.
    if indices.iter().enumerate().any(|(i, n)| i != *n) {
        return Err(Error::Malformed {
            format: "CTranslate2",
            reason: format!(
                "{prefix} layers are numbered {indices:?}, not 0 to {}",
                indices.len().saturating_sub(1)
            ),
        });
    }
    Ok(indices.len())
}

type Tensor = (String, Vec<usize>, Vec<f32>);

/// Maps one CTranslate2 variable to the ggml tensor(s) it becomes.
fn map_variable(var: &Ct2Variable, data: Vec<f32>) -> Result<Vec<Tensor>> {
    let name = var.name.as_str();
    let unknown = || Error::UnknownVariable {
        name: name.to_owned(),
    };
    let (side, rest) = name.split_once('/').ok_or_else(unknown)?;
    if side != "encoder" && side != "decoder" {
        return Err(unknown());
    }
    let one = |ggml: String| Ok(vec![(ggml, var.shape.clone(), data.clone())]);

    // Whole-model tensors.
    match rest {
        "conv1/weight" | "conv2/weight" if side == "encoder" => {
            return one(format!("encoder.{}", rest.replace('/', ".")));
        }
        "conv1/bias" | "conv2/bias" if side == "encoder" => {
            let n = data.len();
            return Ok(vec![(
                format!("encoder.{}", rest.replace('/', ".")),
                vec![n, 1],
                data,
            )]);
        }
        "position_encodings/encodings" => return one(format!("{side}.positional_embedding")),
        "embeddings/weight" if side == "decoder" => {
            return one("decoder.token_embedding.weight".into());
        }
        "layer_norm/gamma" | "layer_norm/beta" => {
            let ln = if side == "encoder" { "ln_post" } else { "ln" };
            return one(format!("{side}.{ln}.{}", norm_param(rest)));
        }
        _ => {}
    }

    // Per-layer tensors: layer_N/<module>/<param>.
    let (layer, module_param) = rest
        .strip_prefix("layer_")
        .and_then(|r| r.split_once('/'))
        .ok_or_else(unknown)?;
    let layer: usize = layer.parse().map_err(|_| unknown())?;
    let (module, param) = module_param.rsplit_once('/').ok_or_else(unknown)?;
    let block = format!("{side}.blocks.{layer}");
    let is_bias = param == "bias";
    // Norms have gamma and beta; projections have weight and bias.
    let expected_params = if module.ends_with("layer_norm") {
        ["gamma", "beta"]
    } else {
        ["weight", "bias"]
    };
    if !expected_params.contains(&param) {
        return Err(unknown());
    }

    match (side, module) {
        (_, "self_attention/layer_norm") => one(format!("{block}.attn_ln.{}", norm_param(param))),
        (_, "ffn/layer_norm") => one(format!("{block}.mlp_ln.{}", norm_param(param))),
        ("decoder", "attention/layer_norm") => {
            one(format!("{block}.cross_attn_ln.{}", norm_param(param)))
        }
        (_, "ffn/linear_0") => one(format!("{block}.mlp.0.{param}")),
        (_, "ffn/linear_1") => one(format!("{block}.mlp.2.{param}")),
        (_, "self_attention/linear_1") => one(format!("{block}.attn.out.{param}")),
        ("decoder", "attention/linear_0") => one(format!("{block}.cross_attn.query.{param}")),
        ("decoder", "attention/linear_2") => one(format!("{block}.cross_attn.out.{param}")),
        (_, "self_attention/linear_0") => {
            let parts = split_rows(var, &data, 3)?;
            let names = ["query", "key", "value"].map(|p| format!("{block}.attn.{p}.{param}"));
            keep_all_but_key_bias(var, names, parts, 1, is_bias)
        }
        ("decoder", "attention/linear_1") => {
            let parts = split_rows(var, &data, 2)?;
            let names = ["key", "value"].map(|p| format!("{block}.cross_attn.{p}.{param}"));
            keep_all_but_key_bias(var, names, parts, 0, is_bias)
        }
        _ => Err(unknown()),
    }
}

fn norm_param(param: &str) -> &'static str {
    if param.ends_with("gamma") {
        "weight"
    } else {
        "bias"
    }
}

/// Splits a fused matrix or vector into `parts` equal blocks of rows.
fn split_rows(var: &Ct2Variable, data: &[f32], parts: usize) -> Result<Vec<Tensor>> {
    let rows = var.shape.first().copied().unwrap_or(0);
    if rows == 0 || rows % parts != 0 {
        return Err(Error::BadShape {
            name: var.name.clone(),
            shape: var.shape.clone(),
            expected: format!("rows divisible by {parts} (fused projections)"),
        });
    }
    let mut shape = var.shape.clone();
    shape[0] = rows / parts;
    let chunk = data.len() / parts;
    Ok(data
        .chunks_exact(chunk)
        .map(|c| (String::new(), shape.clone(), c.to_vec()))
        .collect())
}

/// Names the split parts, dropping the key's bias after checking it is zero.
fn keep_all_but_key_bias<const N: usize>(
    var: &Ct2Variable,
    names: [String; N],
    parts: Vec<Tensor>,
    key_index: usize,
    is_bias: bool,
) -> Result<Vec<Tensor>> {
    let mut out = Vec::with_capacity(N);
    for (i, (name, (_, shape, values))) in names.into_iter().zip(parts).enumerate() {
        if is_bias && i == key_index {
            let max_abs = values.iter().fold(0f32, |m, v| m.max(v.abs()));
            if max_abs != 0.0 {
                return Err(Error::NonZeroKeyBias {
                    name: var.name.clone(),
                    max_abs,
                });
            }
            continue;
        }
        out.push((name, shape, values));
    }
    Ok(out)
}
