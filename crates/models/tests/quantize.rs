//! Quantizing a small synthetic ggml model: which tensors are quantized and
//! which keep their type, the header's ftype, the header bytes and the
//! untouched tensors copied exactly, values within each format's error,
//! determinism, atomic output, and the refusals (not ggml, truncated,
//! already quantized, rows that are not whole blocks, corrupt weights).

// Test helpers panic on failure by design; clippy.toml only exempts #[test] fns.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Cursor;

use tocky_models::ggml::{GgmlWriter, TensorInfo};
use tocky_models::quantize::dequantize_row;
use tocky_models::{
    Error, GgmlModelInfo, GgmlType, Hparams, QuantType, quantize, quantize_file, read_info,
};

const STATE: usize = 64;
const N_VOCAB: usize = 96;

fn hparams(ftype: i32) -> Hparams {
    Hparams {
        n_vocab: N_VOCAB as i32,
        n_audio_ctx: 6,
        n_audio_state: STATE as i32,
        n_audio_head: 2,
        n_audio_layer: 1,
        n_text_ctx: 5,
        n_text_state: STATE as i32,
        n_text_head: 2,
        n_text_layer: 1,
        n_mels: 4,
        ftype,
    }
}

/// Deterministic weight-like values for the tensor numbered `tag`.
fn values(tag: u32, n: usize) -> Vec<f32> {
    let mut x = 0x9E37_79B9u32.wrapping_mul(tag + 1);
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x as f32 / u32::MAX as f32 - 0.5) * 0.2
        })
        .collect()
}

/// The tensors of the synthetic model: name, shape (outermost first), and
/// its type in an f16 model.
fn layout() -> Vec<(&'static str, Vec<usize>, GgmlType)> {
    use GgmlType::{F16, F32};
    vec![
        ("encoder.positional_embedding", vec![6, STATE], F32),
        ("encoder.conv1.weight", vec![STATE, 4, 3], F16),
        ("encoder.conv1.bias", vec![STATE, 1], F32),
        (
            "encoder.blocks.0.attn.query.weight",
            vec![STATE, STATE],
            F16,
        ),
        ("encoder.blocks.0.attn.query.bias", vec![STATE], F32),
        ("encoder.blocks.0.mlp.0.weight", vec![4 * STATE, STATE], F16),
        ("encoder.blocks.0.mlp_ln.weight", vec![STATE], F32),
        ("decoder.positional_embedding", vec![5, STATE], F32),
        ("decoder.token_embedding.weight", vec![N_VOCAB, STATE], F16),
        ("decoder.ln.bias", vec![STATE], F32),
    ]
}

/// An f16 model (or, with `all_f32`, an f32 one) as whisper.cpp's
/// converters write it.
fn model(all_f32: bool) -> Vec<u8> {
    let mut bytes = Vec::new();
    let ftype = if all_f32 { 0 } else { 1 };
    let mut w = GgmlWriter::new(&mut bytes, &hparams(ftype)).unwrap();
    let filters = values(1000, 4 * 201);
    w.mel_filters(4, 201, &filters).unwrap();
    w.vocabulary(&[
        b"a".to_vec(),
        b" the".to_vec(),
        Vec::new(),
        "\u{1ec7}".into(),
    ])
    .unwrap();
    for (tag, (name, shape, ty)) in layout().into_iter().enumerate() {
        let n = shape.iter().product();
        let ty = if all_f32 { GgmlType::F32 } else { ty };
        w.tensor(name, &shape, ty, &values(tag as u32, n)).unwrap();
    }
    w.finish().unwrap();
    bytes
}

fn info(bytes: &[u8]) -> GgmlModelInfo {
    read_info(Cursor::new(bytes)).unwrap()
}

fn data<'a>(bytes: &'a [u8], t: &TensorInfo) -> &'a [u8] {
    let n: usize = t.shape.iter().product();
    let start = t.offset as usize;
    &bytes[start..start + t.ty.bytes_for(n).unwrap()]
}

