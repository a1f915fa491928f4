"""Episode: the pure-data product of one rollout, handed from the rollout stage to the writers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

# Per-step arrays an Episode may carry, with their LeRobot feature names (DESIGN.md). Every array
# has the episode length T as its first axis.
STEP_KEYS = (
    "observation.state",  # (T, S) float32: robot proprioception
    "observation.environment_state",  # (T, E) float32: privileged object state
    "action",  # (T, A) float32: the action applied at this step
    "next.reward",  # (T,) float32
    "next.done",  # (T,) bool: True on the last step only
    "next.success",  # (T,) bool: task success after this step
    "timestamp",  # (T,) float32 seconds since the episode start (frame_index / fps)
    "physics_state",  # (T, D) float64: mj_getState(mjSTATE_FULLPHYSICS) before the action, for replay
)


@dataclass
class Episode:
    """Arrays per step plus the metadata needed to rebuild and replay the episode.

    `images` maps a camera name (e.g. "workspace", "wrist") to uint8 frames (T, H, W, 3); the writers
    store them as `observation.images.<camera>`. `depth` maps a camera to float32 (T, H, W) metres
    along the optical axis; `segmentation` to uint8 (T, H, W) instance ids, whose table (id -> name,
    category, colour, semantic class) is `metadata["segmentation"]`. `cameras` holds each camera's
    geometry (simfarm.envs.geometry): `intrinsics` (3, 3) and per frame `world_T_camera` and
    `base_T_camera` (T, 4, 4), OpenCV axes (x right, y down, z forward), base = the robot's root
    body. `metadata` is JSON-serializable and holds at least:
    seed, split, episode_index, config_hash, task, robot, scene (program name), scene_spec (JSON str),
    scene_hash, randomization (applied values), success, safety figures, versions, wall_time_s,
    policy, and `error` (None, or the message of a failed episode).
    """

    index: int
    task: str
    instruction: str
    fps: float
    steps: dict[str, np.ndarray]
    images: dict[str, np.ndarray] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    depth: dict[str, np.ndarray] = field(default_factory=dict)
    segmentation: dict[str, np.ndarray] = field(default_factory=dict)
    cameras: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    # Ground-truth annotation rows (simfarm.annotations): "events" (LeRobot language_events rows with
    # their "frame") and "persistent" (language_persistent rows active from their "frame").
    annotations: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # A point-cloud job's clouds (T, N, 7): x, y, z (base frame), r, g, b, instance id.
    pointcloud: np.ndarray | None = None

    @property
    def length(self) -> int:
        return int(len(self.steps["action"]))

    @property
    def success(self) -> bool:
        return bool(self.metadata.get("success", False))

    def validate(self) -> None:
        """Raise ValueError when arrays disagree on length or images are not uint8 HWC."""
        n = self.length
        for key, arr in self.steps.items():
            if len(arr) != n:
                raise ValueError(f"episode {self.index}: {key} has {len(arr)} steps, action has {n}")
        for cam, frames in self.images.items():
            if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[-1] != 3 or len(frames) != n:
                raise ValueError(
                    f"episode {self.index}: images[{cam!r}] must be uint8 (T={n}, H, W, 3), "
                    f"got {frames.dtype} {frames.shape}"
                )
        for kind, maps, dtype in (("depth", self.depth, np.float32), ("segmentation", self.segmentation, np.uint8)):
            for cam, frames in maps.items():
                if frames.dtype != dtype or frames.ndim != 3 or len(frames) != n:
                    raise ValueError(
                        f"episode {self.index}: {kind}[{cam!r}] must be {np.dtype(dtype).name} (T={n}, H, W), "
                        f"got {frames.dtype} {frames.shape}"
                    )
        for cam, geometry in self.cameras.items():
            for key in ("world_T_camera", "base_T_camera"):
                if np.shape(geometry.get(key)) != (n, 4, 4):
                    raise ValueError(f"episode {self.index}: cameras[{cam!r}][{key!r}] must be (T={n}, 4, 4)")
            if np.shape(geometry.get("intrinsics")) != (3, 3):
                raise ValueError(f"episode {self.index}: cameras[{cam!r}]['intrinsics'] must be (3, 3)")
