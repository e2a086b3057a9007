//! The CTranslate2 reader and the CTranslate2 → ggml converter on a tiny
//! synthetic Whisper built in memory: hyperparameters, the fused attention
//! projections split back (and the zero key bias dropped), tensor names,
//! types, shapes and count as whisper.cpp expects them, the file layout,
//! refusals of models it cannot convert, determinism, and the mel
//! filterbank against librosa.

// Test helpers panic on failure by design; clippy.toml only exempts #[test] fns.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::Cursor;

use sha2::{Digest, Sha256};
use tocky_models::ct2::writer::{RawVariable, to_bytes};
use tocky_models::ct2::{Ct2DataType, Ct2Model};
use tocky_models::ggml::TensorInfo;
use tocky_models::mel::{N_FREQ_BINS, filters};
use tocky_models::{
    ConvertReport, Error, GgmlModelInfo, GgmlType, Hparams, convert, convert_files, read_info,
};

const STATE: usize = 8;
const AUDIO_HEADS: i16 = 2;
const TEXT_HEADS: i16 = 4;
const MELS: usize = 4;
const AUDIO_CTX: usize = 6;
const TEXT_CTX: usize = 5;
const N_VOCAB: usize = 10;
/// Different layer counts on each side, so that a swap shows.
const ENCODER_LAYERS: usize = 3;
const DECODER_LAYERS: usize = 2;

/// GPT-2 byte-level text: `Ġ` is a space, `Ċ` a newline, the empty line an
/// empty token; `<|endoftext|>` ends the ordinary tokens.
const VOCABULARY: &str = "!\nĠthe\nhello\nĊ\n\n<|endoftext|>\n<|startoftranscript|>\n<|en|>\n";
const TOKENS: [&[u8]; 5] = [b"!", b" the", b"hello", b"\n", b""];

/// Where the mel filters start in a ggml file: magic, 11 hyperparameters,
/// then `n_mel` and `n_fft`.
const MEL_DATA: usize = 4 + 11 * 4 + 8;

// ---------------------------------------------------------------------------
// The synthetic CTranslate2 model.

/// The values of the float variable numbered `tag`: element `i` holds
/// `±2^-s · (i + t/8)` with `t = tag % 8`, the sign from bit 3 of `tag` and
/// `s = tag / 16`. The integer part is the element's row-major index, so
/// every row is identifiable, and the fractional part, sign and scale tell
/// the variables apart. With at most 256 elements every value is exact in
/// f16 (at most 11 significant bits, none subnormal).
fn tagged(tag: usize, n: usize) -> Vec<f32> {
    assert!(tag < 96 && n <= 256, "tag {tag} or length {n} out of range");
    let sign = if (tag / 8).is_multiple_of(2) {
        1.0
    } else {
        -1.0
    };
    let scale = 0.5f32.powi((tag / 16) as i32);
    (0..n)
        .map(|i| sign * scale * (i as f32 + (tag % 8) as f32 / 8.0))
        .collect()
}

/// A synthetic model: the variables to write and the values of each float one.
#[derive(Default, Clone)]
struct Synthetic {
    variables: Vec<RawVariable>,
    values: BTreeMap<String, Vec<f32>>,
}

impl Synthetic {
    /// A float16 variable with its own tagged values.
    fn float(&mut self, name: &str, shape: &[usize]) {
        let values = tagged(self.values.len(), shape.iter().product());
        self.push_f16(name, shape, values);
    }

    /// A float32 variable (CTranslate2 may mix types), with tagged values.
    fn float32(&mut self, name: &str, shape: &[usize]) {
        let values = tagged(self.values.len(), shape.iter().product());
        self.variables.push(RawVariable {
            name: name.to_owned(),
            shape: shape.to_vec(),
            dtype: Ct2DataType::Float32,
            data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        });
        self.values.insert(name.to_owned(), values);
    }

    /// A fused bias of `parts` blocks of `STATE` whose key block is zero, as
    /// CTranslate2 writes it for Whisper (which has no key bias).
    fn fused_bias(&mut self, name: &str, parts: usize, key_part: usize) {
        let mut values = tagged(self.values.len(), parts * STATE);
        values[key_part * STATE..(key_part + 1) * STATE].fill(0.0);
        self.push_f16(name, &[parts * STATE], values);
    }

    fn push_f16(&mut self, name: &str, shape: &[usize], values: Vec<f32>) {
        assert!(
            values
                .iter()
                .all(|v| half::f16::from_f32(*v).to_f32() == *v),
            "{name}: values not exact in f16"
        );
        self.variables.push(RawVariable::f16(name, shape, &values));
        self.values.insert(name.to_owned(), values);
    }

    /// A configuration scalar, skipped by the converter.
    fn int8_scalar(&mut self, name: &str, value: i8) {
        self.variables.push(RawVariable {
            name: name.to_owned(),
            shape: Vec::new(),
            dtype: Ct2DataType::Int8,
            data: value.to_le_bytes().to_vec(),
        });
    }