fn quantized(input: &[u8], ty: QuantType) -> Vec<u8> {
    let mut out = Vec::new();
    let report = quantize(Cursor::new(input), &mut out, ty).unwrap();
    assert_eq!(report.bytes_out, out.len() as u64);
    assert_eq!(report.bytes_in, input.len() as u64);
    assert_eq!(report.tensors, layout().len());
    assert_eq!(report.quantized, 3);
    assert_eq!(report.hparams.ftype, ty.header_ftype());
    out
}

fn header_len(info: &GgmlModelInfo) -> usize {
    let t = &info.tensors[0];
    t.offset as usize - 12 - 4 * t.shape.len() - t.name.len()
}

#[test]
fn matrices_are_quantized_and_everything_else_is_copied() {
    let input = model(false);
    let before = info(&input);
    for ty in QuantType::ALL {
        let output = quantized(&input, ty);
        let after = info(&output);
        assert_eq!(
            after.hparams,
            Hparams {
                ftype: 2000 + ty.file_type(),
                ..before.hparams
            }
        );
        // Magic, hyperparameters other than ftype, mel filters and
        // vocabulary: the same bytes.
        let h = header_len(&before);
        assert_eq!(h, header_len(&after));
        assert_eq!(input[..44], output[..44]);
        assert_eq!(input[48..h], output[48..h]);
        assert_eq!(output[44..48], ty.header_ftype().to_le_bytes());

        assert_eq!(after.tensors.len(), before.tensors.len());
        for (a, b) in before.tensors.iter().zip(&after.tensors) {
            assert_eq!((&a.name, &a.shape), (&b.name, &b.shape));
            let is_matrix = a.name.ends_with("query.weight")
                || a.name.ends_with("mlp.0.weight")
                || a.name == "decoder.token_embedding.weight";
            if is_matrix {
                assert_eq!(b.ty, ty.tensor_type(), "{}", a.name);
                let original: Vec<f32> = data(&input, a)
                    .chunks_exact(2)
                    .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
                    .collect();
                let back = dequantize_row(ty, data(&output, b)).unwrap();
                assert_eq!(back.len(), original.len());
                // Values lie in ±0.1: a step of q4_0 is at most 0.1 / 8.
                let worst = original
                    .iter()
                    .zip(&back)
                    .map(|(x, y)| (x - y).abs())
                    .fold(0.0f32, f32::max);
                let limit = match ty {
                    QuantType::Q8_0 => 0.1 / 127.0,
                    QuantType::Q5_1 | QuantType::Q5_0 => 0.2 / 16.0,
                    QuantType::Q4_0 => 0.2 / 8.0,
                };
                assert!(worst <= limit, "{ty} {}: error {worst}", a.name);
            } else {
                assert_eq!(b.ty, a.ty, "{}", a.name);
                assert_eq!(data(&input, a), data(&output, b), "{}", a.name);
            }
        }
        // Quantized files are smaller.
        assert!(output.len() < input.len());
    }
}

