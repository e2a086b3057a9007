//! whisper.cpp's ggml model file: hyperparameters, mel filters, vocabulary,
//! then tensors. This module writes it and reads its header back.

use std::io::{Read, Seek, SeekFrom, Write};

use crate::error::{Error, Result};

const FORMAT: &str = "ggml";
/// The file's magic number, `ggml` in ASCII.
pub const MAGIC: u32 = 0x6767_6d6c;
/// whisper.cpp stores `ftype` as `version * 1000 + type` for quantized files.
pub const QNT_VERSION_FACTOR: i32 = 1000;

/// Whisper's hyperparameters, in file order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hparams {
    /// Vocabulary size, special tokens included.
    pub n_vocab: i32,
    /// Encoder positions (1500 for 30 s).
    pub n_audio_ctx: i32,
    /// Encoder width.
    pub n_audio_state: i32,
    /// Encoder attention heads.
    pub n_audio_head: i32,
    /// Encoder layers.
    pub n_audio_layer: i32,
    /// Decoder positions.
    pub n_text_ctx: i32,
    /// Decoder width.
    pub n_text_state: i32,
    /// Decoder attention heads.
    pub n_text_head: i32,
    /// Decoder layers.
    pub n_text_layer: i32,
    /// Mel bands (80, or 128 for large-v3).
    pub n_mels: i32,
    /// The weights' type: 0 f32, 1 f16, or a quantized type.
    pub ftype: i32,
}

impl Hparams {
    fn fields(&self) -> [i32; 11] {
        [
            self.n_vocab,
            self.n_audio_ctx,
            self.n_audio_state,
            self.n_audio_head,
            self.n_audio_layer,
            self.n_text_ctx,
            self.n_text_state,
            self.n_text_head,
            self.n_text_layer,
            self.n_mels,
            self.ftype,
        ]
    }

    /// The model's size by whisper.cpp's naming, from its encoder depth.
    pub fn size_name(&self) -> &'static str {
        match self.n_audio_layer {
            4 => "tiny",
            6 => "base",
            12 => "small",
            24 => "medium",
            32 => "large",
            _ => "unknown",
        }
    }

    /// Whether the model is multilingual (English-only models have 51864 tokens).
    pub fn is_multilingual(&self) -> bool {
        self.n_vocab >= 51865
    }
}

/// A ggml tensor element type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GgmlType {
    /// 32-bit float.
    F32,
    /// 16-bit float.
    F16,
    /// 4-bit blocks with an f16 scale.
    Q4_0,
    /// 4-bit blocks with an f16 scale and minimum.
    Q4_1,
    /// 5-bit blocks with an f16 scale.
    Q5_0,
    /// 5-bit blocks with an f16 scale and minimum.
    Q5_1,
    /// 8-bit blocks with an f16 scale.
    Q8_0,
    /// k-quant: 2-bit, super-blocks of 256 (made by whisper.cpp's quantizer,
    /// read but not written by tocky; likewise the other k-quants).
    Q2K,
    /// k-quant: 3-bit.
    Q3K,
    /// k-quant: 4-bit.
    Q4K,
    /// k-quant: 5-bit.
    Q5K,
    /// k-quant: 6-bit.
    Q6K,
}

impl GgmlType {
    /// The type's id in the file.
    pub fn id(self) -> i32 {
        match self {
            Self::F32 => 0,
            Self::F16 => 1,
            Self::Q4_0 => 2,
            Self::Q4_1 => 3,
            Self::Q5_0 => 6,
            Self::Q5_1 => 7,
            Self::Q8_0 => 8,
            Self::Q2K => 10,
            Self::Q3K => 11,
            Self::Q4K => 12,
            Self::Q5K => 13,
            Self::Q6K => 14,
        }
    }

    /// The type with file id `id`.
    pub fn from_id(id: i32) -> Option<Self> {
        Some(match id {
            0 => Self::F32,
            1 => Self::F16,
            2 => Self::Q4_0,
            3 => Self::Q4_1,
            6 => Self::Q5_0,
            7 => Self::Q5_1,
            8 => Self::Q8_0,
            10 => Self::Q2K,
            11 => Self::Q3K,
            12 => Self::Q4K,
            13 => Self::Q5K,
            14 => Self::Q6K,
            _ => return None,
        })
    }

    /// Elements per block, and bytes per block.
    pub fn block(self) -> (usize, usize) {
        match self {
            Self::F32 => (1, 4),
            Self::F16 => (1, 2),
            Self::Q4_0 => (32, 18),
            Self::Q4_1 => (32, 20),
            Self::Q5_0 => (32, 22),
            Self::Q5_1 => (32, 24),
            Self::Q8_0 => (32, 34),
            // ggml's block_q2_K … block_q6_K.
            Self::Q2K => (256, 84),
            Self::Q3K => (256, 110),
            Self::Q4K => (256, 144),
            Self::Q5K => (256, 176),
            Self::Q6K => (256, 210),
        }
    }

    /// Bytes taken by `n` elements, if `n` is a whole number of blocks.
    pub fn bytes_for(self, n: usize) -> Option<usize> {
        let (elems, bytes) = self.block();
        n.is_multiple_of(elems).then(|| n / elems * bytes)
    }

