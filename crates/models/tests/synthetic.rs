//! The converter on a small synthetic Whisper written as a CTranslate2 file:
//! header, fused projections split, the zero key bias dropped, refusals.

// Test helpers panic on failure by design; clippy.toml only exempts #[test] fns.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Cursor;

use tocky_models::ct2::Ct2Model;
use tocky_models::ct2::writer::{RawVariable, to_bytes};
use tocky_models::{Error, GgmlModelInfo, GgmlType, convert, read_info};

const STATE: usize = 8;
const HEADS: i16 = 2;
const MELS: usize = 4;

/// Values that say where they came from: row * 100 + column (exact in f16).
fn ramp(rows: usize, cols: usize) -> Vec<f32> {
    (0..rows)
        .flat_map(|r| (0..cols).map(move |c| (r * 100 + c) as f32 % 2000.0))
        .collect()
}

fn var(name: &str, shape: &[usize]) -> RawVariable {
    let n = shape.iter().product::<usize>();
    let rows = shape[0];
    RawVariable::f16(name, shape, &ramp(rows, n / rows))
}

/// A bias whose key third (or half) is zero, as CTranslate2 writes it.
fn fused_bias(name: &str, parts: usize, key_part: usize, key_value: f32) -> RawVariable {
    let n = STATE * parts;
    let values: Vec<f32> = (0..n)
        .map(|i| {
            if i / STATE == key_part {
                key_value
            } else {
                (i + 1) as f32
            }
        })
        .collect();
    RawVariable::f16(name, &[n], &values)
}

fn layer(side: &str, i: usize, key_bias: f32) -> Vec<RawVariable> {
    let p = format!("{side}/layer_{i}");
    let mut v = vec![
        var(
            &format!("{p}/self_attention/linear_0/weight"),
            &[3 * STATE, STATE],
        ),
        fused_bias(&format!("{p}/self_attention/linear_0/bias"), 3, 1, key_bias),
        var(
            &format!("{p}/self_attention/linear_1/weight"),
            &[STATE, STATE],
        ),
        var(&format!("{p}/self_attention/linear_1/bias"), &[STATE]),
        var(&format!("{p}/self_attention/layer_norm/gamma"), &[STATE]),
        var(&format!("{p}/self_attention/layer_norm/beta"), &[STATE]),
        var(&format!("{p}/ffn/layer_norm/gamma"), &[STATE]),
        var(&format!("{p}/ffn/layer_norm/beta"), &[STATE]),
        var(&format!("{p}/ffn/linear_0/weight"), &[4 * STATE, STATE]),
        var(&format!("{p}/ffn/linear_0/bias"), &[4 * STATE]),
        var(&format!("{p}/ffn/linear_1/weight"), &[STATE, 4 * STATE]),
        var(&format!("{p}/ffn/linear_1/bias"), &[STATE]),
    ];
    if side == "decoder" {
        v.extend([
            var(&format!("{p}/attention/linear_0/weight"), &[STATE, STATE]),
            var(&format!("{p}/attention/linear_0/bias"), &[STATE]),
            var(
                &format!("{p}/attention/linear_1/weight"),
                &[2 * STATE, STATE],
            ),
            fused_bias(&format!("{p}/attention/linear_1/bias"), 2, 0, 0.0),
            var(&format!("{p}/attention/linear_2/weight"), &[STATE, STATE]),
            var(&format!("{p}/attention/linear_2/bias"), &[STATE]),
            var(&format!("{p}/attention/layer_norm/gamma"), &[STATE]),
            var(&format!("{p}/attention/layer_norm/beta"), &[STATE]),
        ]);
    }
    v
}

struct Spec {
    n_vocab: usize,
    n_mels: usize,
    encoder_layers: usize,
    decoder_layers: usize,
    key_bias: f32,
}

impl Default for Spec {
    fn default() -> Self {
        Self {
            n_vocab: 12,
            n_mels: MELS,
            encoder_layers: 2,
            decoder_layers: 1,
            key_bias: 0.0,
        }
    }
}

fn variables(spec: &Spec) -> Vec<RawVariable> {
    let mut v = vec![
        RawVariable {
            name: "decoder/activation".into(),
            shape: vec![],
            dtype: tocky_models::ct2::Ct2DataType::Int8,
            data: vec![3],
        },
        RawVariable::i16_scalar("decoder/num_heads", HEADS),
        RawVariable::i16_scalar("encoder/num_heads", HEADS),
        var("decoder/embeddings/weight", &[spec.n_vocab, STATE]),
        var("decoder/layer_norm/gamma", &[STATE]),
        var("decoder/layer_norm/beta", &[STATE]),
        var("decoder/position_encodings/encodings", &[5, STATE]),
        var("encoder/conv1/weight", &[STATE, spec.n_mels, 3]),
        var("encoder/conv1/bias", &[STATE]),
        var("encoder/conv2/weight", &[STATE, STATE, 3]),
        var("encoder/conv2/bias", &[STATE]),
        var("encoder/layer_norm/gamma", &[STATE]),
        var("encoder/layer_norm/beta", &[STATE]),
        var("encoder/position_encodings/encodings", &[6, STATE]),
    ];
    for i in 0..spec.decoder_layers {
        v.extend(layer("decoder", i, spec.key_bias));
    }
    for i in 0..spec.encoder_layers {
        v.extend(layer("encoder", i, spec.key_bias));
    }
    v
}

