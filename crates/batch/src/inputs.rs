//! The paths a batch is given, expanded into inputs: files as they are,
//! folders scanned recursively for the files a glob picks.

use std::path::{Path, PathBuf};

use tocky_audio::{AudioReader, DecodeOptions};

use crate::naming::{disambiguate_stems, is_output};
use crate::{Error, Result};

/// Audio files taken from folders by default.
pub const DEFAULT_GLOB: &str = "*.{wav,flac,mp3,ogg,oga,m4a,mp4,aac,mkv,mka,webm}";

/// One input and where its outputs go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    /// The audio file.
    pub path: PathBuf,
    /// The output path without extension, relative to the output
    /// directory: the file's stem, or its path below a scanned folder.
    pub stem: PathBuf,
}

/// A path given that could not be used, with the reason.
pub type Unusable = (PathBuf, String);

/// Expands `paths`: a file is an input, a folder is scanned (links
/// followed, files sorted) for the files whose name `glob` matches
/// (case-insensitively). In a scanned folder, what an earlier run wrote to
/// `output_dir` is not an input, however wide `glob` is. Returns the
/// inputs, each once and with an output name of its own, and the paths
/// that do not exist or could not be scanned.
pub fn collect_inputs(
    paths: &[PathBuf],
    glob: &str,
    output_dir: Option<&Path>,
) -> Result<(Vec<Input>, Vec<Unusable>)> {
    let matcher = globset::GlobBuilder::new(glob)
        .case_insensitive(true)
        .literal_separator(false)
        .build()
        .map_err(|source| Error::BadGlob {
            glob: glob.to_owned(),
            source,
        })?
        .compile_matcher();
    let mut inputs = Vec::new();
    let mut missing = Vec::new();
    let outputs = output_dir.and_then(|d| std::fs::canonicalize(d).ok());
    for path in paths {
        if path.is_dir() {
            let mut found: Vec<PathBuf> = walkdir::WalkDir::new(path)
                .follow_links(true)
                .into_iter()
                .filter_map(|e| match e {
                    Ok(e) => Some(e),
                    Err(err) => {
                        missing.push((path.clone(), format!("cannot scan: {err}")));
                        None
                    }
                })
                .filter(|e| e.file_type().is_file() && matcher.is_match(e.file_name()))
                .filter(|e| outputs.as_deref().is_none_or(|o| !is_output(e.path(), o)))
                .map(walkdir::DirEntry::into_path)
                .collect();
            found.sort();
            for file in found {
                let rel = file.strip_prefix(path).unwrap_or(&file).with_extension("");
                inputs.push(Input {
                    path: file,
                    stem: rel,
                });
            }
        } else if path.exists() {
            let stem = PathBuf::from(path.file_stem().unwrap_or(path.as_os_str()));
            inputs.push(Input {
                path: path.clone(),
                stem,
            });
        } else {
            missing.push((path.clone(), "no such file or directory".into()));
        }
    }
    disambiguate_stems(&mut inputs);
    Ok((inputs, missing))
}

/// The length the container's header declares, in ms, if it declares one
/// (for progress before decoding).
pub fn declared_ms(path: &Path) -> Option<u64> {
    let reader = AudioReader::open(path, &DecodeOptions::default()).ok()?;
    let info = reader.info();
    // A lying header can declare any length: saturate rather than overflow.
    Some(info.declared_frames?.saturating_mul(1000) / u64::from(info.sample_rate.max(1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(root: &Path, files: &[&str]) {
        for file in files {
            let path = root.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, b"").unwrap();
        }
    }

    #[test]
    fn what_an_earlier_run_wrote_is_not_scanned_as_input() {
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("archive");
        touch(
            &archive,
            &[
                "day1/a.wav",
                "day1/a.json",
                "out/day1/a.json",
                "out/day1/a.checkpoint-mix.json",
                "out/day1/a.srt.partial",
                "out/b.wav",
            ],
        );
        let found = |out: &Path| -> Vec<String> {
            let (inputs, missing) =
                collect_inputs(std::slice::from_ref(&archive), "*", Some(out)).unwrap();
            assert!(missing.is_empty(), "{missing:?}");
            inputs
                .iter()
                .map(|i| i.path.strip_prefix(&archive).unwrap().display().to_string())
                .collect()
        };
        // Named otherwise than the scanned folder, as a person may; audio
        // kept there is still an input.
        let out = dir.path().join("archive/day1/../out");
        assert_eq!(found(&out), ["day1/a.json", "day1/a.wav", "out/b.wav"]);
        // Outputs beside the inputs.
        let beside = found(&archive.join("day1"));
        assert!(beside.contains(&"day1/a.wav".into()), "{beside:?}");
        assert!(!beside.contains(&"day1/a.json".into()), "{beside:?}");
    }

    #[test]
    fn folders_expand_sorted_by_the_default_glob_with_their_layout_as_names() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("hall");
        touch(
            &root,
            &[
                "day2/b.FLAC",
                "day1/a.wav",
                "day1/notes.txt",
                "day1/a.mp3",
                "cover.jpg",
            ],
        );
        let single = dir.path().join("extra.ogg");
        std::fs::write(&single, b"").unwrap();
        let gone = dir.path().join("gone.wav");
        let given = [root.clone(), single.clone(), gone.clone(), single.clone()];
        let (inputs, missing) = collect_inputs(&given, DEFAULT_GLOB, None).unwrap();
        let got: Vec<(String, String)> = inputs
            .iter()
            .map(|i| {
                let path = i.path.strip_prefix(dir.path()).unwrap();
                (path.display().to_string(), i.stem.display().to_string())
            })
            .collect();
        let want = [
            // Two files would both be `day1/a`: they keep their extension.
            ("hall/day1/a.mp3", "day1/a.mp3"),
            ("hall/day1/a.wav", "day1/a.wav"),
            // The glob ignores case; the layout below the folder is kept.
            ("hall/day2/b.FLAC", "day2/b"),
            // A file given twice is one input.
            ("extra.ogg", "extra"),
        ]
        .map(|(p, s)| (p.to_owned(), s.to_owned()));
        assert_eq!(got, want);
        assert_eq!(missing, [(gone, "no such file or directory".to_owned())]);
    }

    #[test]
    fn a_glob_that_does_not_parse_is_a_clear_error() {
        let err = collect_inputs(&[], "*.{wav", None).unwrap_err();
        assert!(matches!(err, Error::BadGlob { ref glob, .. } if glob == "*.{wav"));
        let line = crate::error_chain(&err);
        assert!(line.starts_with("bad glob \"*.{wav\": "), "{line}");
    }

    #[test]
    fn the_declared_length_comes_from_the_header_and_garbage_has_none() {
        let dir = tempfile::tempdir().unwrap();
        let wav = dir.path().join("two-seconds.wav");
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 16_000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut out = hound::WavWriter::create(&wav, spec).unwrap();
        for _ in 0..32_000 {
            out.write_sample(0i16).unwrap();
        }
        out.finalize().unwrap();
        assert_eq!(declared_ms(&wav), Some(2_000));
        let garbage = dir.path().join("garbage.wav");
        std::fs::write(&garbage, vec![0x5au8; 4096]).unwrap();
        assert_eq!(declared_ms(&garbage), None);
    }
}
