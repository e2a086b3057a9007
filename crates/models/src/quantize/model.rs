//! Quantizing a whole ggml model file, streamed tensor by tensor: which
//! tensors change type, their record headers, and the rewritten header.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;

use half::f16;
use tocky_core::atomic::AtomicFile;

use super::block::push_f16;
use super::{BLOCK, QuantType, quantize_row, quantized_ftype_name, should_quantize};
use crate::error::{Error, Result};
use crate::ggml::{GgmlModelInfo, GgmlType, Hparams, MAGIC, TensorInfo, read_info};

/// Values decoded and encoded at a time: bounds memory to a few MiB.
const CHUNK_VALUES: usize = 1 << 18;
/// What a quantization produced.
#[derive(Debug, Clone)]
pub struct QuantizeReport {
    /// The type written.
    pub ty: QuantType,
    /// The output's hyperparameters (its `ftype` is [`QuantType::header_ftype`]).
    pub hparams: Hparams,
    /// Tensors written.
    pub tensors: usize,
    /// Of those, tensors quantized.
    pub quantized: usize,
    /// The input's size in bytes.
    pub bytes_in: u64,
    /// The output's size in bytes.
    pub bytes_out: u64,
}

/// Quantizes the ggml model `input` to `ty`, writing `output` atomically:
/// it appears complete or not at all, and a failure leaves no partial file.
pub fn quantize_file(input: &Path, output: &Path, ty: QuantType) -> Result<QuantizeReport> {
    if let (Ok(a), Ok(b)) = (input.canonicalize(), output.canonicalize())
        && a == b
    {
        return Err(Error::QuantizeInPlace {
            path: input.to_owned(),
        });
    }
    let file = File::open(input).map_err(|e| Error::io("opening", input, e))?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let target = AtomicFile::create(output).map_err(|e| Error::io("creating", output, e))?;
    let partial = target.partial_path().to_owned();
    let report = {
        let file = target
            .file()
            .map_err(|e| Error::io("creating", &partial, e))?;
        let mut writer = BufWriter::with_capacity(1 << 20, file);
        let report = quantize(&mut reader, &mut writer, ty).map_err(|e| match e {
            Error::Stream(io) if io.kind() == std::io::ErrorKind::StorageFull => {
                Error::io("writing", &partial, io)
            }
            other => other,
        })?;
        writer
            .flush()
            .map_err(|e| Error::io("writing", &partial, e))?;
        report
    };
    target
        .commit()
        .map_err(|e| Error::io("committing", output, e))?;
    Ok(report)
}

