//! whisper.cpp's ggml model file: hyperparameters, mel filters, vocabulary,
//! then tensors. This module writes it and reads its header back.
mod check;
mod read;
mod write;

pub use check::{MIN_VOCAB, check_loadable};
pub use read::{GgmlModelInfo, TensorInfo, read_info};
pub use write::GgmlWriter;

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
