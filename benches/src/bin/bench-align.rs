//! bench-align: how well words are re-timed after a correction
//! (`tocky_asr::realign`), and how long it takes.
//!
//! Two kinds of audio with known word boundaries:
//! - Vietnamese words synthesised one by one with `espeak-ng -v vi`, joined
//!   with pauses of 40 to 200 ms: every word's start and end is known;
//! - the real clips of `fixtures/vi`, each cut to where it is audible and
//!   joined with 300 ms pauses into segments of at most 28 s: each clip's
//!   first word start and last word end are known.
//!
//! Errors are |realigned − true| in ms over the words the correction
//! changed, as median and 95th percentile, for starts and ends apart.
//!
//! ```text
//! cargo run --release -p tocky-bench --bin bench-align -- [--model PATH] [--threads 2] [--only ROW]
//! ```

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Parser;
use tocky_asr::{
    AlignMethod, AlignOptions, AlignRequest, DecodeOptions, Engine, EngineOptions,
    TranscribeOptions, realign,
};
use tocky_audio::{DecodeOptions as AudioOptions, decode_file};
use tocky_core::Word;

#[derive(Parser)]
struct Args {
    /// A model name or ggml file.
    #[arg(long, default_value = tocky_models::DEFAULT_MODEL)]
    model: String,
    /// CPU threads.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Run only the rows whose name contains this (e.g. `time`,
    /// `adjacent`, `real clips`).
    #[arg(long)]
    only: Option<String>,
    /// Print each measured word or clip edge off by more than this (ms),
    /// with the truth and the run around it, to trace the misses.
    #[arg(long)]
    misses_over: Option<u64>,
}

const SENTENCES: [&str; 3] = [
    "Quốc hội thảo luận dự án luật bảo vệ môi trường và phát triển kinh tế xã hội \
     của đất nước trong năm tới các đại biểu đề nghị chính phủ báo cáo",
    "thưa chủ tịch quốc hội tôi xin phát biểu về ngân sách nhà nước cho giáo dục \
     y tế và giao thông ở các tỉnh miền núi phía bắc",
    "ủy ban thường vụ quốc hội đã xem xét tờ trình của chính phủ về việc sửa đổi \
     bổ sung một số điều của luật đất đai",
];

/// `--misses-over`: errors above it are printed.
static MISSES_OVER: OnceLock<u64> = OnceLock::new();

/// Prints a word or clip edge off by more than `--misses-over`, with the
/// words realigned around it and their truth.
fn trace_miss(what: &str, error: u64, got: &[Word], truth: &[Word]) {
    if MISSES_OVER.get().is_some_and(|&over| error > over) {
        let times = |words: &[Word]| {
            words
                .iter()
                .map(|w| format!("{} {}-{}", w.text, w.start_ms, w.end_ms))
                .collect::<Vec<_>>()
                .join(" | ")
        };
        println!(
            "  miss {error} ms, {what}\n    got:   {}\n    truth: {}",
            times(got),
            times(truth)
        );
    }
}

const PAUSES_MS: [u64; 5] = [80, 150, 40, 200, 100];

/// A segment with its true word times (absolute ms).
struct Segment {
    samples: Vec<f32>,
    start_ms: u64,
    end_ms: u64,
    text: String,
    truth: Vec<Word>,
}

