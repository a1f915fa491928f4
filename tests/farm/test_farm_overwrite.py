"""overwrite=true replaces a finished dataset only once the new one is complete; a job that
finished nothing holds nothing; the plan is lazy; workers fit the machine."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from conftest import FAKE_FACTORY, job_config
from helpers import episode_indices

from simfarm.errors import ConfigError, FarmError
from simfarm.farm import JobStore, plan_shards, run_job
from simfarm.farm import state as farm_state


def run(cfg, **kw):
    return run_job(cfg, runner_factory=FAKE_FACTORY, show_progress=False, **kw)


def files(root: Path) -> dict[str, bytes]:
    """Every file under `root` with its bytes (what "intact" means: byte-identical)."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def siblings(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}."))


def finished_old(tmp_path) -> tuple[Path, dict[str, bytes]]:
    out = tmp_path / "out"
    run(job_config(out, episodes=3))
    before = files(out)
    assert "job.json" in before and "meta/info.json" in before
    return out, before


def assert_new_in_place(out: Path, episodes: int) -> None:
    job = json.loads((out / "job.json").read_text())
    assert job["episodes"]["kept"] == episodes
    assert json.loads((out / "meta" / "info.json").read_text())["total_episodes"] == episodes
    assert episode_indices(out) == list(range(episodes))
    assert siblings(out) == []  # no staged job, no old copy, no journal left


class Finalize:
    """Breaks the driver's finalize (a full disk, a bug) while on."""

    def __init__(self, monkeypatch):
        import simfarm.writers

        real = simfarm.writers.finalize

        def broken(*args, **kwargs):
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(simfarm.writers, "finalize", broken)
        self.restore = lambda: monkeypatch.setattr(simfarm.writers, "finalize", real)


@pytest.mark.parametrize("stage", ["config error", "worker config error", "failure mid-run", "finalize fails"])
def test_overwrite_keeps_the_finished_dataset_until_its_replacement_is_complete(ray_session, tmp_path, monkeypatch, stage):
    out, before = finished_old(tmp_path)
    new = job_config(out, episodes=6, overwrite=True)
    broken = dict(new)
    finalize = None
    if stage == "config error":
        broken["shard_size"] = 0
        error, match = ConfigError, "shard_size"
    elif stage == "worker config error":
        broken["fake"] = {"bad_camera": "wirst"}
        error, match = ConfigError, r"no camera 'wirst'.*found by a worker running shard-00000[01]"  # either worker may be first
    elif stage == "failure mid-run":
        broken = job_config(out, episodes=6, overwrite=True, workers=1, **{"fake.fail": [4]})
        new = dict(broken, max_failures=5)  # the same job with a larger budget: resumes
        error, match = FarmError, "failure budget spent"
    else:
        finalize = Finalize(monkeypatch)
        error, match = OSError, "No space left"
    with pytest.raises(error, match=match) as info:
        run(broken)
    if isinstance(info.value, ConfigError):
        assert "\n" not in str(info.value)  # one line, as the CLI prints it
    assert files(out) == before  # the finished dataset is untouched
    if finalize is not None:
        finalize.restore()
    report = run(new)
    assert_new_in_place(out, 6 - (stage == "failure mid-run"))
    if stage in ("failure mid-run", "finalize fails"):
        assert report["shards"]["resumed"] >= 1  # the staged job resumed, not restarted


class Crash(BaseException):
    """Stands for the driver being killed at one step of the swap (nothing runs after it)."""


@pytest.mark.parametrize(
    "step, exchange",
    [("journal", True), ("exchanged", True), ("new-in-place", True), ("old-deleted", True),
     ("journal", False), ("old-moved-aside", False), ("new-in-place", False)],
)
def test_a_crash_between_the_swaps_steps_leaves_a_complete_dataset_and_the_rerun_finishes_the_swap(
    ray_session, tmp_path, monkeypatch, step, exchange
):
    out, before = finished_old(tmp_path)
    if not exchange:  # a filesystem without renameat2 RENAME_EXCHANGE: two renames
        monkeypatch.setattr(farm_state, "exchange_paths", lambda a, b: False)

    def crash_at(name):
        if name == step:
            raise Crash(name)

    monkeypatch.setattr(farm_state, "SWAP_STEP_HOOK", crash_at)
    cfg = job_config(out, episodes=6, overwrite=True)
    with pytest.raises(Crash):
        run(cfg)
    monkeypatch.setattr(farm_state, "SWAP_STEP_HOOK", None)
    parent = out.parent
    if step == "old-moved-aside":
        # The one instant of the two-rename swap: both complete datasets sit beside the output.
        assert not out.exists()
        assert files(parent / ".out.simfarm-old") == before
        assert (parent / ".out.simfarm-next" / "job.json").exists()
    elif out.joinpath("job.json").read_bytes() == before["job.json"]:
        assert files(out) == before  # still the old one, whole
    else:
        assert json.loads((out / "job.json").read_text())["episodes"]["kept"] == 6  # already the new one, whole
    t0 = time.perf_counter()
    again = run(cfg)
    assert_new_in_place(out, 6)
    assert again["config_hash"] == json.loads((out / "job.json").read_text())["config_hash"]
    assert time.perf_counter() - t0 < 20


