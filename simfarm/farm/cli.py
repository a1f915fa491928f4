"""`simfarm generate [KEY=VALUE ...]`: the generation job behind Hydra's entry point."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from omegaconf import DictConfig

from simfarm.farm.shard import DEFAULT_RUNNER_FACTORY

# Advanced/testing hook: which "module:function" builds each worker's episode runner. The
# default is the real rollout; tests point it at a synthetic runner.
RUNNER_FACTORY_ENV = "SIMFARM_RUNNER_FACTORY"
# Set once a job of this process was interrupted: the rest of a `-m` sweep does not start.
_interrupted = False


def run_generate(cfg: DictConfig) -> int:
    """Hydra job function: run (or resume) the generation job described by `cfg`.

    Returns 0, or 130 after a Ctrl-C (workers cancelled, Ray shut down, one line saying how far
    the job got); errors a user can cause propagate as SimfarmError.
    """
    global _interrupted
    from simfarm.farm.execute import EXIT_INTERRUPTED, JobInterrupted, run_job

    if _interrupted:
        print(f"simfarm generate: not started (an earlier job was interrupted): output={cfg.get('output')}", file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED
    factory = os.environ.get(RUNNER_FACTORY_ENV) or DEFAULT_RUNNER_FACTORY
    try:
        run_job(cfg, runner_factory=factory)
    except JobInterrupted as exc:
        _interrupted = True
        print(f"simfarm generate: {exc}", file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:  # a second Ctrl-C, or one before the job's own handler was set
        _interrupted = True
        print("simfarm generate: interrupted; run the same command to resume", file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED
    return 0


def generate_main(argv: Sequence[str]) -> int:
    """Entry point of `simfarm generate`; KEY=VALUE Hydra overrides, `-m` sweeps."""
    from simfarm.config import hydra_main

    return hydra_main("generate", argv, run_generate)
