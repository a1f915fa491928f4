"""Video through PyAV: frames encoded straight from numpy into one mp4 per shard and camera.

Timestamps are exact: the stream's time base is 1/fps and frame k of the file has pts k, so an
episode that starts at frame n starts at n/fps seconds, as LeRobot's `from_timestamp` requires.
"""

from __future__ import annotations

import logging
import os
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from simfarm.errors import DatasetError

logging.getLogger("libav").setLevel(logging.ERROR)
# SVT-AV1 prints a banner per encoder to stderr; level 1 keeps its errors only.
os.environ.setdefault("SVT_LOG", "1")


# preset "auto": what a farm wants from each encoder. SVT-AV1 11 encodes 224x224 frames 2.5x faster
# than its default (8) for -0.6 dB PSNR and +18% bytes (benchmarks/README.md); x264's default
# (medium) is already cheap next to rendering.
AUTO_PRESETS = {"libsvtav1": "11", "libx264": None}


def x264_cpu_params() -> str | None:
    """x264's instruction sets, capped at AVX2 on CPUs that have it, so its output is reproducible.

    x264's AVX-512 routines read memory they never wrote: on an AVX-512 CPU the same frames give
    different bytes from one process to the next (MALLOC_PERTURB_ shows it; `asm=0` and `asm=AVX2`
    do not), which broke byte-identical videos between jobs run with 1 and 2 workers. Capping at
    AVX2 also puts x86 machines with and without AVX-512 on the same code paths (x264's instruction
    sets round differently). CPUs without AVX2 keep x264's own detection (naming a set the CPU
    lacks would crash it).
    """
    try:  # numpy's runtime CPU dispatch table: numpy 2 and numpy 1 paths
        from numpy._core._multiarray_umath import __cpu_features__ as features
    except ImportError:
        try:
            from numpy.core._multiarray_umath import __cpu_features__ as features
        except ImportError:  # moved again: keep x264's own detection
            return None
    if features.get("AVX2") and features.get("FMA3"):
        return "asm=AVX2"
    return None


# What `VideoEncoder.write` takes per input format: the frames' dtype and trailing shape.
INPUT_FORMATS = {
    "rgb24": (np.uint8, 3),  # (T, H, W, 3) colour
    "gray": (np.uint8, None),  # (T, H, W) 8-bit plane (segmentation ids)
    "gray12le": (np.uint16, None),  # (T, H, W) 12-bit codes (quantized depth)
}


def x265_params(lossless: bool, threads: int | None) -> str:
    """libx265's own option string: lossless or not, its banner off, its thread pool sized."""
    parts = ["lossless=1"] if lossless else []
    # No B-frames, closed GOPs: x265's defaults (open GOP, B-frames) leave frames that a reader
    # seeking to an episode's first keyframe cannot decode, so episodes past the first would fail
    # LeRobot's timestamp check; with these every frame is decodable from its own keyframe.
    parts += ["bframes=0", "open-gop=0"]
    parts.append("log-level=error")  # x265 prints its settings to stderr for every encoder otherwise
    if threads is not None:
        parts += [f"pools={int(threads)}", "frame-threads=1"]
    return ":".join(parts)


