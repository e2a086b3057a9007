//! whisper.cpp's integer quantization of a ggml model: `q8_0`, `q5_1`,
//! `q5_0` and `q4_0`, written exactly as whisper.cpp's own `quantize` tool
//! writes them.
//!
//! The rules follow whisper.cpp's `examples/quantize/quantize.cpp` and
//! `ggml_common_quantize_0`:
//! - only two-dimensional tensors are quantized, except the positional
//!   embeddings and the convolution biases (shaped `(n, 1)`), which stay
//!   f32. That leaves the attention and MLP matrices and the token
//!   embedding: exactly the tensors whisper.cpp loads with the file's weight
//!   type. Vectors (norms, biases) and the convolution kernels keep their
//!   type;
//! - the header's `ftype` becomes `GGML_QNT_VERSION * 1000 + GGML_FTYPE`
//!   (2007 for q8_0, 2009 for q5_1, 2008 for q5_0, 2002 for q4_0);
//! - each block of 32 values is encoded by ggml's reference functions
//!   (`quantize_row_*_ref` in `ggml-quants.c`), which whisper.cpp itself
//!   uses for model files: same scale, same rounding, same nibble and
//!   high-bit order. The output is therefore deterministic and
//!   byte-for-byte what whisper.cpp would write.
//!
//! One deliberate difference: whisper.cpp loads the convolution kernels of a
//! quantized model as f16, so kernels stored as f32 (in an all-f32 model)
//! are written as f16 here, where whisper.cpp's tool would copy them and
//! produce a file its own loader rejects.
//!
//! The model is streamed: memory holds a few rows of one tensor, never the
//! model.

use std::fmt;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::str::FromStr;

use half::f16;
use tocky_core::atomic::AtomicFile;

use crate::error::{Error, Result};
use crate::ggml::{
    GgmlModelInfo, GgmlType, Hparams, MAGIC, QNT_VERSION_FACTOR, TensorInfo, read_info,
};

/// ggml's quantization format version (`GGML_QNT_VERSION`), which
/// whisper.cpp stores in the header's `ftype` of quantized files.
pub const QNT_VERSION: i32 = 2;

/// Values per quantized block, for every type here.
pub const BLOCK: usize = 32;

/// Tensors that stay as they are even though they are two-dimensional
/// (whisper.cpp's `to_skip` list).
pub const NOT_QUANTIZED: [&str; 4] = [
    "encoder.conv1.bias",
    "encoder.conv2.bias",
    "encoder.positional_embedding",
    "decoder.positional_embedding",
];

/// Values decoded and encoded at a time: bounds memory to a few MiB.
const CHUNK_VALUES: usize = 1 << 18;

/// A quantization type that whisper.cpp can load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum QuantType {
    /// 8 bits per weight and an f16 scale per 32 (8.5 bits per weight).
    Q8_0,
    /// 5 bits per weight, an f16 scale and minimum per 32 (6 bits per weight).
    Q5_1,
    /// 5 bits per weight and an f16 scale per 32 (5.5 bits per weight).
    Q5_0,
    /// 4 bits per weight and an f16 scale per 32 (4.5 bits per weight).
    Q4_0,
}

impl QuantType {
    /// Every type, most accurate first.
    pub const ALL: [QuantType; 4] = [Self::Q8_0, Self::Q5_1, Self::Q5_0, Self::Q4_0];

    /// The types' names, as [`QuantType::name`] gives them, in [`QuantType::ALL`]'s order.
    pub const NAMES: [&'static str; 4] = ["q8_0", "q5_1", "q5_0", "q4_0"];

    /// The ggml tensor type of the quantized matrices.
    pub fn tensor_type(self) -> GgmlType {
        match self {
            Self::Q8_0 => GgmlType::Q8_0,
            Self::Q5_1 => GgmlType::Q5_1,
            Self::Q5_0 => GgmlType::Q5_0,
            Self::Q4_0 => GgmlType::Q4_0,
        }
    }

    /// ggml's file type (`GGML_FTYPE_MOSTLY_*`).
    pub fn file_type(self) -> i32 {
        match self {
            Self::Q8_0 => 7,
            Self::Q5_1 => 9,
            Self::Q5_0 => 8,
            Self::Q4_0 => 2,
        }
    }

    /// The header's `ftype` for a file of this type, with the quantization
    /// version folded in as whisper.cpp does.
    pub fn header_ftype(self) -> i32 {
        QNT_VERSION * QNT_VERSION_FACTOR + self.file_type()
    }

    /// The type's lower-case name (`q8_0` …).
    pub fn name(self) -> &'static str {
        self.tensor_type().name()
    }

