"""DatasetSpec: what a dataset holds (features, cameras, fps) and how it is encoded."""

from __future__ import annotations

from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import Any

import numpy as np

from simfarm.episode import Episode
from simfarm.errors import ConfigError, DatasetError

VIDEO_CODECS = {"av1": "libsvtav1", "h264": "libx264"}
WRITER_KINDS = ("lerobot", "hdf5")

# The columns every LeRobot v3 data file carries, declared exactly as LeRobot's DEFAULT_FEATURES.
DEFAULT_FEATURES: dict[str, dict[str, Any]] = {
    "timestamp": {"dtype": "float32", "shape": [1], "names": None},
    "frame_index": {"dtype": "int64", "shape": [1], "names": None},
    "episode_index": {"dtype": "int64", "shape": [1], "names": None},
    "index": {"dtype": "int64", "shape": [1], "names": None},
    "task_index": {"dtype": "int64", "shape": [1], "names": None},
}

# Step arrays that are not LeRobot features: timestamp is a default column; physics_state has a
# per-scene size and is stored beside the data for replay (writers/README.md).
NON_FEATURE_KEYS = ("timestamp", "physics_state")
# Step arrays named "frames.<column>" are per-frame side columns (annotations...): they go to the
# frames side table (LeRobot) or the demo's frames/ group (HDF5), not to the data files.
FRAME_COLUMN_PREFIX = "frames."


def video_key(camera: str) -> str:
    return f"observation.images.{camera}"


def depth_key(camera: str) -> str:
    """LeRobot's depth camera key: `<camera>_depth` under observation.images (hw_to_dataset_features)."""
    return f"observation.images.{camera}_depth"


def segmentation_key(camera: str) -> str:
    return f"observation.images.{camera}_segmentation"


# Fields added with depth/segmentation/geometry: left out of to_dict() while at their defaults, so
# an RGB-only job's manifests and meta/simfarm/dataset.json stay byte for byte as before.
OPTIONAL_FIELDS = ("depth_cameras", "segmentation_cameras", "geometry_cameras", "frame_columns", "depth_lossless",
                   "depth_crf", "depth_min", "depth_max", "depth_shift", "depth_use_log")