    /// A lower-case name for messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::F32 => "f32",
            Self::F16 => "f16",
            Self::Q4_0 => "q4_0",
            Self::Q4_1 => "q4_1",
            Self::Q5_0 => "q5_0",
            Self::Q5_1 => "q5_1",
            Self::Q8_0 => "q8_0",
            Self::Q2K => "q2_k",
            Self::Q3K => "q3_k",
            Self::Q4K => "q4_k",
            Self::Q5K => "q5_k",
            Self::Q6K => "q6_k",
        }
    }
}

/// Writes the parts of a ggml file in order.
pub struct GgmlWriter<W> {
    out: W,
    written: u64,
    tensors: usize,
}

impl<W: Write> GgmlWriter<W> {
    /// Starts a file: magic and hyperparameters.
    pub fn new(out: W, hparams: &Hparams) -> Result<Self> {
        let mut w = Self {
            out,
            written: 0,
            tensors: 0,
        };
        w.i32(MAGIC as i32)?;
        for v in hparams.fields() {
            w.i32(v)?;
        }
        Ok(w)
    }

    /// Writes the mel filterbank: `n_mel`, `n_fft` (frequency bins), values.
    pub fn mel_filters(&mut self, n_mel: usize, n_fft: usize, values: &[f32]) -> Result<()> {
        self.i32(to_i32(n_mel)?)?;
        self.i32(to_i32(n_fft)?)?;
        for v in values {
            self.bytes(&v.to_le_bytes())?;
        }
        Ok(())
    }

    /// Writes the vocabulary: a count, then each token as length and bytes.
    pub fn vocabulary(&mut self, tokens: &[Vec<u8>]) -> Result<()> {
        self.i32(to_i32(tokens.len())?)?;
        for t in tokens {
            self.i32(to_i32(t.len())?)?;
            self.bytes(t)?;
        }
        Ok(())
    }

    /// Writes a tensor of `shape` (outermost first) as f32 or f16.
    pub fn tensor(
        &mut self,
        name: &str,
        shape: &[usize],
        ty: GgmlType,
        data: &[f32],
    ) -> Result<()> {
        let encoded: Vec<u8> = match ty {
            GgmlType::F32 => data.iter().flat_map(|v| v.to_le_bytes()).collect(),
            GgmlType::F16 => data
                .iter()
                .flat_map(|v| half::f16::from_f32(*v).to_le_bytes())
                .collect(),
            other => {
                return Err(Error::Malformed {
                    format: FORMAT,
                    reason: format!("{name}: use tensor_raw for {} data", other.name()),
                });
            }
        };
        self.tensor_raw(name, shape, ty, &encoded)
    }

    /// Writes a tensor whose data is already encoded as `ty`.
    pub fn tensor_raw(
        &mut self,
        name: &str,
        shape: &[usize],
        ty: GgmlType,
        data: &[u8],
    ) -> Result<()> {
        let n: usize = shape.iter().product();
        if ty.bytes_for(n) != Some(data.len()) {
            return Err(Error::Malformed {
                format: FORMAT,
                reason: format!(
                    "{name}: {} bytes for {n} {} elements",
                    data.len(),
                    ty.name()
                ),
            });
        }
        self.i32(to_i32(shape.len())?)?;
        self.i32(to_i32(name.len())?)?;
        self.i32(ty.id())?;
        for d in shape.iter().rev() {
            self.i32(to_i32(*d)?)?;
        }
        self.bytes(name.as_bytes())?;
        self.bytes(data)?;
        self.tensors += 1;
        Ok(())
    }

    /// Flushes and returns the tensor count and bytes written.
    pub fn finish(mut self) -> Result<(usize, u64)> {
        self.out.flush()?;
        Ok((self.tensors, self.written))
    }

    fn i32(&mut self, v: i32) -> Result<()> {
        self.bytes(&v.to_le_bytes())
    }

    fn bytes(&mut self, b: &[u8]) -> Result<()> {
        self.out.write_all(b)?;
        self.written += b.len() as u64;
        Ok(())
    }
}

fn to_i32(v: usize) -> Result<i32> {
    i32::try_from(v).map_err(|_| Error::Malformed {
        format: FORMAT,
        reason: format!("{v} does not fit in i32"),
    })
}

/// One tensor's entry in a ggml file.
#[derive(Debug, Clone)]
pub struct TensorInfo {
    /// Its name, such as `encoder.conv1.weight`.
    pub name: String,
    /// Its shape, outermost first.
    pub shape: Vec<usize>,
    /// Its element type.
    pub ty: GgmlType,
    /// Where its data starts in the file.
    pub offset: u64,
}

/// What a ggml model file says about itself.
#[derive(Debug, Clone)]
pub struct GgmlModelInfo {
    /// Hyperparameters.
    pub hparams: Hparams,
    /// Mel filterbank shape: bands and frequency bins.
    pub mel_shape: (usize, usize),
    /// Ordinary tokens in the file's vocabulary.
    pub n_tokens: usize,
    /// The tensors in file order.
    pub tensors: Vec<TensorInfo>,
    /// The file's size in bytes.
    pub file_size: u64,
}