    /// Bytes per block of [`BLOCK`] values.
    pub fn block_bytes(self) -> usize {
        self.tensor_type().block().1
    }
}

impl fmt::Display for QuantType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for QuantType {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|t| t.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| Error::UnknownQuantType { name: s.to_owned() })
    }
}

/// Whether whisper.cpp quantizes the tensor `name` of `shape`: the
/// two-dimensional ones that [`NOT_QUANTIZED`] does not list.
pub fn should_quantize(name: &str, shape: &[usize]) -> bool {
    shape.len() == 2 && !NOT_QUANTIZED.contains(&name)
}

/// The name of a header `ftype` that marks a quantized file, or `None` for
/// f32 (0) and f16 (1).
fn quantized_ftype_name(ftype: i32) -> Option<String> {
    if ftype == 0 || ftype == 1 {
        return None;
    }
    let base = ftype % QNT_VERSION_FACTOR;
    Some(
        match base {
            2 => "q4_0",
            3 | 4 => "q4_1",
            7 => "q8_0",
            8 => "q5_0",
            9 => "q5_1",
            _ => return Some(format!("ggml file type {ftype}")),
        }
        .to_owned(),
    )
}

/// Quantizes `values` (a whole number of [`BLOCK`]s) to `ty`, appending the
/// blocks to `out`.
pub fn quantize_row(ty: QuantType, values: &[f32], out: &mut Vec<u8>) -> Result<()> {
    if !values.len().is_multiple_of(BLOCK) {
        return Err(Error::RowNotBlockAligned {
            name: "(row)".into(),
            row: values.len(),
            block: BLOCK,
        });
    }
    out.reserve(values.len() / BLOCK * ty.block_bytes());
    for block in values.chunks_exact(BLOCK) {
        match ty {
            QuantType::Q8_0 => q8_0_block(block, out),
            QuantType::Q5_1 => q5_1_block(block, out),
            QuantType::Q5_0 => q5_0_block(block, out),
            QuantType::Q4_0 => q4_0_block(block, out),
        }
    }
    Ok(())
}

/// Decodes blocks of `ty` back to values, as ggml's `dequantize_row_*` does.
pub fn dequantize_row(ty: QuantType, data: &[u8]) -> Result<Vec<f32>> {
    let size = ty.block_bytes();
    if !data.len().is_multiple_of(size) {
        return Err(Error::Malformed {
            format: "ggml",
            reason: format!("{} bytes are not whole {ty} blocks of {size}", data.len()),
        });
    }
    let mut out = Vec::with_capacity(data.len() / size * BLOCK);
    for b in data.chunks_exact(size) {
        let d = f16::from_le_bytes([b[0], b[1]]).to_f32();
        match ty {
            QuantType::Q8_0 => out.extend(b[2..].iter().map(|q| f32::from(*q as i8) * d)),
            QuantType::Q4_0 => {
                let qs = &b[2..18];
                out.extend(qs.iter().map(|q| f32::from(i16::from(q & 0x0F) - 8) * d));
                out.extend(qs.iter().map(|q| f32::from(i16::from(q >> 4) - 8) * d));
            }
            QuantType::Q5_0 | QuantType::Q5_1 => {
                let (m, rest) = if ty == QuantType::Q5_1 {
                    (f16::from_le_bytes([b[2], b[3]]).to_f32(), &b[4..])
                } else {
                    (0.0, &b[2..])
                };
                let qh = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]);
                let qs = &rest[4..20];
                let value = |q: u8, bit: usize| {
                    let high = ((qh >> bit) & 1) as u8;
                    let q = i16::from(q | (high << 4));
                    if ty == QuantType::Q5_0 {
                        f32::from(q - 16) * d
                    } else {
                        f32::from(q) * d + m
                    }
                };
                out.extend(qs.iter().enumerate().map(|(j, q)| value(q & 0x0F, j)));
                out.extend(qs.iter().enumerate().map(|(j, q)| value(q >> 4, j + 16)));
            }
        }
    }
    Ok(out)
}

fn push_f16(out: &mut Vec<u8>, v: f32) {
    out.extend_from_slice(&f16::from_f32(v).to_le_bytes());
}

/// The inverse of a scale, or 0 for a zero scale (`d ? 1.0f/d : 0.0f`).
fn inverse(d: f32) -> f32 {
    if d != 0.0 { 1.0 / d } else { 0.0 }
}

