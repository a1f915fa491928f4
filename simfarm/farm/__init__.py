"""The farm: plan a job into shards, run them on Ray exactly once, resume, finalize.

    report = run_job(cfg, runner_factory="simfarm.rollout:make_episode_runner")

Storage layout and the shard protocol: `simfarm.farm.state`; execution: `simfarm.farm.execute`.
"""

from __future__ import annotations

from simfarm.farm.plan import ShardPlan, plan_shards, shard_name
from simfarm.farm.shard import (
    DEFAULT_RUNNER_FACTORY,
    EpisodeRecord,
    ShardResult,
    ShardTask,
    run_shard,
)
from simfarm.farm.state import JobStore, check_resumable

__all__ = [
    "DEFAULT_RUNNER_FACTORY",
    "EpisodeRecord",
    "JobStore",
    "ShardPlan",
    "ShardResult",
    "ShardTask",
    "check_resumable",
    "plan_shards",
    "prepare_job",
    "run_job",
    "run_shard",
    "shard_name",
]


def __getattr__(name: str):
    # Ray is imported only when a job runs, so planning and validation stay light.
    if name in ("run_job", "prepare_job"):
        from simfarm.farm import execute

        return getattr(execute, name)
    raise AttributeError(name)
