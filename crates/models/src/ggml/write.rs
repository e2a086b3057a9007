//! [`GgmlWriter`]: writes a ggml model file's parts in order.

use std::io::Write;

use super::{FORMAT, GgmlType, Hparams, MAGIC};
use crate::error::{Error, Result};

/// Writes the parts of a ggml file in order.
pub struct GgmlWriter<W> {
    pub(super) out: W,
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
