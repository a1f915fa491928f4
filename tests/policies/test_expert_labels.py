"""Expert labels beside the executed actions (`action.expert`, HDF5 `expert_actions`): DAgger and DART data."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from simfarm import config as C
from simfarm.errors import ConfigError
from simfarm.policies.base import wants_expert_labels
from simfarm.rollout import EpisodeRunner
from simfarm.writers import DatasetSpec, finalize, make_shard_writer


def run(overrides, n=1):
    cfg = C.to_dict(C.compose("generate", ["scene=tabletop", "obs_mode=state", "max_steps=25", *overrides]))
    runner = EpisodeRunner(cfg)
    try:
        return cfg, [runner.run(i) for i in range(n)]
    finally:
        runner.close()


def test_the_plain_expert_needs_no_labels_and_relabel_expert_labels_it_with_its_own_actions():
    _, (ep,) = run([])
    assert "action.expert" not in ep.steps
    _, (ep,) = run(["relabel=expert"])
    # a second expert on the same states acts exactly as the one that drove the robot
    np.testing.assert_array_equal(ep.steps["action.expert"], ep.steps["action"])


def test_dart_noise_and_random_policies_get_the_clean_expert_action_of_each_visited_state():
    _, (noisy,) = run(["policy.action_noise_std=0.1"])
    labels, executed = noisy.steps["action.expert"], noisy.steps["action"]
    assert labels.shape == executed.shape and not np.array_equal(labels, executed)
    assert np.abs(labels - executed).max() < 1.0  # the same expert, perturbed
    _, (rand,) = run(["policy=random"])
    assert np.isfinite(rand.steps["action.expert"]).all()
    assert not np.allclose(rand.steps["action.expert"], rand.steps["action"])
    assert rand.metadata["names"]["action.expert"] == rand.metadata["names"]["action"]


def test_labels_are_stored_in_both_formats(tmp_path):
    _, episodes = run(["policy=random"], n=2)
    for kind in ("lerobot", "hdf5"):
        shard = tmp_path / kind / "shard"
        spec = DatasetSpec.from_episode(episodes[0])
        assert spec.features["action.expert"]["shape"] == spec.features["action"]["shape"]
        with make_shard_writer(kind, shard, spec, 0) as w:
            for ep in episodes:
                w.add_episode(ep)
        finalize(kind, tmp_path / kind / "ds", [shard])
    with h5py.File(tmp_path / "hdf5" / "ds" / "data.hdf5") as f:
        np.testing.assert_array_equal(f["data/demo_1/expert_actions"][()], episodes[1].steps["action.expert"])


def test_relabel_takes_auto_expert_or_none():
    assert wants_expert_labels({"policy": {"spec": "random"}}) and not wants_expert_labels({"policy": {"spec": "scripted"}})
    assert not wants_expert_labels({"policy": {"spec": "random"}, "relabel": "none"})
    with pytest.raises(ConfigError, match="relabel"):
        C.validate(C.compose("generate", ["relabel=dagger"]))


def test_takeover_hands_the_controls_to_the_expert_once_the_policy_strays():
    # A random policy strays from the first step: after `patience` steps the expert drives.
    _, episodes = run(["policy=random", "takeover.patience=3", "max_steps=150"], n=3)
    for ep in episodes:
        k = ep.metadata["takeover_step"]
        executed, labels = ep.steps["action"], ep.steps["action.expert"]
        assert k == 2, k  # the third straying step is the expert's
        assert not np.allclose(executed[:k], labels[:k])  # the random policy's own actions
        np.testing.assert_array_equal(executed[k:], labels[k:])  # then the expert's, exactly
    # Two steps of random motion are something the expert recovers from.
    assert sum(ep.metadata["success"] for ep in episodes) >= 2
    _, (plain,) = run(["policy=random"])
    assert "takeover_step" not in plain.metadata


def test_takeover_waits_while_the_policy_agrees_with_the_expert():
    # DART noise well inside the tolerance never strays; the same noise with a tiny tolerance does.
    _, (close,) = run(["policy.action_noise_std=0.001", "takeover.patience=2"])
    assert close.metadata["takeover_step"] is None
    _, (strict,) = run(["policy.action_noise_std=0.001", "takeover.patience=2", "takeover.tolerance=0.0001"])
    assert strict.metadata["takeover_step"] == 1


def test_takeover_mistakes_are_one_line_and_off_keeps_the_config_hash():
    for bad, key in ((["takeover.patience=-1"], "takeover.patience"), (["takeover.tolerance=2"], "takeover.tolerance"),
                     (["takeover.patience=2", "relabel=none"], "takeover"), (["+takeover.after=3"], "takeover")):
        with pytest.raises(ConfigError, match=key):
            C.validate(C.compose("generate", ["policy=random", *bad]))
    base = C.to_dict(C.compose("generate", []))
    assert C.config_hash(base) == C.config_hash({k: v for k, v in base.items() if k != "takeover"})
    assert C.config_hash(C.compose("generate", ["takeover.patience=3"])) != C.config_hash(base)
    assert wants_expert_labels({"policy": {"spec": "scripted"}, "takeover": {"patience": 3}})