    fn layer(&mut self, side: &str, i: usize) {
        let p = format!("{side}/layer_{i}");
        self.float(
            &format!("{p}/self_attention/linear_0/weight"),
            &[3 * STATE, STATE],
        );
        self.fused_bias(&format!("{p}/self_attention/linear_0/bias"), 3, 1);
        self.float(
            &format!("{p}/self_attention/linear_1/weight"),
            &[STATE, STATE],
        );
        self.float(&format!("{p}/self_attention/linear_1/bias"), &[STATE]);
        self.float(&format!("{p}/self_attention/layer_norm/gamma"), &[STATE]);
        self.float(&format!("{p}/self_attention/layer_norm/beta"), &[STATE]);
        if side == "decoder" {
            self.float(&format!("{p}/attention/linear_0/weight"), &[STATE, STATE]);
            self.float(&format!("{p}/attention/linear_0/bias"), &[STATE]);
            self.float(
                &format!("{p}/attention/linear_1/weight"),
                &[2 * STATE, STATE],
            );
            self.fused_bias(&format!("{p}/attention/linear_1/bias"), 2, 0);
            self.float(&format!("{p}/attention/linear_2/weight"), &[STATE, STATE]);
            self.float(&format!("{p}/attention/linear_2/bias"), &[STATE]);
            self.float(&format!("{p}/attention/layer_norm/gamma"), &[STATE]);
            self.float(&format!("{p}/attention/layer_norm/beta"), &[STATE]);
        }
        self.float(&format!("{p}/ffn/layer_norm/gamma"), &[STATE]);
        self.float(&format!("{p}/ffn/layer_norm/beta"), &[STATE]);
        self.float(&format!("{p}/ffn/linear_0/weight"), &[4 * STATE, STATE]);
        self.float(&format!("{p}/ffn/linear_0/bias"), &[4 * STATE]);
        self.float(&format!("{p}/ffn/linear_1/weight"), &[STATE, 4 * STATE]);
        self.float(&format!("{p}/ffn/linear_1/bias"), &[STATE]);
    }

    /// The source values of a float variable.
    fn src(&self, name: &str) -> &[f32] {
        self.values
            .get(name)
            .unwrap_or_else(|| panic!("no source variable {name}"))
    }

    /// Replaces a float16 variable's values.
    fn set(&mut self, name: &str, values: Vec<f32>) {
        let i = self.position(name);
        let shape = self.variables.remove(i).shape;
        self.push_f16(name, &shape, values);
    }

    fn remove(&mut self, name: &str) {
        let i = self.position(name);
        self.variables.remove(i);
        self.values.remove(name);
    }

    fn position(&self, name: &str) -> usize {
        self.variables
            .iter()
            .position(|v| v.name == name)
            .unwrap_or_else(|| panic!("no variable {name}"))
    }

    fn bytes(&self) -> Vec<u8> {
        self.bytes_as("WhisperSpec")
    }

    fn bytes_as(&self, spec: &str) -> Vec<u8> {
        to_bytes(
            spec,
            &self.variables,
            &[("decoder/projection/weight", "decoder/embeddings/weight")],
        )
    }
}

/// The tiny Whisper, laid out as CTranslate2's `WhisperSpec` names it.
fn whisper() -> Synthetic {
    let mut m = Synthetic::default();
    m.int8_scalar("encoder/activation", 3);
    m.variables
        .push(RawVariable::i16_scalar("encoder/num_heads", AUDIO_HEADS));
    m.float("encoder/conv1/weight", &[STATE, MELS, 3]);
    m.float32("encoder/conv1/bias", &[STATE]);
    m.float("encoder/conv2/weight", &[STATE, STATE, 3]);
    m.float("encoder/conv2/bias", &[STATE]);
    m.float("encoder/position_encodings/encodings", &[AUDIO_CTX, STATE]);
    for i in 0..ENCODER_LAYERS {
        m.layer("encoder", i);
    }
    m.float("encoder/layer_norm/gamma", &[STATE]);
    m.float("encoder/layer_norm/beta", &[STATE]);

    m.int8_scalar("decoder/activation", 3);
    m.variables
        .push(RawVariable::i16_scalar("decoder/num_heads", TEXT_HEADS));
    m.float("decoder/embeddings/weight", &[N_VOCAB, STATE]);
    m.float("decoder/position_encodings/encodings", &[TEXT_CTX, STATE]);
    for i in 0..DECODER_LAYERS {
        m.layer("decoder", i);
    }
    m.float("decoder/layer_norm/gamma", &[STATE]);
    m.float("decoder/layer_norm/beta", &[STATE]);
    m
}

// ---------------------------------------------------------------------------
// Conversion and reading the result back.

fn convert_bytes(bytes: Vec<u8>, vocabulary: &[u8]) -> Result<(Vec<u8>, ConvertReport), Error> {
    let mut model = Ct2Model::open(Cursor::new(bytes))?;
    let mut out = Vec::new();
    let report = convert(&mut model, vocabulary, &mut out)?;
    Ok((out, report))
}

