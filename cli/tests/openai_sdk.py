"""Drives `tocky serve`'s OpenAI-compatible API with the official openai SDK.

Usage: openai_sdk.py BASE_URL KEY MODE [CLIP ...]

MODE "formats": transcribes the first clip in json, verbose_json (words and
segments), srt and text, lists the models, and tries a non-audio file and a
model that is not loaded; prints one JSON object with what came back.
MODE "time": one warm-up call, then transcribes each clip (json) $RUNS
times (3 by default) and prints the median seconds per clip, as JSON.
MODE "refused": one call that must fail; prints its status and code.
"""

import json
import os
import statistics
import sys
import tempfile
import time

import openai
from openai import OpenAI


def client(base, key):
    # No retries: the test wants the first answer, errors included.
    return OpenAI(base_url=base + "/v1", api_key=key, max_retries=0, timeout=600)


def create(c, clip, **kwargs):
    with open(clip, "rb") as f:
        return c.audio.transcriptions.create(file=f, **kwargs)


def error(call):
    try:
        call()
    except openai.APIStatusError as e:
        return {"status": e.status_code, "code": e.code, "type": e.type,
                "param": e.param, "message": e.message}
    return None


def formats(c, model, clip):
    out = {"sdk": openai.__version__, "models": [m.id for m in c.models.list().data]}
    out["json"] = create(c, clip, model=model, response_format="json").text
    v = create(c, clip, model=model, response_format="verbose_json",
               timestamp_granularities=["word", "segment"], language="vi")
    out["verbose"] = {
        "language": v.language,
        "duration": v.duration,
        "text": v.text,
        "segments": [{"start": s.start, "end": s.end, "text": s.text,
                      "avg_logprob": s.avg_logprob,
                      "compression_ratio": s.compression_ratio} for s in v.segments],
        "words": [{"word": w.word, "start": w.start, "end": w.end} for w in v.words],
    }
    out["srt"] = create(c, clip, model=model, response_format="srt")
    out["text"] = create(c, clip, model="whisper-1", response_format="text")
    with tempfile.NamedTemporaryFile(suffix=".txt") as t:
        t.write(b"this is not audio\n" * 100)
        t.flush()
        out["not_audio"] = error(lambda: create(c, t.name, model=model))
    out["unknown_model"] = error(lambda: create(c, clip, model="large-v9"))
    return out


def timing(c, model, clips, runs):
    # One warm-up (the model's first run pays for its caches), then `runs`
    # timed calls per clip; the median.
    create(c, clips[0], model=model)
    out = {}
    for clip in clips:
        took = []
        for _ in range(runs):
            start = time.perf_counter()
            create(c, clip, model=model)
            took.append(time.perf_counter() - start)
        out[clip] = statistics.median(took)
    return out


def main():
    base, key, mode, *clips = sys.argv[1:]
    c = client(base, key)
    if mode == "formats":
        out = formats(c, "base", clips[0])
    elif mode == "time":
        out = timing(c, "base", clips, int(os.environ.get("RUNS", "3")))
    elif mode == "refused":
        out = error(lambda: c.models.list())
    else:
        sys.exit(f"unknown mode {mode!r}")
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
