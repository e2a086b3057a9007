//! [`read_info`]: reads a ggml model file's header and tensor index back,
//! bounded by the file's size.

use std::io::{Read, Seek, SeekFrom};

use super::{FORMAT, GgmlType, Hparams, MAGIC};
use crate::error::{Error, Result};

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
