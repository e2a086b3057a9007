//! Phrases Whisper invents when it hears no speech.
//!
//! Whisper was trained on subtitled video, so silence, music or applause
//! often comes out as a channel's sign-off. This is the one place that list
//! is kept. Phrases are written as spoken; matching folds case, diacritics
//! and punctuation, so "Hãy subscribe cho kênh" and "hay subscribe cho kenh!"
//! both match. Add a phrase here when it is seen in the wild.

use tocky_core::text::folded_words;

/// Known hallucinations, Vietnamese first.
pub const PHRASES: &[&str] = &[
    "hãy subscribe cho kênh",
    "hãy đăng ký kênh",
    "đăng ký kênh để ủng hộ",
    "nhấn like và subscribe",
    "like share và subscribe",
    "subscribe cho kênh ghiền mì gõ",
    "ghiền mì gõ",
    "để không bỏ lỡ những video hấp dẫn",
    "cảm ơn các bạn đã theo dõi",
    "cảm ơn các bạn đã xem video",
    "hẹn gặp lại các bạn trong những video tiếp theo",
    "hẹn gặp lại các bạn trong video tiếp theo",
    "chúc các bạn xem video vui vẻ",
    "la la school",
    "vietsub by",
    "phụ đề được thực hiện bởi",
    "thank you for watching",
    "thanks for watching",
    "please subscribe",
    "subtitles by the amara org community",
    "subscribe",
];

/// Whether `text` is mostly a known hallucination: a listed phrase covers
/// at least half of its syllables. Real speech that merely mentions a
/// phrase in a longer sentence is kept.
pub fn is_hallucination(text: &str) -> bool {
    let words = folded_words(text);
    if words.is_empty() {
        return false;
    }
    let mut covered = vec![false; words.len()];
    for phrase in PHRASES {
        let p = folded_words(phrase);
        if p.is_empty() || p.len() > words.len() {
            continue;
        }
        for start in 0..=words.len() - p.len() {
            if words[start..start + p.len()] == p[..] {
                covered[start..start + p.len()]
                    .iter_mut()
                    .for_each(|c| *c = true);
            }
        }
    }
    covered.iter().filter(|c| **c).count() * 2 >= words.len()
}

/// Whether `text` is a sound annotation rather than speech: `*Subscribe*`,
/// `[Music]`, `(vỗ tay)`, `♪ ♪`. Whisper learned these from subtitles.
pub fn is_sound_annotation(text: &str) -> bool {
    let t = text.trim().trim_end_matches(['.', '!', '?', ',']).trim();
    if t.is_empty() {
        return false;
    }
    let wrapped = [('*', '*'), ('[', ']'), ('(', ')')]
        .iter()
        .any(|(open, close)| t.starts_with(*open) && t.ends_with(*close) && t.len() >= 2);
    let only_symbols = t.chars().all(|c| !c.is_alphanumeric());
    wrapped || only_symbols
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_offs_are_caught_whatever_the_spelling() {
        assert!(is_hallucination(
            "Hãy subscribe cho kênh Ghiền Mì Gõ để không bỏ lỡ những video hấp dẫn"
        ));
        assert!(is_hallucination("cam on cac ban da theo doi!"));
        assert!(is_hallucination("Thank you for watching."));
    }

    #[test]
    fn sound_annotations_are_recognised() {
        assert!(is_sound_annotation("*Subscribe*"));
        assert!(is_sound_annotation("[Music]"));
        assert!(is_sound_annotation("(vỗ tay)."));
        assert!(is_sound_annotation("♪ ♪"));
        assert!(!is_sound_annotation("Điều 5 (sửa đổi) được thông qua."));
        assert!(!is_sound_annotation(""));
    }

    #[test]
    fn real_speech_is_kept() {
        assert!(!is_hallucination(
            "Kính thưa Quốc hội, tôi xin trình bày tờ trình dự án luật."
        ));
        assert!(!is_hallucination(
            "Đại biểu nói rằng cảm ơn các bạn đã theo dõi là câu quen thuộc trên mạng, nhưng dự luật này cần bàn kỹ hơn nhiều"
        ));
        assert!(!is_hallucination(""));
    }
}
