#!/usr/bin/env python3
"""Word times of a joined session against where its clips were placed.

Usage: word_times.py SESSION.json TRANSCRIPT.json CLIPS_DIR [--list]

SESSION.json is what ../shared/eval-vi/make_session.py writes beside its WAV
(the no-speech stretches and each clip's place); TRANSCRIPT.json is tocky's
JSON transcript of that WAV; CLIPS_DIR holds the clips it was joined from
(their speech onsets are measured from the clips' own audio). Prints:

- fragments: segments of one or two words (no clip is that short);
- zero-length words (end <= start);
- segments that run from one clip into the next (a sentence not split at
  the pause between two speeches);
- the median and 90th percentile distance between each clip's speech onset
  and the start of the first word timed inside that clip's stretch;
- words whose middle lies in a no-speech stretch.

Standard library only, like the scorer beside the clips.
"""
import array
import json
import os
import statistics
import sys
import wave

FRAME_S = 0.010


def speech_onset_s(path):
    """Seconds into a clip where speech starts: the first of three 10 ms
    frames in a row whose RMS rises a tenth of the way from the clip's
    noise floor to its loud frames."""
    with wave.open(path) as w:
        rate = w.getframerate()
        pcm = array.array("h", w.readframes(w.getnframes()))
    n = int(rate * FRAME_S)
    rms = []
    for i in range(0, len(pcm) - n + 1, n):
        frame = pcm[i : i + n]
        rms.append((sum(s * s for s in frame) / n) ** 0.5)
    if not rms:
        return 0.0
    ordered = sorted(rms)
    floor = ordered[len(ordered) // 10]
    loud = ordered[(len(ordered) * 95) // 100]
    threshold = floor + 0.1 * (loud - floor)
    for i in range(len(rms) - 2):
        if all(r > threshold for r in rms[i : i + 3]):
            return i * FRAME_S
    return 0.0


def main(argv):
    if len(argv) < 3:
        print(__doc__)
        return 2
    session_path, transcript_path, clips_dir = argv[:3]
    with open(session_path, encoding="utf-8") as f:
        session = json.load(f)
    with open(transcript_path, encoding="utf-8") as f:
        doc = json.load(f)
    segments = doc["segments"] if "segments" in doc else doc["transcript"]["segments"]
    words = [w for s in segments for w in s.get("words", [])]
    short_clips = [c["name"] for c in session["clips"] if len(c["text"].split()) <= 2]
    fragments = [s for s in segments if len(s.get("words", [])) <= 2]
    zero = [w for w in words if w["end_ms"] <= w["start_ms"]]
    quiet = [
        w
        for w in words
        for a, b in session["no_speech"]
        if a * 1000 <= (w["start_ms"] + w["end_ms"]) / 2 <= b * 1000
    ]

    clips = session["clips"]
    # A segment that runs from one clip into the next joins two speeches:
    # the split belongs at the pause between them.
    spanning = [
        s
        for s in segments
        if sum(1 for c in clips if s["start_ms"] < c["end_s"] * 1000 and s["end_ms"] > c["start_s"] * 1000) > 1
    ]
    offsets = []
    for i, clip in enumerate(clips):
        # A clip's stretch runs from halfway through the pause before it
        # to halfway through the pause after it.
        lo = (clips[i - 1]["end_s"] + clip["start_s"]) / 2 if i else 0.0
        hi = (clip["end_s"] + clips[i + 1]["start_s"]) / 2 if i + 1 < len(clips) else 1e9
        inside = [w for w in words if lo * 1000 <= (w["start_ms"] + w["end_ms"]) / 2 < hi * 1000]
        if not inside:
            continue
        onset = clip["start_s"] + speech_onset_s(os.path.join(clips_dir, clip["name"] + ".wav"))
        first = min(inside, key=lambda w: w["start_ms"])
        offsets.append((abs(first["start_ms"] / 1000 - onset), clip["name"], first, onset))
    distances = sorted(o[0] for o in offsets)

    print(f"segments: {len(segments)}, words: {len(words)}")
    print(
        f"fragments (1-2 words): {len(fragments)} = {100 * len(fragments) / max(1, len(segments)):.1f} %"
        f" (clips that short: {len(short_clips)})"
    )
    print(f"zero-length words: {len(zero)}")
    print(f"segments running from one clip into the next: {len(spanning)}")
    if distances:
        p90 = distances[min(len(distances) - 1, (len(distances) * 9) // 10)]
        print(
            f"first word vs speech onset: median {1000 * statistics.median(distances):.0f} ms,"
            f" p90 {1000 * p90:.0f} ms, over {len(distances)} of {len(clips)} clips"
        )
    print(f"words in no-speech stretches: {len(quiet)}")
    if "--list" in argv:
        for s in fragments:
            print(f"  fragment {s['start_ms'] / 1000:.3f}-{s['end_ms'] / 1000:.3f} {s['text']!r}")
        for s in spanning:
            print(f"  spanning {s['start_ms'] / 1000:.3f}-{s['end_ms'] / 1000:.3f} {s['text']!r}")
        for w in zero:
            print(f"  zero-length {w['start_ms'] / 1000:.3f} {w['text']!r}")
        for d, name, w, onset in sorted(offsets, key=lambda o: -o[0])[:10]:
            print(f"  onset {name}: speech {onset:.3f}, first word {w['text']!r} at {w['start_ms'] / 1000:.3f} ({1000 * d:.0f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