fn convert_err(m: &Synthetic) -> Error {
    convert_bytes(m.bytes(), VOCABULARY.as_bytes()).unwrap_err()
}

/// A converted model: the ggml bytes, their index and the converter's report.
struct Converted {
    bytes: Vec<u8>,
    info: GgmlModelInfo,
    report: ConvertReport,
}

impl Converted {
    fn of(m: &Synthetic) -> Self {
        let (bytes, report) = convert_bytes(m.bytes(), VOCABULARY.as_bytes()).unwrap();
        let info = read_info(Cursor::new(bytes.clone())).unwrap();
        Self {
            bytes,
            info,
            report,
        }
    }

    fn find(&self, name: &str) -> Option<&TensorInfo> {
        self.info.tensors.iter().find(|t| t.name == name)
    }

    fn tensor(&self, name: &str) -> &TensorInfo {
        self.find(name)
            .unwrap_or_else(|| panic!("no tensor {name} in the ggml file"))
    }

    /// A tensor's data, decoded to f32 from the file's bytes.
    fn data(&self, name: &str) -> Vec<f32> {
        let t = self.tensor(name);
        let start = t.offset as usize;
        let bytes = &self.bytes[start..start + data_len(t)];
        match t.ty {
            GgmlType::F32 => f32s(bytes),
            GgmlType::F16 => bytes
                .chunks_exact(2)
                .map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32())
                .collect(),
            other => panic!("{name}: unexpected type {other:?}"),
        }
    }
}

fn data_len(t: &TensorInfo) -> usize {
    t.ty.bytes_for(t.shape.iter().product()).unwrap()
}

fn i32_at(bytes: &[u8], at: usize) -> i32 {
    i32::from_le_bytes(bytes[at..at + 4].try_into().unwrap())
}

