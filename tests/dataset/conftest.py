"""Fixtures: small datasets of real simulated episodes, written without Ray (seconds, not minutes)."""

from __future__ import annotations

import pytest


def write_real_dataset(root, kind: str, episodes: int = 2, max_steps: int = 15, overrides: tuple[str, ...] = ("obs_mode=state",)):
    """Run `episodes` tabletop episodes of the scripted expert in-process and write them as a `kind` dataset."""
    from simfarm import config as C
    from simfarm.rollout import EpisodeRunner
    from simfarm.writers import DatasetSpec, finalize, make_shard_writer

    cfg = C.to_dict(C.compose("generate", ["scene=tabletop", *overrides, f"max_steps={max_steps}"]))
    runner = EpisodeRunner(cfg)
    try:
        recorded = [runner.run(i) for i in range(episodes)]
    finally:
        runner.close()
    shard = root.parent / f"{root.name}.shards" / "shard-00000"
    with make_shard_writer(kind, shard, DatasetSpec.from_episode(recorded[0]), 0) as writer:
        for episode in recorded:
            writer.add_episode(episode)
    finalize(kind, root, [shard])
    return recorded


@pytest.fixture(scope="session")
def real_datasets(tmp_path_factory):
    """{"hdf5": path, "lerobot": path}: the same two simulated episodes in both formats, and the episodes."""
    base = tmp_path_factory.mktemp("real")
    paths = {}
    episodes = None
    for kind in ("hdf5", "lerobot"):
        paths[kind] = base / kind
        episodes = write_real_dataset(paths[kind], kind)
    return paths, episodes
