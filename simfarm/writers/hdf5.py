"""robomimic-style HDF5: one file per shard, merged by `finalize` into output_dir/data.hdf5.

    data (attrs: total, env_args JSON)
      demo_N (attrs: num_samples, model_file, simfarm JSON, scene_spec, segmentation JSON, cameras JSON,
              annotations JSON: the vqa/trace/motion rows with their frames)
        actions (N, A) float32, rewards (N,), dones (N,) uint8, states (N, D) float64
        expert_actions (N, A) float32  the task expert's action for each state (policy-driven jobs)
        obs/<key>, next_obs/<key>     state vectors and images uint8 HWC (chunked, gzip)
        obs/<cam>_depth               float32 (N, H, W) metres along the optical axis (chunked, gzip)
        obs/<cam>_seg                 uint8 (N, H, W) instance ids; the `segmentation` attr names them
        obs/<cam>_intrinsics          float64 (N, 3, 3) [[fx, 0, cx], [0, fy, cy], [0, 0, 1]]
        obs/<cam>_extrinsics          float64 (N, 4, 4) world_T_camera (OpenCV axes)
        obs/<cam>_base_T_camera       float64 (N, 4, 4) the camera in the robot base frame
        obs/pointcloud                float32 (N, P, 7) x, y, z (base frame), r, g, b, instance id (pointcloud jobs)
        frames/<column>               per-frame side columns ("frames.<column>" step arrays)
    mask/train, mask/valid            demo names (bytes), as robomimic's filter keys
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from simfarm.episode import Episode
from simfarm.errors import DatasetError
from simfarm.writers.frames import camera_table
from simfarm.writers.language import plan_of, subtask_per_frame, subtask_spans
from simfarm.writers.lerobot import read_manifests
from simfarm.writers.shard import StagedShard, _json_default, simfarm_row
from simfarm.writers.spec import FRAME_COLUMN_PREFIX, DatasetSpec
from simfarm.writers.storage import is_local, join, resolve

# LeRobot feature name -> robomimic obs key
OBS_KEYS = {"observation.state": "state", "observation.environment_state": "environment_state"}
SHARD_FILE = "data.hdf5"


def obs_key(feature: str) -> str:
    return OBS_KEYS.get(feature, feature.replace("observation.", "").replace(".", "_"))


def image_key(camera: str) -> str:
    return f"{camera}_image"


class Hdf5ShardWriter(StagedShard):
    """Appends each episode as data/demo_<k> of the shard's own HDF5 file."""

    kind = "hdf5"

    def __init__(self, shard_dir, spec: DatasetSpec, shard_index: int = 0):
        super().__init__(shard_dir, spec, shard_index)
        self._file = h5py.File(self.staging / SHARD_FILE, "w")
        self._data = self._file.create_group("data")
        self._frames = 0

    def _add(self, episode: Episode) -> None:
        k = len(self.episodes)
        T = episode.length
        g = self._data.create_group(f"demo_{k}")
        g.attrs["num_samples"] = T
        md = episode.metadata
        g.attrs["model_file"] = str(md.get("model_xml") or md.get("model_file") or "")
        g.attrs["scene_spec"] = str(md.get("scene_spec") or "")
        row = simfarm_row(episode)
        g.attrs["simfarm"] = json.dumps(row)
        g.create_dataset("actions", data=np.asarray(episode.steps["action"], np.float32))
        g.create_dataset("rewards", data=np.asarray(episode.steps.get("next.reward", np.zeros(T)), np.float32))
        g.create_dataset("dones", data=np.asarray(episode.steps.get("next.done", np.zeros(T)), np.uint8))
        if "next.success" in episode.steps:
            g.create_dataset("successes", data=np.asarray(episode.steps["next.success"], np.uint8))
        if "physics_state" in episode.steps:
            g.create_dataset("states", data=np.asarray(episode.steps["physics_state"], np.float64))
        # Language per step: the subtask index of each frame into the plan (attrs), and the
        # instruction's paraphrases, the same labels as LeRobot's language columns.
        g.create_dataset("subtask_index", data=subtask_per_frame(episode))
        g.attrs["plan"] = json.dumps(plan_of(episode))
        g.attrs["subtasks"] = json.dumps(subtask_spans(episode))
        g.attrs["paraphrases"] = json.dumps(md.get("paraphrases") or [episode.instruction or episode.task])
        if episode.annotations:
            # The annotation rows (simfarm.annotations) as LeRobot writes them, each with its frame.
            g.attrs["annotations"] = json.dumps(episode.annotations, sort_keys=True, default=_json_default)
        # Other action representations (the canonical action.ee_delta) as robomimic's action_dict.
        if "action.expert" in self.spec.features:
            # The task expert's action for each visited state (DAgger / DART labels; simfarm.rollout).
            g.create_dataset("expert_actions", data=np.asarray(episode.steps["action.expert"], np.float32))
        extra_actions = [k for k in self.spec.features if k.startswith("action.")]
        if extra_actions:
            group = g.create_group("action_dict")
            for key in extra_actions:
                group.create_dataset(key[len("action."):], data=np.asarray(episode.steps[key], np.float32))
        obs, next_obs = g.create_group("obs"), g.create_group("next_obs")
        if episode.pointcloud is not None:
            # The observation itself (LeRobot datasets recompute it: simfarm.envs.pointcloud).
            cloud = np.asarray(episode.pointcloud, np.float32)
            for group, values in ((obs, cloud), (next_obs, _shift(cloud))):
                group.create_dataset("pointcloud", data=values, chunks=(1, *cloud.shape[1:]), compression="gzip",
                                     compression_opts=self.spec.hdf5_compression_level)
        level = self.spec.hdf5_compression_level
        for key in self.spec.features:
            if not key.startswith("observation."):
                continue
            arr = np.asarray(episode.steps[key])
            obs.create_dataset(obs_key(key), data=arr)
            next_obs.create_dataset(obs_key(key), data=_shift(arr))
        for cam in self.spec.cameras:
            frames = episode.images[cam]
            chunks = (1, *frames.shape[1:])
            obs.create_dataset(image_key(cam), data=frames, chunks=chunks, compression="gzip", compression_opts=level)
            next_obs.create_dataset(image_key(cam), data=_shift(frames), chunks=chunks, compression="gzip",
                                    compression_opts=level)
        for cam in self.spec.depth_cameras:
            self._planes(obs, next_obs, f"{cam}_depth", np.asarray(episode.depth[cam], np.float32))
        for cam in self.spec.segmentation_cameras:
            self._planes(obs, next_obs, f"{cam}_seg", np.asarray(episode.segmentation[cam], np.uint8))
        if self.spec.segmentation_cameras:
            g.attrs["segmentation"] = json.dumps(md.get("segmentation") or {}, sort_keys=True, default=_json_default)
        for cam in self.spec.geometry_cameras:
            geometry = episode.cameras[cam]
            arrays = {
                f"{cam}_intrinsics": np.broadcast_to(np.asarray(geometry["intrinsics"], np.float64), (T, 3, 3)),
                f"{cam}_extrinsics": np.asarray(geometry["world_T_camera"], np.float64),
                f"{cam}_base_T_camera": np.asarray(geometry["base_T_camera"], np.float64),
            }
            for key, arr in arrays.items():
                obs.create_dataset(key, data=arr)
                next_obs.create_dataset(key, data=_shift(arr))
        if self.spec.geometry_cameras:
            g.attrs["cameras"] = json.dumps(camera_table(episode), sort_keys=True, default=_json_default)
        if self.spec.frame_columns:
            frames = g.create_group("frames")
            for column in self.spec.frame_columns:
                values = episode.steps[FRAME_COLUMN_PREFIX + column]
                if isinstance(values, np.ndarray) and values.dtype.kind in "biuf":
                    frames.create_dataset(column, data=values)
                else:  # ragged per-frame values: one JSON text per frame
                    texts = [json.dumps(v, default=_json_default) for v in values]
                    frames.create_dataset(column, data=np.array(texts, dtype=h5py.string_dtype()))
        self._store_scene(episode)
        self.episodes.append({"local_index": k, "length": T, "task": episode.instruction or episode.task,
                              "split": md.get("split"), "simfarm": row})
        self._frames += T

    def _planes(self, obs, next_obs, key: str, frames: np.ndarray) -> None:
        """A (T, H, W) map per frame, chunked one frame per chunk and gzipped like the images."""
        level = self.spec.hdf5_compression_level
        chunks = (1, *frames.shape[1:])
        obs.create_dataset(key, data=frames, chunks=chunks, compression="gzip", compression_opts=level)
        next_obs.create_dataset(key, data=_shift(frames), chunks=chunks, compression="gzip", compression_opts=level)

    def _finish(self) -> dict[str, Any]:
        if not self.episodes:
            self._file.close()
            raise DatasetError(f"shard {self.shard_dir} has no episodes; a shard must hold at least one")
        self._file.close()
        return {}

    def _abort_files(self) -> None:
        try:
            self._file.close()
        except Exception:  # already closed or broken: the staging folder is removed next anyway
            pass


