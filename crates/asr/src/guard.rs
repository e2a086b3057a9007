//! Signs that a decode went wrong: repetition loops and text that
//! compresses too well (the same as OpenAI's `compression_ratio_threshold`).

use std::io::Write;

use flate2::Compression;
use flate2::write::ZlibEncoder;
use tocky_core::text::folded_words;

/// Bytes of text per byte of its zlib compression; looping text scores high.
pub fn compression_ratio(text: &str) -> f32 {
    if text.is_empty() {
        return 0.0;
    }
    let mut encoder = ZlibEncoder::new(Vec::new(), Compression::default());
    if encoder.write_all(text.as_bytes()).is_err() {
        return 0.0;
    }
    match encoder.finish() {
        Ok(compressed) if !compressed.is_empty() => text.len() as f32 / compressed.len() as f32,
        _ => 0.0,
    }
}

/// The longest n-gram tried when looking for loops.
const MAX_NGRAM: usize = 10;

/// Where a loop is: an n-gram of `n` syllables starting at `start`, said
/// `count` times in a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Loop {
    /// The first syllable of the loop.
    pub start: usize,
    /// The n-gram's length in syllables.
    pub n: usize,
    /// How many times it is said in a row.
    pub count: usize,
}

/// Finds a repetition loop in a syllable sequence: one syllable said five
/// times in a row, or a phrase of 2 to 10 syllables three times in a row.
/// Vietnamese reduplication ("rất rất", "từ từ") stays well under that.
pub fn find_loop(words: &[String]) -> Option<Loop> {
    for n in 1..=MAX_NGRAM.min(words.len() / 2) {
        let min_count = if n == 1 { 5 } else { 3 };
        let mut start = 0;
        while start + n * min_count <= words.len() {
            let mut count = 1;
            while start + (count + 1) * n <= words.len()
                && words[start + count * n..start + (count + 1) * n] == words[start..start + n]
            {
                count += 1;
            }
            if count >= min_count {
                return Some(Loop { start, n, count });
            }
            start += 1;
        }
    }
    None
}

/// Whether `text` loops.
pub fn has_loop(text: &str) -> bool {
    find_loop(&folded_words(text)).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        folded_words(s)
    }

    #[test]
    fn loops_are_found() {
        let l = find_loop(&words(
            "Kính thưa đại biểu Quốc hội đại biểu Quốc hội đại biểu Quốc hội",
        ))
        .unwrap();
        assert_eq!((l.start, l.n, l.count), (2, 4, 3));
        assert!(has_loop("à à à à à à"));
        assert!(compression_ratio(&"đại biểu Quốc hội ".repeat(20)) > 2.4);
    }

    #[test]
    fn ordinary_speech_and_reduplication_are_not_loops() {
        assert!(!has_loop(
            "Tôi rất rất vui, chúng ta cứ từ từ mà làm, từng bước từng bước một."
        ));
        assert!(!has_loop(
            "Kính thưa Quốc hội, tôi xin trình bày tờ trình về dự án Luật Đất đai sửa đổi."
        ));
        let ratio = compression_ratio(
            "Kính thưa Quốc hội, tôi xin trình bày tờ trình về dự án Luật Đất đai sửa đổi.",
        );
        assert!(ratio < 2.4, "{ratio}");
    }
}
