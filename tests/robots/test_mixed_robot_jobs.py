"""robot=mix: each episode's robot drawn from its own seed, one dataset for all, whatever the workers."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import pytest

from simfarm import config as C
from simfarm.errors import ConfigError
from simfarm.robots.mix import episode_robot, mix_weights
from simfarm.rollout import EpisodeRunner


def test_weights_are_normalized_and_aliases_resolve():
    assert mix_weights({"name": "mix", "mix": {"arm": 1, "ur5e": 3}}) == {"panda": 0.25, "ur5e": 0.75}
    assert set(mix_weights({"name": "mix", "mix": None})) == {"panda", "ur5e", "kinova_gen3", "xarm7"}


def test_draws_follow_the_weights_and_depend_only_on_seed_and_episode():
    weights = mix_weights({"name": "mix", "mix": {"panda": 0.5, "ur5e": 0.3, "xarm7": 0.2}})
    draws = [episode_robot(weights, 7, i) for i in range(3000)]
    for name, w in weights.items():
        assert abs(draws.count(name) / len(draws) - w) < 0.03
    assert draws[:50] == [episode_robot(weights, 7, i) for i in range(50)]
    assert draws[:50] != [episode_robot(weights, 8, i) for i in range(50)]
    assert [episode_robot(weights, 7, i, "test") for i in range(50)] != draws[:50]


@pytest.mark.parametrize("overrides, message", [
    (["robot.mix={panda: 1, mobile_base: 1}"], "robot.mix: mobile_base lacks control_mode 'ee_delta'"),
    (["robot.mix={panda: 1, octopus: 1}"], "robot.mix: unknown robot 'octopus'"),
    (["robot.mix={panda: -1}"], "robot.mix.panda: weight must be a number >= 0"),
    (["robot.mix={panda: 0}"], "robot.mix: the weights must not all be 0"),
    (["control_mode=joint_pos"], "robot.mix: joint_pos actions differ in size"),
])
def test_mix_mistakes_are_caught_before_any_work(overrides, message):
    with pytest.raises(ConfigError, match=message):
        C.validate(C.compose("generate", ["robot=mix", *overrides]))


def test_mixed_episodes_share_features_and_each_records_its_robot():
    cfg = C.to_dict(C.compose("generate", ["scene=tabletop", "obs_mode=state", "robot=mix",
                                           "robot.mix={panda: 1, ur5e: 1}", "seed=4"]))
    a, b = EpisodeRunner(cfg), EpisodeRunner(cfg)
    try:
        episodes = [a.run(i) for i in range(6)]
        again = b.run(5)  # a fresh worker, another order: the same episode
    finally:
        a.close()
        b.close()
    weights = mix_weights(cfg["robot"])
    assert [ep.metadata["robot"] for ep in episodes] == [episode_robot(weights, 4, i) for i in range(6)]
    assert {ep.metadata["robot"] for ep in episodes} == {"panda", "ur5e"}
    for ep in episodes:
        assert ep.steps["observation.state"].shape[1] == 15 and ep.steps["action"].shape[1] == 7
        assert ep.metadata["robot_type"] == "mix:panda,ur5e"
        mask = ep.steps["observation.state_mask"][0]
        joints = 7 if ep.metadata["robot"] == "panda" else 6
        assert mask.dtype == np.float32  # LeRobot's normalizer cannot take bool observation.* features
        assert mask[:7].sum() == joints and (mask[7:] == 1).all()
        assert (ep.steps["observation.state"][:, joints:7] == 0).all()
    assert np.array_equal(again.steps["observation.state"], episodes[5].steps["observation.state"])
    assert np.array_equal(again.steps["action"], episodes[5].steps["action"])


@pytest.mark.slow
def test_one_and_two_workers_write_identical_mixed_datasets(tmp_path):
    import pyarrow.parquet as pq

    from simfarm.dataset.reader import LeRobotReader

    outs = {}
    for workers in (1, 2):
        out = tmp_path / f"w{workers}"
        ray_tmp = tempfile.mkdtemp(prefix="sfm", dir="/tmp")
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "simfarm.cli", "generate", "scene=tabletop", "robot=mix", "episodes=6", "shard_size=2",
                 f"workers={workers}", "camera_size=[48,48]", "writer.video_codec=h264", "writer.crf=0", f"output={out}"],
                capture_output=True, text=True, timeout=600, env={**os.environ, "MUJOCO_GL": "egl", "RAY_TMPDIR": ray_tmp})
        finally:
            shutil.rmtree(ray_tmp, ignore_errors=True)
        assert proc.returncode == 0, proc.stderr[-3000:]
        outs[workers] = out
    for sub in ("data", "states", "meta/episodes"):  # meta/simfarm also holds wall times
        for path in sorted((outs[1] / sub).rglob("*.parquet")):
            rel = path.relative_to(outs[1])
            assert pq.read_table(outs[1] / rel).equals(pq.read_table(outs[2] / rel)), rel
    for path in sorted((outs[1] / "videos").rglob("*.mp4")):
        rel = path.relative_to(outs[1])
        assert (outs[1] / rel).read_bytes() == (outs[2] / rel).read_bytes(), rel
    reader = LeRobotReader(outs[1])
    assert reader.info["robot_type"] == "mix:kinova_gen3,panda,ur5e,xarm7"
    assert {"observation.ee_pose", "action.ee_delta", "observation.state_mask"} <= set(reader.info["features"])
    robots = [pq.read_table(outs[w] / "meta/simfarm/episodes.parquet").column("robot").to_pylist() for w in (1, 2)]
    assert robots[0] == robots[1] and len(set(robots[0])) >= 2