fn f32s(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// The vocabulary stored in a ggml file, and where the tensors begin.
fn raw_tokens(bytes: &[u8]) -> (Vec<Vec<u8>>, usize) {
    let n_mel = i32_at(bytes, MEL_DATA - 8) as usize;
    let n_fft = i32_at(bytes, MEL_DATA - 4) as usize;
    let mut at = MEL_DATA + 4 * n_mel * n_fft;
    let count = i32_at(bytes, at) as usize;
    at += 4;
    let mut tokens = Vec::with_capacity(count);
    for _ in 0..count {
        let len = i32_at(bytes, at) as usize;
        tokens.push(bytes[at + 4..at + 4 + len].to_vec());
        at += 4 + len;
    }
    (tokens, at)
}

/// A tensor header as the file stores it: dims innermost first.
#[derive(Debug)]
struct RawHeader {
    type_id: i32,
    dims: Vec<i32>,
    name: String,
    data_start: usize,
}

fn raw_header_at(bytes: &[u8], at: usize) -> RawHeader {
    let n_dims = i32_at(bytes, at) as usize;
    let name_len = i32_at(bytes, at + 4) as usize;
    let type_id = i32_at(bytes, at + 8);
    let dims = (0..n_dims)
        .map(|d| i32_at(bytes, at + 12 + 4 * d))
        .collect();
    let name_start = at + 12 + 4 * n_dims;
    let name = String::from_utf8(bytes[name_start..name_start + name_len].to_vec()).unwrap();
    RawHeader {
        type_id,
        dims,
        name,
        data_start: name_start + name_len,
    }
}

/// The header of a tensor found by `read_info`, located back from its offset.
fn raw_header_of(c: &Converted, name: &str) -> RawHeader {
    let t = c.tensor(name);
    let at = t.offset as usize - name.len() - 4 * t.shape.len() - 12;
    let h = raw_header_at(&c.bytes, at);
    assert_eq!(h.name, name);
    assert_eq!(h.data_start, t.offset as usize);
    h
}

fn sha256_hex(values: &[f32]) -> String {
    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    hex::encode(Sha256::digest(&bytes))
}

// ---------------------------------------------------------------------------
// 1. Header.

#[test]
fn header_carries_the_hyperparameters_mel_shape_and_vocabulary() {
    let c = Converted::of(&whisper());
    let expected = Hparams {
        n_vocab: N_VOCAB as i32,
        n_audio_ctx: AUDIO_CTX as i32,
        n_audio_state: STATE as i32,
        n_audio_head: i32::from(AUDIO_HEADS),
        // encoder/layer_norm starts with "layer_" but is not a layer.
        n_audio_layer: ENCODER_LAYERS as i32,
        n_text_ctx: TEXT_CTX as i32,
        n_text_state: STATE as i32,
        n_text_head: i32::from(TEXT_HEADS),
        n_text_layer: DECODER_LAYERS as i32,
        n_mels: MELS as i32,
        ftype: 1,
    };
    assert_eq!(c.info.hparams, expected);
    assert_eq!(c.report.hparams, expected);
    assert_eq!(i32_at(&c.bytes, 0) as u32, tocky_models::ggml::MAGIC);
    assert_eq!(c.info.mel_shape, (MELS, N_FREQ_BINS));
    assert_eq!(N_FREQ_BINS, 201);
    assert_eq!(
        c.info.n_tokens,
        TOKENS.len(),
        "ordinary tokens stop before <|endoftext|>"
    );
    let (tokens, _) = raw_tokens(&c.bytes);
    let expected_tokens: Vec<Vec<u8>> = TOKENS.iter().map(|t| t.to_vec()).collect();
    assert_eq!(tokens, expected_tokens, "tokens are stored as raw bytes");
    assert_eq!(c.report.bytes, c.bytes.len() as u64);
    assert_eq!(c.report.tensors, c.info.tensors.len());
}

#[test]
fn the_reader_indexes_names_shapes_types_scalars_and_aliases() {
    let m = whisper();
    let mut model = Ct2Model::open(Cursor::new(m.bytes())).unwrap();
    assert_eq!(model.spec, "WhisperSpec");
    assert_eq!(model.variables().len(), m.variables.len());
    assert_eq!(
        model.aliases,
        vec![(
            "decoder/projection/weight".to_owned(),
            "decoder/embeddings/weight".to_owned()
        )]
    );
    let heads = model.require("decoder/num_heads").unwrap().clone();
    assert_eq!(
        model.read_int_scalar(&heads).unwrap(),
        i64::from(TEXT_HEADS)
    );
    let activation = model.require("encoder/activation").unwrap().clone();
    assert_eq!(model.read_int_scalar(&activation).unwrap(), 3);

    let fused = model
        .require("decoder/layer_1/self_attention/linear_0/weight")
        .unwrap()
        .clone();
    assert_eq!(fused.shape, vec![3 * STATE, STATE]);
    assert_eq!(fused.dtype, Ct2DataType::Float16);
    assert_eq!(
        model.read_f32(&fused).unwrap(),
        m.src("decoder/layer_1/self_attention/linear_0/weight")
    );
    let bias = model.require("encoder/conv1/bias").unwrap().clone();
    assert_eq!(bias.dtype, Ct2DataType::Float32);
    assert_eq!(model.read_f32(&bias).unwrap(), m.src("encoder/conv1/bias"));

    assert!(matches!(
        model.require("decoder/projection/weight").unwrap_err(),
        Error::MissingVariable { name } if name == "decoder/projection/weight"
    ));
}

// ---------------------------------------------------------------------------
// 2. Fused projections.

#[test]
fn fused_self_attention_is_split_by_rows_and_its_zero_key_bias_dropped() {
    let m = whisper();
    let c = Converted::of(&m);
    let block = STATE * STATE;
    let layers = (0..ENCODER_LAYERS)
        .map(|l| ("encoder", l))
        .chain((0..DECODER_LAYERS).map(|l| ("decoder", l)));
    for (side, l) in layers {
        let fused = m.src(&format!("{side}/layer_{l}/self_attention/linear_0/weight"));
        let fused_bias = m.src(&format!("{side}/layer_{l}/self_attention/linear_0/bias"));
        for (i, part) in ["query", "key", "value"].iter().enumerate() {
            let name = format!("{side}.blocks.{l}.attn.{part}.weight");
            let t = c.tensor(&name);
            assert_eq!((t.ty, t.shape.clone()), (GgmlType::F16, vec![STATE, STATE]));
            // Rows 8i..8i+8 of the fused matrix: element (r, k) is 8r + k + tag.
            assert_eq!(c.data(&name), fused[i * block..(i + 1) * block], "{name}");
        }
        assert_ne!(
            c.data(&format!("{side}.blocks.{l}.attn.query.weight")),
            c.data(&format!("{side}.blocks.{l}.attn.key.weight"))
        );
        for (i, part) in [(0, "query"), (2, "value")] {
            let name = format!("{side}.blocks.{l}.attn.{part}.bias");
            let t = c.tensor(&name);
            assert_eq!((t.ty, t.shape.clone()), (GgmlType::F32, vec![STATE]));
            let expected = &fused_bias[i * STATE..(i + 1) * STATE];
            assert!(expected.iter().any(|v| *v != 0.0));
            assert_eq!(c.data(&name), expected, "{name}");
        }
        assert!(
            c.find(&format!("{side}.blocks.{l}.attn.key.bias"))
                .is_none()
        );
    }
    let key_biases: Vec<&str> = c
        .info
        .tensors
        .iter()
        .map(|t| t.name.as_str())
        .filter(|n| n.contains("key.bias"))
        .collect();
    assert!(key_biases.is_empty(), "key biases written: {key_biases:?}");
}

#[test]
fn fused_cross_attention_is_split_into_key_then_value() {
    let m = whisper();
    let c = Converted::of(&m);
    let block = STATE * STATE;
    for l in 0..DECODER_LAYERS {
        let p = format!("decoder/layer_{l}/attention");
        let b = format!("decoder.blocks.{l}.cross_attn");
        let kv = m.src(&format!("{p}/linear_1/weight"));
        let kv_bias = m.src(&format!("{p}/linear_1/bias"));
        assert_eq!(c.data(&format!("{b}.key.weight")), kv[..block]);
        assert_eq!(c.data(&format!("{b}.value.weight")), kv[block..]);
        assert_eq!(
            c.tensor(&format!("{b}.key.weight")).shape,
            vec![STATE, STATE]
        );
        assert_eq!(
            c.tensor(&format!("{b}.value.weight")).shape,
            vec![STATE, STATE]
        );
        assert_eq!(c.data(&format!("{b}.value.bias")), kv_bias[STATE..]);
        assert!(kv_bias[STATE..].iter().any(|v| *v != 0.0));
        assert!(c.find(&format!("{b}.key.bias")).is_none());
        // The query and output projections are not fused.
        assert_eq!(
            c.data(&format!("{b}.query.weight")),
            m.src(&format!("{p}/linear_0/weight"))
        );
        assert_eq!(
            c.data(&format!("{b}.out.bias")),
            m.src(&format!("{p}/linear_2/bias"))
        );
    }
}

#[test]
fn every_other_variable_keeps_its_values_under_its_whisper_cpp_name() {
    let m = whisper();
    let c = Converted::of(&m);
    let mut pairs: Vec<(String, String)> = [
        ("encoder/conv1/weight", "encoder.conv1.weight"),
        ("encoder/conv1/bias", "encoder.conv1.bias"),
        ("encoder/conv2/weight", "encoder.conv2.weight"),
        ("encoder/conv2/bias", "encoder.conv2.bias"),
        (
            "encoder/position_encodings/encodings",
            "encoder.positional_embedding",
        ),
        ("encoder/layer_norm/gamma", "encoder.ln_post.weight"),
        ("encoder/layer_norm/beta", "encoder.ln_post.bias"),
        (
            "decoder/embeddings/weight",
            "decoder.token_embedding.weight",
        ),
        (
            "decoder/position_encodings/encodings",
            "decoder.positional_embedding",
        ),
        ("decoder/layer_norm/gamma", "decoder.ln.weight"),
        ("decoder/layer_norm/beta", "decoder.ln.bias"),
    ]
    .iter()
    .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
    .collect();
    let per_layer = [
        ("self_attention/linear_1/weight", "attn.out.weight"),
        ("self_attention/linear_1/bias", "attn.out.bias"),
        ("self_attention/layer_norm/gamma", "attn_ln.weight"),
        ("self_attention/layer_norm/beta", "attn_ln.bias"),
        ("ffn/layer_norm/gamma", "mlp_ln.weight"),
        ("ffn/layer_norm/beta", "mlp_ln.bias"),
        ("ffn/linear_0/weight", "mlp.0.weight"),
        ("ffn/linear_0/bias", "mlp.0.bias"),
        ("ffn/linear_1/weight", "mlp.2.weight"),
        ("ffn/linear_1/bias", "mlp.2.bias"),
    ];
    let cross = [
        ("attention/linear_0/weight", "cross_attn.query.weight"),
        ("attention/linear_0/bias", "cross_attn.query.bias"),
        ("attention/linear_2/weight", "cross_attn.out.weight"),
        ("attention/linear_2/bias", "cross_attn.out.bias"),
        ("attention/layer_norm/gamma", "cross_attn_ln.weight"),
        ("attention/layer_norm/beta", "cross_attn_ln.bias"),
    ];
    for (side, layers) in [("encoder", ENCODER_LAYERS), ("decoder", DECODER_LAYERS)] {
        for l in 0..layers {
            let extra: &[(&str, &str)] = if side == "decoder" { &cross } else { &[] };
            for (ct2, ggml) in per_layer.iter().chain(extra) {
                pairs.push((
                    format!("{side}/layer_{l}/{ct2}"),
                    format!("{side}.blocks.{l}.{ggml}"),
                ));
            }
        }
    }
    for (ct2, ggml) in &pairs {
        let t = c.tensor(ggml);
        let source = m.variables.iter().find(|v| &v.name == ct2).unwrap();
        let expected_shape = if ggml.starts_with("encoder.conv") && ggml.ends_with(".bias") {
            vec![STATE, 1]
        } else {
            source.shape.clone()
        };
        assert_eq!(t.shape, expected_shape, "{ct2} → {ggml}");
        assert_eq!(c.data(ggml), m.src(ct2), "{ct2} → {ggml}");
    }
    // Every float variable is either in the table or one of the 2 + 2 fused
    // ones per layer, so nothing is silently left out.
    let fused = 2 * ENCODER_LAYERS + 4 * DECODER_LAYERS;
    assert_eq!(pairs.len() + fused, m.values.len());
}

// ---------------------------------------------------------------------------
// 3. Key bias.

#[test]
fn a_non_zero_key_bias_is_refused() {
    let name = "encoder/layer_1/self_attention/linear_0/bias";
    let mut m = whisper();
    let mut bias = m.src(name).to_vec();
    bias[STATE + 3] = -0.5; // in the key third
    m.set(name, bias);
    let err = convert_err(&m);
    assert!(
        matches!(&err, Error::NonZeroKeyBias { name: n, max_abs } if n == name && *max_abs == 0.5),
        "{err:?}"
    );

    let name = "decoder/layer_0/attention/linear_1/bias";
    let mut m = whisper();
    let mut bias = m.src(name).to_vec();
    bias[0] = 0.5; // in the key half
    m.set(name, bias);
    let err = convert_err(&m);
    assert!(
        matches!(&err, Error::NonZeroKeyBias { name: n, max_abs } if n == name && *max_abs == 0.5),
        "{err:?}"
    );
}

// ---------------------------------------------------------------------------
// 4. Types, shapes and the on-disk dimension order.

#[test]
fn types_and_shapes_follow_whisper_cpp() {
    let c = Converted::of(&whisper());
    let check = |name: &str, ty: GgmlType, shape: &[usize]| {
        let t = c.tensor(name);
        assert_eq!((t.ty, t.shape.as_slice()), (ty, shape), "{name}");
    };
    check("encoder.conv1.weight", GgmlType::F16, &[STATE, MELS, 3]);
    check("encoder.conv2.weight", GgmlType::F16, &[STATE, STATE, 3]);
    check("encoder.conv1.bias", GgmlType::F32, &[STATE, 1]);
    check("encoder.conv2.bias", GgmlType::F32, &[STATE, 1]);
    check(
        "encoder.positional_embedding",
        GgmlType::F32,
        &[AUDIO_CTX, STATE],
    );
    check(
        "decoder.positional_embedding",
        GgmlType::F32,
        &[TEXT_CTX, STATE],
    );
    check(
        "decoder.token_embedding.weight",
        GgmlType::F16,
        &[N_VOCAB, STATE],
    );
    check("encoder.ln_post.weight", GgmlType::F32, &[STATE]);
    check(
        "decoder.blocks.1.mlp.0.weight",
        GgmlType::F16,
        &[4 * STATE, STATE],
    );
    check("decoder.blocks.1.mlp.0.bias", GgmlType::F32, &[4 * STATE]);
    check(
        "encoder.blocks.2.mlp.2.weight",
        GgmlType::F16,
        &[STATE, 4 * STATE],
    );

    // The general rule: matrices f16, vectors f32, except the positional
    // embeddings and the conv biases, which stay f32.
    for t in &c.info.tensors {
        let keep_f32 = t.name.ends_with("positional_embedding")
            || t.name.starts_with("encoder.conv") && t.name.ends_with(".bias");
        let expected = if t.shape.len() >= 2 && !keep_f32 {
            GgmlType::F16
        } else {
            GgmlType::F32
        };
        assert_eq!(t.ty, expected, "{} {:?}", t.name, t.shape);
    }

    // On disk the dims are innermost first, as ggml's ne[].
    let conv1 = raw_header_of(&c, "encoder.conv1.weight");
    assert_eq!(conv1.dims, vec![3, MELS as i32, STATE as i32]);
    assert_eq!(conv1.type_id, 1);
    let bias = raw_header_of(&c, "encoder.conv1.bias");
    assert_eq!(bias.dims, vec![1, STATE as i32]);
    assert_eq!(bias.type_id, 0);
    let mlp = raw_header_of(&c, "decoder.blocks.0.mlp.0.weight");
    assert_eq!(mlp.dims, vec![STATE as i32, 4 * STATE as i32]);
}

// ---------------------------------------------------------------------------
// 5. Tensor count.

#[test]
fn the_tensor_count_is_whisper_cpps() {
    let c = Converted::of(&whisper());
    // conv1 w/b, conv2 w/b, 2 positional embeddings, token embedding,
    // ln_post w/b, decoder ln w/b; 15 per encoder layer, 24 per decoder layer.
    let expected = 4 + 2 + 1 + 2 + 2 + 15 * ENCODER_LAYERS + 24 * DECODER_LAYERS;
    assert_eq!(c.info.tensors.len(), expected);
    assert_eq!(c.report.tensors, expected);
    let names: BTreeSet<&str> = c.info.tensors.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names.len(), expected, "tensor names are unique");
    for (side, layers, per_layer) in [
        ("encoder", ENCODER_LAYERS, 15),
        ("decoder", DECODER_LAYERS, 24),
    ] {
        for l in 0..layers {
            let prefix = format!("{side}.blocks.{l}.");
            let n = names.iter().filter(|n| n.starts_with(&prefix)).count();
            assert_eq!(n, per_layer, "{prefix}");
        }
        let beyond = format!("{side}.blocks.{layers}.");
        assert!(names.iter().all(|n| !n.starts_with(&beyond)));
    }
}

