"""`simfarm generate [KEY=VALUE ...]`: the generation job behind Hydra's entry point."""

from __future__ import annotations

import os
from collections.abc import Sequence

from omegaconf import DictConfig

from simfarm.farm.shard import DEFAULT_RUNNER_FACTORY

# Advanced/testing hook: which "module:function" builds each worker's episode runner. The
# default is the real rollout; tests point it at a synthetic runner.
RUNNER_FACTORY_ENV = "SIMFARM_RUNNER_FACTORY"


def run_generate(cfg: DictConfig) -> int:
    """Hydra job function: run (or resume) the generation job described by `cfg`."""
    from simfarm.farm.execute import run_job

    factory = os.environ.get(RUNNER_FACTORY_ENV) or DEFAULT_RUNNER_FACTORY
    run_job(cfg, runner_factory=factory)
    return 0


def generate_main(argv: Sequence[str]) -> int:
    """Entry point of `simfarm generate`; KEY=VALUE Hydra overrides, `-m` sweeps."""
    from simfarm.config import hydra_main

    return hydra_main("generate", argv, run_generate)
