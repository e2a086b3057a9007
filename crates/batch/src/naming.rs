//! Where an input's outputs and checkpoints go, and which files in an
//! output folder are tocky's own.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::{Format, Input};

/// The output of `stem` (relative to `dir`) in `format`: `dir/stem.EXT`.
pub fn output_path(dir: &Path, stem: &Path, format: Format) -> PathBuf {
    let mut name = stem.as_os_str().to_owned();
    name.push(".");
    name.push(format.extension());
    dir.join(name)
}

/// Where the checkpoint of one input's channel selection lives:
/// `dir/stem.checkpoint-mix.json` for the downmix, `-chN` per channel.
pub fn checkpoint_path(dir: &Path, stem: &Path, channel: Option<usize>) -> PathBuf {
    let mut name = stem.as_os_str().to_owned();
    match channel {
        None => name.push(".checkpoint-mix.json"),
        Some(c) => name.push(format!(".checkpoint-ch{c}.json")),
    }
    dir.join(name)
}

/// Whether `file` is one that a batch writing to `outputs` (canonical)
/// writes: a transcript, a checkpoint or a partial file, in that folder or
/// below.
pub fn is_output(file: &Path, outputs: &Path) -> bool {
    let written = ["json", "srt", "vtt", "txt", "partial"]
        .iter()
        .any(|ext| file.extension().is_some_and(|e| e == *ext));
    written && std::fs::canonicalize(file).is_ok_and(|f| f.starts_with(outputs))
}

/// Inputs that would write the same outputs (`a.wav` and `a.flac`, or the
/// same name in two folders given on the command line) keep their
/// extension in the output name (`a.wav.json`, `a.flac.json`), so that
/// neither overwrites the other; a file given twice is transcribed once.
pub fn disambiguate_stems(inputs: &mut Vec<Input>) {
    let mut seen = HashSet::new();
    inputs.retain(|i| seen.insert(i.path.clone()));
    let mut count = HashMap::new();
    for input in inputs.iter() {
        *count.entry(input.stem.clone()).or_insert(0usize) += 1;
    }
    for input in inputs.iter_mut() {
        if count.get(&input.stem).is_some_and(|&n| n > 1)
            && let Some(ext) = input.path.extension()
        {
            let mut stem = input.stem.clone().into_os_string();
            stem.push(".");
            stem.push(ext);
            input.stem = PathBuf::from(stem);
        }
    }
    // Still the same (one name in two folders): number the later ones.
    let mut taken = HashSet::new();
    for input in inputs.iter_mut() {
        let mut candidate = input.stem.clone();
        let mut n = 1;
        while !taken.insert(candidate.clone()) {
            n += 1;
            let mut numbered = input.stem.clone().into_os_string();
            numbered.push(format!("-{n}"));
            candidate = PathBuf::from(numbered);
        }
        input.stem = candidate;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(path: &str, stem: &str) -> Input {
        Input {
            path: PathBuf::from(path),
            stem: PathBuf::from(stem),
        }
    }

    #[test]
    fn inputs_that_would_share_outputs_get_names_of_their_own() {
        let mut inputs = vec![
            input("archive/a.wav", "a"),
            input("archive/a.flac", "a"),
            input("archive/b.mp3", "b"),
            input("day1/c.wav", "c"),
            input("day2/c.wav", "c"),
            input("archive/b.mp3", "b"),
        ];
        disambiguate_stems(&mut inputs);
        let stems: Vec<_> = inputs.iter().map(|i| i.stem.to_string_lossy()).collect();
        assert_eq!(stems, ["a.wav", "a.flac", "b", "c.wav", "c.wav-2"]);
    }

    #[test]
    fn outputs_and_checkpoints_sit_beside_each_other_under_the_stem() {
        let dir = Path::new("/out");
        let stem = Path::new("day1/sitting");
        let names: Vec<PathBuf> = [
            Format::Text,
            Format::Json,
            Format::Srt,
            Format::Vtt,
            Format::Txt,
        ]
        .into_iter()
        .map(|f| output_path(dir, stem, f))
        .collect();
        assert_eq!(
            names,
            [
                "/out/day1/sitting.text.txt",
                "/out/day1/sitting.json",
                "/out/day1/sitting.srt",
                "/out/day1/sitting.vtt",
                "/out/day1/sitting.txt",
            ]
            .map(PathBuf::from)
        );
        assert_eq!(
            checkpoint_path(dir, stem, None),
            Path::new("/out/day1/sitting.checkpoint-mix.json")
        );
        assert_eq!(
            checkpoint_path(dir, stem, Some(3)),
            Path::new("/out/day1/sitting.checkpoint-ch3.json")
        );
        // A stem that already has a dot keeps it: `a.wav` → `a.wav.json`.
        assert_eq!(
            output_path(dir, Path::new("a.wav"), Format::Json),
            Path::new("/out/a.wav.json")
        );
    }
}