fn main() -> Result<()> {
    let args = Args::parse();
    if let Some(over) = args.misses_over {
        MISSES_OVER.get_or_init(|| over);
    }
    let path = tocky_models::resolve_model(&args.model, &tocky_models::default_cache_dir())?;
    let engine = Engine::load(&path, &EngineOptions::default())?;
    let options = AlignOptions {
        threads: args.threads,
        ..AlignOptions::default()
    };
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "bench-align: {} ({} threads of {cores} cores)",
        path.display(),
        args.threads
    );

    let want = |name: &str| args.only.as_deref().is_none_or(|o| name.contains(o));

    // Speed: a 10 s and a 28 s segment of espeak words, every word new,
    // one in five new, two adjacent new in the middle (a window around
    // them recognised again), and two adjacent in five new (windows
    // merged into about the whole segment).
    for seconds in [10, 28] {
        if !want("time") {
            break;
        }
        let seg = espeak_of_length(seconds * 1000)?;
        let n = seg.truth.len();
        for (name, every, changed) in [
            ("every word new", 1, vec![0]),
            ("one in five new", 5, vec![0]),
            ("two adjacent new in the middle", n, vec![n / 2, n / 2 + 1]),
            ("two adjacent in five new", 5, vec![0, 1]),
        ] {
            let old = with_changes(&seg.truth, every, &changed);
            let req = AlignRequest {
                audio: &seg.samples,
                start_ms: seg.start_ms,
                end_ms: seg.end_ms,
                old_words: if every == 1 { &[] } else { &old },
                text: &seg.text,
            };
            let t = Instant::now();
            let words = realign(&engine, &options, &req)?;
            println!(
                "time: {:.1} s segment, {} words, {name}: {:.2} s",
                (seg.end_ms - seg.start_ms) as f64 / 1000.0,
                words.len(),
                t.elapsed().as_secs_f64()
            );
        }
    }
    let forced = AlignOptions {
        method: AlignMethod::ForcedDecoding,
        ..options.clone()
    };
    let letters = AlignOptions {
        use_model: false,
        ..options.clone()
    };

    let real = real_segments()?;
    let n_clips = real.iter().map(|s| s.truth.len()).sum::<usize>();
    let name = format!(
        "real clips ({n_clips} clips in {} segments), typed in, clip edges",
        real.len()
    );
    if want(&name) {
        let (starts, ends) = typed_in(&engine, &options, &real)?;
        report(&name, starts, ends);
    }
    let name = "real clips, typed in, clip edges, teacher-forced decoding";
    if want(name) {
        let (starts, ends) = typed_in(&engine, &forced, &real)?;
        report(name, starts, ends);
    }
    let name = "real clips, typed in, clip edges, without the model";
    if want(name) {
        let (starts, ends) = typed_in(&engine, &letters, &real)?;
        report(name, starts, ends);
    }
    let name = "real clips, tocky's transcript corrected to the reference, clip edges";
    if want(name) {
        let (starts, ends) = recognised_then_corrected(&engine, &options, &real, args.threads)?;
        report(name, starts, ends);
    }

    let espeak: Vec<Segment> = SENTENCES
        .iter()
        .enumerate()
        .map(|(i, s)| espeak_segment(s, 60_000 * (i as u64 + 1)))
        .collect::<Result<_>>()?;
    for (name, changed) in [
        ("espeak, one word in five corrected", &[0][..]),
        ("espeak, two adjacent in five corrected", &[0, 1][..]),
    ] {
        if want(name) {
            let (starts, ends) = corrected(&engine, &options, &espeak, changed)?;
            report(name, starts, ends);
        }
    }
    let name = "espeak, typed in (no old words), every word";
    if want(name) {
        let (starts, ends) = typed_in(&engine, &options, &espeak)?;
        report(name, starts, ends);
    }
    let name = "espeak, typed in, every word, teacher-forced decoding";
    if want(name) {
        let (starts, ends) = typed_in(&engine, &forced, &espeak)?;
        report(name, starts, ends);
    }
    let name = "espeak, typed in, every word, without the model (letters and pauses)";
    if want(name) {
        let (starts, ends) = typed_in(&engine, &letters, &espeak)?;
        report(name, starts, ends);
    }

    Ok(())
}

/// `truth` with the words whose index mod `every` is in `changed` replaced
/// by wrong ones (mistimed too).
fn with_changes(truth: &[Word], every: usize, changed: &[usize]) -> Vec<Word> {
    truth
        .iter()
        .enumerate()
        .map(|(k, w)| {
            if every > 1 && changed.contains(&(k % every)) {
                Word {
                    text: format!("{}x", w.text),
                    start_ms: w.start_ms.saturating_sub(90),
                    end_ms: w.end_ms + 60,
                    probability: 0.2,
                }
            } else {
                w.clone()
            }
        })
        .collect()
}