// ---------------------------------------------------------------------------
// 6. Refusals.

#[test]
fn every_truncation_is_an_error_not_a_panic() {
    let bytes = whisper().bytes();
    assert!(convert_bytes(bytes.clone(), VOCABULARY.as_bytes()).is_ok());
    for cut in 0..bytes.len() {
        match convert_bytes(bytes[..cut].to_vec(), VOCABULARY.as_bytes()) {
            Err(Error::Truncated { format, .. }) => assert_eq!(format, "CTranslate2"),
            Err(other) => panic!("cut at {cut} of {}: {other:?}", bytes.len()),
            Ok(_) => panic!("cut at {cut} of {} converted", bytes.len()),
        }
    }
}

#[test]
fn a_model_other_than_whisper_is_refused() {
    let bytes = whisper().bytes_as("TransformerSpec");
    let err = convert_bytes(bytes, VOCABULARY.as_bytes()).unwrap_err();
    assert!(
        matches!(&err, Error::NotWhisper { spec } if spec == "TransformerSpec"),
        "{err:?}"
    );
}

#[test]
fn unknown_variables_are_refused() {
    for name in [
        "encoder/adapter/weight",
        "joiner/weight",
        "encoder/layer_0/self_attention/linear_3/weight",
        "encoder/layer_0/attention/linear_1/weight",
        "decoder/layer_x/ffn/linear_0/weight",
    ] {
        let mut m = whisper();
        m.float(name, &[STATE, STATE]);
        let err = convert_err(&m);
        assert!(
            matches!(&err, Error::UnknownVariable { name: n } if n == name),
            "{name}: {err:?}"
        );
    }
}