/// Reads a ggml file's header and tensor index, checking every length
/// against the file's size; tensor data is skipped, not read.
pub fn read_info<R: Read + Seek>(mut r: R) -> Result<GgmlModelInfo> {
    let file_size = r.seek(SeekFrom::End(0))?;
    r.seek(SeekFrom::Start(0))?;
    let mut reader = Bounded {
        r: &mut r,
        file_size,
    };
    if reader.i32("the magic number")? as u32 != MAGIC {
        return Err(Error::malformed(
            FORMAT,
            "bad magic number (not a whisper.cpp ggml model)".into(),
        ));
    }
    let mut f = [0i32; 11];
    for v in f.iter_mut() {
        *v = reader.i32("the hyperparameters")?;
    }
    let hparams = Hparams {
        n_vocab: f[0],
        n_audio_ctx: f[1],
        n_audio_state: f[2],
        n_audio_head: f[3],
        n_audio_layer: f[4],
        n_text_ctx: f[5],
        n_text_state: f[6],
        n_text_head: f[7],
        n_text_layer: f[8],
        n_mels: f[9],
        ftype: f[10],
    };
    if f[..10].iter().any(|v| *v <= 0) {
        return Err(Error::malformed(
            FORMAT,
            format!("implausible hyperparameters {hparams:?}"),
        ));
    }

    let n_mel = reader.count("the mel filter shape")?;
    let n_fft = reader.count("the mel filter shape")?;
    reader.skip(n_mel as u64 * n_fft as u64 * 4, "the mel filters")?;
    let n_tokens = reader.count("the vocabulary size")?;
    for id in 0..n_tokens {
        let len = reader.count(&format!("token {id}"))?;
        reader.skip(len as u64, &format!("token {id}"))?;
    }

    let mut tensors = Vec::new();
    while reader.position()? < file_size {
        let index = tensors.len();
        let n_dims = reader.count(&format!("tensor {index}"))?;
        let name_len = reader.count(&format!("tensor {index}"))?;
        let ty_id = reader.i32(&format!("tensor {index}"))?;
        if !(1..=4).contains(&n_dims) || name_len > 4096 {
            return Err(Error::malformed(
                FORMAT,
                format!("tensor {index}: {n_dims} dims, {name_len}-byte name"),
            ));
        }
        let mut shape = Vec::with_capacity(n_dims);
        for _ in 0..n_dims {
            shape.push(reader.count(&format!("the shape of tensor {index}"))?);
        }
        shape.reverse();
        let name =
            String::from_utf8(reader.bytes(name_len, &format!("the name of tensor {index}"))?)
                .map_err(|_| {
                    Error::malformed(FORMAT, format!("the name of tensor {index} is not UTF-8"))
                })?;
        let ty = GgmlType::from_id(ty_id).ok_or_else(|| {
            Error::malformed(FORMAT, format!("{name}: unknown tensor type {ty_id}"))
        })?;
        let n = shape.iter().try_fold(1usize, |acc, d| acc.checked_mul(*d));
        let size = n.and_then(|n| ty.bytes_for(n)).ok_or_else(|| {
            Error::malformed(
                FORMAT,
                format!("{name}: shape {shape:?} does not fit {}", ty.name()),
            )
        })?;
        let offset = reader.position()?;
        reader.skip(size as u64, &format!("the data of {name}"))?;
        tensors.push(TensorInfo {
            name,
            shape,
            ty,
            offset,
        });
    }
    Ok(GgmlModelInfo {
        hparams,
        mel_shape: (n_mel, n_fft),
        n_tokens,
        tensors,
        file_size,
    })
}

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

struct Bounded<'a, R> {
    r: &'a mut R,
    file_size: u64,
}

impl<R: Read + Seek> Bounded<'_, R> {
    fn i32(&mut self, what: &str) -> Result<i32> {
        let mut b = [0u8; 4];
        self.r
            .read_exact(&mut b)
            .map_err(|e| Error::on_read(FORMAT, what, e))?;
        Ok(i32::from_le_bytes(b))
    }

    /// A non-negative count or length.
    fn count(&mut self, what: &str) -> Result<usize> {
        let v = self.i32(what)?;
        usize::try_from(v)
            .map_err(|_| Error::malformed(FORMAT, format!("{what}: negative value {v}")))
    }

    fn bytes(&mut self, len: usize, what: &str) -> Result<Vec<u8>> {
        let mut b = vec![0u8; len];
        self.r
            .read_exact(&mut b)
            .map_err(|e| Error::on_read(FORMAT, what, e))?;
        Ok(b)
    }

    fn position(&mut self) -> Result<u64> {
        Ok(self.r.stream_position()?)
    }

    fn skip(&mut self, len: u64, what: &str) -> Result<()> {
        let pos = self.position()?;
        match pos.checked_add(len) {
            Some(end) if end <= self.file_size => {
                self.r.seek(SeekFrom::Start(end))?;
                Ok(())
            }
            _ => Err(Error::Truncated {
                format: FORMAT,
                what: what.to_owned(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
