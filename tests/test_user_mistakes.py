"""Ordinary mistakes in a job's config, on the command line and in `gymnasium.make`: one clear line.

Each CLI row runs the real command and asserts exit code 2, a single output line
`simfarm <command>: error: ...` naming the key, and no traceback, before any work starts (the
rows finish in a second or two: no Ray, no renderer). The env rows pass the same values as kwargs
and expect the same message, since one set of rules serves both.
"""

from __future__ import annotations

import os
import subprocess
import sys

import gymnasium as gym
import pytest

import simfarm  # noqa: F401  (registers the ids)
from simfarm.errors import ConfigError

CLI_ROWS = [
    # (argv, key the message must name, a fragment of what is accepted)
    (["generate", "+unknown_key=1"], "unknown_key", "accepted: annotation_every, annotation_horizon, annotations, camera_size"),
    (["generate", "episdes=3"], "episdes", "did you mean 'episodes'"),
    (["generate", "task=pick"], "task", "accepted: bowl_then_plate, close_door"),
    (["generate", "task=pick_plac"], "task", "did you mean 'pick_place'"),
    (["generate", "robot=octopus"], "octopus", "accepted"),
    (["generate", "scene=garage"], "garage", "accepted"),
    (["generate", "task.max_step=3"], "task.max_step", "did you mean 'max_steps'"),
    (["generate", "max_steps=-5"], "max_steps", "integer >= 1"),
    (["generate", "max_steps=0"], "max_steps", "integer >= 1"),
    (["generate", "seed=true"], "seed", "expected an integer"),
    (["generate", "seed=-1"], "seed", "integer >= 0"),
    (["generate", "episodes=abc"], "episodes", "expected an integer"),
    (["generate", "episodes=0"], "episodes", "integer >= 1"),
    (["generate", "workers=0"], "workers", "integer >= 1"),
    (["generate", "shard_size=0"], "shard_size", "integer >= 1"),
    (["generate", "control_hz=0"], "control_hz", "1..500"),
    (["generate", "control_hz=100000"], "control_hz", "1..500"),
    (["generate", "control_hz=30"], "control_hz", "accepted: 1, 2, 4, 5, 10"),
    (["generate", "camera_size=[0,0]"], "camera_size", "16..4096"),
    (["generate", "cameras=[workspace,wristt]"], "cameras", "did you mean 'wrist'"),
    (["generate", "obs_mode=rbg"], "obs_mode", "did you mean 'rgb'"),
    (["generate", "obs_mode=rgb+dpeth"], "obs_mode", "did you mean 'depth'"),
    (["generate", "annotations=[vqa,trase]"], "annotations", "did you mean 'trace'"),
    (["generate", "annotation_every=0"], "annotation_every", "integer >= 1"),
    (["generate", "relabel=dagger"], "relabel", "accepted: auto, expert, none"),
    (["generate", "pointcloud_points=-3"], "pointcloud_points", "integer in 1..1000000"),
    (["generate", "split=holdout"], "split", "accepted: train, test, valid"),
    (["generate", "keep=some"], "keep", "accepted: all, success"),
    (["generate", "overwrite=maybe"], "overwrite", "true or false"),
    (["generate", "output=/proc/x"], "output", "not writable"),
    (["generate", "task=push_trolley"], "robot", "mobile base"),
    (["generate", "-m", "task=push,pick_plac"], "task", "did you mean 'pick_place'"),
    (["generate", "x=["], "x=[", "cannot read this KEY=VALUE"),
    (["eval", "episdes=3"], "episdes", "did you mean 'episodes'"),
    (["eval", "max_steps=-5"], "max_steps", "integer >= 1"),
    (["eval", "cameras=[top]"], "cameras", "has: wrist"),
]


def _cli(argv, cwd):
    env = {**os.environ, "MUJOCO_GL": "egl"}
    return subprocess.run([sys.executable, "-m", "simfarm.cli", *argv], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=120)


@pytest.mark.parametrize("argv, key, accepted", CLI_ROWS, ids=[" ".join(r[0]) for r in CLI_ROWS])
def test_cli_mistake_is_one_line_naming_the_key(argv, key, accepted, tmp_path):
    proc = _cli(argv, tmp_path)
    output = proc.stdout + proc.stderr
    lines = [line for line in output.splitlines() if line.strip()]
    assert proc.returncode == 2, output
    assert "Traceback" not in output, output
    errors = [line for line in lines if line.startswith(f"simfarm {argv[0]}: error: ")]
    assert len(errors) == 1 and len(lines) == 1, output
    assert key in errors[0] and accepted in errors[0], errors[0]
    assert not any(tmp_path.iterdir()), "nothing is written for a refused job"


def test_eval_output_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "report").write_text("not a folder")
    proc = _cli(["eval", f"output={tmp_path / 'report'}"], tmp_path)
    assert proc.returncode == 2 and proc.stderr.startswith("simfarm eval: error: output: "), proc.stderr
    assert "is an existing file" in proc.stderr and "Traceback" not in proc.stderr


ENV_ROWS = [
    ({"control_hz": 0}, "control_hz=0"),
    ({"control_hz": -5}, "control_hz=-5"),
    ({"control_hz": 100000}, "control_hz=100000"),
    ({"control_hz": 30}, "control_hz=30"),
    ({"camera_size": (0, 0)}, "camera_size=[0,0]"),
    ({"max_steps": 0}, "max_steps=0"),
    ({"max_steps": -5}, "max_steps=-5"),
    ({"obs_mode": "rbg"}, "obs_mode=rbg"),
    ({"obs_mode": "rgb+dept"}, "obs_mode=rgb+dept"),
    ({"pointcloud_points": 0}, "pointcloud_points=0"),
    ({"pointcloud_crop": "yes"}, "pointcloud_crop=yes"),
    ({"split": "holdout"}, "split=holdout"),
    ({"pretty": "maybe"}, "pretty=maybe"),
]


@pytest.mark.parametrize("kwargs, override", ENV_ROWS, ids=[r[1] for r in ENV_ROWS])
def test_env_kwargs_follow_the_cli_rules_and_messages(kwargs, override, tmp_path):
    with pytest.raises(ConfigError) as env_error:
        gym.make("simfarm/PickPlace-v0", **kwargs)
    proc = _cli(["generate", override], tmp_path)
    assert proc.stderr.strip() == f"simfarm generate: error: {env_error.value}"


def test_env_unknown_kwarg_suggests_the_close_one():
    with pytest.raises(ConfigError, match=r"unknown env option 'camera_sise' \(did you mean 'camera_size'\?\)"):
        gym.make("simfarm/PickPlace-v0", camera_sise=(64, 64))


def test_env_single_camera_name_is_one_camera_not_its_letters():
    env = gym.make("simfarm/PickPlace-v0", obs_mode="rgb", cameras="wrist", camera_size=(32, 32))
    try:
        obs, _ = env.reset(seed=0)
        assert list(obs["images"]) == ["wrist"] and obs["images"]["wrist"].shape == (32, 32, 3)
    finally:
        env.close()


def test_env_max_steps_is_honoured():
    env = gym.make("simfarm/PickPlace-v0", max_steps=3)
    try:
        env.reset(seed=0)
        truncated = [env.step(env.action_space.sample() * 0)[3] for _ in range(3)]
        assert truncated == [False, False, True]
    finally:
        env.close()
