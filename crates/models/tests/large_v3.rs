//! large-v3's shapes (128 mel bands, 51866 tokens) carried through the
//! converter, on a narrow synthetic model. The full mapping is tested in
//! `convert.rs`.

// Test helpers panic on failure by design; clippy.toml only exempts #[test] fns.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Cursor;

use tocky_models::ct2::Ct2Model;
use tocky_models::ct2::writer::{RawVariable, to_bytes};
use tocky_models::{Error, GgmlModelInfo, convert, read_info};

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
    assert_eq!(filters, tocky_models::mel::filters(128));
    assert_eq!(filters[0].to_bits(), 0x8000_0000, "librosa's -0.0 at 0 Hz");
}
