"""What every shard writer shares: a hidden staging folder that becomes the shard on close.

A shard is written into `.<name>.partial-<id>` beside `shard_dir`; `close()` writes manifest.json
last inside it and renames the folder to `shard_dir`. A crash at any point leaves only the hidden
folder, which readers ignore, so a half-written shard is never visible.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

from simfarm.episode import Episode
from simfarm.errors import DatasetError
from simfarm.writers.spec import DatasetSpec
from simfarm.writers.storage import MANIFEST_NAME

MANIFEST_VERSION = 1


def scene_hash_of(metadata: dict[str, Any]) -> str | None:
    """The episode's scene hash, or a content hash of its SceneSpec JSON when none was recorded."""
    if metadata.get("scene_hash"):
        return str(metadata["scene_hash"])
    spec = metadata.get("scene_spec")
    if spec:
        return hashlib.sha256(str(spec).encode()).hexdigest()[:16]
    return None


def _json_or_none(value: Any) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True, default=_json_default)


def _json_default(o: Any):
    """numpy values as plain JSON numbers/lists; anything else by its str()."""
    try:
        return _np_default(o)
    except TypeError:
        return str(o)


def simfarm_row(episode: Episode) -> dict[str, Any]:
    """simfarm's own per-episode record (meta/simfarm/episodes.parquet), JSON-serializable."""
    md = episode.metadata
    # The SceneSpec and the scene's MJCF are stored once elsewhere (scene store, HDF5 model_file).
    rest = {k: v for k, v in md.items() if k not in ("scene_spec", "model_xml")}
    safety = md.get("safety") or {}
    return {
        "source_episode_index": int(md.get("episode_index", episode.index)),
        "seed": None if md.get("seed") is None else int(md["seed"]),
        "split": md.get("split"),
        "config_hash": md.get("config_hash"),
        "task": episode.task,
        "instruction": episode.instruction,
        "robot": md.get("robot"),
        "program": md.get("scene") or md.get("program"),
        "scene_hash": scene_hash_of(md),
        "success": bool(md.get("success", False)),
        # Partial progress: subtasks done of the plan (a composite's steps, an atomic task's stages).
        "subtasks_done": _int_or_none(md.get("subtasks_done")),
        "subtasks_total": len(md["plan"]) if md.get("plan") else None,
        "length": episode.length,
        "peak_contact_force_n": _float_or_none(safety.get("peak_contact_force_n")) if isinstance(safety, dict) else None,
        "collisions": _int_or_none(safety.get("collisions")) if isinstance(safety, dict) else None,
        "joint_limit_hits": _int_or_none(safety.get("joint_limit_hits")) if isinstance(safety, dict) else None,
        "safety": _json_or_none(safety),
        "randomization": _json_or_none(md.get("randomization")),
        "versions": _json_or_none(md.get("versions")),
        "wall_time_s": _float_or_none(md.get("wall_time_s")),
        "policy": None if md.get("policy") is None else str(md.get("policy")),
        "error": md.get("error"),
        "metadata": json.dumps(rest, sort_keys=True, default=_json_default),
    }


def _float_or_none(v: Any) -> float | None:
    return None if v is None else float(v)


def _int_or_none(v: Any) -> int | None:
    return None if v is None else int(v)


class StagedShard:
    """Base of the shard writers: owns the staging folder, the manifest and the final rename."""

    kind = "?"

    def __init__(self, shard_dir: str | os.PathLike, spec: DatasetSpec, shard_index: int):
        self.shard_dir = Path(shard_dir)
        self.spec = spec
        self.shard_index = int(shard_index)
        if (self.shard_dir / MANIFEST_NAME).exists():
            raise DatasetError(f"shard {self.shard_dir} is already complete (has {MANIFEST_NAME}); delete it to rewrite it")
        self.shard_dir.parent.mkdir(parents=True, exist_ok=True)
        self.staging = self.shard_dir.parent / f".{self.shard_dir.name}.partial-{uuid.uuid4().hex[:8]}"
        self.staging.mkdir()
        self.closed = False
        self.episodes: list[dict[str, Any]] = []

    # -- context manager: an exception inside `with` aborts the shard -------------------------
    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            self.abort()
        elif not self.closed:
            self.close()
        return False

    def add_episode(self, episode: Episode) -> None:
        if self.closed:
            raise DatasetError(f"shard {self.shard_dir} is closed; open a new writer")
        self.spec.check_episode(episode)
        try:
            self._add(episode)
        except BaseException:
            # The video streams may hold half an episode: the shard cannot be trusted any more.
            self.abort()
            raise

    def close(self) -> dict[str, Any]:
        """Flush files, write manifest.json last, make the shard visible; returns the manifest."""
        if self.closed:
            raise DatasetError(f"shard {self.shard_dir} is already closed")
        try:
            body = self._finish()
            files = {
                p.relative_to(self.staging).as_posix(): p.stat().st_size
                for p in sorted(self.staging.rglob("*"))
                if p.is_file()
            }
            manifest = {
                "format": self.kind,
                "manifest_version": MANIFEST_VERSION,
                "shard_index": self.shard_index,
                "spec": self.spec.to_dict(),
                "num_episodes": len(self.episodes),
                "num_frames": int(sum(e["length"] for e in self.episodes)),
                "files": files,
                "episodes": self.episodes,
                **body,
            }
            tmp = self.staging / f"{MANIFEST_NAME}.tmp"
            tmp.write_text(json.dumps(manifest, indent=1, default=_np_default))
            os.replace(tmp, self.staging / MANIFEST_NAME)
            if self.shard_dir.exists():
                if any(self.shard_dir.iterdir()):
                    shutil.rmtree(self.shard_dir)  # leftovers of a crashed attempt without a manifest
                else:
                    self.shard_dir.rmdir()
            os.rename(self.staging, self.shard_dir)
        except BaseException:
            self.abort()
            raise
        self.closed = True
        return manifest

    def abort(self) -> None:
        """Drop everything written so far; the shard stays absent (re-run it)."""
        self._abort_files()
        self.closed = True
        shutil.rmtree(self.staging, ignore_errors=True)

    # -- for subclasses -----------------------------------------------------------------------
    def _add(self, episode: Episode) -> None:
        raise NotImplementedError

    def _finish(self) -> dict[str, Any]:
        raise NotImplementedError

    def _abort_files(self) -> None:
        pass

    def _store_scene(self, episode: Episode) -> str | None:
        h = scene_hash_of(episode.metadata)
        spec_json = episode.metadata.get("scene_spec")
        if h and spec_json:
            path = self.staging / "scenes" / f"{h}.json"
            if not path.exists():
                path.parent.mkdir(exist_ok=True)
                path.write_text(spec_json if isinstance(spec_json, str) else json.dumps(spec_json))
        return h


def _np_default(o: Any):
    import numpy as np

    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, np.generic):
        return o.item()
    raise TypeError(f"not JSON serializable: {type(o).__name__}")
