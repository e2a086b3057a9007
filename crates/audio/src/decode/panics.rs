//! Containing a panic in symphonia's demuxers or decoders as an error, and
//! keeping the contained ones off standard error.

use std::cell::Cell;
use std::sync::Once;

thread_local! {
    /// Whether this thread is inside [`contain_panic`].
    static CONTAINING: Cell<bool> = const { Cell::new(false) };
}

/// Keeps the panics that the decoder contains (and reports as errors) off
/// standard error: one would otherwise print "thread 'main' panicked"
/// above the clear error that follows it. Other
/// panics still reach the hook that was installed before. For binaries;
/// call once at startup (later calls do nothing).
pub fn quiet_contained_panics() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !CONTAINING.with(Cell::get) {
                previous(info);
            }
        }));
    });
}

/// Runs demuxer or decoder code, turning a panic into an error message.
///
/// symphonia is meant never to panic on bad input, but fuzzing found
/// malformed files that made 0.5 panic (an overflow in its EBML reader,
/// among others). A corrupt upload must cost one file, never the process.
pub(super) fn contain_panic<T>(f: impl FnOnce() -> T) -> std::result::Result<T, String> {
    let outer = CONTAINING.with(|c| c.replace(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    CONTAINING.with(|c| c.set(outer));
    result.map_err(|payload| {
        let detail = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        format!("the demuxer or decoder failed on malformed data ({detail})")
    })
}
