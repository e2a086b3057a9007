//! Hygiene for text that people type: what the audit log may show, which
//! characters a user name may hold, and the lengths of free-text fields.

use tocky_core::text::nfc;

use crate::{Error, Result};

/// The longest seat label, in bytes.
pub const MAX_SEAT_BYTES: usize = 64;
/// The longest actor written to the audit log, in characters (longer ones
/// are cut, with `…`).
const MAX_AUDIT_ACTOR_CHARS: usize = 96;
/// The longest subject or detail written to the audit log, in characters.
const MAX_AUDIT_TEXT_CHARS: usize = 512;

/// Whether `c` is invisible or changes the direction of the text around
/// it: bidirectional controls (U+202A–U+202E, U+2066–U+2069, the marks
/// U+200E, U+200F, U+061C), zero-width and joining characters, the word
/// joiner and invisible operators, the byte-order mark, the soft hyphen,
/// and the Hangul fillers that Unicode counts as letters.
pub fn is_invisible_or_bidi(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFF8}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

/// `text` as the audit log keeps it: control, invisible and bidirectional
/// characters written as `\u{…}` escapes (so that a typed name cannot forge
/// a line, hide itself or reverse what follows it), cut at `max` characters.
fn for_log(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max * 4));
    for (i, c) in text.chars().enumerate() {
        if i == max {
            out.push('…');
            break;
        }
        if c.is_control() || is_invisible_or_bidi(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

/// The actor as written to the audit log.
pub(crate) fn audit_actor(actor: &str) -> String {
    for_log(actor, MAX_AUDIT_ACTOR_CHARS)
}

/// A subject or detail as written to the audit log.
pub(crate) fn audit_text(text: &str) -> String {
    for_log(text, MAX_AUDIT_TEXT_CHARS)
}

/// A seat label as stored: NFC, trimmed, at most [`MAX_SEAT_BYTES`],
/// without control, invisible or bidirectional characters.
pub(crate) fn check_seat(seat: &str) -> Result<String> {
    let seat = nfc(seat.trim());
    if seat.len() > MAX_SEAT_BYTES {
        return Err(Error::Invalid(format!(
            "a seat label has at most {MAX_SEAT_BYTES} bytes"
        )));
    }
    if seat
        .chars()
        .any(|c| c.is_control() || is_invisible_or_bidi(c))
    {
        return Err(Error::Invalid(
            "a seat label may not hold control, invisible or direction characters".into(),
        ));
    }
    Ok(seat)
}

/// A free-text field as stored: NFC, trimmed, at most `max_bytes`, without
/// control, invisible or bidirectional characters (which could hide or
/// reverse what is shown beside it). `what` names the field in the error.
pub(crate) fn check_label(what: &str, text: &str, max_bytes: usize) -> Result<String> {
    let text = nfc(text.trim());
    if text.len() > max_bytes {
        return Err(Error::Invalid(format!(
            "{what} has at most {max_bytes} bytes"
        )));
    }
    if text
        .chars()
        .any(|c| c.is_control() || is_invisible_or_bidi(c))
    {
        return Err(Error::Invalid(format!(
            "{what} may not hold control, invisible or direction characters"
        )));
    }
    Ok(text)
}

/// An account's name as stored and looked up (a user's, an API key's):
/// NFC, 1 to `max_bytes` bytes of letters, digits, '.', '_', '-' or '@',
/// none invisible or a direction control (names are shown in lists and the
/// audit log). `what` names it in the error.
pub(crate) fn check_account_name(what: &str, name: &str, max_bytes: usize) -> Result<String> {
    let name = nfc(name);
    let ok = !name.is_empty()
        && name.len() <= max_bytes
        && name.chars().all(|c| {
            (c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@')) && !is_invisible_or_bidi(c)
        });
    if ok {
        Ok(name)
    } else {
        Err(Error::Invalid(format!(
            "{what} {:?}: use 1 to {max_bytes} bytes of visible letters, digits, '.', '_', '-' or '@'",
            audit_actor(&name)
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_escapes_what_could_forge_or_hide_text() {
        assert_eq!(for_log("lan", 10), "lan");
        assert_eq!(
            for_log("a\nb\u{202E}c\0d\u{200B}", 20),
            "a\\u{a}b\\u{202e}c\\u{0}d\\u{200b}"
        );
        assert_eq!(for_log("Nguyễn Văn A", 20), "Nguyễn Văn A");
        assert_eq!(for_log(&"x".repeat(30), 5), "xxxxx…");
    }

    #[test]
    fn seats_are_short_and_visible() {
        assert_eq!(check_seat(" 12 ").unwrap_or_default(), "12");
        assert!(check_seat(&"1".repeat(MAX_SEAT_BYTES + 1)).is_err());
        assert!(check_seat("12\u{202E}").is_err());
        assert!(check_seat("1\n2").is_err());
    }

    #[test]
    fn labels_are_nfc_trimmed_bounded_and_visible() {
        // "Hà Nội" typed with combining marks is stored precomposed.
        let decomposed = " Ha\u{300} No\u{323}\u{302}i ";
        assert_eq!(
            check_label("x", decomposed, 20).unwrap_or_default(),
            "Hà Nội"
        );
        assert!(check_label("x", "abc", 2).is_err());
        assert!(check_label("x", "a\u{202E}b", 20).is_err());
        assert!(check_label("x", "a\tb", 20).is_err());
    }
}
