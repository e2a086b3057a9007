//! Synthetic plenary transcripts, deterministic, for the benchmarks.

use tocky_core::document::{DecoderInfo, SourceInfo, TranscriptDocument};
use tocky_core::{Segment, Transcript};

/// Words of plenary debate; multi-syllable words are written with spaces, as Vietnamese is.
pub const WORDS: &[&str] = &[
    "đại biểu",
    "Quốc hội",
    "dự án luật",
    "ngân sách",
    "nhà nước",
    "kinh tế",
    "xã hội",
    "giáo dục",
    "y tế",
    "đất đai",
    "công nghệ thông tin",
    "phát triển",
    "chính phủ",
    "bộ trưởng",
    "thủ tướng",
    "nghị quyết",
    "thảo luận",
    "biểu quyết",
    "thông qua",
    "báo cáo",
    "kiến nghị",
    "cử tri",
    "tỉnh",
    "thành phố",
    "Hà Nội",
    "Thành phố Hồ Chí Minh",
    "Đà Nẵng",
    "hạ tầng",
    "giao thông",
    "nông nghiệp",
    "môi trường",
    "biến đổi khí hậu",
    "đầu tư công",
    "doanh nghiệp",
    "người lao động",
    "bảo hiểm xã hội",
    "an ninh",
    "quốc phòng",
    "đối ngoại",
    "tư pháp",
    "viện kiểm sát",
    "tòa án",
    "thanh tra",
    "tham nhũng",
    "lãng phí",
    "cải cách hành chính",
    "chuyển đổi số",
    "năng lượng",
    "điện lực",
    "thuế",
    "tài chính",
    "ngân hàng",
    "lãi suất",
    "lạm phát",
    "nhà ở xã hội",
    "quy hoạch",
    "giải phóng mặt bằng",
    "bồi thường",
    "tái định cư",
    "hòa bình",
    "thủy lợi",
    "và",
    "của",
    "là",
    "các",
    "những",
    "trong",
    "cho",
    "với",
    "đã",
    "sẽ",
    "không",
    "có",
    "được",
    "này",
    "đó",
    "theo",
    "về",
    "tại",
    "để",
    "cũng",
    "rất",
    "cần",
    "phải",
    "đề nghị",
    "xin",
    "kính thưa",
    "tôi",
    "chúng ta",
    "việc",
    "vấn đề",
    "nội dung",
    "quy định",
    "thực hiện",
    "bảo đảm",
    "nâng cao",
    "hiệu quả",
    "chất lượng",
    "trách nhiệm",
    "sửa đổi",
    "bổ sung",
    "điều",
    "khoản",
    "chương",
    "năm",
    "tháng",
    "tỷ đồng",
    "phần trăm",
];

/// A small, fast, deterministic generator (xorshift64*).
pub struct Rng(pub u64);

impl Rng {
    /// The next number.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number below `n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// One segment's text: 15 to 40 syllables.
pub fn sentence(rng: &mut Rng) -> (String, usize) {
    let target = 15 + rng.below(26);
    let mut words = Vec::new();
    let mut syllables = 0;
    while syllables < target {
        let w = WORDS[rng.below(WORDS.len())];
        syllables += w.split(' ').count();
        words.push(w);
    }
    let mut s = words.join(" ");
    s.push('.');
    (s, syllables)
}

/// A synthetic sitting `n` of `segments` segments, 8 s apart; returns it
/// and its syllable count.
pub fn session_doc(rng: &mut Rng, n: usize, segments: usize) -> (TranscriptDocument, usize) {
    let mut syllables = 0;
    let segments = (0..segments)
        .map(|i| {
            let (text, count) = sentence(rng);
            syllables += count;
            Segment {
                start_ms: i as u64 * 8_000,
                end_ms: i as u64 * 8_000 + 7_500,
                text,
                ..Segment::default()
            }
        })
        .collect();
    let doc = document(
        format!("sitting-{n:04}.flac"),
        format!("{n:064x}"),
        "flac",
        0,
        segments,
    );
    (doc, syllables)
}

/// A transcript document of `segments` from a synthetic source: `file`
/// with its `sha256` and `codec`, mono 16 kHz, and a synthetic decoder.
pub fn document(
    file: String,
    sha256: String,
    codec: &str,
    duration_ms: u64,
    segments: Vec<Segment>,
) -> TranscriptDocument {
    TranscriptDocument::new(
        SourceInfo {
            file,
            sha256,
            bytes: 0,
            codec: codec.into(),
            sample_rate: 16_000,
            channels: 1,
            transcribed_channels: None,
        },
        DecoderInfo {
            model: "synthetic".into(),
            tocky_version: "bench".into(),
            beam_size: 5,
            vad: true,
            prompt: None,
        },
        Transcript {
            language: "vi".into(),
            duration_ms,
            segments,
        },
    )
}
