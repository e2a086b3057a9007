//! Reader for CTranslate2 `model.bin` files (format version 6).
//!
//! The file is read in two passes: [`Ct2Model::open`] indexes every variable
//! (name, shape, type, offset) by seeking over the data, and
//! [`Ct2Model::read_f32`] fetches one variable's data on demand. Memory stays
//! at one tensor, even for large-v3.

use std::io::{Read, Seek, SeekFrom};

use crate::error::{Error, Result};

const FORMAT: &str = "CTranslate2";
/// The only format version this reader understands.
pub const SUPPORTED_VERSION: u32 = 6;
/// Ranks above this are refused as malformed (Whisper's largest is 3).
const MAX_RANK: u8 = 8;

/// The element type of a CTranslate2 variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ct2DataType {
    /// IEEE 754 single precision.
    Float32,
    /// Signed 8-bit integer (quantized weights, or small config values).
    Int8,
    /// Signed 16-bit integer.
    Int16,
    /// Signed 32-bit integer.
    Int32,
    /// IEEE 754 half precision.
    Float16,
    /// Brain floating point.
    BFloat16,
}

impl Ct2DataType {
    fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            0 => Self::Float32,
            1 => Self::Int8,
            2 => Self::Int16,
            3 => Self::Int32,
            4 => Self::Float16,
            5 => Self::BFloat16,
            _ => return None,
        })
    }

    /// The type's code in the file.
    pub fn code(self) -> u8 {
        match self {
            Self::Float32 => 0,
            Self::Int8 => 1,
            Self::Int16 => 2,
            Self::Int32 => 3,
            Self::Float16 => 4,
            Self::BFloat16 => 5,
        }
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            Self::Int8 => 1,
            Self::Int16 | Self::Float16 | Self::BFloat16 => 2,
            Self::Float32 | Self::Int32 => 4,
        }
    }

    /// A lower-case name for messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::Float32 => "float32",
            Self::Int8 => "int8",
            Self::Int16 => "int16",
            Self::Int32 => "int32",
            Self::Float16 => "float16",
            Self::BFloat16 => "bfloat16",
        }
    }
}

/// One variable of the model, as indexed.
#[derive(Debug, Clone)]
pub struct Ct2Variable {
    /// Its name, such as `encoder/conv1/weight`.
    pub name: String,
    /// Its shape, outermost dimension first (empty for a scalar).
    pub shape: Vec<usize>,
    /// Its element type.
    pub dtype: Ct2DataType,
    offset: u64,
}

impl Ct2Variable {
    /// The number of elements.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Whether the variable has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// An indexed CTranslate2 model file.
#[derive(Debug)]
pub struct Ct2Model<R> {
    reader: R,
    /// The spec name, `WhisperSpec` for Whisper.
    pub spec: String,
    /// The spec revision.
    pub revision: u32,
    variables: Vec<Ct2Variable>,
    /// Aliases as (alias, target) pairs.
    pub aliases: Vec<(String, String)>,
}

impl<R: Read + Seek> Ct2Model<R> {
    /// Reads the header and indexes every variable, checking that each one's
    /// data lies inside the file.
    pub fn open(mut reader: R) -> Result<Self> {
        let file_len = reader.seek(SeekFrom::End(0))?;
        reader.seek(SeekFrom::Start(0))?;
        let mut r = Cursor {
            reader: &mut reader,
            file_len,
        };

        let version = r.u32("the format version")?;
        if version != SUPPORTED_VERSION {
            return Err(Error::UnsupportedVersion { found: version });
        }
        let spec = r.string("the spec name")?;
        let revision = r.u32("the spec revision")?;
        let count = r.u32("the variable count")?;

        let mut variables = Vec::new();
        for index in 0..count {
            let name = r.string(&format!("the name of variable {index}"))?;
            let rank = r.u8(&format!("the rank of {name}"))?;
            if rank > MAX_RANK {
                return Err(Error::malformed(FORMAT, format!("{name} has rank {rank}")));
            }
            let mut shape = Vec::with_capacity(rank as usize);
            for _ in 0..rank {
                shape.push(r.u32(&format!("the shape of {name}"))? as usize);
            }
            let code = r.u8(&format!("the type of {name}"))?;
            let dtype = Ct2DataType::from_code(code).ok_or_else(|| {
                Error::malformed(FORMAT, format!("{name} has unknown type code {code}"))
            })?;
            let byte_len = u64::from(r.u32(&format!("the size of {name}"))?);
            let expected = shape
                .iter()
                .try_fold(dtype.size() as u64, |acc, &d| acc.checked_mul(d as u64));
            if expected != Some(byte_len) {
                return Err(Error::malformed(
                    FORMAT,
                    format!(
                        "{name}: {byte_len} data bytes for shape {shape:?} of {}",
                        dtype.name()
                    ),
                ));
            }
            let offset = r.position()?;
            r.skip(byte_len, &format!("the data of {name}"))?;
            variables.push(Ct2Variable {
                name,
                shape,
                dtype,
                offset,
            });
        }

        let alias_count = r.u32("the alias count")?;
        let mut aliases = Vec::new();
        for index in 0..alias_count {
            let alias = r.string(&format!("alias {index}"))?;
            let target = r.string(&format!("the target of alias {alias}"))?;
            aliases.push((alias, target));
        }

        Ok(Self {
            reader,
            spec,
            revision,
            variables,
            aliases,
        })
    }