#[test]
fn output_is_deterministic_and_files_match_streams() {
    let input = model(false);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ggml-tiny.bin");
    std::fs::write(&path, &input).unwrap();
    for ty in QuantType::ALL {
        let out = dir.path().join(format!("sub/ggml-tiny-{ty}.bin"));
        let report = quantize_file(&path, &out, ty).unwrap();
        let written = std::fs::read(&out).unwrap();
        assert_eq!(report.bytes_out, written.len() as u64);
        assert_eq!(written, quantized(&input, ty));
        // A second run gives the same bytes.
        quantize_file(&path, &out, ty).unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), written);
    }
    // No temporary file is left behind.
    let names: Vec<_> = std::fs::read_dir(dir.path().join("sub"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(names.iter().all(|n| !n.ends_with(".partial")), "{names:?}");
    assert_eq!(names.len(), 4);
}

#[test]
fn an_f32_model_is_quantized_with_f16_convolutions() {
    let input = model(true);
    let output = quantized(&input, QuantType::Q8_0);
    let after = info(&output);
    for t in &after.tensors {
        let expected = match t.name.as_str() {
            "encoder.conv1.weight" => GgmlType::F16,
            "encoder.blocks.0.attn.query.weight"
            | "encoder.blocks.0.mlp.0.weight"
            | "decoder.token_embedding.weight" => GgmlType::Q8_0,
            _ => GgmlType::F32,
        };
        assert_eq!(t.ty, expected, "{}", t.name);
    }
    // The f32 kernel becomes its f16 rounding.
    let conv_in = info(&input).tensors[1].clone();
    let conv_out = &after.tensors[1];
    let expected: Vec<u8> = data(&input, &conv_in)
        .chunks_exact(4)
        .flat_map(|b| {
            half::f16::from_f32(f32::from_le_bytes([b[0], b[1], b[2], b[3]])).to_le_bytes()
        })
        .collect();
    assert_eq!(data(&output, conv_out), expected);
}

#[test]
fn refusals_are_clear_errors_and_leave_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.bin");
    let input = model(false);
    let attempt = |bytes: &[u8]| -> Error {
        let path = dir.path().join("in.bin");
        std::fs::write(&path, bytes).unwrap();
        let e = quantize_file(&path, &out, QuantType::Q4_0).unwrap_err();
        assert!(!out.exists(), "{e}: an output was left behind");
        assert!(!dir.path().join("out.bin.partial").exists());
        e
    };

    let e = attempt(b"definitely not a ggml model, just some text");
    assert!(matches!(e, Error::Malformed { .. }), "{e}");
    assert!(
        e.to_string().contains("not a whisper.cpp ggml model"),
        "{e}"
    );

    let e = attempt(&input[..input.len() - 100]);
    assert!(matches!(e, Error::Truncated { .. }), "{e}");
    assert!(e.to_string().contains("truncated"), "{e}");
    let e = attempt(&input[..30]);
    assert!(matches!(e, Error::Truncated { .. }), "{e}");

    let e = attempt(&quantized(&input, QuantType::Q8_0));
    assert!(matches!(e, Error::AlreadyQuantized { .. }), "{e}");
    assert!(e.to_string().contains("q8_0"), "{e}");
    // A quantized tensor under an f16 header is caught too.
    let mut mixed = quantized(&input, QuantType::Q5_1);
    mixed[44..48].copy_from_slice(&1i32.to_le_bytes());
    let e = attempt(&mixed);
    assert!(matches!(e, Error::AlreadyQuantized { .. }), "{e}");

    // A matrix whose rows are not whole blocks of 32.
    let mut odd = Vec::new();
    let mut w = GgmlWriter::new(&mut odd, &hparams(1)).unwrap();
    w.mel_filters(1, 1, &[0.0]).unwrap();
    w.vocabulary(&[]).unwrap();
    w.tensor(
        "decoder.token_embedding.weight",
        &[4, 40],
        GgmlType::F16,
        &[0.5; 160],
    )
    .unwrap();
    w.finish().unwrap();
    let e = attempt(&odd);
    assert!(
        matches!(e, Error::RowNotBlockAligned { row: 40, .. }),
        "{e}"
    );

    // A corrupt weight.
    let mut nan = Vec::new();
    let mut w = GgmlWriter::new(&mut nan, &hparams(1)).unwrap();
    w.mel_filters(1, 1, &[0.0]).unwrap();
    w.vocabulary(&[]).unwrap();
    let mut bad = vec![0.5f32; 64];
    bad[37] = f32::NAN;
    w.tensor(
        "decoder.token_embedding.weight",
        &[2, 32],
        GgmlType::F32,
        &bad,
    )
    .unwrap();
    w.finish().unwrap();
    let e = attempt(&nan);
    assert!(matches!(e, Error::NonFiniteWeight { index: 37, .. }), "{e}");

    // Quantizing a file onto itself.
    let path = dir.path().join("in.bin");
    std::fs::write(&path, &input).unwrap();
    let e = quantize_file(&path, &path, QuantType::Q8_0).unwrap_err();
    assert!(matches!(e, Error::QuantizeInPlace { .. }), "{e}");
    assert_eq!(std::fs::read(&path).unwrap(), input);

    let e = quantize_file(&dir.path().join("missing.bin"), &out, QuantType::Q8_0).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Io {
                action: "opening",
                ..
            }
        ),
        "{e}"
    );
}
