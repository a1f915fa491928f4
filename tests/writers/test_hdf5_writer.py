"""robomimic HDF5 output: layout, attributes, compression and global demo numbering."""

from __future__ import annotations

import json

import h5py
import numpy as np

from simfarm.dataset import load_episode_record
from simfarm.dataset.validate import validate
from simfarm.writers import finalize
from simfarm.writers.synthetic import write_synthetic_dataset

SHARDS = [[6, 9], [4], [7, 5, 3]]


def test_demos_follow_the_robomimic_layout(tmp_path):
    _, _, episodes = write_synthetic_dataset(tmp_path / "ds", "hdf5", SHARDS)
    with h5py.File(tmp_path / "ds/data.hdf5", "r") as f:
        data = f["data"]
        assert sorted(data.keys(), key=lambda n: int(n[5:])) == [f"demo_{i}" for i in range(len(episodes))]
        assert int(data.attrs["total"]) == sum(e.length for e in episodes)
        env_args = json.loads(data.attrs["env_args"])
        assert {"env_name", "type", "env_kwargs"} <= set(env_args)
        for i, ep in enumerate(episodes):
            g = data[f"demo_{i}"]
            T = ep.length
            assert g.attrs["num_samples"] == T
            assert "model_file" in g.attrs
            np.testing.assert_array_equal(g["actions"][()], ep.steps["action"])
            np.testing.assert_array_equal(g["rewards"][()], ep.steps["next.reward"])
            np.testing.assert_array_equal(g["dones"][()], ep.steps["next.done"].astype(np.uint8))
            np.testing.assert_array_equal(g["states"][()], ep.steps["physics_state"])
            np.testing.assert_array_equal(g["obs/state"][()], ep.steps["observation.state"])
            np.testing.assert_array_equal(g["next_obs/state"][:-1], ep.steps["observation.state"][1:])
            img = g["obs/workspace_image"]
            assert img.dtype == np.uint8 and img.shape == ep.images["workspace"].shape
            assert img.compression == "gzip" and img.chunks == (1, *img.shape[1:])
            np.testing.assert_array_equal(img[()], ep.images["workspace"])  # lossless
            assert json.loads(g.attrs["simfarm"])["seed"] == 7
        train = {n.decode() for n in f["mask/train"][()]}
        valid = {n.decode() for n in f["mask/valid"][()]}
        assert train | valid == set(data.keys()) and not train & valid
        assert len(valid) == 1  # 10% of 9 demos, spread evenly


def test_model_file_carries_the_scene_mjcf_when_recorded(tmp_path):
    from simfarm.writers import DatasetSpec, make_shard_writer
    from simfarm.writers.synthetic import synthetic_episode

    ep = synthetic_episode(0, 4)
    ep.metadata["model_xml"] = "<mujoco model='scene'/>"
    with make_shard_writer("hdf5", tmp_path / "s0", DatasetSpec.from_episode(ep), 0) as w:
        w.add_episode(ep)
    finalize("hdf5", tmp_path / "ds", [tmp_path / "s0"])
    with h5py.File(tmp_path / "ds/data.hdf5", "r") as f:
        assert f["data/demo_0"].attrs["model_file"] == "<mujoco model='scene'/>"


def test_hdf5_finalize_is_idempotent_and_valid(tmp_path):
    _, shard_dirs, episodes = write_synthetic_dataset(tmp_path / "ds", "hdf5", [[3, 4], [5]])
    finalize("hdf5", tmp_path / "ds", shard_dirs)
    assert validate(tmp_path / "ds") == []
    actions, states, metadata = load_episode_record(tmp_path / "ds", 2)
    np.testing.assert_array_equal(actions, episodes[2].steps["action"])
    np.testing.assert_array_equal(states, episodes[2].steps["physics_state"])
    assert metadata["scene_spec"] == episodes[2].metadata["scene_spec"]
    assert not list((tmp_path / "ds").glob(".data.hdf5.tmp*"))
