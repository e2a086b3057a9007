//! Any bytes, under any of the extensions tocky accepts, must decode or fail
//! with an error: never panic, never hang.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use tocky_audio::vad::{Segmenter, VadOptions};
use tocky_audio::{AudioReader, DecodeOptions};

const NAMES: [&str; 8] = ["a.wav", "a.flac", "a.mp3", "a.ogg", "a.m4a", "a.mkv", "a.webm", "a"];

/// libFuzzer aborts on every panic. tocky contains panics from inside
/// symphonia (see `contain_panic` in the decoder) and turns them into
/// errors, so those unwind; any other panic is still a finding.
fn let_symphonia_panics_unwind() {
    let abort = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        // The panic may be raised in `core` on symphonia's behalf (an
        // iterator adapter, an overflow), so look at the whole stack.
        let in_symphonia = info.location().is_some_and(|l| l.file().contains("symphonia"))
            || std::backtrace::Backtrace::force_capture().to_string().contains("symphonia_");
        if !in_symphonia {
            abort(info);
        }
    }));
}

fuzz_target!(init: let_symphonia_panics_unwind(), |data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else { return };
    let name = Path::new(NAMES[selector as usize % NAMES.len()]);
    // Bounded, so that a file claiming hours of audio cannot stall the fuzzer.
    let opts = DecodeOptions { max_seconds: Some(60), ..DecodeOptions::default() };
    let Ok(mut reader) = AudioReader::from_bytes(bytes.to_vec(), name, &opts) else { return };
    let mut segmenter = Segmenter::new(VadOptions::default());
    let mut chunk = Vec::new();
    for _ in 0..10_000 {
        chunk.clear();
        match reader.read_into(&mut chunk) {
            Ok(more) => {
                assert!(chunk.iter().all(|s| s.is_finite()), "non-finite sample");
                let _ = segmenter.push(&chunk);
                if !more {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    let _ = segmenter.finish();
});
