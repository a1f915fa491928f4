"""Replay, info and validate on real simulated datasets, HDF5 as well as LeRobot, through one reader interface."""

from __future__ import annotations

import json

import numpy as np
import pytest

from simfarm.cli import main as simfarm_main
from simfarm.dataset.info import dataset_info
from simfarm.dataset.reader import open_dataset
from simfarm.dataset.replay import replay_episode
from simfarm.dataset.validate import validate


@pytest.mark.parametrize("kind", ["hdf5", "lerobot"])
def test_replay_cli_re_simulates_every_episode_with_zero_divergence(real_datasets, kind, capsys):
    paths, episodes = real_datasets
    assert simfarm_main(["dataset", "replay", str(paths[kind])]) == 0
    out = capsys.readouterr().out
    assert f"replayed {len(episodes)} episode(s): largest state divergence 0.000e+00 (identical)" in out


@pytest.mark.parametrize("kind", ["hdf5", "lerobot"])
def test_replaying_one_episode_reports_its_steps_and_recorded_success(real_datasets, kind):
    paths, episodes = real_datasets
    result = replay_episode(str(paths[kind]), 1)
    assert result.steps == episodes[1].length
    assert result.max_divergence == 0.0 and result.first_divergent_step is None
    assert result.success_recorded == episodes[1].success == result.success_replayed


def test_both_readers_offer_the_same_interface_and_the_same_records(real_datasets):
    paths, episodes = real_datasets
    readers = {kind: open_dataset(path) for kind, path in paths.items()}
    for reader in readers.values():
        assert reader.num_episodes == len(episodes)
        assert isinstance(reader.simfarm_episodes, list) and len(reader.simfarm_episodes) == len(episodes)
        assert [r["seed"] for r in reader.simfarm_episodes] == [0, 0]
    for i, episode in enumerate(episodes):
        (a_h, s_h, m_h), (a_l, s_l, m_l) = (readers[k].episode_record(i) for k in ("hdf5", "lerobot"))
        np.testing.assert_array_equal(a_h, episode.steps["action"])
        np.testing.assert_array_equal(a_h, a_l)
        np.testing.assert_array_equal(s_h, s_l)
        assert s_h.shape[0] == episode.length and s_h.shape[1] > 0
        assert m_h["scene_spec"] == m_l["scene_spec"] and m_h["env"] == m_l["env"]
        assert m_h["dataset_episode_index"] == m_l["dataset_episode_index"] == i


def test_info_and_validate_read_an_hdf5_dataset(real_datasets, capsys):
    paths, episodes = real_datasets
    info = dataset_info(paths["hdf5"])
    assert info["format"] == "hdf5" and info["episodes"] == len(episodes)
    assert info["frames"] == sum(e.length for e in episodes)
    assert list(info["robots"].values()) == [len(episodes)] and info["programs"] == {"tabletop": len(episodes)}
    assert validate(paths["hdf5"]) == []
    assert simfarm_main(["dataset", "validate", str(paths["hdf5"]), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["valid"] is True
    assert simfarm_main(["dataset", "info", str(paths["hdf5"] / "data.hdf5"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["episodes"] == len(episodes)


def test_replay_refuses_an_episode_beyond_the_dataset_before_simulating(real_datasets, capsys):
    paths, _ = real_datasets
    for kind in ("hdf5", "lerobot"):
        assert simfarm_main(["dataset", "replay", str(paths[kind]), "episode=2"]) == 2
        captured = capsys.readouterr()
        assert "episode: must be an integer in 0..1 (the dataset has 2 episodes), got 2" in captured.err
        assert captured.out == ""  # not even the table header
