//! [`check_loadable`]: whether whisper.cpp can load a ggml model without
//! tripping over the file, and the tensors it builds from the hyperparameters.

use super::{FORMAT, GgmlModelInfo, GgmlType, Hparams, QNT_VERSION_FACTOR};
use crate::error::{Error, Result};

/// Frequency bins per mel band: whisper.cpp's FFT is fixed at 400 points
/// and it indexes the filters by this, whatever the file says.
const MEL_BINS: usize = crate::mel::N_FREQ_BINS;

/// The smallest vocabulary whisper.cpp can decode with: its special tokens
/// have fixed ids, and the English-only models' 51864 tokens end with the
/// last timestamp token. Every Whisper (tiny to large-v3, and fine-tunes
/// such as PhoWhisper) has 51864 to 51866.
pub const MIN_VOCAB: i32 = 51864;

/// Checks that whisper.cpp can load `info`'s model and decode with it
/// without tripping over the file: hyperparameters it relies on agree,
/// the mel filters have its shape, and the tensors are exactly those it
/// builds from the hyperparameters, with their shapes and types.
///
/// whisper.cpp trusts the file: it allocates the weights from the
/// hyperparameters before reading any tensor, copies up to four dimensions
/// per tensor into a four-slot array without a bound, and accepts a file
/// with no tensors at all. Checked first, a hostile or damaged file gets a
/// clear error instead, and the memory whisper.cpp allocates is bounded by
/// the tensors the file really holds.
pub fn check_loadable(info: &GgmlModelInfo) -> Result<()> {
    let h = &info.hparams;
    let bad = |reason: String| Error::malformed(FORMAT, reason);
    // read_info refuses these too, but `info` may have been built by hand.
    if h.fields()[..10].iter().any(|v| *v <= 0) {
        return Err(bad(format!("implausible hyperparameters {h:?}")));
    }
    let wtype = match (h.ftype >= 0).then_some(h.ftype % QNT_VERSION_FACTOR) {
        Some(0) => GgmlType::F32,
        Some(1) => GgmlType::F16,
        Some(2) => GgmlType::Q4_0,
        Some(3) => GgmlType::Q4_1,
        Some(7) => GgmlType::Q8_0,
        Some(8) => GgmlType::Q5_0,
        Some(9) => GgmlType::Q5_1,
        // ggml's GGML_FTYPE_MOSTLY_Q2_K … Q6_K.
        Some(10) => GgmlType::Q2K,
        Some(11) => GgmlType::Q3K,
        Some(12) => GgmlType::Q4K,
        Some(13) => GgmlType::Q5K,
        Some(14) => GgmlType::Q6K,
        _ => return Err(bad(format!("unsupported weight type (ftype {})", h.ftype))),
    };
    // Convolution kernels are f16 unless the whole model is f32.
    let vtype = if wtype == GgmlType::F32 {
        GgmlType::F32
    } else {
        GgmlType::F16
    };
    if h.n_audio_state != h.n_text_state {
        return Err(bad(format!(
            "encoder width {} differs from decoder width {}",
            h.n_audio_state, h.n_text_state
        )));
    }
    if h.n_audio_state % h.n_audio_head != 0 || h.n_text_state % h.n_text_head != 0 {
        return Err(bad(format!(
            "{} and {} heads do not divide the widths {} and {}",
            h.n_audio_head, h.n_text_head, h.n_audio_state, h.n_text_state
        )));
    }
    if h.n_vocab < MIN_VOCAB {
        return Err(bad(format!(
            "{} tokens: whisper.cpp needs at least {MIN_VOCAB}, where its special tokens lie",
            h.n_vocab
        )));
    }
    if info.mel_shape != (h.n_mels as usize, MEL_BINS) {
        return Err(bad(format!(
            "mel filters of shape {:?}, where whisper.cpp needs ({}, {MEL_BINS})",
            info.mel_shape, h.n_mels
        )));
    }
    // Compared before the expected tensors are listed, so that a huge
    // layer count cannot make the list huge.
    let expected_count = 11 + 15 * i64::from(h.n_audio_layer) + 24 * i64::from(h.n_text_layer);
    if info.tensors.len() as i64 != expected_count {
        return Err(bad(format!(
            "{} tensors, where {} encoder and {} decoder layers need {expected_count}",
            info.tensors.len(),
            h.n_audio_layer,
            h.n_text_layer
        )));
    }

    let mut expected = std::collections::HashMap::new();
    for (name, shape, ty) in whisper_tensors(h, wtype, vtype) {
        expected.insert(name, (shape, ty));
    }
    for t in &info.tensors {
        let Some((shape, ty)) = expected.remove(&t.name) else {
            return Err(bad(format!("unexpected or repeated tensor {:?}", t.name)));
        };
        // whisper.cpp compares dimensions innermost first, padded with 1.
        if padded(&t.shape) != padded(&shape) {
            return Err(bad(format!(
                "{}: shape {:?}, where whisper.cpp needs {shape:?}",
                t.name, t.shape
            )));
        }
        if t.ty != ty {
            return Err(bad(format!(
                "{}: {} data in a model whose weights are {}; whisper.cpp needs {}",
                t.name,
                t.ty.name(),
                wtype.name(),
                ty.name()
            )));
        }
        let row = t.shape.last().copied().unwrap_or(1);
        if !row.is_multiple_of(ty.block().0) {
            return Err(bad(format!(
                "{}: rows of {row} values are not whole {} blocks",
                t.name,
                ty.name()
            )));
        }
    }
    Ok(())
}

