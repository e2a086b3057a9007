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