#[test]
fn quantized_models_are_refused() {
    let weight = "encoder/layer_0/ffn/linear_0/weight";
    let mut m = whisper();
    let i = m.position(weight);
    m.variables[i].dtype = Ct2DataType::Int8;
    m.variables[i].data = (0..4 * STATE * STATE).map(|v| v as u8).collect();
    let without_scale = m.clone();
    m.float32(&format!("{weight}_scale"), &[4 * STATE]);
    let err = convert_err(&m);
    assert!(
        matches!(&err, Error::UnsupportedDtype { name, .. } if name == "encoder/layer_0/ffn/linear_0/weight_scale"),
        "{err:?}"
    );
    // An int8 matrix without its scale is refused when it is read.
    let err = convert_err(&without_scale);
    assert!(
        matches!(&err, Error::UnsupportedDtype { name, dtype } if name == weight && dtype == "int8"),
        "{err:?}"
    );
}

#[test]
fn missing_variables_are_refused() {
    for name in [
        "decoder/embeddings/weight",
        "encoder/position_encodings/encodings",
        "decoder/position_encodings/encodings",
        "encoder/conv1/weight",
    ] {
        let mut m = whisper();
        m.remove(name);
        let err = convert_err(&m);
        assert!(
            matches!(&err, Error::MissingVariable { name: n } if n == name),
            "{name}: {err:?}"
        );
    }
}

