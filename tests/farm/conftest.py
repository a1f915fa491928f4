"""Shared fixtures for the farm's tests: one Ray session per module, fake runner on PYTHONPATH."""

from __future__ import annotations

import copy
import os
import sys
import tempfile
from pathlib import Path

import pytest
from omegaconf import OmegaConf

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
FAKE_FACTORY = "fake_runner:make_fake_runner"

# Ray workers (and subprocesses) import the fake runner by module name.
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(HERE), str(REPO), os.environ.get("PYTHONPATH", "")) if p)
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
# Ray's socket paths must stay short: a short temp dir, shared by the whole session.
RAY_TMP = tempfile.mkdtemp(prefix="rt", dir="/tmp")
os.environ["RAY_TMPDIR"] = RAY_TMP
os.environ.setdefault("RAY_DEDUP_LOGS", "0")
os.environ.setdefault("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")


FALLBACK_GROUPS = {"robot": {"name": "arm"}}

# The fake runner's content options live under a top-level `fake` key (part of the config hash,
# as a real task's options are); validate() accepts it in these tests as one of simfarm's own keys.
import simfarm.config as _config  # noqa: E402

if "fake" not in _config.INTERNAL_KEYS:
    _config.INTERNAL_KEYS = (*_config.INTERNAL_KEYS, "fake")


def base_config() -> dict:
    """generate.yaml's own keys plus the group files that exist, as plain data (no Hydra run)."""
    configs = REPO / "configs"
    cfg = OmegaConf.to_container(OmegaConf.load(configs / "generate.yaml"))
    defaults = cfg.pop("defaults")
    for item in defaults:
        if isinstance(item, dict):
            (group, choice), = item.items()
            path = configs / group / f"{choice}.yaml"
            # Groups another stage has not written yet fall back to the minimal choice it accepts.
            cfg[group] = OmegaConf.to_container(OmegaConf.load(path)) if path.exists() else dict(FALLBACK_GROUPS.get(group, {}))
    cfg["writer"] = OmegaConf.to_container(OmegaConf.load(configs / "writer" / "lerobot.yaml"))
    return cfg


def job_config(output, **overrides) -> dict:
    """A small fake-runner job: lossless-ish H.264 keeps tests fast; keys as in generate.yaml."""
    cfg = copy.deepcopy(base_config())
    cfg.update(episodes=12, shard_size=3, workers=2, seed=3, output=str(output), max_failures=0)
    cfg["writer"].update(video_codec="h264", crf=0, preset="ultrafast")
    for key, value in overrides.items():
        if "." in key:
            group, sub = key.split(".", 1)
            cfg.setdefault(group, {})[sub] = value
        else:
            cfg[key] = value
    return cfg


@pytest.fixture(scope="module")
def ray_session():
    """One local Ray with 2 CPUs for a whole test module (ray.init costs seconds)."""
    import ray

    ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level="WARNING")
    yield ray
    ray.shutdown()