    /// All variables, in file order.
    pub fn variables(&self) -> &[Ct2Variable] {
        &self.variables
    }

    /// The variable called `name`, if any.
    pub fn variable(&self, name: &str) -> Option<&Ct2Variable> {
        self.variables.iter().find(|v| v.name == name)
    }

    /// The variable called `name`, or a [`Error::MissingVariable`].
    pub fn require(&self, name: &str) -> Result<&Ct2Variable> {
        self.variable(name).ok_or_else(|| Error::MissingVariable {
            name: name.to_owned(),
        })
    }

    /// Reads a floating-point variable's data as `f32`, row-major.
    pub fn read_f32(&mut self, var: &Ct2Variable) -> Result<Vec<f32>> {
        let bytes = self.read_bytes(var)?;
        Ok(match var.dtype {
            Ct2DataType::Float32 => bytes
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
            Ct2DataType::Float16 => bytes
                .chunks_exact(2)
                .map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32())
                .collect(),
            Ct2DataType::BFloat16 => bytes
                .chunks_exact(2)
                .map(|c| half::bf16::from_le_bytes([c[0], c[1]]).to_f32())
                .collect(),
            other => {
                return Err(Error::UnsupportedDtype {
                    name: var.name.clone(),
                    dtype: other.name().to_owned(),
                });
            }
        })
    }

    /// Reads an integer scalar (a configuration value such as `num_heads`).
    pub fn read_int_scalar(&mut self, var: &Ct2Variable) -> Result<i64> {
        if !var.shape.is_empty() && var.len() != 1 {
            return Err(Error::BadShape {
                name: var.name.clone(),
                shape: var.shape.clone(),
                expected: "a scalar".to_owned(),
            });
        }
        let b = self.read_bytes(var)?;
        Ok(match var.dtype {
            Ct2DataType::Int8 => i64::from(b[0] as i8),
            Ct2DataType::Int16 => i64::from(i16::from_le_bytes([b[0], b[1]])),
            Ct2DataType::Int32 => i64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            other => {
                return Err(Error::UnsupportedDtype {
                    name: var.name.clone(),
                    dtype: other.name().to_owned(),
                });
            }
        })
    }

    fn read_bytes(&mut self, var: &Ct2Variable) -> Result<Vec<u8>> {
        let mut bytes = vec![0u8; var.len() * var.dtype.size()];
        self.reader.seek(SeekFrom::Start(var.offset))?;
        self.reader
            .read_exact(&mut bytes)
            .map_err(|e| Error::on_read(FORMAT, &var.name, e))?;
        Ok(bytes)
    }
}

/// Little-endian reads that turn a short file into [`Error::Truncated`].
struct Cursor<'a, R> {
    reader: &'a mut R,
    file_len: u64,
}

impl<R: Read + Seek> Cursor<'_, R> {
    fn exact<const N: usize>(&mut self, what: &str) -> Result<[u8; N]> {
        let mut buf = [0u8; N];
        self.reader
            .read_exact(&mut buf)
            .map_err(|e| Error::on_read(FORMAT, what, e))?;
        Ok(buf)
    }

    fn u8(&mut self, what: &str) -> Result<u8> {
        Ok(self.exact::<1>(what)?[0])
    }

    fn u16(&mut self, what: &str) -> Result<u16> {
        Ok(u16::from_le_bytes(self.exact(what)?))
    }

    fn u32(&mut self, what: &str) -> Result<u32> {
        Ok(u32::from_le_bytes(self.exact(what)?))
    }

    /// A string stored as a `u16` length that counts a trailing NUL.
    fn string(&mut self, what: &str) -> Result<String> {
        let len = self.u16(what)? as usize;
        let mut buf = vec![0u8; len];
        self.reader
            .read_exact(&mut buf)
            .map_err(|e| Error::on_read(FORMAT, what, e))?;
        if buf.pop() != Some(0) {
            return Err(Error::malformed(
                FORMAT,
                format!("{what} is not NUL-terminated"),
            ));
        }
        String::from_utf8(buf).map_err(|_| Error::malformed(FORMAT, format!("{what} is not UTF-8")))
    }

    fn position(&mut self) -> Result<u64> {
        Ok(self.reader.stream_position()?)
    }

    fn skip(&mut self, len: u64, what: &str) -> Result<()> {
        let pos = self.position()?;
        match pos.checked_add(len) {
            Some(end) if end <= self.file_len => {
                self.reader.seek(SeekFrom::Start(end))?;
                Ok(())
            }
            _ => Err(Error::Truncated {
                format: FORMAT,
                what: what.to_owned(),
            }),
        }
    }
}

