"""Tiny videos made in the test with PyAV: HEVC in a QuickTime .MOV (as an iPhone records), H.264 MP4."""

from __future__ import annotations

import math
import struct
import tempfile
from pathlib import Path
from typing import Any

import av


def make_video(
    *,
    codec: str = "libx265",
    container: str = "mov",
    width: int = 320,
    height: int = 240,
    frames: int = 12,
    fps: int = 24,
    audio: bool = True,
    rotation: int = 0,
) -> bytes:
    """A short clip: a moving grey ramp, with a 440 Hz tone when `audio`."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"clip.{container}"
        with av.open(str(path), "w", format=container) as output:
            video = output.add_stream(codec, rate=fps)
            video.width, video.height, video.pix_fmt = width, height, "yuv420p"
            if codec == "libx265":
                video.options = {"x265-params": "log-level=none", "preset": "ultrafast"}
            if rotation:
                video.set_display_rotation(rotation)
            sound = _sound_stream(output) if audio else None
            for index in range(frames):
                frame = _ramp(width, height, index)
                frame.pts = index
                output.mux(video.encode(frame))
            output.mux(video.encode(None))
            if sound is not None:
                _tone(output, sound, seconds=frames / fps)
        return path.read_bytes()


def _ramp(width: int, height: int, index: int) -> av.VideoFrame:
    frame = av.VideoFrame(width, height, "gray")
    plane = frame.planes[0]
    row = bytes((x * 255 // width + index * 8) % 256 for x in range(width))
    plane.update(row.ljust(plane.line_size, b"\0") * height)
    return frame


def _sound_stream(output: Any) -> Any:
    stream = output.add_stream("aac", rate=48000)
    stream.layout = "stereo"
    return stream


def _tone(output: Any, stream: Any, *, seconds: float) -> None:
    samples = int(48000 * seconds)
    for start in range(0, samples, 1024):
        frame = av.AudioFrame(format="fltp", layout="stereo", samples=1024)
        data = struct.pack(
            "<1024f", *(0.3 * math.sin(2 * math.pi * 440 * (start + k) / 48000) for k in range(1024))
        )
        frame.planes[0].update(data)
        frame.planes[1].update(data)
        frame.sample_rate = 48000
        frame.pts = start
        output.mux(stream.encode(frame))
    output.mux(stream.encode(None))


def describe(data: bytes) -> dict[str, Any]:
    """What a player sees of an MP4/MOV: streams, size, and whether `moov` comes before `mdat`."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "video"
        path.write_bytes(data)
        with av.open(str(path)) as container:
            video = container.streams.video[0]
            first = next(container.decode(video))
            return {
                "video": video.codec_context.name,
                "pixels": first.format.name,
                "width": first.width,
                "height": first.height,
                "rotation": int(first.rotation or 0),
                "audio": [a.codec_context.name for a in container.streams.audio],
                "brand": data[8:12],
                "faststart": top_level_boxes(data).index(b"moov") < top_level_boxes(data).index(b"mdat"),
            }


def top_level_boxes(data: bytes) -> list[bytes]:
    """The types of an ISO media file's top-level boxes, in order (ftyp, moov, mdat…)."""
    boxes, at = [], 0
    while at + 8 <= len(data):
        size, kind = int.from_bytes(data[at : at + 4], "big"), data[at + 4 : at + 8]
        if size == 1:
            size = int.from_bytes(data[at + 8 : at + 16], "big")
        boxes.append(kind)
        if size < 8:
            break
        at += size
    return boxes