#[test]
fn a_vocabulary_that_does_not_fit_is_refused() {
    let bytes = whisper().bytes();
    let too_many: String =
        (0..=N_VOCAB).map(|i| format!("t{i}\n")).collect::<String>() + "<|endoftext|>\n";
    let err = convert_bytes(bytes.clone(), too_many.as_bytes()).unwrap_err();
    assert!(matches!(err, Error::Vocabulary(_)), "{err:?}");
    let err = convert_bytes(bytes, b"a\nb\n").unwrap_err();
    assert!(matches!(err, Error::Vocabulary(_)), "{err:?}");
}

// ---------------------------------------------------------------------------
// 7. Determinism.

#[test]
fn conversion_is_deterministic() {
    let a = Converted::of(&whisper());
    let b = Converted::of(&whisper());
    assert!(a.bytes == b.bytes, "two conversions differ");

    // The file-to-file route writes the same bytes.
    let dir = tempfile::tempdir().unwrap();
    let (model_bin, vocabulary, out) = (
        dir.path().join("model.bin"),
        dir.path().join("vocabulary.txt"),
        dir.path().join("ggml-model.bin"),
    );
    std::fs::write(&model_bin, whisper().bytes()).unwrap();
    std::fs::write(&vocabulary, VOCABULARY).unwrap();
    let report = convert_files(&model_bin, &vocabulary, &out).unwrap();
    let written = std::fs::read(&out).unwrap();
    assert!(written == a.bytes, "convert_files wrote different bytes");
    assert_eq!(report.bytes, written.len() as u64);
}

// ---------------------------------------------------------------------------
// 8. The mel filterbank against librosa.