@dataclass
class DatasetSpec:
    """Schema and encoding of one dataset; every shard of a job uses the same spec.

    `features` maps a step feature name to {dtype, shape, names} (no video features, no default
    columns); `cameras` maps a camera name to its (height, width). `depth_cameras` and
    `segmentation_cameras` do the same for depth and segmentation videos, `geometry_cameras` lists
    the cameras whose intrinsics and per-frame extrinsics are stored, `frame_columns` the
    "frames.<column>" step arrays that go to the frames side table.
    """

    fps: int
    robot_type: str
    features: dict[str, dict[str, Any]]
    cameras: dict[str, tuple[int, int]] = field(default_factory=dict)
    video_codec: str = "av1"
    crf: int = 30
    gop: int = 2
    preset: str | None = "auto"  # "auto": video.AUTO_PRESETS per codec; None: the encoder's default
    encoder_threads: int | None = 1  # per video encoder; None: the encoder's default (a thread per core)
    pix_fmt: str = "yuv420p"
    chunks_size: int = 1000
    data_files_size_in_mb: int = 100
    video_files_size_in_mb: int = 500
    hdf5_compression_level: int = 4
    hdf5_valid_fraction: float = 0.1
    # LeRobot's language columns (subtasks, plan, paraphrases; simfarm/writers/language.py). LeRobot
    # 0.4.x, the newest for Python 3.11, predates them and refuses datasets that have them.
    language_columns: bool = True
    depth_cameras: dict[str, tuple[int, int]] = field(default_factory=dict)
    segmentation_cameras: dict[str, tuple[int, int]] = field(default_factory=dict)
    geometry_cameras: list[str] = field(default_factory=list)
    frame_columns: list[str] = field(default_factory=list)
    # Depth video (writers/depth.py): lossless x265 by default, so a decoded frame is the rendered
    # depth to within one 12-bit code; depth_lossless=false encodes at depth_crf (smaller, lossy).
    depth_lossless: bool = True
    depth_crf: int = 30
    depth_min: float = 0.01
    depth_max: float = 10.0
    depth_shift: float = 3.5
    depth_use_log: bool = True

    def __post_init__(self) -> None:
        if self.video_codec not in VIDEO_CODECS:
            raise ConfigError(f"writer.video_codec={self.video_codec!r} is unknown; accepted: {sorted(VIDEO_CODECS)}")
        if not 0 <= int(self.crf) <= 63:
            raise ConfigError(f"writer.crf={self.crf!r} must be in 0..63")
        if int(self.gop) < 1:
            raise ConfigError(f"writer.gop={self.gop!r} must be >= 1")
        if float(self.fps) != int(self.fps) or int(self.fps) <= 0:
            raise ConfigError(f"fps={self.fps!r}: LeRobot datasets need a positive integer fps")
        self.fps = int(self.fps)
        self.cameras = {k: (int(v[0]), int(v[1])) for k, v in self.cameras.items()}
        for cam, (h, w) in self.cameras.items():
            if h % 2 or w % 2:
                raise ConfigError(f"camera {cam!r} is {h}x{w}; yuv420p video needs even height and width")
        self.depth_cameras = {k: (int(v[0]), int(v[1])) for k, v in self.depth_cameras.items()}
        self.segmentation_cameras = {k: (int(v[0]), int(v[1])) for k, v in self.segmentation_cameras.items()}
        self.geometry_cameras = [str(c) for c in self.geometry_cameras]
        self.frame_columns = [str(c) for c in self.frame_columns]
        _ = self.depth_coding  # raises ConfigError on impossible quantizer settings
        if not 0 <= int(self.depth_crf) <= 51:
            raise ConfigError(f"writer.depth_crf={self.depth_crf!r} must be in 0..51 (x265)")
        keys = list(self.video_keys)
        clash = sorted({k for k in keys if keys.count(k) > 1})
        if clash:
            raise ConfigError(f"video keys {clash} are used twice (a camera named like another's depth or segmentation)")
        for name, ft in self.features.items():
            if "/" in name:
                raise ConfigError(f"feature name {name!r} must not contain '/' (LeRobot flattens stats with it)")
            ft["shape"] = [int(s) for s in ft["shape"]]

    @property
    def codec_name(self) -> str:
        return VIDEO_CODECS[self.video_codec]

    @property
    def depth_coding(self):
        from simfarm.writers.depth import DepthCoding

        return DepthCoding(float(self.depth_min), float(self.depth_max), float(self.depth_shift), bool(self.depth_use_log))

    @property
    def video_keys(self) -> list[str]:
        """Every video feature, in info.json order: RGB cameras, then depth, then segmentation."""
        return ([video_key(c) for c in self.cameras] + [depth_key(c) for c in self.depth_cameras]
                + [segmentation_key(c) for c in self.segmentation_cameras])

    @property
    def has_frames_table(self) -> bool:
        return bool(self.geometry_cameras or self.frame_columns)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["cameras"] = {k: list(v) for k, v in self.cameras.items()}
        d["depth_cameras"] = {k: list(v) for k, v in self.depth_cameras.items()}
        d["segmentation_cameras"] = {k: list(v) for k, v in self.segmentation_cameras.items()}
        defaults = {f.name: (f.default_factory() if f.default_factory is not MISSING else f.default)
                    for f in fields(self) if f.name in OPTIONAL_FIELDS}
        for name, default in defaults.items():
            if d[name] == default:
                del d[name]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DatasetSpec:
        return cls(**d)

    @classmethod
    def from_episode(cls, episode: Episode, robot_type: str | None = None, **options: Any) -> DatasetSpec:
        """The spec that stores `episode`'s features and cameras; `options` set encoding fields."""
        names = episode.metadata.get("names") or {}
        features: dict[str, dict[str, Any]] = {}
        for key, arr in episode.steps.items():
            if key in NON_FEATURE_KEYS or key.startswith(FRAME_COLUMN_PREFIX):
                continue
            arr = np.asarray(arr)
            shape = [1] if arr.ndim == 1 else [int(s) for s in arr.shape[1:]]
            feature_names = names.get(key)
            features[key] = {
                "dtype": "bool" if arr.dtype == bool else str(arr.dtype),
                "shape": shape,
                "names": list(feature_names) if feature_names else None,
            }
        cameras = {cam: (int(f.shape[1]), int(f.shape[2])) for cam, f in episode.images.items()}
        robot = robot_type or str(episode.metadata.get("robot_type") or episode.metadata.get("robot", "unknown"))
        extra = {
            "depth_cameras": {cam: (int(f.shape[1]), int(f.shape[2])) for cam, f in episode.depth.items()},
            "segmentation_cameras": {cam: (int(f.shape[1]), int(f.shape[2])) for cam, f in episode.segmentation.items()},
            "geometry_cameras": list(episode.cameras),
            "frame_columns": [k[len(FRAME_COLUMN_PREFIX):] for k in episode.steps if k.startswith(FRAME_COLUMN_PREFIX)],
        }
        return cls(fps=int(round(episode.fps)), robot_type=robot, features=features, cameras=cameras,
                   **{**extra, **options})

    def check_episode(self, episode: Episode) -> None:
        """Raise DatasetError when `episode` does not match this spec (feature shapes, cameras, fps)."""
        try:
            episode.validate()
        except ValueError as exc:
            raise DatasetError(str(exc)) from exc
        if episode.length == 0:
            raise DatasetError(f"episode {episode.index} has no steps; the writer only takes kept, non-empty episodes")
        if int(round(episode.fps)) != self.fps:
            raise DatasetError(f"episode {episode.index} has fps {episode.fps}; the dataset has {self.fps}")
        for key, ft in self.features.items():
            if key not in episode.steps:
                raise DatasetError(f"episode {episode.index} lacks feature {key!r}; has {sorted(episode.steps)}")
            arr = episode.steps[key]
            shape = [1] if arr.ndim == 1 else list(arr.shape[1:])
            if shape != ft["shape"]:
                raise DatasetError(f"episode {episode.index}: {key} has shape {shape}; the dataset declares {ft['shape']}")
        if set(episode.images) != set(self.cameras):
            raise DatasetError(f"episode {episode.index} has cameras {sorted(episode.images)}; the dataset has {sorted(self.cameras)}")
        for cam, (h, w) in self.cameras.items():
            if episode.images[cam].shape[1:3] != (h, w):
                raise DatasetError(f"episode {episode.index}: camera {cam!r} is {episode.images[cam].shape[1:3]}; expected {(h, w)}")
        for kind, have, want in (("depth", episode.depth, self.depth_cameras),
                                 ("segmentation", episode.segmentation, self.segmentation_cameras)):
            if set(have) != set(want):
                raise DatasetError(f"episode {episode.index} has {kind} cameras {sorted(have)}; the dataset has {sorted(want)}")
            for cam, (h, w) in want.items():
                if have[cam].shape[1:3] != (h, w):
                    raise DatasetError(f"episode {episode.index}: {kind} of camera {cam!r} is {have[cam].shape[1:3]}; expected {(h, w)}")
        if set(episode.cameras) != set(self.geometry_cameras):
            raise DatasetError(f"episode {episode.index} has camera geometry for {sorted(episode.cameras)}; "
                               f"the dataset has {sorted(self.geometry_cameras)}")
        columns = sorted(k[len(FRAME_COLUMN_PREFIX):] for k in episode.steps if k.startswith(FRAME_COLUMN_PREFIX))
        if columns != sorted(self.frame_columns):
            raise DatasetError(f"episode {episode.index} has frame columns {columns}; the dataset has {sorted(self.frame_columns)}")