/// Quantizes the ggml model read from `input` to `ty`, writing the new
/// model to `out`. The input must be an f32 or f16 model.
pub fn quantize<R: Read + Seek, W: Write>(
    mut input: R,
    mut out: W,
    ty: QuantType,
) -> Result<QuantizeReport> {
    let info = read_info(&mut input)?;
    check_not_quantized(&info)?;

    // Header: magic, hyperparameters (with the new ftype), mel filters and
    // vocabulary, copied byte for byte.
    let header_len = match info.tensors.first() {
        Some(t) => t.offset - record_header_len(t),
        None => info.file_size,
    };
    let mut header = vec![0u8; usize::try_from(header_len).map_err(|_| too_large())?];
    input.seek(SeekFrom::Start(0))?;
    input.read_exact(&mut header)?;
    if header.len() < 48 || header[..4] != MAGIC.to_le_bytes() {
        return Err(Error::Malformed {
            format: "ggml",
            reason: "the header is shorter than its hyperparameters".into(),
        });
    }
    let hparams = Hparams {
        ftype: ty.header_ftype(),
        ..info.hparams
    };
    header[44..48].copy_from_slice(&hparams.ftype.to_le_bytes());
    out.write_all(&header)?;
    let mut bytes_out = header_len;

    let mut quantized = 0;
    let mut raw = Vec::new();
    let mut values = Vec::new();
    let mut encoded = Vec::new();
    for t in &info.tensors {
        let n: usize = t.shape.iter().product();
        let out_ty = if should_quantize(&t.name, &t.shape) {
            let row = t.shape.last().copied().unwrap_or(0);
            if row == 0 || !row.is_multiple_of(BLOCK) {
                return Err(Error::RowNotBlockAligned {
                    name: t.name.clone(),
                    row,
                    block: BLOCK,
                });
            }
            quantized += 1;
            ty.tensor_type()
        } else if t.shape.len() >= 3 && t.ty == GgmlType::F32 {
            // Convolution kernels: whisper.cpp loads them as f16 in any
            // model that is not all f32.
            GgmlType::F16
        } else {
            t.ty
        };
        bytes_out += write_record_header(&mut out, t, out_ty)?;
        input.seek(SeekFrom::Start(t.offset))?;

        if out_ty == t.ty {
            let size = t.ty.bytes_for(n).ok_or_else(too_large)?;
            let copied = std::io::copy(&mut (&mut input).take(size as u64), &mut out)?;
            if copied != size as u64 {
                return Err(truncated(&t.name));
            }
            bytes_out += copied;
            continue;
        }

        // Decode to f32 and re-encode, a whole number of rows at a time.
        let row = t.shape.last().copied().unwrap_or(1).max(1);
        let chunk = (CHUNK_VALUES / row).max(1) * row;
        let in_size = t.ty.block().1;
        let mut done = 0;
        while done < n {
            let count = chunk.min(n - done);
            raw.resize(count * in_size, 0);
            input.read_exact(&mut raw).map_err(|e| match e.kind() {
                std::io::ErrorKind::UnexpectedEof => truncated(&t.name),
                _ => Error::Stream(e),
            })?;
            values.clear();
            match t.ty {
                GgmlType::F32 => values.extend(
                    raw.chunks_exact(4)
                        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
                ),
                GgmlType::F16 => values.extend(
                    raw.chunks_exact(2)
                        .map(|b| f16::from_le_bytes([b[0], b[1]]).to_f32()),
                ),
                other => {
                    return Err(Error::AlreadyQuantized {
                        kind: format!("tensor {} is {}", t.name, other.name()),
                    });
                }
            }
            if let Some(i) = values.iter().position(|v| !v.is_finite()) {
                return Err(Error::NonFiniteWeight {
                    name: t.name.clone(),
                    index: done + i,
                });
            }
            encoded.clear();
            if out_ty == GgmlType::F16 {
                for v in &values {
                    push_f16(&mut encoded, *v);
                }
            } else {
                quantize_row(ty, &values, &mut encoded)?;
            }
            out.write_all(&encoded)?;
            bytes_out += encoded.len() as u64;
            done += count;
        }
    }
    out.flush()?;
    Ok(QuantizeReport {
        ty,
        hparams,
        tensors: info.tensors.len(),
        quantized,
        bytes_in: info.file_size,
        bytes_out,
    })
}

fn check_not_quantized(info: &GgmlModelInfo) -> Result<()> {
    if let Some(kind) = quantized_ftype_name(info.hparams.ftype) {
        return Err(Error::AlreadyQuantized {
            kind: format!("header ftype {} ({kind})", info.hparams.ftype),
        });
    }
    if let Some(t) = info
        .tensors
        .iter()
        .find(|t| !matches!(t.ty, GgmlType::F32 | GgmlType::F16))
    {
        return Err(Error::AlreadyQuantized {
            kind: format!("tensor {} is {}", t.name, t.ty.name()),
        });
    }
    Ok(())
}

/// Bytes of a tensor record before its data: three i32s, the dimensions,
/// the name.
fn record_header_len(t: &TensorInfo) -> u64 {
    (12 + 4 * t.shape.len() + t.name.len()) as u64
}

fn write_record_header<W: Write>(out: &mut W, t: &TensorInfo, ty: GgmlType) -> Result<u64> {
    let mut b = Vec::with_capacity(record_header_len(t) as usize);
    let int = |v: usize| i32::try_from(v).map_err(|_| too_large());
    b.extend_from_slice(&int(t.shape.len())?.to_le_bytes());
    b.extend_from_slice(&int(t.name.len())?.to_le_bytes());
    b.extend_from_slice(&ty.id().to_le_bytes());
    for d in t.shape.iter().rev() {
        b.extend_from_slice(&int(*d)?.to_le_bytes());
    }
    b.extend_from_slice(t.name.as_bytes());
    out.write_all(&b)?;
    Ok(b.len() as u64)
}

fn too_large() -> Error {
    Error::Malformed {
        format: "ggml",
        reason: "a size does not fit in memory".into(),
    }
}

fn truncated(name: &str) -> Error {
    Error::Truncated {
        format: "ggml",
        what: format!("the data of {name}"),
    }
}
