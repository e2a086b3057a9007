#!/usr/bin/env python3
"""Re-creates fixtures/formats/: one CC0 clip in every container and codec
that `tocky transcribe` is tested on. A developer tool, not needed to build
or test: the files are committed. Needs PyAV (`pip install av`), whose wheel
carries FFmpeg's encoders.

    python3 scripts/make-format-fixtures.py
"""
import fractions
import os
import wave

import av
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "fixtures/vi/cv_common_voice_vi_23397238.wav")
OUT = os.path.join(ROOT, "fixtures/formats")


def read_source():
    with wave.open(SRC) as w:
        assert w.getframerate() == 16000 and w.getnchannels() == 1
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768
    return pcm


def upsample(pcm, rate):
    # Linear interpolation is enough for a fixture: tocky resamples back.
    n = int(len(pcm) * rate / 16000)
    x = np.linspace(0, len(pcm) - 1, n)
    return np.interp(x, np.arange(len(pcm)), pcm).astype(np.float32)


def encode(name, codec, rate, channels, pcm, video=None, fmt=None):
    path = os.path.join(OUT, name)
    data = upsample(pcm, rate)
    planes = np.stack([data] * channels)
    with av.open(path, "w", format=fmt) as out:
        if video:
            v = out.add_stream(video, rate=10)
            v.width, v.height, v.pix_fmt = 64, 48, "yuv420p"
        a = out.add_stream(codec, rate=rate)
        a.layout = "stereo" if channels == 2 else "mono"
        if codec == "vorbis":
            a.codec_context.options = {"strict": "experimental"}  # FFmpeg's own Vorbis encoder
        frame_len = 1024
        for start in range(0, planes.shape[1], frame_len):
            chunk = np.ascontiguousarray(planes[:, start : start + frame_len])
            # Float planar in; PyAV converts to the encoder's own format.
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=a.layout.name)
            frame.sample_rate = rate
            frame.pts = start
            frame.time_base = fractions.Fraction(1, rate)
            for packet in a.encode(frame):
                out.mux(packet)
        for packet in a.encode():
            out.mux(packet)
        if video:
            seconds = planes.shape[1] / rate
            for i in range(int(seconds * 10)):
                img = av.VideoFrame.from_ndarray(np.zeros((48, 64, 3), dtype=np.uint8), format="rgb24")
                img.pts = i
                for packet in v.encode(img):
                    out.mux(packet)
            for packet in v.encode():
                out.mux(packet)
    print(name, os.path.getsize(path))


def main():
    os.makedirs(OUT, exist_ok=True)
    pcm = read_source()
    encode("speech.mp3", "libmp3lame", 44100, 2, pcm)
    encode("speech.m4a", "aac", 48000, 2, pcm, fmt="mp4")
    encode("speech.ogg", "libvorbis" if "libvorbis" in av.codecs_available else "vorbis", 44100, 2, pcm)
    encode("speech.flac", "flac", 48000, 1, pcm)
    encode("speech.mkv", "flac", 44100, 2, pcm, video="mpeg4")
    encode("speech.mp4", "aac", 44100, 2, pcm, video="mpeg4")
    encode("speech-vorbis.webm", "libvorbis" if "libvorbis" in av.codecs_available else "vorbis", 48000, 2, pcm, video="libvpx" if "libvpx" in av.codecs_available else None)
    encode("speech-opus.webm", "libopus", 48000, 2, pcm)
    # A phone's or a messaging app's voice note: mono Ogg Opus.
    encode("speech.opus", "libopus", 48000, 1, pcm, fmt="ogg")


if __name__ == "__main__":
    main()