/// The value of largest magnitude, the first one on ties, with its sign.
fn signed_absmax(x: &[f32]) -> f32 {
    let (mut amax, mut max) = (0.0f32, 0.0f32);
    for &v in x {
        if amax < v.abs() {
            amax = v.abs();
            max = v;
        }
    }
    max
}

/// `quantize_row_q8_0_ref`: `d = amax / 127`, `q = round(x / d)`.
fn q8_0_block(x: &[f32], out: &mut Vec<u8>) {
    let amax = x
        .iter()
        .fold(0.0f32, |a, v| if a > v.abs() { a } else { v.abs() });
    let d = amax / 127.0;
    let id = inverse(d);
    push_f16(out, d);
    // `as i8` saturates; the products lie in [-127, 127] anyway.
    out.extend(x.iter().map(|v| (v * id).round() as i8 as u8));
}

/// `quantize_row_q4_0_ref`: `d = max / -8`, `q = min(15, trunc(x / d + 8.5))`;
/// value `j` in the low nibble of byte `j`, value `16 + j` in its high nibble.
fn q4_0_block(x: &[f32], out: &mut Vec<u8>) {
    let d = signed_absmax(x) / -8.0;
    let id = inverse(d);
    push_f16(out, d);
    let q = |v: f32| ((v * id + 8.5) as i8).min(15) as u8;
    out.extend((0..16).map(|j| q(x[j]) | (q(x[16 + j]) << 4)));
}

/// `quantize_row_q5_0_ref`: `d = max / -16`, `q = min(31, trunc(x / d + 16.5))`;
/// low four bits as in q4_0, the fifth bit of value `i` in bit `i` of `qh`.
fn q5_0_block(x: &[f32], out: &mut Vec<u8>) {
    let d = signed_absmax(x) / -16.0;
    let id = inverse(d);
    push_f16(out, d);
    let q = |v: f32| ((v * id + 16.5) as i8).min(31) as u8;
    five_bit(x, q, out);
}

/// `quantize_row_q5_1_ref`: `d = (max - min) / 31`, `m = min`,
/// `q = trunc((x - min) / d + 0.5)`; bits laid out as in q5_0.
fn q5_1_block(x: &[f32], out: &mut Vec<u8>) {
    let (mut min, mut max) = (f32::MAX, -f32::MAX);
    for &v in x {
        if v < min {
            min = v;
        }
        if v > max {
            max = v;
        }
    }
    let d = (max - min) / 31.0;
    let id = inverse(d);
    push_f16(out, d);
    push_f16(out, min);
    let q = |v: f32| ((v - min) * id + 0.5) as u8;
    five_bit(x, q, out);
}