fn vocabulary() -> Vec<u8> {
    "a\nb\nĠthe\n\n<|endoftext|>\n<|startoftranscript|>\n"
        .as_bytes()
        .to_vec()
}

fn ct2_bytes(spec: &Spec) -> Vec<u8> {
    to_bytes(
        "WhisperSpec",
        &variables(spec),
        &[("decoder/projection/weight", "decoder/embeddings/weight")],
    )
}

fn convert_bytes(bytes: Vec<u8>) -> Result<Vec<u8>, Error> {
    let mut model = Ct2Model::open(Cursor::new(bytes))?;
    let mut out = Vec::new();
    convert(&mut model, &vocabulary(), &mut out)?;
    Ok(out)
}

fn converted(spec: &Spec) -> (Vec<u8>, GgmlModelInfo) {
    let out = convert_bytes(ct2_bytes(spec)).unwrap();
    let info = read_info(Cursor::new(out.clone())).unwrap();
    (out, info)
}

/// A tensor's data decoded to f32.
fn tensor(out: &[u8], info: &GgmlModelInfo, name: &str) -> Vec<f32> {
    let t = info
        .tensors
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("no tensor {name}"));
    let n: usize = t.shape.iter().product();
    let start = t.offset as usize;
    match t.ty {
        GgmlType::F32 => out[start..start + 4 * n]
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
        GgmlType::F16 => out[start..start + 2 * n]
            .chunks_exact(2)
            .map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32())
            .collect(),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn header_carries_the_hyperparameters() {
    let (_, info) = converted(&Spec::default());
    let h = info.hparams;
    assert_eq!(
        (
            h.n_vocab,
            h.n_audio_ctx,
            h.n_audio_state,
            h.n_audio_head,
            h.n_audio_layer
        ),
        (12, 6, 8, 2, 2),
        "encoder/layer_norm must not count as a layer"
    );
    assert_eq!(
        (h.n_text_ctx, h.n_text_state, h.n_text_head, h.n_text_layer),
        (5, 8, 2, 1)
    );
    assert_eq!((h.n_mels, h.ftype), (MELS as i32, 1));
    assert_eq!(info.mel_shape, (MELS, 201));
    assert_eq!(
        info.n_tokens, 4,
        "ordinary tokens stop before <|endoftext|>"
    );
    // whisper.cpp's count: 4 conv + 2 positional + 1 embedding + 2 ln_post + 2 ln,
    // 15 per encoder layer, 24 per decoder layer.
    assert_eq!(info.tensors.len(), 11 + 15 * 2 + 24);
}

#[test]
fn large_v3_shapes_are_carried_through() {
    let (out, info) = converted(&Spec {
        n_vocab: 51866,
        n_mels: 128,
        ..Spec::default()
    });
    assert_eq!(info.hparams.n_vocab, 51866);
    assert_eq!(info.hparams.n_mels, 128);
    assert_eq!(info.mel_shape, (128, 201));
    // The file's filterbank is librosa's 128-band one.
    let start = 4 * 12 + 8;
    let filters: Vec<f32> = out[start..start + 128 * 201 * 4]
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    assert_eq!(filters, tocky_models::mel::slaney_filters(128));
}

#[test]
fn fused_qkv_is_split_by_rows_and_the_zero_key_bias_dropped() {
    let (out, info) = converted(&Spec::default());
    let fused = ramp(3 * STATE, STATE);
    for (i, part) in ["query", "key", "value"].iter().enumerate() {
        let name = format!("encoder.blocks.1.attn.{part}.weight");
        assert_eq!(
            tensor(&out, &info, &name),
            fused[i * STATE * STATE..(i + 1) * STATE * STATE],
            "{name}"
        );
    }
    let q_bias = tensor(&out, &info, "encoder.blocks.1.attn.query.bias");
    assert_eq!(q_bias, (1..=8).map(|v| v as f32).collect::<Vec<_>>());
    let v_bias = tensor(&out, &info, "decoder.blocks.0.attn.value.bias");
    assert_eq!(v_bias, (17..=24).map(|v| v as f32).collect::<Vec<_>>());
    assert!(
        info.tensors.iter().all(|t| !t.name.ends_with("key.bias")),
        "key biases must be dropped"
    );

    // Cross-attention: key is the first half of linear_1, value the second.
    let kv = ramp(2 * STATE, STATE);
    assert_eq!(
        tensor(&out, &info, "decoder.blocks.0.cross_attn.key.weight"),
        kv[..STATE * STATE]
    );
    assert_eq!(
        tensor(&out, &info, "decoder.blocks.0.cross_attn.value.weight"),
        kv[STATE * STATE..]
    );
    assert_eq!(
        tensor(&out, &info, "decoder.blocks.0.cross_attn.value.bias"),
        (9..=16).map(|v| v as f32).collect::<Vec<_>>()
    );
}

