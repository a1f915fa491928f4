"""LeRobot checkpoints in simfarm (`policy=lerobot:PATH`) and served (`lerobot-eval` on simfarm envs:
tests/test_first_contact.py walks README's command).

The checkpoint is real: `lerobot-train` trains a tiny ACT for a few steps on a simfarm dataset
written here; an image ACT is built with LeRobot's own classes and saved as lerobot-train does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch
from safetensors.torch import load_file, save_file

from simfarm import config as C
from simfarm.errors import ConfigError, EpisodeError
from simfarm.policies import check_policy, make_policy
from simfarm.policies.lerobot_policy import LeRobotPolicy
from simfarm.rollout import EpisodeRunner
from simfarm.writers import DatasetSpec, finalize, make_shard_writer

BIN = Path(sys.executable).parent
TRAIN_ARGS = ["--policy.type=act", "--policy.device=cpu", "--policy.push_to_hub=false", "--policy.chunk_size=8",
              "--policy.n_action_steps=4", "--policy.dim_model=32", "--policy.dim_feedforward=64",
              "--policy.n_heads=2", "--policy.n_encoder_layers=1", "--policy.n_decoder_layers=1",
              "--policy.latent_dim=4", "--policy.pretrained_backbone_weights=null", "--steps=3", "--batch_size=4",
              "--save_freq=3", "--log_freq=1", "--eval_freq=0", "--num_workers=0", "--wandb.enable=false"]


def job(*overrides: str) -> dict:
    return C.to_dict(C.compose("generate", ["task=pick_place", "scene=tabletop", "obs_mode=state", "max_steps=20",
                                            *overrides]))


def env_of(runner: EpisodeRunner):
    return runner.env


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A state-based ACT checkpoint: lerobot-train, 3 steps, on 4 simfarm episodes (LeRobot v3)."""
    root = tmp_path_factory.mktemp("lerobot")
    runner = EpisodeRunner(job())
    try:
        episodes = [runner.run(i) for i in range(4)]
    finally:
        runner.close()
    # LeRobot 0.4.4 predates the language columns: a dataset for it leaves them out.
    spec = DatasetSpec.from_episode(episodes[0], language_columns=False)
    with make_shard_writer("lerobot", root / "shard", spec, 0) as writer:
        for ep in episodes:
            writer.add_episode(ep)
    finalize("lerobot", root / "data", [root / "shard"])
    proc = subprocess.run([sys.executable, "-m", "lerobot.scripts.lerobot_train", "--dataset.repo_id=local/simfarm",
                           f"--dataset.root={root / 'data'}", f"--output_dir={root / 'train'}", *TRAIN_ARGS],
                          capture_output=True, text=True, timeout=300, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    return root / "train"  # the run's output folder: lerobot:PATH finds checkpoints/last/pretrained_model


def lerobot_reference(checkpoint: Path):
    """The checkpoint loaded by LeRobot alone (what lerobot-eval does), for comparison."""
    from lerobot.configs.policies import PreTrainedConfig
    from lerobot.policies.factory import get_policy_class, make_pre_post_processors

    cfg = PreTrainedConfig.from_pretrained(checkpoint)
    cfg.pretrained_path = checkpoint
    policy = get_policy_class(cfg.type).from_pretrained(checkpoint, config=cfg)
    pre, post = make_pre_post_processors(cfg, pretrained_path=str(checkpoint))
    return policy, pre, post


def run_cli(*argv: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "simfarm.cli", *argv], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "MUJOCO_GL": "egl"})