/// Each espeak segment corrected at every rotation of `changed` words out
/// of five; the errors of the corrected words.
fn corrected(
    engine: &Engine,
    options: &AlignOptions,
    segments: &[Segment],
    changed: &[usize],
) -> Result<(Vec<u64>, Vec<u64>)> {
    let (mut starts, mut ends) = (Vec::new(), Vec::new());
    for seg in segments {
        for rotation in 0..5 {
            let which: Vec<usize> = changed.iter().map(|c| (c + rotation) % 5).collect();
            let old = with_changes(&seg.truth, 5, &which);
            let req = AlignRequest {
                audio: &seg.samples,
                start_ms: seg.start_ms,
                end_ms: seg.end_ms,
                old_words: &old,
                text: &seg.text,
            };
            let words = realign(engine, options, &req)?;
            check(&words, &req)?;
            for (k, (got, truth)) in words.iter().zip(&seg.truth).enumerate() {
                if which.contains(&(k % 5)) {
                    starts.push(got.start_ms.abs_diff(truth.start_ms));
                    ends.push(got.end_ms.abs_diff(truth.end_ms));
                    let error = starts[starts.len() - 1].max(ends[ends.len() - 1]);
                    let around = k.saturating_sub(2)..(k + 3).min(words.len());
                    trace_miss(
                        &format!("word {k} {:?}", got.text),
                        error,
                        &words[around.clone()],
                        &seg.truth[around],
                    );
                } else if (got.start_ms, got.end_ms) != (truth.start_ms, truth.end_ms) {
                    bail!("kept word {k} moved: {got:?} vs {truth:?}");
                }
            }
        }
    }
    Ok((starts, ends))
}

/// Segments with no old words; errors where the truth is known (every
/// truth word's start and end, matched to the realigned word by position
/// in the text, counted in words).
fn typed_in(
    engine: &Engine,
    options: &AlignOptions,
    segments: &[Segment],
) -> Result<(Vec<u64>, Vec<u64>)> {
    let (mut starts, mut ends) = (Vec::new(), Vec::new());
    for seg in segments {
        let req = AlignRequest {
            audio: &seg.samples,
            start_ms: seg.start_ms,
            end_ms: seg.end_ms,
            old_words: &[],
            text: &seg.text,
        };
        let words = realign(engine, options, &req)?;
        check(&words, &req)?;
        errors_against(&words, &seg.truth, &mut starts, &mut ends);
    }
    Ok((starts, ends))
}

/// The words realigned to the truth's units: a truth unit spans one or
/// more words (a clip), in order.
fn errors_against(words: &[Word], truth: &[Word], starts: &mut Vec<u64>, ends: &mut Vec<u64>) {
    let mut k = 0;
    for t in truth {
        let n = t.text.split_whitespace().count();
        if let (Some(first), Some(last)) = (words.get(k), words.get(k + n - 1)) {
            starts.push(first.start_ms.abs_diff(t.start_ms));
            ends.push(last.end_ms.abs_diff(t.end_ms));
            let error = starts[starts.len() - 1].max(ends[ends.len() - 1]);
            let edges = [
                k.saturating_sub(2)..(k + 2).min(words.len()),
                (k + n).saturating_sub(2)..(k + n + 2).min(words.len()),
            ];
            let got: Vec<Word> = edges
                .iter()
                .flat_map(|r| words[r.clone()].to_vec())
                .collect();
            trace_miss(
                &format!("clip {:?}", t.text),
                error,
                &got,
                std::slice::from_ref(t),
            );
        }
        k += n;
    }
}

