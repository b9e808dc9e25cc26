"""Playback renditions: an H.264/AAC MP4 (at most 1080p, `faststart`) of a video browsers can't play.

Chromium and Firefox play H.264 (8-bit 4:2:0) with AAC or MP3 in an MP4; they refuse HEVC, ProRes
and the QuickTime container (.MOV) iPhones record in. PyAV's wheels carry the HEVC decoder and
libx264, so the server needs no ffmpeg of its own.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

MAX_SHORT_SIDE = 1080
PLAYABLE_VIDEO = {"h264"}
PLAYABLE_AUDIO = {"aac", "mp3"}
PLAYABLE_PIXELS = {"yuv420p", "yuvj420p"}
AAC_RATES = (48000, 44100, 32000, 24000, 22050, 16000)
AAC_FRAME_SIZE = 1024


class UnplayableVideo(Exception):
    """The file is not a video we can read (no picture track, broken data)."""


@dataclass(frozen=True)
class Encoding:
    """How renditions are encoded (x264's CRF and preset; what bench/transcode.py compares)."""

    crf: int = 23
    preset: str = "veryfast"
    audio_bit_rate: int = 128_000


DEFAULT_ENCODING = Encoding()


@dataclass(frozen=True)
class Rendered:
    width: int
    height: int


def playable_as_is(source: Path) -> bool:
    """Whether browsers play the file as it is: H.264 (8-bit 4:2:0) in an MP4, AAC/MP3 or no sound."""
    with source.open("rb") as handle:
        head = handle.read(16)
    if head[4:8] != b"ftyp" or head[8:12] == b"qt  " or source.suffix.lower() == ".mov":
        return False
    import av

    try:
        with av.open(str(source)) as container:
            videos = container.streams.video
            if not videos:
                raise UnplayableVideo("the video has no picture track")
            video = videos[0].codec_context
            audio_ok = all(a.codec_context.name in PLAYABLE_AUDIO for a in container.streams.audio)
            pixels = video.format.name if video.format is not None else ""
            return video.name in PLAYABLE_VIDEO and pixels in PLAYABLE_PIXELS and audio_ok
    except av.FFmpegError as exc:
        raise UnplayableVideo(f"not a readable video: {exc}") from None


def output_size(width: int, height: int) -> tuple[int, int]:
    """The size shrunk so the short side is at most 1080, both even (as 4:2:0 needs)."""
    scale = min(1.0, MAX_SHORT_SIDE / min(width, height))
    return _even(width * scale), _even(height * scale)


def _even(value: float) -> int:
    return max(2, int(round(value / 2)) * 2)


def transcode(
    source: Path, target: Path, *, audio: bool = True, encoding: Encoding = DEFAULT_ENCODING
) -> Rendered:
    """Write the playback rendition of `source` to `target`; `audio=False` leaves the sound out.

    The picture keeps its stored orientation and the source's display rotation (browsers apply
    it), so a portrait iPhone video is not turned pixel by pixel.
    """
    import av

    try:
        with av.open(str(source)) as container:
            if not container.streams.video:
                raise UnplayableVideo("the video has no picture track")
            with av.open(str(target), "w", format="mp4", options={"movflags": "+faststart"}) as output:
                return _Transcoder(container, output, audio=audio, encoding=encoding).run()
    except av.FFmpegError as exc:
        raise UnplayableVideo(f"not a readable video: {exc}") from None


class _Transcoder:
    """One pass over the source: decode, scale, encode and mux, picture and sound interleaved.

    The output streams are made at the first decoded picture (its rotation is known then);
    sound decoded before it waits in `early_sound`.
    """

    def __init__(self, container: Any, output: Any, *, audio: bool, encoding: Encoding) -> None:
        self.container = container
        self.output = output
        self.encoding = encoding
        self.video_in = container.streams.video[0]
        self.video_in.thread_type = "AUTO"
        self.audio_in = container.streams.audio[0] if audio and container.streams.audio else None
        self.video_out: Any = None
        self.graph: Any = None
        self.sound: _Sound | None = None
        self.early_sound: list[Any] = []
        self.size = (0, 0)

    def run(self) -> Rendered:
        streams = [self.video_in] + ([self.audio_in] if self.audio_in is not None else [])
        for packet in self.container.demux(*streams):
            for frame in packet.decode():
                if packet.stream is self.video_in:
                    self._picture(frame)
                elif self.sound is not None:
                    self.sound.add(frame)
                else:
                    self.early_sound.append(frame)
        if self.video_out is None:
            raise UnplayableVideo("the video has no decodable frame")
        self.graph.push(None)
        self._encode_pulled()
        self.output.mux(self.video_out.encode(None))
        if self.sound is not None:
            self.sound.flush()
        return Rendered(*self.size)

    def _picture(self, frame: Any) -> None:
        if self.video_out is None:
            self._start(frame)
        self.graph.push(frame)
        self._encode_pulled()

    def _start(self, first: Any) -> None:
        video_in = self.video_in
        self.size = output_size(first.width, first.height)
        out = self.output.add_stream("libx264", rate=video_in.average_rate or Fraction(30))
        out.width, out.height = self.size
        out.pix_fmt = "yuv420p"
        out.time_base = video_in.time_base
        out.codec_context.time_base = video_in.time_base
        out.options = {"crf": str(self.encoding.crf), "preset": self.encoding.preset}
        rotation = int(getattr(first, "rotation", 0) or 0)
        if rotation:
            out.set_display_rotation(rotation)
        self.video_out = out
        self.graph = _picture_graph(video_in, *self.size)
        if self.audio_in is not None:
            self.sound = _Sound(self.output, self.audio_in, self.encoding)
            for frame in self.early_sound:
                self.sound.add(frame)
            self.early_sound.clear()

    def _encode_pulled(self) -> None:
        import av

        while True:
            try:
                frame = self.graph.pull()
            except (av.BlockingIOError, av.EOFError):
                return
            self.output.mux(self.video_out.encode(frame))


def _picture_graph(stream: Any, width: int, height: int) -> Any:
    """buffer → scale → yuv420p (8-bit: what browsers decode) → sink."""
    import av.filter

    graph = av.filter.Graph()
    nodes = [
        graph.add_buffer(template=stream),
        graph.add("scale", f"{width}:{height}"),
        graph.add("format", "yuv420p"),
        graph.add("buffersink"),
    ]
    for upstream, downstream in zip(nodes, nodes[1:], strict=False):
        upstream.link_to(downstream)
    graph.configure()
    return graph


class _Sound:
    """The sound track, resampled to AAC's planar float in 1024-sample frames and encoded."""

    def __init__(self, output: Any, stream: Any, encoding: Encoding) -> None:
        import av

        source_rate = stream.codec_context.sample_rate or 48000
        rate = source_rate if source_rate in AAC_RATES else 48000
        layout = "mono" if stream.codec_context.layout.nb_channels == 1 else "stereo"
        self.output = output
        self.stream = output.add_stream("aac", rate=rate)
        self.stream.layout = layout
        self.stream.bit_rate = encoding.audio_bit_rate
        self.resampler = av.AudioResampler(format="fltp", layout=layout, rate=rate, frame_size=AAC_FRAME_SIZE)

    def add(self, frame: Any) -> None:
        for out in self.resampler.resample(frame):
            self.output.mux(self.stream.encode(out))

    def flush(self) -> None:
        for out in self.resampler.resample(None):
            self.output.mux(self.stream.encode(out))
        self.output.mux(self.stream.encode(None))


def transcode_in_child(
    source: Path, target: Path, *, audio: bool = True, encoding: Encoding = DEFAULT_ENCODING
) -> Rendered:
    """`transcode` in a child process: the decoder's and x264's buffers (a hundred MB and more at
    1080p) go back to the system when it exits, and a decoder crash takes only the child down."""
    command = [sys.executable, "-m", __name__, str(source), str(target), str(encoding.crf), encoding.preset]
    command += [] if audio else ["--no-audio"]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or [f"the transcoder exited with {done.returncode}"])[-1]
        raise UnplayableVideo(reason[:500])
    size = json.loads(done.stdout)
    return Rendered(int(size["width"]), int(size["height"]))


def _main(argv: list[str]) -> int:
    source, target, crf, preset = argv[:4]
    encoding = Encoding(crf=int(crf), preset=preset)
    try:
        rendered = transcode(Path(source), Path(target), audio="--no-audio" not in argv, encoding=encoding)
    except UnplayableVideo as exc:
        sys.stderr.write(f"{exc}\n")
        return 2
    sys.stdout.write(json.dumps({"width": rendered.width, "height": rendered.height}))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
