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
mod block;
mod model;

pub use block::{dequantize_row, quantize_row};
pub use model::{QuantizeReport, quantize, quantize_file};

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};
use crate::ggml::{GgmlType, QNT_VERSION_FACTOR};

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
#[cfg(test)]
mod tests {
    use super::*;
    use half::f16;

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