#[test]
fn types_and_shapes_follow_whisper_cpp() {
    let (out, info) = converted(&Spec::default());
    let find = |name: &str| info.tensors.iter().find(|t| t.name == name).unwrap();
    let conv1 = find("encoder.conv1.weight");
    assert_eq!(
        (conv1.ty, conv1.shape.clone()),
        (GgmlType::F16, vec![STATE, MELS, 3])
    );
    let bias = find("encoder.conv1.bias");
    assert_eq!(
        (bias.ty, bias.shape.clone()),
        (GgmlType::F32, vec![STATE, 1])
    );
    assert_eq!(find("encoder.positional_embedding").ty, GgmlType::F32);
    assert_eq!(find("decoder.positional_embedding").ty, GgmlType::F32);
    assert_eq!(find("decoder.token_embedding.weight").ty, GgmlType::F16);
    assert_eq!(find("encoder.ln_post.weight").ty, GgmlType::F32);
    assert_eq!(
        find("decoder.blocks.0.mlp.0.weight").shape,
        vec![4 * STATE, STATE]
    );
    assert_eq!(
        find("decoder.blocks.0.mlp.2.weight").shape,
        vec![STATE, 4 * STATE]
    );
    // On disk the dims are innermost first: conv1 is written (3, MELS, STATE).
    let header = conv1.offset as usize - "encoder.conv1.weight".len() - 3 * 4;
    let dims: Vec<i32> = out[header..header + 12]
        .chunks_exact(4)
        .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    assert_eq!(dims, vec![3, MELS as i32, STATE as i32]);
    // The tensors cover the file exactly.
    let last = info.tensors.last().unwrap();
    let n: usize = last.shape.iter().product();
    assert_eq!(
        last.offset as usize + n * if last.ty == GgmlType::F16 { 2 } else { 4 },
        out.len()
    );
}

#[test]
fn conversion_is_deterministic() {
    let (a, _) = converted(&Spec::default());
    let (b, _) = converted(&Spec::default());
    assert_eq!(a, b);
}

#[test]
fn a_non_zero_key_bias_is_refused() {
    let err = convert_bytes(ct2_bytes(&Spec {
        key_bias: 0.5,
        ..Spec::default()
    }))
    .unwrap_err();
    assert!(
        matches!(err, Error::NonZeroKeyBias { max_abs, .. } if max_abs == 0.5),
        "{err:?}"
    );
}

#[test]
fn a_truncated_file_is_an_error_at_every_cut() {
    let bytes = ct2_bytes(&Spec::default());
    for cut in (0..bytes.len()).step_by(97).chain([bytes.len() - 1]) {
        let result = convert_bytes(bytes[..cut].to_vec());
        assert!(result.is_err(), "cut at {cut} of {} converted", bytes.len());
    }
}

#[test]
fn models_it_does_not_understand_are_refused() {
    let spec = Spec::default();
    let not_whisper = to_bytes("TransformerSpec", &variables(&spec), &[]);
    assert!(matches!(
        convert_bytes(not_whisper).unwrap_err(),
        Error::NotWhisper { .. }
    ));

    let mut extra = variables(&spec);
    extra.push(var("encoder/adapter/weight", &[STATE, STATE]));
    let err = convert_bytes(to_bytes("WhisperSpec", &extra, &[])).unwrap_err();
    assert!(
        matches!(&err, Error::UnknownVariable { name } if name == "encoder/adapter/weight"),
        "{err:?}"
    );

    let mut quantized = variables(&spec);
    quantized.push(var(
        "encoder/layer_0/ffn/linear_0/weight_scale",
        &[4 * STATE],
    ));
    let err = convert_bytes(to_bytes("WhisperSpec", &quantized, &[])).unwrap_err();
    assert!(matches!(err, Error::UnsupportedDtype { .. }), "{err:?}");

    let without_embedding: Vec<RawVariable> = variables(&spec)
        .into_iter()
        .filter(|v| v.name != "decoder/embeddings/weight")
        .collect();
    let err = convert_bytes(to_bytes("WhisperSpec", &without_embedding, &[])).unwrap_err();
    assert!(matches!(err, Error::MissingVariable { .. }), "{err:?}");
}