/// Writes CTranslate2 files; used by tests to build small synthetic models.
pub mod writer {
    use super::Ct2DataType;

    /// One variable to write: name, shape, type and raw little-endian data.
    #[derive(Debug, Clone)]
    pub struct RawVariable {
        /// Its name.
        pub name: String,
        /// Its shape.
        pub shape: Vec<usize>,
        /// Its element type.
        pub dtype: Ct2DataType,
        /// Its data, little-endian.
        pub data: Vec<u8>,
    }

    impl RawVariable {
        /// A float16 variable from `f32` values.
        pub fn f16(name: &str, shape: &[usize], values: &[f32]) -> Self {
            let data = values
                .iter()
                .flat_map(|v| half::f16::from_f32(*v).to_le_bytes())
                .collect();
            Self {
                name: name.to_owned(),
                shape: shape.to_vec(),
                dtype: Ct2DataType::Float16,
                data,
            }
        }

        /// An int16 scalar.
        pub fn i16_scalar(name: &str, value: i16) -> Self {
            Self {
                name: name.to_owned(),
                shape: Vec::new(),
                dtype: Ct2DataType::Int16,
                data: value.to_le_bytes().to_vec(),
            }
        }
    }

    fn push_string(out: &mut Vec<u8>, s: &str) {
        let len = u16::try_from(s.len() + 1).unwrap_or(u16::MAX);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(s.as_bytes());
        out.push(0);
    }

    /// Serialises a version-6 file with the given spec, variables and aliases.
    pub fn to_bytes(spec: &str, variables: &[RawVariable], aliases: &[(&str, &str)]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&6u32.to_le_bytes());
        push_string(&mut out, spec);
        out.extend_from_slice(&3u32.to_le_bytes());
        out.extend_from_slice(&(variables.len() as u32).to_le_bytes());
        for v in variables {
            push_string(&mut out, &v.name);
            out.push(v.shape.len() as u8);
            for d in &v.shape {
                out.extend_from_slice(&(*d as u32).to_le_bytes());
            }
            out.push(v.dtype.code());
            out.extend_from_slice(&(v.data.len() as u32).to_le_bytes());
            out.extend_from_slice(&v.data);
        }
        out.extend_from_slice(&(aliases.len() as u32).to_le_bytes());
        for (alias, target) in aliases {
            push_string(&mut out, alias);
            push_string(&mut out, target);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::writer::{RawVariable, to_bytes};
    use super::*;
    use std::io::Cursor as IoCursor;

    fn sample() -> Vec<u8> {
        to_bytes(
            "WhisperSpec",
            &[
                RawVariable::i16_scalar("encoder/num_heads", 8),
                RawVariable::f16("encoder/layer_norm/gamma", &[3], &[1.0, 2.0, 0.5]),
            ],
            &[("decoder/projection/weight", "decoder/embeddings/weight")],
        )
    }

    #[test]
    fn reads_header_variables_and_aliases() {
        let mut m = Ct2Model::open(IoCursor::new(sample())).unwrap();
        assert_eq!(m.spec, "WhisperSpec");
        assert_eq!(m.revision, 3);
        assert_eq!(m.variables().len(), 2);
        assert_eq!(m.aliases[0].0, "decoder/projection/weight");
        let heads = m.require("encoder/num_heads").unwrap().clone();
        assert_eq!(m.read_int_scalar(&heads).unwrap(), 8);
        let gamma = m.require("encoder/layer_norm/gamma").unwrap().clone();
        assert_eq!(gamma.shape, vec![3]);
        assert_eq!(m.read_f32(&gamma).unwrap(), vec![1.0, 2.0, 0.5]);
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let bytes = sample();
        for cut in 0..bytes.len() {
            let err = Ct2Model::open(IoCursor::new(bytes[..cut].to_vec())).unwrap_err();
            assert!(
                matches!(err, Error::Truncated { .. }),
                "cut at {cut} gave {err:?} instead of Truncated"
            );
        }
    }

    #[test]
    fn refuses_other_versions_and_inconsistent_sizes() {
        let mut bytes = sample();
        bytes[0] = 5;
        assert!(matches!(
            Ct2Model::open(IoCursor::new(bytes)).unwrap_err(),
            Error::UnsupportedVersion { found: 5 }
        ));

        let mut v = RawVariable::f16("x", &[4], &[0.0; 4]);
        v.data.truncate(6); // claims 4 elements, carries 3
        let bytes = to_bytes("WhisperSpec", &[v], &[]);
        assert!(matches!(
            Ct2Model::open(IoCursor::new(bytes)).unwrap_err(),
            Error::Malformed { .. }
        ));
    }

    #[test]
    fn garbage_is_refused() {
        let garbage: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 7) as u8)
            .collect();
        assert!(Ct2Model::open(IoCursor::new(garbage)).is_err());
    }
}