def validate_config(cfg: dict[str, Any]) -> None:
    """The writer part of a job config: kind, codec, crf, gop (called by simfarm.config)."""
    writer = cfg.get("writer")
    if writer is None:
        return
    if not isinstance(writer, dict):
        raise ConfigError(f"writer must be a mapping (writer=lerobot|hdf5), got {writer!r}")
    kind = writer.get("kind", "lerobot")
    if kind not in (*WRITER_KINDS, "none"):
        raise ConfigError(f"writer.kind={kind!r} is unknown; accepted: {[*WRITER_KINDS, 'none']}")
    known = {"kind", "video_codec", "crf", "gop", "preset", "encoder_threads", "chunks_size", "hdf5_compression_level",
             "hdf5_valid_fraction", "language_columns", "depth_lossless", "depth_crf", "depth_min", "depth_max",
             "depth_shift", "depth_use_log"}
    unknown = set(writer) - known
    if unknown:
        raise ConfigError(f"writer has unknown keys {sorted(unknown)}; accepted: {sorted(known)}")
    codec = writer.get("video_codec", "av1")
    if codec not in VIDEO_CODECS:
        raise ConfigError(f"writer.video_codec={codec!r} is unknown; accepted: {sorted(VIDEO_CODECS)}")
    crf = writer.get("crf", 30)
    if not isinstance(crf, int) or not 0 <= crf <= 63:
        raise ConfigError(f"writer.crf={crf!r} must be an integer in 0..63")
    gop = writer.get("gop", 2)
    if not isinstance(gop, int) or gop < 1:
        raise ConfigError(f"writer.gop={gop!r} must be an integer >= 1")
    from simfarm import checks

    for key in ("language_columns", "depth_lossless", "depth_use_log"):
        if key in writer:
            checks.boolean(f"writer.{key}", writer[key])
    depth_crf = writer.get("depth_crf", 30)
    if not isinstance(depth_crf, int) or isinstance(depth_crf, bool) or not 0 <= depth_crf <= 51:
        raise ConfigError(f"writer.depth_crf={depth_crf!r} must be an integer in 0..51 (x265)")
    for key in ("depth_min", "depth_max", "depth_shift"):
        if key in writer and (isinstance(writer[key], bool) or not isinstance(writer[key], int | float)):
            raise ConfigError(f"writer.{key}={writer[key]!r} must be a number of metres")
    from simfarm.writers.depth import DepthCoding

    use_log = checks.boolean("writer.depth_use_log", writer["depth_use_log"]) if "depth_use_log" in writer else True
    DepthCoding(float(writer.get("depth_min", 0.01)), float(writer.get("depth_max", 10.0)),
                float(writer.get("depth_shift", 3.5)), use_log)


def spec_options(writer_cfg: dict[str, Any]) -> dict[str, Any]:
    """DatasetSpec keyword options from a job's `writer` config group."""
    # preset/encoder_threads null are meaningful (the encoder's own default); other nulls mean "not set".
    return {k: v for k, v in writer_cfg.items() if k != "kind" and (v is not None or k in ("preset", "encoder_threads"))}
