"""Subtasks, plans and paraphrases of real rollouts in LeRobot's language columns and in HDF5."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pyarrow.parquet as pq
import pytest

from simfarm.config import compose, to_dict
from simfarm.dataset.validate import validate
from simfarm.rollout import EpisodeRunner
from simfarm.writers import DatasetSpec, finalize, make_shard_writer
from simfarm.writers.language import subtask_per_frame


@pytest.fixture(scope="module")
def episodes():
    cfg = to_dict(compose("generate", ["task=pick_place", "scene=tabletop", "obs_mode=state", "seed=0"]))
    runner = EpisodeRunner(cfg)
    eps = [runner.run(i) for i in range(2)]
    runner.close()
    assert all(ep.success for ep in eps)
    return eps


def _write(tmp_path, kind, episodes, **options):
    spec = DatasetSpec.from_episode(episodes[0], **options)
    shard = tmp_path / f"{kind}.shards" / "shard-00000"
    with make_shard_writer(kind, shard, spec, 0) as writer:
        for ep in episodes:
            writer.add_episode(ep)
    root = tmp_path / kind
    finalize(kind, root, [shard])
    return root


def test_lerobot_language_persistent_holds_task_aug_plan_and_subtask_rows(tmp_path, episodes):
    root = _write(tmp_path, "lerobot", episodes)
    info = json.loads((root / "meta/info.json").read_text())
    assert info["features"]["language_persistent"] == {"dtype": "language", "shape": [1], "names": None}
    assert info["features"]["language_events"]["dtype"] == "language"
    table = pq.read_table(root / "data/chunk-000/file-000.parquet")
    rows = table.column("language_persistent").to_pylist()
    events = table.column("language_events").to_pylist()
    ep_index = table.column("episode_index").to_numpy()
    fps = info["fps"]
    for k, ep in enumerate(episodes):
        frames = [rows[i] for i in np.flatnonzero(ep_index == k)]
        assert all(f == frames[0] for f in frames) and all(events[i] == [] for i in np.flatnonzero(ep_index == k))
        persistent = frames[0]
        task_aug = [r for r in persistent if r["style"] == "task_aug"]
        assert task_aug[0]["content"] == ep.instruction and len(task_aug) >= 20
        assert all(r["role"] == "user" and r["timestamp"] == 0.0 for r in task_aug)
        subtasks = [r for r in persistent if r["style"] == "subtask"]
        plan = ep.metadata["plan"]
        assert [r["content"] for r in subtasks] == plan and all(r["role"] == "assistant" for r in subtasks)
        starts = [s["start_frame"] for s in ep.metadata["subtasks"]]
        assert [round(r["timestamp"] * fps) for r in subtasks] == starts and starts[0] == 0 and starts[1] > 0
        plans = [r for r in persistent if r["style"] == "plan"]
        assert plans[0]["timestamp"] == 0.0 and plans[0]["content"] == "\n".join(f"{i + 1}. {p}" for i, p in enumerate(plan))
        assert plans[-1]["content"] == f"1. {plan[-1]}"  # what is left when the last step starts
        assert all(r["camera"] is None and r["tool_calls"] is None for r in persistent)
        keys = [(r["timestamp"], r["style"], r["role"]) for r in persistent]
        assert keys == sorted(keys)
    assert validate(root) == []


def test_language_columns_can_be_left_out_for_lerobot_0_4(tmp_path, episodes):
    root = _write(tmp_path, "lerobot", episodes, language_columns=False)
    info = json.loads((root / "meta/info.json").read_text())
    table = pq.read_table(root / "data/chunk-000/file-000.parquet")
    assert "language_persistent" not in info["features"] and "language_persistent" not in table.column_names
    assert validate(root) == []


def test_hdf5_stores_the_subtask_of_every_step_and_the_plan(tmp_path, episodes):
    root = _write(tmp_path, "hdf5", episodes)
    with h5py.File(root / "data.hdf5") as f:
        for k, ep in enumerate(episodes):
            demo = f[f"data/demo_{k}"]
            labels = demo["subtask_index"][()]
            np.testing.assert_array_equal(labels, subtask_per_frame(ep))
            assert labels[0] == 0 and labels[-1] == len(ep.metadata["plan"]) - 1 and np.all(np.diff(labels) >= 0)
            assert json.loads(demo.attrs["plan"]) == ep.metadata["plan"]
            assert ep.instruction in json.loads(demo.attrs["paraphrases"])