def test_generate_with_a_lerobot_checkpoint_executes_the_actions_lerobot_computes(trained, tmp_path):
    # One DAgger iteration is one command: the learned policy drives, the expert labels every step.
    out = tmp_path / "dagger"
    proc = run_cli("generate", f"policy=lerobot:{trained}", "relabel=expert", "task=pick_place", "scene=tabletop",
                   "obs_mode=state", "max_steps=15", "episodes=2", "workers=1", f"output={out}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    info = json.loads((out / "meta" / "info.json").read_text())
    assert info["features"]["action.expert"]["shape"] == info["features"]["action"]["shape"] == [7]
    table = pq.read_table(sorted((out / "data").rglob("*.parquet"))[0]).to_pandas()
    policy, pre, post = lerobot_reference(trained / "checkpoints" / "last" / "pretrained_model")
    tasks = pq.read_table(out / "meta" / "tasks.parquet").to_pandas()
    names = tasks["task"] if "task" in tasks else tasks.index
    task_of = {int(i): str(t) for t, i in zip(names, tasks["task_index"], strict=True)}
    for _, rows in table.groupby("episode_index"):
        policy.reset()
        for _, row in rows.sort_values("frame_index").iterrows():
            batch = {k: torch.tensor(np.asarray(row[k], np.float32))[None]
                     for k in ("observation.state", "observation.environment_state", "observation.ee_pose")}
            batch["task"] = [task_of[int(row["task_index"])]]
            with torch.inference_mode():
                expected = post(policy.select_action(pre(batch)))[0].numpy()
            np.testing.assert_allclose(np.asarray(row["action"], np.float32), expected, rtol=1e-5, atol=1e-6)
        # the expert's labels are the expert's, not the policy's
        assert not np.allclose(np.stack(rows["action.expert"]), np.stack(rows["action"]))


def test_eval_reports_a_lerobot_checkpoint_and_serve_policy_serves_it(trained, tmp_path):
    proc = run_cli("eval", f"policy=lerobot:{trained}", "task=pick_place", "scene=tabletop", "obs_mode=state",
                   "max_steps=15", "episodes=2", "workers=1", f"output={tmp_path / 'eval'}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads((tmp_path / "eval" / "report.json").read_text())
    assert len(report["episodes"]) == 2 and "Loading weights" not in proc.stdout

    # Served over the remote protocol: the same actions as the checkpoint run in-process.
    from simfarm.policies import serve_policy

    runner = EpisodeRunner(job())
    env = env_of(runner)
    server = serve_policy(f"lerobot:{trained}", host="127.0.0.1", port=0, options={})
    try:
        remote = make_policy(f"remote:{server.url}", env.observation_space, env.action_space)
        local = make_policy(f"lerobot:{trained}", env.observation_space, env.action_space)
        obs, _ = env.reset(seed=3)
        remote.reset(env.task.instruction, 3)
        local.reset(env.task.instruction, 3)
        for _ in range(6):  # past the first chunk of n_action_steps=4
            a_local = local.act(obs)
            np.testing.assert_allclose(remote.act(obs), a_local, rtol=1e-5, atol=1e-6)
            obs, *_ = env.step(a_local)
        remote.close()
        local.close()
    finally:
        server.shutdown()
        runner.close()


def test_a_checkpoint_that_does_not_fit_the_env_fails_in_the_driver_naming_what_differs(trained, tmp_path):
    with pytest.raises(ConfigError, match=r"observation.state: the checkpoint expects shape \(15,\), the env gives \(14,\)"):
        C.validate(job(f"policy=lerobot:{trained}", "robot=ur5e"))
    with pytest.raises(ConfigError, match=r"action: the checkpoint outputs shape \(7,\), the env's action space is \(8,\)"):
        C.validate(job(f"policy=lerobot:{trained}", "control_mode=joint_pos"))
    with pytest.raises(ConfigError, match="observation.state .* the env's observation has no 'state'"):
        C.validate(job(f"policy=lerobot:{trained}", "obs_mode=rgb"))
    with pytest.raises(ConfigError, match="no such folder"):
        C.validate(job(f"policy=lerobot:{tmp_path / 'missing'}"))
    with pytest.raises(ConfigError, match="has no config.json"):
        C.validate(job(f"policy=lerobot:{tmp_path}"))
    with pytest.raises(ConfigError, match=r"policy.device: got 'tpu'.*accepted: auto, cpu, cuda, mps"):
        C.validate(job(f"policy=lerobot:{trained}", "policy.device=tpu"))
    with pytest.raises(ConfigError, match="n_action_steps=9 exceeds the checkpoint's chunk_size 8"):
        C.validate(job(f"policy=lerobot:{trained}", "policy.n_action_steps=9"))
    # the CLI says it in one line, before any worker starts
    proc = run_cli("eval", f"policy=lerobot:{trained}", "robot=ur5e", "task=pick_place", "scene=tabletop",
                   "obs_mode=state", f"output={tmp_path / 'e'}", timeout=120)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("simfarm eval: error: policy: lerobot:")
    # serve-policy (no env) still loads and checks the checkpoint itself
    check_policy(f"lerobot:{trained}")
    with pytest.raises(ConfigError, match="policy_postprocessor.json"):
        broken = tmp_path / "broken"
        broken.mkdir()
        src = trained / "checkpoints" / "last" / "pretrained_model"
        for f in ("config.json", "model.safetensors", "policy_preprocessor.json"):
            (broken / f).write_bytes((src / f).read_bytes())
        check_policy(f"lerobot:{broken}")


def test_a_checkpoint_that_returns_nan_fails_its_episodes_naming_the_checkpoint(trained, tmp_path):
    nan_ckpt = tmp_path / "nan"
    src = trained / "checkpoints" / "last" / "pretrained_model"
    nan_ckpt.mkdir()
    for f in src.iterdir():
        (nan_ckpt / f.name).write_bytes(f.read_bytes())
    weights = load_file(str(src / "model.safetensors"))
    head = next(k for k in weights if k.endswith("action_head.bias"))
    weights[head] = torch.full_like(weights[head], float("nan"))
    save_file(weights, str(nan_ckpt / "model.safetensors"))
    runner = EpisodeRunner(job(f"policy=lerobot:{nan_ckpt}"))
    try:
        with pytest.raises(EpisodeError, match=f"policy error: policy 'lerobot:{nan_ckpt}' returned a non-finite action"):
            runner.run(0)
    finally:
        runner.close()
    # the evaluation goes on: both episodes are flagged failures, each with the checkpoint's message
    proc = run_cli("eval", f"policy=lerobot:{nan_ckpt}", "task=pick_place", "scene=tabletop", "obs_mode=state",
                   "max_steps=10", "episodes=2", "workers=1", f"output={tmp_path / 'e'}")
    assert proc.returncode == 0 and "2 errors" in proc.stderr, proc.stderr[-2000:]
    report = json.loads((tmp_path / "e" / "report.json").read_text())
    assert [e["success"] for e in report["episodes"]] == [False, False]
    assert all(f"policy 'lerobot:{nan_ckpt}' returned a non-finite action" in e["error"] for e in report["episodes"])


@pytest.fixture(scope="module")
def image_checkpoint(tmp_path_factory) -> Path:
    """An image + state ACT built with LeRobot's classes and saved as lerobot-train saves it."""
    from lerobot.configs.types import FeatureType, NormalizationMode, PolicyFeature
    from lerobot.policies.act.configuration_act import ACTConfig
    from lerobot.policies.act.modeling_act import ACTPolicy
    from lerobot.policies.factory import make_pre_post_processors

    torch.manual_seed(0)
    inputs = {"observation.state": PolicyFeature(FeatureType.STATE, (15,)),
              "observation.images.workspace": PolicyFeature(FeatureType.VISUAL, (3, 64, 64))}
    cfg = ACTConfig(input_features=inputs, output_features={"action": PolicyFeature(FeatureType.ACTION, (7,))},
                    chunk_size=6, n_action_steps=3, dim_model=32, dim_feedforward=64, n_heads=2, n_encoder_layers=1,
                    n_decoder_layers=1, latent_dim=4, pretrained_backbone_weights=None, device="cpu",
                    normalization_mapping={"VISUAL": NormalizationMode.MEAN_STD, "STATE": NormalizationMode.MEAN_STD,
                                           "ACTION": NormalizationMode.MEAN_STD})
    stats = {"observation.state": {"mean": torch.zeros(15), "std": torch.ones(15)},
             "observation.images.workspace": {"mean": torch.full((3, 1, 1), 0.45), "std": torch.full((3, 1, 1), 0.25)},
             "action": {"mean": torch.zeros(7), "std": torch.full((7,), 0.1)}}
    policy = ACTPolicy(cfg)
    pre, post = make_pre_post_processors(cfg, dataset_stats=stats)
    folder = tmp_path_factory.mktemp("image_act") / "pretrained_model"
    policy.save_pretrained(folder)
    pre.save_pretrained(folder)
    post.save_pretrained(folder)
    return folder


def test_images_reach_the_policy_as_lerobot_eval_gives_them(image_checkpoint):
    from lerobot.envs.utils import preprocess_observation

    runner = EpisodeRunner(job("obs_mode=rgb+state", "cameras=[workspace]", "camera_size=[64,64]"))
    env = env_of(runner)
    try:
        ours = make_policy(f"lerobot:{image_checkpoint}", env.observation_space, env.action_space, env=env)
        assert ours.policy.sources == {"observation.state": "state", "observation.images.workspace": "images.workspace"}
        policy, pre, post = lerobot_reference(image_checkpoint)
        obs, _ = env.reset(seed=5)
        ours.reset(env.task.instruction, 5)
        policy.reset()
        for _ in range(4):
            # LeRobot's own conversion of a sim observation (pixels HWC uint8 -> float CHW in [0, 1])
            batch = preprocess_observation({"pixels": {"workspace": obs["images"]["workspace"][None]},
                                            "agent_pos": obs["state"][None]})
            batch["task"] = [env.task.instruction]
            with torch.inference_mode():
                expected = post(policy.select_action(pre(batch)))[0].numpy()
            action = ours.act(obs)
            np.testing.assert_allclose(action, expected, rtol=1e-5, atol=1e-6)
            obs, *_ = env.step(action)
        # a checkpoint for another camera size is refused with the size it needs
        with pytest.raises(ConfigError, match=r"expects \(C, H, W\) \(3, 64, 64\), the env gives \(3, 32, 32\)"):
            from simfarm.envs import make_env

            small = make_env("pick_place", scene="tabletop", obs_mode="rgb+state", cameras=["workspace"], camera_size=(32, 32))
            LeRobotPolicy(str(image_checkpoint), small.observation_space, small.action_space)
    finally:
        runner.close()


def test_lerobot_eval_refuses_a_wrong_env_option_in_one_line(trained, tmp_path):
    from simfarm.lerobot_env import EnvOptionError, SimfarmEnv

    with pytest.raises(EnvOptionError, match="env: scene: unknown room program 'moon'"):
        SimfarmEnv(task="PickPlace-v0", scene="moon")
    proc = subprocess.run([str(BIN / "lerobot-eval"), "--env.discover_packages_path=simfarm.lerobot_env",
                           "--env.type=simfarm", "--env.task=PickPlce-v0",
                           f"--policy.path={trained / 'checkpoints' / 'last' / 'pretrained_model'}",
                           "--eval.n_episodes=1", "--eval.batch_size=1", f"--output_dir={tmp_path / 'eval'}"],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "MUJOCO_GL": "egl", "HF_HUB_OFFLINE": "1"})
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    line = proc.stderr.strip().splitlines()[-1]
    assert line.startswith("lerobot-eval: error: env.task: unknown simfarm task 'PickPlce-v0'") and "PickPlace-v0" in line