class VideoEncoder:
    """Appends frames to one mp4; `close()` flushes the encoder.

    `input_format` "rgb24" takes uint8 (T, H, W, 3); "gray" uint8 (T, H, W); "gray12le" uint16
    (T, H, W) codes 0..4095. `lossless` applies to libx265 only (x265's lossless mode; crf ignored).
    """

    def __init__(self, path: str | Path, fps: int, height: int, width: int, codec_name: str = "libsvtav1",
                 crf: int = 30, gop: int = 2, preset: str | None = None, pix_fmt: str = "yuv420p",
                 threads: int | None = 1, input_format: str = "rgb24", lossless: bool = False):
        if input_format not in INPUT_FORMATS:
            raise DatasetError(f"video input format {input_format!r} is unknown; accepted: {sorted(INPUT_FORMATS)}")
        self.input_format = input_format
        options = {"g": str(gop), "crf": str(crf)}
        # A farm worker owns one CPU: one encoder thread is the cheapest per frame, and encoders
        # that spawn a thread per core fight each other when every core runs a worker.
        if codec_name == "libx265":
            options["x265-params"] = x265_params(lossless, threads)
        elif threads is not None:
            if codec_name == "libsvtav1":
                options["svtav1-params"] = f"lp={int(threads)}"
            else:
                options["threads"] = str(int(threads))
        if codec_name == "libx264" and (cpu := x264_cpu_params()):
            options["x264-params"] = cpu
        if preset == "auto":
            preset = AUTO_PRESETS.get(codec_name)
        if preset is not None:
            options["preset"] = str(preset)
        self.options = options  # what the encoder was given (for the record and tests)
        self.path = Path(path)
        self.fps = int(fps)
        self.height, self.width = int(height), int(width)
        self.frames_written = 0
        self._container = av.open(str(self.path), mode="w", format="mp4")
        try:
            self._stream = self._container.add_stream(codec_name, rate=Fraction(self.fps), options=options)
        except Exception as exc:
            self._container.close()
            raise DatasetError(f"video codec {codec_name!r} is not available in PyAV: {exc}") from exc
        self._stream.width = self.width
        self._stream.height = self.height
        self._stream.pix_fmt = pix_fmt
        self._stream.time_base = Fraction(1, self.fps)
        self._time_base = Fraction(1, self.fps)

    def write(self, frames: np.ndarray) -> None:
        dtype, channels = INPUT_FORMATS[self.input_format]
        shape = (self.height, self.width) + ((channels,) if channels else ())
        if frames.dtype != dtype or frames.shape[1:] != shape:
            raise DatasetError(
                f"{self.path.name}: frames must be {np.dtype(dtype).name} (T, {', '.join(map(str, shape))}), "
                f"got {frames.dtype} {frames.shape}"
            )
        for frame in frames:
            vf = self._frame(frame)
            vf.pts = self.frames_written
            vf.time_base = self._time_base
            for packet in self._stream.encode(vf):
                self._container.mux(packet)
            self.frames_written += 1

    def _frame(self, frame: np.ndarray) -> av.VideoFrame:
        if self.input_format != "gray12le":
            return av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format=self.input_format)
        # 16-bit plane rows are padded to line_size: write the image row by row into it
        vf = av.VideoFrame(self.width, self.height, "gray12le")
        plane = vf.planes[0]
        rows = np.frombuffer(plane, dtype=np.uint16).reshape(self.height, plane.line_size // 2)
        rows[:, : self.width] = frame
        return vf

    def close(self) -> None:
        for packet in self._stream.encode(None):
            self._container.mux(packet)
        self._container.close()

    def abort(self) -> None:
        try:
            self._container.close()
        except Exception:  # a half-written file is deleted next; its close error does not matter
            pass


def probe_video(path_or_file) -> dict:
    """Codec, size, pix_fmt, fps and frame count of an mp4 (frames counted by demuxing packets)."""
    with av.open(path_or_file) as container:
        stream = container.streams.video[0]
        n = sum(1 for p in container.demux(stream) if p.size > 0)
        return {
            "codec": stream.codec_context.name,
            "height": stream.codec_context.height,
            "width": stream.codec_context.width,
            "pix_fmt": stream.codec_context.pix_fmt,
            "fps": float(stream.average_rate) if stream.average_rate else None,
            "frames": n,
            "has_audio": len(container.streams.audio) > 0,
        }


def decode_frames_at(path_or_file, timestamps_s: list[float], tolerance_s: float,
                     pixel_format: str = "rgb24") -> tuple[np.ndarray, np.ndarray]:
    """Decode the frames nearest `timestamps_s` (sorted ascending) as LeRobot's pyav reader does.

    Returns (frames (N, H, W, 3) uint8 for "rgb24"; (N, H, W) for "gray" (uint8) or "gray12le"
    (uint16 codes, as LeRobot decodes depth), their pts in seconds). Raises DatasetError when a
    frame is farther than `tolerance_s` from its asked time.
    """
    want = np.asarray(timestamps_s, dtype=np.float64)
    frames, times = [], []
    with av.open(path_or_file) as container:
        stream = container.streams.video[0]
        tb = stream.time_base
        container.seek(int(max(0.0, want.min()) / tb), stream=stream, backward=True, any_frame=False)
        for frame in container.decode(stream):
            t = float(frame.pts * tb)
            frames.append(frame.to_ndarray(format=pixel_format))
            times.append(t)
            if t >= want.max() - tolerance_s:
                break
    loaded = np.asarray(times)
    idx = np.abs(want[:, None] - loaded[None, :]).argmin(axis=1)
    err = np.abs(loaded[idx] - want)
    if np.any(err > tolerance_s):
        bad = int(np.argmax(err))
        raise DatasetError(
            f"video frame for t={want[bad]:.4f}s is {err[bad]:.4f}s away (tolerance {tolerance_s}s); "
            "timestamps and video disagree"
        )
    return np.stack([frames[i] for i in idx]), loaded[idx]