#[test]
fn mel_filters_are_librosas_bit_for_bit() {
    // sha256 of librosa.filters.mel(sr=16000, n_fft=400, n_mels=N) as
    // little-endian float32 (librosa 0.11, numpy 2.4), which is also
    // OpenAI's mel_filters.npz: the filterbanks the converter writes.
    let f80 = filters(80);
    let f128 = filters(128);
    assert_eq!(f80.len(), 80 * N_FREQ_BINS);
    assert_eq!(f128.len(), 128 * N_FREQ_BINS);
    assert_eq!(f80[1], 0.024_862_595);
    let row79 = &f80[79 * N_FREQ_BINS..];
    assert_eq!(row79.iter().copied().fold(0f32, f32::max), 0.003_164_711_9);
    assert_eq!(f128[1], 0.012_373_987);
    assert_eq!(
        sha256_hex(&f80),
        "4f2701b1d287d74a0dc9871026e9519d98cb76426615f2539b0d151a0ae4ec2e"
    );
    assert_eq!(
        sha256_hex(&f128),
        "2a5f9822897750e047c85dea37cc268d3be0ecfd23c28a5f10da129d99d05afe"
    );
    // librosa's negative zero at 0 Hz survives.
    assert_eq!(f80[0].to_bits(), 0x8000_0000);
    assert_eq!(f128[0].to_bits(), 0x8000_0000);
}

// ---------------------------------------------------------------------------
// 9. File layout.

#[test]
fn the_file_is_header_filters_vocabulary_then_contiguous_tensors() {
    let c = Converted::of(&whisper());
    let filters = f32s(&c.bytes[MEL_DATA..MEL_DATA + 4 * MELS * N_FREQ_BINS]);
    assert_eq!(filters, tocky_models::mel::filters(MELS));
    assert!(filters.iter().any(|v| *v > 0.0));

    // Walk the tensors from the end of the vocabulary: each header follows
    // the previous data, matches read_info's entry, and the last data ends
    // the file.
    let (_, mut at) = raw_tokens(&c.bytes);
    for t in &c.info.tensors {
        let h = raw_header_at(&c.bytes, at);
        assert_eq!(h.name, t.name);
        assert_eq!(h.data_start, t.offset as usize, "{}", t.name);
        assert_eq!(h.type_id, t.ty.id(), "{}", t.name);
        let mut outermost_first: Vec<usize> = h.dims.iter().map(|d| *d as usize).collect();
        outermost_first.reverse();
        assert_eq!(outermost_first, t.shape, "{}", t.name);
        at = h.data_start + data_len(t);
    }
    assert_eq!(at, c.bytes.len(), "the last tensor ends the file");
    assert_eq!(c.info.file_size, c.bytes.len() as u64);
}

#[test]
fn malformed_models_are_refused_rather_than_written_wrong() {
    // A norm with a projection's parameter name, and a projection with a norm's.
    for name in [
        "encoder/layer_0/self_attention/layer_norm/weight",
        "encoder/layer_0/ffn/linear_0/gamma",
    ] {
        let mut m = whisper();
        m.float(name, &[STATE]);
        let err = convert_err(&m);
        assert!(
            matches!(&err, Error::UnknownVariable { name: n } if n == name),
            "{name}: {err:?}"
        );
    }
    // A missing per-layer variable.
    let mut m = whisper();
    let i = m.position("decoder/layer_1/ffn/linear_1/bias");
    m.variables.remove(i);
    let err = convert_err(&m);
    assert!(
        matches!(&err, Error::Malformed { reason, .. } if reason.contains("missing")),
        "{err:?}"
    );
    // Layers numbered with a gap.
    let mut m = whisper();
    for v in &mut m.variables {
        v.name = v.name.replace("decoder/layer_1/", "decoder/layer_7/");
    }
    let err = convert_err(&m);
    assert!(
        matches!(&err, Error::Malformed { reason, .. } if reason.contains("numbered")),
        "{err:?}"
    );
    // The same variable twice.
    let mut m = whisper();
    let i = m.position("encoder/layer_0/ffn/linear_0/weight");
    let twin = m.variables[i].clone();
    m.variables.push(twin);
    let err = convert_err(&m);
    assert!(
        matches!(&err, Error::Malformed { reason, .. } if reason.contains("already written")),
        "{err:?}"
    );
}

#[test]
fn empty_variables_are_refused_not_split_or_sized_from() {
    // A fused projection with no columns: splitting it by rows used to
    // panic (chunks of zero values).
    let mut m = whisper();
    let name = "encoder/layer_0/self_attention/linear_0/weight";
    let i = m.position(name);
    m.variables[i] = RawVariable::f16(name, &[3 * STATE, 0], &[]);
    let err = convert_err(&m);
    assert!(
        matches!(&err, Error::BadShape { name: n, .. } if n == name),
        "{err:?}"
    );

    // A kernel of width 0 carries no data, whatever its mel band count:
    // that count went into the header and sized the mel filters written.
    let mut m = whisper();
    let name = "encoder/conv1/weight";
    let i = m.position(name);
    m.variables[i] = RawVariable::f16(name, &[STATE, 1 << 16, 0], &[]);
    let err = convert_err(&m);
    assert!(
        matches!(&err, Error::BadShape { name: n, .. } if n == name),
        "{err:?}"
    );
}
