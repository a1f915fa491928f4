"""Annotation rows and arrays of real episodes in LeRobot's language columns, the frames side table and HDF5."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pyarrow.parquet as pq
import pytest

from simfarm import config as C
from simfarm.dataset.reader import open_dataset
from simfarm.dataset.validate import validate
from simfarm.rollout import EpisodeRunner
from simfarm.writers import DatasetSpec, finalize, make_shard_writer


@pytest.fixture(scope="module")
def episodes():
    """Two kitchen episodes of the scripted expert with every annotation kind, every 5 frames."""
    cfg = C.to_dict(C.compose("generate", ["scene=kitchen", "obs_mode=rgb+state", "camera_size=[64,80]",
                                           "max_steps=30", "annotation_every=5"]))
    runner = EpisodeRunner(cfg)
    try:
        return [runner.run(i) for i in range(2)]
    finally:
        runner.close()


def write(episodes, root, kind):
    shard = root.parent / f"{root.name}.shards" / "shard-00000"
    with make_shard_writer(kind, shard, DatasetSpec.from_episode(episodes[0]), 0) as writer:
        for ep in episodes:
            writer.add_episode(ep)
    finalize(kind, root, [shard])


def test_rollout_records_every_kind(episodes):
    for ep in episodes:
        styles = {r["style"] for r in ep.annotations["events"]}
        assert styles == {"vqa", "trace"}
        assert {r["style"] for r in ep.annotations["persistent"]} == {"motion"}
        assert all(r["frame"] % 5 == 0 for r in ep.annotations["events"])
        assert ep.metadata["annotations"]["objects"]
        assert ep.steps["frames.annotation.visible.workspace"].shape[0] == ep.length


def test_lerobot_rows_sit_on_their_frames_and_validate(episodes, tmp_path):
    root = tmp_path / "lr"
    write(episodes, root, "lerobot")
    assert validate(root) == []
    table = pq.read_table(root / "data" / "chunk-000" / "file-000.parquet")
    events = table.column("language_events").to_pylist()
    persistent = table.column("language_persistent").to_pylist()
    ep_index = table.column("episode_index").to_pylist()
    frame_index = table.column("frame_index").to_pylist()
    for k, ep in enumerate(episodes):
        rows = [i for i, e in enumerate(ep_index) if e == k]
        expected = {}
        for r in ep.annotations["events"]:
            expected.setdefault(r["frame"], []).append({key: r[key] for key in ("role", "content", "style", "camera")})
        for i in rows:
            got = [{key: r[key] for key in ("role", "content", "style", "camera")} for r in events[i]]
            assert got == expected.get(frame_index[i], [])
        motion = [r for r in persistent[rows[0]] if r["style"] == "motion"]
        assert [r["content"] for r in motion] == [r["content"] for r in ep.annotations["persistent"]]
        assert [r["timestamp"] for r in motion] == [np.float32(r["frame"] / 10) for r in ep.annotations["persistent"]]
    # the arrays, per frame, in the frames side table
    frames = open_dataset(root).frame_table(1)
    visible = frames["annotation.visible.workspace"]
    assert len(visible) == episodes[1].length
    np.testing.assert_array_equal(np.stack(visible), episodes[1].steps["frames.annotation.visible.workspace"])


def test_validate_names_a_view_dependent_row_without_its_camera(episodes, tmp_path):
    import copy

    ep = copy.copy(episodes[0])  # the fixture's episodes stay as recorded
    ep.annotations = {**ep.annotations, "events": [dict(r) for r in ep.annotations["events"]]}
    ep.annotations["events"][0]["camera"] = None
    broken = [ep, episodes[1]]
    root = tmp_path / "bad"
    write(broken, root, "lerobot")
    problems = validate(root)
    assert any("names camera None; view-dependent rows need one of" in p for p in problems), problems


def test_hdf5_demos_carry_the_rows_and_the_arrays(episodes, tmp_path):
    root = tmp_path / "h5"
    write(episodes, root, "hdf5")
    with h5py.File(root / "data.hdf5") as f:
        demo = f["data/demo_1"]
        rows = json.loads(demo.attrs["annotations"])
        assert rows["persistent"] == json.loads(json.dumps(episodes[1].annotations["persistent"]))
        np.testing.assert_array_equal(demo["frames/annotation.visible.workspace"][()],
                                      episodes[1].steps["frames.annotation.visible.workspace"])