def _shift(arr: np.ndarray) -> np.ndarray:
    """next_obs: the observation after each step (the last one repeats, as robomimic's converters do)."""
    return np.concatenate([arr[1:], arr[-1:]], axis=0)


def is_valid_demo(g: int, fraction: float) -> bool:
    """Deterministic, evenly spread validation split: demo g is in it when (g + 0.5) * fraction crosses an integer.

    The half offset puts the first validation demo mid-way through the first 1/fraction demos, so
    small datasets get one too.
    """
    return int((g + 1) * fraction + 0.5) > int(g * fraction + 0.5)


def finalize_hdf5(output_dir: str | os.PathLike, shard_dirs: list, fs=None) -> dict[str, Any]:
    """Copy every shard's demos into output_dir/data.hdf5 (demo_N renumbered globally in order)."""
    shards = read_manifests([os.fspath(s) for s in shard_dirs], "hdf5", fs)
    spec = DatasetSpec.from_dict(shards[0][2]["spec"])
    ofs, root = resolve(output_dir, fs)
    local_root = Path(root) if is_local(ofs) else Path(os.environ.get("TMPDIR", "/tmp")) / f"simfarm-h5-{uuid.uuid4().hex[:8]}"
    local_root.mkdir(parents=True, exist_ok=True)
    tmp = local_root / f".data.hdf5.tmp-{uuid.uuid4().hex[:8]}"
    total = 0
    names: dict[str, list[str]] = {"train": [], "valid": []}
    g = 0
    try:
        with h5py.File(tmp, "w") as out:
            data = out.create_group("data")
            for sfs, spath, manifest in shards:
                src_path = join(spath, SHARD_FILE)
                with sfs.open(src_path, "rb") as fh, h5py.File(fh, "r") as src:
                    for ep in manifest["episodes"]:
                        name = f"demo_{g}"
                        src.copy(src[f"data/demo_{ep['local_index']}"], data, name=name)
                        total += int(ep["length"])
                        split = ep.get("split")
                        if split in ("valid", "test"):
                            names.setdefault(split, []).append(name)
                        elif is_valid_demo(g, spec.hdf5_valid_fraction):
                            names["valid"].append(name)
                        else:
                            names["train"].append(name)
                        g += 1
            first = shards[0][2]["episodes"][0]["simfarm"]
            data.attrs["total"] = total
            data.attrs["env_args"] = json.dumps({
                "env_name": first.get("task"),
                "type": 2,  # robomimic EnvType.GYM_TYPE: a gymnasium env, not robosuite
                "env_kwargs": {"robot": first.get("robot"), "fps": spec.fps, "cameras": list(spec.cameras),
                               "camera_size": {c: list(hw) for c, hw in spec.cameras.items()},
                               "simfarm": True},
            })
            mask = out.create_group("mask")
            for split, demo_names in names.items():
                mask.create_dataset(split, data=np.array(demo_names, dtype="S"))
        final = local_root / "data.hdf5"
        os.replace(tmp, final)
        if not is_local(ofs):
            ofs.makedirs(root, exist_ok=True)
            ofs.put_file(str(final), join(root, "data.hdf5"))
    finally:
        if tmp.exists():
            tmp.unlink()
    return {"total_episodes": g, "total_frames": total, "path": join(root, "data.hdf5")}