/// Writes `qh` then the 16 bytes of low nibbles of 32 five-bit values.
fn five_bit(x: &[f32], q: impl Fn(f32) -> u8, out: &mut Vec<u8>) {
    let mut qh = 0u32;
    let mut qs = [0u8; 16];
    for j in 0..16 {
        let (lo, hi) = (q(x[j]), q(x[16 + j]));
        qs[j] = (lo & 0x0F) | ((hi & 0x0F) << 4);
        qh |= u32::from((lo & 0x10) >> 4) << j;
        qh |= u32::from((hi & 0x10) >> 4) << (j + 16);
    }
    out.extend_from_slice(&qh.to_le_bytes());
    out.extend_from_slice(&qs);
}

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

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic pseudo-random block generator (xorshift), with a
    /// roughly normal spread like trained weights.
    fn noise(n: usize, seed: u32, scale: f32) -> Vec<f32> {
        let mut x = seed.max(1);
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as f32 / u32::MAX as f32 - 0.5
        };
        (0..n)
            .map(|_| (next() + next() + next() + next()) * scale)
            .collect()
    }

    fn quantized(ty: QuantType, x: &[f32]) -> Vec<u8> {
        let mut out = Vec::new();
        quantize_row(ty, x, &mut out).unwrap();
        out
    }

    /// x[0] = -2, every other value 1: a block every type encodes simply.
    fn simple_block() -> Vec<f32> {
        let mut x = vec![1.0f32; 32];
        x[0] = -2.0;
        x
    }

    #[test]
    fn names_parse_and_header_ftypes_match_whisper_cpp() {
        for ty in QuantType::ALL {
            assert_eq!(ty.name().parse::<QuantType>().unwrap(), ty);
            assert_eq!(ty.to_string(), ty.name());
        }
        assert_eq!(QuantType::NAMES, QuantType::ALL.map(QuantType::name));
        assert_eq!("Q8_0".parse::<QuantType>().unwrap(), QuantType::Q8_0);
        let e = "q3_k".parse::<QuantType>().unwrap_err();
        assert!(matches!(e, Error::UnknownQuantType { .. }), "{e}");
        assert!(e.to_string().contains("q8_0"), "{e}");
        let ftypes: Vec<i32> = QuantType::ALL.iter().map(|t| t.header_ftype()).collect();
        assert_eq!(ftypes, [2007, 2009, 2008, 2002]);
        let sizes: Vec<usize> = QuantType::ALL.iter().map(|t| t.block_bytes()).collect();
        assert_eq!(sizes, [34, 24, 22, 18]);
    }

    #[test]
    fn which_tensors_are_quantized() {
        assert!(should_quantize(
            "encoder.blocks.0.attn.query.weight",
            &[512, 512]
        ));
        assert!(should_quantize(
            "decoder.token_embedding.weight",
            &[51865, 512]
        ));
        assert!(!should_quantize("encoder.blocks.0.attn.query.bias", &[512]));
        assert!(!should_quantize("encoder.conv1.weight", &[512, 80, 3]));
        assert!(!should_quantize("encoder.conv1.bias", &[512, 1]));
        assert!(!should_quantize(
            "encoder.positional_embedding",
            &[1500, 512]
        ));
        assert!(!should_quantize(
            "decoder.positional_embedding",
            &[448, 512]
        ));
    }

    #[test]
    fn q8_0_known_block() {
        let b = quantized(QuantType::Q8_0, &simple_block());
        // d = 2/127 rounds to f16 0x2408; 1 * 63.5 rounds away from zero to 64.
        assert_eq!(b[..2], [0x08, 0x24]);
        assert_eq!(b[2], (-127i8) as u8);
        assert!(b[3..].iter().all(|q| *q == 64));
        assert_eq!(b.len(), 34);
    }

    #[test]
    fn q4_0_known_block() {
        let b = quantized(QuantType::Q4_0, &simple_block());
        // d = -2 / -8 = 0.25 (f16 0x3400); -2 → 0, 1 → 12.
        assert_eq!(b[..2], [0x00, 0x34]);
        assert_eq!(b[2], 0xC0); // value 0 low, value 16 high
        assert!(b[3..].iter().all(|q| *q == 0xCC));
        assert_eq!(dequantize_row(QuantType::Q4_0, &b).unwrap(), simple_block());
    }

    #[test]
    fn q5_0_known_block() {
        let b = quantized(QuantType::Q5_0, &simple_block());
        // d = 0.125 (f16 0x3000); -2 → 0, 1 → 24 = 0b1_1000.
        assert_eq!(b[..2], [0x00, 0x30]);
        assert_eq!(b[2..6], 0xFFFF_FFFEu32.to_le_bytes());
        assert_eq!(b[6], 0x80);
        assert!(b[7..].iter().all(|q| *q == 0x88));
        assert_eq!(dequantize_row(QuantType::Q5_0, &b).unwrap(), simple_block());
    }

    #[test]
    fn q5_1_known_block() {
        let b = quantized(QuantType::Q5_1, &simple_block());
        // d = 3/31, m = -2 (f16 0xC000); -2 → 0, 1 → 31.
        assert_eq!(b[..2], f16::from_f32(3.0 / 31.0).to_le_bytes());
        assert_eq!(b[2..4], [0x00, 0xC0]);
        assert_eq!(b[4..8], 0xFFFF_FFFEu32.to_le_bytes());
        assert_eq!(b[8], 0xF0);
        assert!(b[9..].iter().all(|q| *q == 0xFF));
        let back = dequantize_row(QuantType::Q5_1, &b).unwrap();
        assert_eq!(back[0], -2.0);
        assert!(back[1..].iter().all(|v| (v - 1.0).abs() < 2e-3), "{back:?}");
    }

    #[test]
    fn zeros_encode_as_ggml_does() {
        let zeros = [0.0f32; 32];
        assert_eq!(quantized(QuantType::Q8_0, &zeros), vec![0u8; 34]);
        // 0 / -8 is -0.0, as in C: the f16 scale is 0x8000.
        let q4 = quantized(QuantType::Q4_0, &zeros);
        assert_eq!(q4[..2], [0x00, 0x80]);
        assert!(q4[2..].iter().all(|q| *q == 0x88));
        let q5 = quantized(QuantType::Q5_0, &zeros);
        assert_eq!(q5[..2], [0x00, 0x80]);
        assert_eq!(q5[2..6], u32::MAX.to_le_bytes());
        assert!(q5[6..].iter().all(|q| *q == 0));
        assert_eq!(quantized(QuantType::Q5_1, &zeros), vec![0u8; 24]);
        for ty in QuantType::ALL {
            let back = dequantize_row(ty, &quantized(ty, &zeros)).unwrap();
            assert_eq!(back, zeros);
        }
    }

    #[test]
    fn round_trip_error_stays_within_each_format_s_step() {
        for seed in 1..40u32 {
            let scale = [0.02, 0.5, 3.0][seed as usize % 3];
            let x = noise(32 * 8, seed, scale);
            for ty in QuantType::ALL {
                let back = dequantize_row(ty, &quantized(ty, &x)).unwrap();
                assert_eq!(back.len(), x.len());
                for (block, deq) in x.chunks(32).zip(back.chunks(32)) {
                    let amax = block.iter().fold(0.0f32, |a, v| a.max(v.abs()));
                    let (min, max) = block
                        .iter()
                        .fold((f32::MAX, f32::MIN), |(a, b), v| (a.min(*v), b.max(*v)));
                    // Half a step of rounding plus the scale's f16 rounding;
                    // the symmetric 4- and 5-bit types clip the largest value
                    // of the opposite sign by up to a whole step.
                    let bound = match ty {
                        QuantType::Q8_0 => 0.6 * amax / 127.0,
                        QuantType::Q5_0 => 1.05 * amax / 16.0,
                        QuantType::Q4_0 => 1.05 * amax / 8.0,
                        QuantType::Q5_1 => 0.6 * (max - min) / 31.0 + min.abs() / 1024.0,
                    };
                    for (a, b) in block.iter().zip(deq) {
                        assert!(
                            (a - b).abs() <= bound,
                            "{ty} seed {seed}: {a} → {b}, bound {bound}"
                        );
                    }
                }
                // Typical error, relative to the signal.
                let err: f32 = x.iter().zip(&back).map(|(a, b)| (a - b).powi(2)).sum();
                let sig: f32 = x.iter().map(|a| a * a).sum();
                let rel = (err / sig).sqrt();
                let limit = match ty {
                    QuantType::Q8_0 => 0.01,
                    QuantType::Q5_1 => 0.06,
                    QuantType::Q5_0 => 0.07,
                    QuantType::Q4_0 => 0.14,
                };
                assert!(rel < limit, "{ty} seed {seed}: relative RMS error {rel}");
            }
        }
    }

    #[test]
    fn the_largest_value_is_exact_in_symmetric_types() {
        // The value that sets the scale maps to the end of the range.
        let x = noise(32, 7, 1.0);
        let i = (0..32)
            .max_by(|a, b| x[*a].abs().total_cmp(&x[*b].abs()))
            .unwrap();
        for ty in [QuantType::Q8_0, QuantType::Q5_0, QuantType::Q4_0] {
            let back = dequantize_row(ty, &quantized(ty, &x)).unwrap();
            let rel = ((back[i] - x[i]) / x[i]).abs();
            assert!(rel < 1e-3, "{ty}: {} → {}", x[i], back[i]);
        }
    }

    #[test]
    fn quantization_is_deterministic_and_block_local() {
        let x = noise(32 * 64, 99, 0.1);
        for ty in QuantType::ALL {
            let whole = quantized(ty, &x);
            assert_eq!(whole, quantized(ty, &x));
            let pieces: Vec<u8> = x.chunks(32).flat_map(|b| quantized(ty, b)).collect();
            assert_eq!(whole, pieces);
            assert_eq!(whole.len(), 64 * ty.block_bytes());
        }
    }

    #[test]
    fn rows_must_be_whole_blocks() {
        let mut out = Vec::new();
        let e = quantize_row(QuantType::Q8_0, &[0.0; 40], &mut out).unwrap_err();
        assert!(
            matches!(e, Error::RowNotBlockAligned { row: 40, .. }),
            "{e}"
        );
        assert!(dequantize_row(QuantType::Q4_0, &[0u8; 17]).is_err());
    }

    #[test]
    fn quantized_header_ftypes_are_recognised() {
        assert_eq!(quantized_ftype_name(0), None);
        assert_eq!(quantized_ftype_name(1), None);
        for ty in QuantType::ALL {
            assert_eq!(
                quantized_ftype_name(ty.header_ftype()).as_deref(),
                Some(ty.name())
            );
            // Files from before quantization versions carried the bare type.
            assert_eq!(
                quantized_ftype_name(ty.file_type()).as_deref(),
                Some(ty.name())
            );
        }
    }
}
