//! What kind of audio container a finished upload is, from its first bytes.
//!
//! The server does not decode audio (symphonia is a dependency of
//! tocky-audio, which the web app does not link): a file is taken as audio
//! when its container's magic bytes say so, and a file that passes here
//! but does not decode fails in its job, with the decoder's reason.

use std::io::Read;
use std::path::Path;

/// How many bytes [`container`] needs.
pub const HEAD_BYTES: usize = 16;

/// The container formats recognised, with the extension a file of that
/// kind is stored under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    /// RIFF WAVE.
    Wav,
    /// FLAC.
    Flac,
    /// MPEG audio (an ID3 tag, or a frame sync).
    Mp3,
    /// Ogg (Vorbis, Opus).
    Ogg,
    /// ISO base media (MP4, M4A).
    Mp4,
    /// Matroska / WebM.
    Matroska,
    /// AIFF.
    Aiff,
}

impl Container {
    /// The extension a stored file of this kind gets.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Wav => "wav",
            Self::Flac => "flac",
            Self::Mp3 => "mp3",
            Self::Ogg => "ogg",
            Self::Mp4 => "m4a",
            Self::Matroska => "mka",
            Self::Aiff => "aiff",
        }
    }
}

/// The container `head` (a file's first [`HEAD_BYTES`] or fewer) starts, if any.
pub fn container(head: &[u8]) -> Option<Container> {
    let at = |i: usize, magic: &[u8]| head.get(i..i + magic.len()) == Some(magic);
    if at(0, b"RIFF") && at(8, b"WAVE") {
        Some(Container::Wav)
    } else if at(0, b"fLaC") {
        Some(Container::Flac)
    } else if at(0, b"OggS") {
        Some(Container::Ogg)
    } else if at(4, b"ftyp") {
        Some(Container::Mp4)
    } else if at(0, &[0x1A, 0x45, 0xDF, 0xA3]) {
        Some(Container::Matroska)
    } else if at(0, b"FORM") && (at(8, b"AIFF") || at(8, b"AIFC")) {
        Some(Container::Aiff)
    } else if at(0, b"ID3") || matches!(head, [0xFF, b, ..] if b & 0xE0 == 0xE0) {
        Some(Container::Mp3)
    } else {
        None
    }
}

/// The container of the file at `path`.
pub fn probe(path: &Path) -> std::io::Result<Option<Container>> {
    let mut head = Vec::with_capacity(HEAD_BYTES);
    std::fs::File::open(path)?
        .take(HEAD_BYTES as u64)
        .read_to_end(&mut head)?;
    Ok(container(&head))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audio_containers_are_known_and_text_is_not() {
        assert_eq!(container(b"RIFF\x24\0\0\0WAVEfmt "), Some(Container::Wav));
        assert_eq!(container(b"fLaC\0\0\0\x22"), Some(Container::Flac));
        assert_eq!(container(b"ID3\x04\0\0"), Some(Container::Mp3));
        assert_eq!(container(&[0xFF, 0xFB, 0x90, 0x64]), Some(Container::Mp3));
        assert_eq!(container(b"\0\0\0\x20ftypM4A "), Some(Container::Mp4));
        assert_eq!(container(b"OggS\0\x02"), Some(Container::Ogg));
        assert_eq!(container(b"%PDF-1.7\n"), None);
        assert_eq!(container(b"Phi\xc3\xaan h\xe1\xbb\x8dp"), None);
        assert_eq!(container(b"RIFF\0\0\0\0AVI "), None);
        assert_eq!(container(b""), None);
    }
}