def test_a_job_that_finished_no_shard_does_not_hold_the_output(ray_session, tmp_path):
    out = tmp_path / "out"
    with pytest.raises(ConfigError, match="no camera 'wirst'"):
        run(job_config(out, **{"fake.bad_camera": "wirst"}))
    store = JobStore(str(out))
    assert store.has_state() and not store.markers()
    # The corrected command (a different config) just starts: no overwrite=true needed.
    report = run(job_config(out))
    assert report["episodes"]["kept"] == 12 and episode_indices(out) == list(range(12))


def test_an_unfinished_job_with_a_finished_shard_is_protected(ray_session, tmp_path):
    out = tmp_path / "out"
    with pytest.raises(FarmError, match="failure budget spent"):
        run(job_config(out, workers=1, **{"fake.fail": [4]}))
    assert JobStore(str(out)).markers()
    with pytest.raises(FarmError, match="holds an unfinished job with a different config"):
        run(job_config(out, seed=4))


def test_a_plan_of_ten_trillion_episodes_is_lazy():
    t0 = time.perf_counter()
    plan = plan_shards(10**13, 7)
    assert len(plan) == -(-(10**13) // 7)
    last = plan[-1]
    assert last.index == len(plan) - 1 and last.first_episode == (len(plan) - 1) * 7
    assert last.first_episode + last.num_episodes == 10**13 and last.num_episodes == 10**13 % 7
    assert plan[len(plan) - 1] == last and plan[0].episode_indices == range(7)
    assert [s.index for s in plan[2:4]] == [2, 3]
    with pytest.raises(IndexError):
        plan[len(plan)]
    assert time.perf_counter() - t0 < 0.1


PREPARE_PROBE = """
import json, sys, time, tracemalloc
sys.path.insert(0, sys.argv[2])
from conftest import job_config
from simfarm.farm.execute import prepare_job
cfg = job_config(sys.argv[1], episodes=10**13, shard_size=5, workers=1)
tracemalloc.start()
t0 = time.perf_counter()
_, _, plan, _ = prepare_job(cfg)
elapsed = time.perf_counter() - t0
_, peak = tracemalloc.get_traced_memory()
tracemalloc.stop()
print(json.dumps([len(plan), plan[-1].first_episode, elapsed, peak]))
"""


def test_preparing_a_job_of_ten_trillion_episodes_is_quick_and_small(tmp_path):
    # In a fresh process: tracemalloc in a process whose Ray threads run Python can crash it
    # (tracemalloc's traceback_new under a Ray C++ thread, seen once in a full run).
    import subprocess
    import sys

    farm_tests = str(Path(__file__).resolve().parent)
    proc = subprocess.run([sys.executable, "-c", PREPARE_PROBE, str(tmp_path / "out"), farm_tests],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "MUJOCO_GL": "egl"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    n, last_first, elapsed, peak = json.loads(proc.stdout.strip().splitlines()[-1])
    assert n == 2 * 10**12 and last_first == 10**13 - 5
    assert elapsed < 5 and peak < 50 * 2**20, (elapsed, peak)


def test_more_workers_than_a_joined_clusters_cpus_is_said_once(ray_session, caplog):
    from simfarm.farm.execute import warn_if_cluster_too_small

    with caplog.at_level("WARNING", logger="simfarm.farm.execute"):
        warn_if_cluster_too_small(2)
        warn_if_cluster_too_small(3)
    assert [r.getMessage() for r in caplog.records] == [
        "workers=3 but the Ray cluster has 2 CPUs: at most 2 shards run at once (the cluster's autoscaler may add more)"
    ]
