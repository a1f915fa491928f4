"""A fast synthetic episode runner for the farm's tests (the farm's runner contract, no physics).

Episodes are deterministic in (seed, index): small images, a few steps. Content options come from
the job config's `fake` mapping; behaviour that must not change the config hash (sleeping, crashing
a worker once, logging calls) comes from the SIMFARM_FAKE environment variable (JSON), which Ray
workers inherit from the process that started Ray.

    fake.fail: [episode indices]       runner.run raises EpisodeError for these
    fake.unsuccessful: [indices]       the task fails (success False) but the episode completes
    fake.bad_camera: NAME              runner.run raises ConfigError (a camera the scene lacks, found
                                       when the worker builds its first scene)
    SIMFARM_FAKE={"sleep_s": 0.2}      sleep per episode (to kill a job mid-way)
    SIMFARM_FAKE={"crash_once": {"episode": 7, "flag": "/tmp/x"}}   os._exit(1) the first time
    SIMFARM_FAKE={"calls_log": "/tmp/calls"}   append "pid index" per run() call
    SIMFARM_FAKE={"env_log": "/tmp/env"}       write the worker's RAY_AUTH_MODE (token authentication on?)
    SIMFARM_FAKE={"slow_once": {"episode": 5, "sleep_s": 60, "node_log": "/tmp/node"}}
                                            the first run of episode 5 writes its Ray node id, then sleeps
    fake.behaviour_file: PATH          the same JSON read from a file at each call
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

import numpy as np

from simfarm.episode import Episode
from simfarm.errors import ConfigError, EpisodeError
from simfarm.writers.synthetic import synthetic_episode


class FakeRunner:
    def __init__(self, cfg: dict[str, Any]):
        self.seed = int(cfg["seed"])
        self.options = dict(cfg.get("fake") or {})
        self.closed = False

    @property
    def behaviour(self) -> dict[str, Any]:
        # Read at every call: a Ray worker's environment is fixed when Ray starts, so tests that
        # share one Ray session name a JSON file instead (`fake.behaviour_file`).
        out = json.loads(os.environ.get("SIMFARM_FAKE", "{}"))
        path = self.options.get("behaviour_file")
        if path and os.path.exists(path):
            with open(path) as f:
                out.update(json.load(f))
        return out

    def run(self, episode_index: int) -> Episode:
        behaviour = self.behaviour
        if behaviour.get("calls_log"):
            with open(behaviour["calls_log"], "a") as f:
                f.write(f"{os.getpid()} {episode_index}\n")
        if behaviour.get("env_log"):
            with open(behaviour["env_log"], "w") as f:
                f.write(os.environ.get("RAY_AUTH_MODE", "(unset)"))
        if self.options.get("bad_camera"):
            raise ConfigError(f"cameras: the scene has no camera {self.options['bad_camera']!r}; accepted: workspace, wrist")
        crash = behaviour.get("crash_once")
        if crash and crash["episode"] == episode_index and not os.path.exists(crash["flag"]):
            open(crash["flag"], "w").close()
            os._exit(1)  # a worker dying mid-shard, as a segfault or an OOM kill would
        slow = behaviour.get("slow_once")
        if slow and slow["episode"] == episode_index and not os.path.exists(slow["node_log"]):
            # Say which Ray node runs this episode, then stay mid-shard long enough to be killed there.
            import ray

            with open(slow["node_log"], "w") as f:
                f.write(ray.get_runtime_context().get_node_id())
            time.sleep(float(slow["sleep_s"]))
        if behaviour.get("sleep_s"):
            time.sleep(float(behaviour["sleep_s"]))
        if episode_index in self.options.get("fail", []):
            raise EpisodeError(f"episode {episode_index}: simulated physics divergence (qacc is NaN)")
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, episode_index]))
        length = 4 + int(rng.integers(0, 4))
        success = episode_index not in self.options.get("unsuccessful", [])
        return synthetic_episode(
            episode_index, length, cameras={"workspace": (32, 32)}, rng=rng, success=success, physics_size=5
        )

    def close(self) -> None:
        self.closed = True


def make_fake_runner(cfg: dict[str, Any]) -> FakeRunner:
    return FakeRunner(cfg)
