//! Encoding and decoding rows of blocks: ggml's reference quantization
//! functions for each type, byte for byte.

use half::f16;

use super::{BLOCK, QuantType};
use crate::error::{Error, Result};

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

pub(super) fn push_f16(out: &mut Vec<u8>, v: f32) {
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