/// The real segments transcribed by tocky, then corrected to the
/// reference text; errors at the clip edges.
fn recognised_then_corrected(
    engine: &Engine,
    options: &AlignOptions,
    segments: &[Segment],
    threads: usize,
) -> Result<(Vec<u64>, Vec<u64>)> {
    let (mut starts, mut ends) = (Vec::new(), Vec::new());
    let transcribe = TranscribeOptions {
        decode: DecodeOptions {
            language: "vi".into(),
            threads,
            ..DecodeOptions::default()
        },
        ..TranscribeOptions::recommended()
    };
    for seg in segments {
        let transcript = engine.transcribe(&seg.samples, &transcribe)?;
        let old: Vec<Word> = transcript
            .segments
            .iter()
            .flat_map(|s| &s.words)
            .map(|w| Word {
                start_ms: w.start_ms + seg.start_ms,
                end_ms: w.end_ms + seg.start_ms,
                ..w.clone()
            })
            .collect();
        let req = AlignRequest {
            audio: &seg.samples,
            start_ms: seg.start_ms,
            end_ms: seg.end_ms,
            old_words: &old,
            text: &seg.text,
        };
        let words = realign(engine, options, &req)?;
        check(&words, &req)?;
        errors_against(&words, &seg.truth, &mut starts, &mut ends);
    }
    Ok((starts, ends))
}

/// The guarantees: one word per word of the text, in order, in bounds,
/// each with a length.
fn check(words: &[Word], req: &AlignRequest) -> Result<()> {
    if words.len() != req.text.split_whitespace().count() {
        bail!("{} words for {:?}", words.len(), req.text);
    }
    let mut floor = req.start_ms;
    for w in words {
        if w.start_ms < floor || w.end_ms <= w.start_ms || w.end_ms > req.end_ms {
            bail!("{w:?} out of order or bounds ({}..{})", floor, req.end_ms);
        }
        floor = w.end_ms;
    }
    Ok(())
}

fn report(name: &str, mut starts: Vec<u64>, mut ends: Vec<u64>) {
    let q = |v: &mut Vec<u64>, p: usize| {
        v.sort_unstable();
        v.get((v.len().max(1) - 1) * p / 100).copied().unwrap_or(0)
    };
    println!(
        "{name}: {} words; start |error| median {} ms, p95 {} ms; end |error| median {} ms, p95 {} ms",
        starts.len(),
        q(&mut starts, 50),
        q(&mut starts, 95),
        q(&mut ends, 50),
        q(&mut ends, 95),
    );
}

/// The words of `sentence` said one by one by espeak-ng, joined with
/// pauses, from `start_ms` in the recording.
fn espeak_segment(sentence: &str, start_ms: u64) -> Result<Segment> {
    let dir = tempfile::tempdir()?;
    let mut samples = vec![0.0f32; 16 * 300];
    let mut truth = Vec::new();
    for (k, text) in sentence.split_whitespace().enumerate() {
        let clip = espeak_word(dir.path(), k, text)?;
        let at = start_ms + samples.len() as u64 / 16;
        samples.extend_from_slice(&clip);
        truth.push(Word {
            text: text.into(),
            start_ms: at,
            end_ms: start_ms + samples.len() as u64 / 16,
            probability: 0.9,
        });
        samples.extend(std::iter::repeat_n(0.0, 16 * PAUSES_MS[k % 5] as usize));
    }
    samples.extend(std::iter::repeat_n(0.0, 16 * 300));
    Ok(Segment {
        end_ms: start_ms + samples.len() as u64 / 16,
        samples,
        start_ms,
        text: sentence.split_whitespace().collect::<Vec<_>>().join(" "),
        truth,
    })
}

/// espeak segments joined until `ms` long (cut at a word).
fn espeak_of_length(ms: u64) -> Result<Segment> {
    let words: Vec<&str> = SENTENCES
        .iter()
        .flat_map(|s| s.split_whitespace())
        .collect();
    let mut text = Vec::new();
    let mut seg = espeak_segment("", 0)?;
    for w in words.iter().cycle() {
        text.push(*w);
        let next = espeak_segment(&text.join(" "), 0)?;
        if next.end_ms > ms {
            break;
        }
        seg = next;
    }
    Ok(seg)
}

