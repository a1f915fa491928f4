"""Dataset writers: LeRobot v3.0 and robomimic HDF5, written as shards and merged by `finalize`.

    spec = DatasetSpec.from_episode(episode, video_codec="av1")
    writer = make_shard_writer("lerobot", shard_dir, spec, shard_index)
    writer.add_episode(episode); manifest = writer.close()
    finalize("lerobot", output_dir, [shard_dir, ...])

Layout and guarantees: simfarm/writers/README.md.
"""

from __future__ import annotations

import os
from typing import Any

from simfarm.errors import ConfigError
from simfarm.writers.spec import WRITER_KINDS, DatasetSpec, spec_options, validate_config
from simfarm.writers.storage import MANIFEST_NAME, publish_shard

__all__ = [
    "DatasetSpec",
    "MANIFEST_NAME",
    "WRITER_KINDS",
    "finalize",
    "make_shard_writer",
    "publish_shard",
    "spec_options",
    "validate_config",
]


def make_shard_writer(kind: str, shard_dir: str | os.PathLike, spec: DatasetSpec, shard_index: int = 0):
    """A writer for one shard: `add_episode(ep)` then `close() -> manifest` (or use it as a context manager)."""
    if kind == "lerobot":
        from simfarm.writers.lerobot import LeRobotShardWriter

        return LeRobotShardWriter(shard_dir, spec, shard_index)
    if kind == "hdf5":
        from simfarm.writers.hdf5 import Hdf5ShardWriter

        return Hdf5ShardWriter(shard_dir, spec, shard_index)
    raise ConfigError(f"writer kind {kind!r} is unknown; accepted: {list(WRITER_KINDS)}")


def finalize(kind: str, output_dir: str | os.PathLike, shard_dirs: list, fs: Any = None) -> dict[str, Any]:
    """Merge closed shards, given in episode order, into one dataset at `output_dir` (path or fsspec URL)."""
    if kind == "lerobot":
        from simfarm.writers.lerobot import finalize_lerobot

        return finalize_lerobot(output_dir, shard_dirs, fs=fs)
    if kind == "hdf5":
        from simfarm.writers.hdf5 import finalize_hdf5

        return finalize_hdf5(output_dir, shard_dirs, fs=fs)
    raise ConfigError(f"writer kind {kind!r} is unknown; accepted: {list(WRITER_KINDS)}")