/// Dimensions innermost first, padded to ggml's four with 1.
fn padded(shape: &[usize]) -> [usize; 4] {
    let mut ne = [1; 4];
    for (slot, d) in ne.iter_mut().zip(shape.iter().rev()) {
        *slot = *d;
    }
    ne
}

/// The tensors whisper.cpp builds for `h` (name, shape outermost first,
/// type), as its `whisper_model_load` creates them.
fn whisper_tensors(
    h: &Hparams,
    wtype: GgmlType,
    vtype: GgmlType,
) -> Vec<(String, Vec<usize>, GgmlType)> {
    // Positive i32s (read_info refuses the rest), so these fit a usize.
    let dim = |v: i32| usize::try_from(v).unwrap_or(0);
    let (s, t) = (dim(h.n_audio_state), dim(h.n_text_state));
    let f32 = GgmlType::F32;
    let mut out = vec![
        (
            "encoder.positional_embedding".to_owned(),
            vec![dim(h.n_audio_ctx), s],
            f32,
        ),
        (
            "encoder.conv1.weight".to_owned(),
            vec![s, dim(h.n_mels), 3],
            vtype,
        ),
        ("encoder.conv1.bias".to_owned(), vec![s, 1], f32),
        ("encoder.conv2.weight".to_owned(), vec![s, s, 3], vtype),
        ("encoder.conv2.bias".to_owned(), vec![s, 1], f32),
        ("encoder.ln_post.weight".to_owned(), vec![s], f32),
        ("encoder.ln_post.bias".to_owned(), vec![s], f32),
        (
            "decoder.positional_embedding".to_owned(),
            vec![dim(h.n_text_ctx), t],
            f32,
        ),
        (
            "decoder.token_embedding.weight".to_owned(),
            vec![dim(h.n_vocab), t],
            wtype,
        ),
        ("decoder.ln.weight".to_owned(), vec![t], f32),
        ("decoder.ln.bias".to_owned(), vec![t], f32),
    ];
    let mut block = |prefix: String, n: usize, cross: bool| {
        let mut attn = |name: &str| {
            for p in ["query", "key", "value", "out"] {
                out.push((format!("{prefix}.{name}.{p}.weight"), vec![n, n], wtype));
                if p != "key" {
                    out.push((format!("{prefix}.{name}.{p}.bias"), vec![n], f32));
                }
            }
            out.push((format!("{prefix}.{name}_ln.weight"), vec![n], f32));
            out.push((format!("{prefix}.{name}_ln.bias"), vec![n], f32));
        };
        attn("attn");
        if cross {
            attn("cross_attn");
        }
        out.push((format!("{prefix}.mlp_ln.weight"), vec![n], f32));
        out.push((format!("{prefix}.mlp_ln.bias"), vec![n], f32));
        out.push((format!("{prefix}.mlp.0.weight"), vec![4 * n, n], wtype));
        out.push((format!("{prefix}.mlp.0.bias"), vec![4 * n], f32));
        out.push((format!("{prefix}.mlp.2.weight"), vec![n, 4 * n], wtype));
        out.push((format!("{prefix}.mlp.2.bias"), vec![n], f32));
    };
    for i in 0..h.n_audio_layer {
        block(format!("encoder.blocks.{i}"), s, false);
    }
    for i in 0..h.n_text_layer {
        block(format!("decoder.blocks.{i}"), t, true);
    }
    out
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::ggml::{GgmlWriter, read_info};
    use std::io::Cursor;

    fn hparams() -> Hparams {
        Hparams {
            n_vocab: MIN_VOCAB + 1,
            n_audio_ctx: 6,
            n_audio_state: 32,
            n_audio_head: 2,
            n_audio_layer: 2,
            n_text_ctx: 5,
            n_text_state: 32,
            n_text_head: 4,
            n_text_layer: 1,
            n_mels: 4,
            ftype: 1,
        }
    }

    /// A small model with every tensor whisper.cpp wants, all zeros.
    fn model(h: &Hparams, wtype: GgmlType) -> GgmlModelInfo {
        let mut w = GgmlWriter::new(Vec::new(), h).unwrap();
        let n_mels = h.n_mels as usize;
        w.mel_filters(n_mels, MEL_BINS, &vec![0.0; n_mels * MEL_BINS])
            .unwrap();
        w.vocabulary(&[b"a".to_vec(), b" b".to_vec()]).unwrap();
        for (name, shape, ty) in whisper_tensors(h, wtype, GgmlType::F16) {
            let n: usize = shape.iter().product();
            let bytes = vec![0u8; ty.bytes_for(n).unwrap()];
            w.tensor_raw(&name, &shape, ty, &bytes).unwrap();
        }
        read_info(Cursor::new(w.out)).unwrap()
    }

    fn refusal(info: &GgmlModelInfo) -> String {
        match check_loadable(info) {
            Err(e @ Error::Malformed { .. }) => e.to_string(),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn a_complete_model_is_loadable_in_each_weight_type() {
        let h = hparams();
        let info = model(&h, GgmlType::F16);
        assert_eq!(info.tensors.len(), 11 + 15 * 2 + 24);
        check_loadable(&info).unwrap();
        // q5_0 is ftype 8 (+ 2000 for the quantization version), and
        // tensor type 6.
        let info = model(&Hparams { ftype: 2008, ..h }, GgmlType::Q5_0);
        check_loadable(&info).unwrap();
        let info = model(&Hparams { ftype: 0, ..h }, GgmlType::F32);
        assert!(refusal(&info).contains("conv1.weight: f16 data"));
        // whisper.cpp's own quantizer also makes k-quants (q4_k is ftype
        // 12, tensor type 12), in super-blocks of 256.
        let wide = Hparams {
            n_audio_state: 256,
            n_text_state: 256,
            ftype: 2012,
            ..h
        };
        let info = model(&wide, GgmlType::Q4K);
        check_loadable(&info).unwrap();
        assert!(
            info.tensors
                .iter()
                .any(|t| t.ty == GgmlType::Q4K && t.shape == [256, 256])
        );
        // ggml's block_q4_K: 256 weights in 144 bytes.
        assert_eq!(GgmlType::Q4K.bytes_for(256 * 256), Some(256 * 144));
    }

    #[test]
    fn what_whisper_cpp_would_trip_over_is_refused() {
        let good = model(&hparams(), GgmlType::F16);

        // No tensors at all: whisper.cpp loads that as an "empty model".
        let mut info = good.clone();
        info.tensors.clear();
        assert!(refusal(&info).contains("0 tensors"));

        // Huge hyperparameters over a small file: refused before any list
        // of that size is built (and before whisper.cpp allocates it).
        let mut info = good.clone();
        info.hparams.n_text_layer = i32::MAX;
        assert!(refusal(&info).contains("tensors"));
        let mut info = good.clone();
        info.hparams.n_vocab = i32::MAX;
        assert!(refusal(&info).contains("token_embedding"));

        let mut info = good.clone();
        info.hparams.n_text_state = 64;
        assert!(refusal(&info).contains("width"));
        let mut info = good.clone();
        info.hparams.n_audio_head = 3;
        assert!(refusal(&info).contains("heads"));
        let mut info = good.clone();
        info.hparams.n_vocab = 10;
        assert!(refusal(&info).contains("51864"));
        let mut info = good.clone();
        info.mel_shape = (4, 200);
        assert!(refusal(&info).contains("mel filters"));
        for ftype in [-1, 4, 15, 1015] {
            let mut info = good.clone();
            info.hparams.ftype = ftype;
            assert!(refusal(&info).contains("ftype"), "{ftype}");
        }
        let mut info = good.clone();
        info.hparams.n_audio_ctx = 0;
        assert!(refusal(&info).contains("implausible"));

        // One tensor wrong in name, repetition, shape, or type.
        let mut info = good.clone();
        info.tensors[3].name = "encoder.conv3.weight".into();
        assert!(refusal(&info).contains("conv3"));
        let mut info = good.clone();
        info.tensors[4] = info.tensors[3].clone();
        assert!(refusal(&info).contains("repeated"));
        let mut info = good.clone();
        let i = info
            .tensors
            .iter()
            .position(|t| t.name == "decoder.blocks.0.cross_attn.key.weight")
            .unwrap();
        info.tensors[i].shape = vec![16, 64];
        assert!(refusal(&info).contains("cross_attn.key.weight: shape"));
        let mut info = good.clone();
        info.tensors[i].ty = GgmlType::F32;
        assert!(refusal(&info).contains("whisper.cpp needs f16"));
        // A 1-D tensor stored with an outer dimension of 1 is the same to
        // whisper.cpp.
        let mut info = good.clone();
        let j = info
            .tensors
            .iter()
            .position(|t| t.name == "decoder.ln.bias")
            .unwrap();
        info.tensors[j].shape = vec![1, 32];
        check_loadable(&info).unwrap();
    }

    #[test]
    fn quantized_rows_must_be_whole_blocks() {
        // Width 48 is 1.5 blocks of 32: no matrix row is whole q8_0 blocks,
        // though every matrix as a whole is.
        let h = Hparams {
            n_audio_state: 48,
            n_text_state: 48,
            n_vocab: 51_872,
            ftype: 1,
            ..hparams()
        };
        let mut info = model(&h, GgmlType::F16);
        info.hparams.ftype = 2007;
        for t in &mut info.tensors {
            if t.ty == GgmlType::F16 && t.shape.len() == 2 {
                t.ty = GgmlType::Q8_0;
            }
        }
        assert!(refusal(&info).contains("whole q8_0 blocks"));
    }
}