fn espeak_word(dir: &Path, k: usize, text: &str) -> Result<Vec<f32>> {
    let wav = dir.join(format!("{k}.wav"));
    let status = Command::new("espeak-ng")
        .args(["-v", "vi", "-s", "160", "-w"])
        .arg(&wav)
        .arg(text)
        .status()
        .context("running espeak-ng")?;
    if !status.success() {
        bail!("espeak-ng failed on {text:?}");
    }
    let clip = decode_file(&wav, &AudioOptions::default())?.samples;
    let first = clip.iter().position(|s| s.abs() > 0.02).unwrap_or(0);
    let last = clip.iter().rposition(|s| s.abs() > 0.02).unwrap_or(0);
    Ok(clip.get(first..=last).unwrap_or(&[]).to_vec())
}

/// The fixture clips, each cut to where it is audible, joined with 300 ms
/// pauses into segments of at most 28 s; one truth entry per clip.
fn real_segments() -> Result<Vec<Segment>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("manifest.json"))?)?;
    let clips = manifest["clips"].as_array().context("manifest clips")?;
    let mut segments = Vec::new();
    let mut seg = empty_segment(0);
    for clip in clips {
        let file = clip["file"].as_str().context("clip file")?;
        let reference = clip["reference"].as_str().context("clip reference")?;
        let samples = decode_file(&root.join(file), &AudioOptions::default())?.samples;
        let speech = audible(&samples);
        if !seg.truth.is_empty() && (seg.samples.len() + speech.len()) / 16 + 300 > 28_000 {
            let next = empty_segment(segments.len() + 1);
            segments.push(std::mem::replace(&mut seg, next));
        }
        push_clip(&mut seg, speech, reference);
    }
    if !seg.truth.is_empty() {
        segments.push(seg);
    }
    Ok(segments)
}

/// An empty segment (300 ms of silence) at the `index`th ten minutes.
fn empty_segment(index: usize) -> Segment {
    let start_ms = 600_000 * (index as u64 + 1);
    Segment {
        samples: vec![0.0; 16 * 300],
        start_ms,
        end_ms: start_ms,
        text: String::new(),
        truth: Vec::new(),
    }
}

fn push_clip(seg: &mut Segment, speech: &[f32], reference: &str) {
    let at = seg.start_ms + seg.samples.len() as u64 / 16;
    seg.samples.extend_from_slice(speech);
    seg.truth.push(Word {
        text: reference.into(),
        start_ms: at,
        end_ms: seg.start_ms + seg.samples.len() as u64 / 16,
        probability: 1.0,
    });
    seg.samples.extend(std::iter::repeat_n(0.0, 16 * 300));
    seg.end_ms = seg.start_ms + seg.samples.len() as u64 / 16;
    if !seg.text.is_empty() {
        seg.text.push(' ');
    }
    seg.text.push_str(reference);
}

/// The clip from its first to its last audible 10 ms frame (over a tenth
/// of its loud level, the 95th percentile of frame levels).
fn audible(samples: &[f32]) -> &[f32] {
    let rms: Vec<f32> = samples
        .chunks(160)
        .map(|c| (c.iter().map(|s| s * s).sum::<f32>() / c.len() as f32).sqrt())
        .collect();
    let mut sorted = rms.clone();
    sorted.sort_by(f32::total_cmp);
    let loud = sorted.get(sorted.len() * 95 / 100).copied().unwrap_or(0.0);
    let first = rms.iter().position(|&r| r > loud * 0.1).unwrap_or(0);
    let last = rms.iter().rposition(|&r| r > loud * 0.1).unwrap_or(0);
    samples
        .get(first * 160..((last + 1) * 160).min(samples.len()))
        .unwrap_or(&[])
}
