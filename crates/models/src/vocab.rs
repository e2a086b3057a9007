//! Whisper's vocabulary, as CTranslate2 stores it and whisper.cpp reads it.
//!
//! CTranslate2's `vocabulary.txt` has one token per line in GPT-2's byte-level
//! encoding, where every byte is shown as a printable character (a space is
//! `Ġ`, a newline `Ċ`). whisper.cpp wants the raw bytes, and only the ordinary
//! tokens: it adds `<|endoftext|>` and the other special tokens itself.

use std::collections::HashMap;

use crate::error::{Error, Result};

/// The first special token, which ends the ordinary vocabulary.
pub const END_OF_TEXT: &str = "<|endoftext|>";

/// GPT-2's byte-to-character table, inverted: printable character → byte.
fn char_to_byte() -> HashMap<char, u8> {
    let printable = |b: u32| {
        (0x21..=0x7e).contains(&b) || (0xa1..=0xac).contains(&b) || (0xae..=0xff).contains(&b)
    };
    let mut map = HashMap::with_capacity(256);
    let mut shifted = 0u32;
    for b in 0u32..256 {
        let c = if printable(b) {
            b
        } else {
            shifted += 1;
            255 + shifted
        };
        if let (Some(c), Ok(byte)) = (char::from_u32(c), u8::try_from(b)) {
            map.insert(c, byte);
        }
    }
    map
}

/// Decodes `vocabulary.txt` into the raw bytes of each ordinary token, in id
/// order, stopping before [`END_OF_TEXT`].
///
/// Lines are split on `\n` only: a token may itself contain a `\r` once
/// decoded, but never in its printable form.
pub fn decode_vocabulary(text: &[u8]) -> Result<Vec<Vec<u8>>> {
    let table = char_to_byte();
    let mut tokens = Vec::new();
    for (id, line) in text.split(|b| *b == b'\n').enumerate() {
        let line = std::str::from_utf8(line)
            .map_err(|_| Error::Vocabulary(format!("token {id} is not UTF-8")))?;
        if line == END_OF_TEXT {
            return Ok(tokens);
        }
        let bytes = line
            .chars()
            .map(|c| table.get(&c).copied())
            .collect::<Option<Vec<u8>>>()
            .ok_or_else(|| {
                Error::Vocabulary(format!(
                    "token {id} ({line:?}) is not in GPT-2's byte-level encoding"
                ))
            })?;
        tokens.push(bytes);
    }
    Err(Error::Vocabulary(format!(
        "no {END_OF_TEXT} line: this is not a Whisper vocabulary"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_byte_level_tokens() {
        let vocab = "!\nĠthe\nĠÐ¾\n\n<|endoftext|>\n<|startoftranscript|>\n";
        let tokens = decode_vocabulary(vocab.as_bytes()).unwrap();
        assert_eq!(tokens.len(), 4);
        assert_eq!(tokens[0], b"!");
        assert_eq!(tokens[1], b" the");
        assert_eq!(tokens[2], " о".as_bytes()); // Cyrillic o, two UTF-8 bytes
        assert_eq!(tokens[3], b""); // Whisper's id 50256 is empty
    }

    #[test]
    fn maps_all_256_bytes() {
        let table = char_to_byte();
        assert_eq!(table.len(), 256);
        assert_eq!(table[&'Ġ'], b' ');
        assert_eq!(table[&'Ċ'], b'\n');
        assert_eq!(table[&'č'], b'\r');
    }

    #[test]
    fn refuses_foreign_vocabularies() {
        assert!(decode_vocabulary(b"a\nb\n").is_err());
        assert!(decode_vocabulary("a\n\u{4e00}\n<|endoftext|>".as_bytes()).is_err());
        assert!(decode_vocabulary(b"a\n\xff\n<|endoftext|>").is_err());
    }
}
