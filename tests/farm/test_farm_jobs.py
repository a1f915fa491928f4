"""Jobs on a real local Ray (one session for the module): determinism, crashes, budget, resume."""

from __future__ import annotations

import json
import re
import sys

import pytest
from conftest import FAKE_FACTORY, job_config
from helpers import assert_same_content, calls, dataset_content, episode_indices

from simfarm.config import config_hash
from simfarm.errors import FarmError
from simfarm.farm import JobStore, plan_shards, run_job
from simfarm.farm.shard import ShardTask, run_shard


def with_behaviour(cfg, path, **behaviour):
    """Point the fake runner at a behaviour file (workers of a shared Ray session read it per call)."""
    path.write_text(json.dumps(behaviour))
    cfg.setdefault("fake", {})["behaviour_file"] = str(path)
    return cfg


def run(cfg, **kw):
    return run_job(cfg, runner_factory=FAKE_FACTORY, show_progress=False, **kw)


def test_two_workers_and_one_worker_give_identical_content(ray_session, tmp_path):
    r1 = run(job_config(tmp_path / "w1", workers=1))
    r2 = run(job_config(tmp_path / "w2", workers=2))
    assert r1["episodes"]["kept"] == r2["episodes"]["kept"] == 12
    assert episode_indices(tmp_path / "w2") == list(range(12))
    assert_same_content(dataset_content(tmp_path / "w1"), dataset_content(tmp_path / "w2"))


def test_killed_worker_loses_no_episode_and_duplicates_none(ray_session, tmp_path):
    log = tmp_path / "calls"
    cfg = with_behaviour(
        job_config(tmp_path / "out", workers=2),
        tmp_path / "behaviour.json",
        crash_once={"episode": 7, "flag": str(tmp_path / "crashed")},
        calls_log=str(log),
    )
    report = run(cfg)
    assert (tmp_path / "crashed").exists()  # the worker really died once
    assert report["episodes"]["kept"] == 12
    assert episode_indices(tmp_path / "out") == list(range(12))
    ran = calls(log)
    # Only the crashed shard (episodes 6..8) ran twice, from its start; nothing else repeated.
    assert sorted(ran) == sorted(list(range(12)) + [6, 7])
    reference = run(job_config(tmp_path / "ref", workers=1))
    assert reference["episodes"]["kept"] == 12
    assert_same_content(dataset_content(tmp_path / "out"), dataset_content(tmp_path / "ref"))


def test_failure_budget_stops_the_job_and_keeps_finished_shards_valid(ray_session, tmp_path):
    out = tmp_path / "out"
    cfg = job_config(out, workers=1, max_failures=1, **{"fake.fail": [1, 4]})
    with pytest.raises(FarmError, match=r"failure budget spent: 2 episodes failed, more than max_failures=1") as info:
        run(cfg)
    assert "episode 1: EpisodeError" in str(info.value) and "max_failures=12" in str(info.value)
    store = JobStore(str(out))
    assert not store.is_finished()
    markers = store.markers()
    assert "shard-000000" in markers and len(markers) < 4
    for m in markers.values():
        assert (out / m["dir"] / "manifest.json").exists()
    # Resuming with a larger budget finishes the job without re-running the finished shards.
    cfg["max_failures"] = 5
    report = run(cfg)
    assert report["episodes"]["failed"] == 2 and report["episodes"]["kept"] == 10
    assert {f["episode_index"] for f in report["failures"]} == {1, 4}
    assert "simulated physics divergence" in report["failures"][0]["error"]
    assert report["shards"]["resumed"] == len(markers)
    assert episode_indices(out) == list(range(10))  # finalize re-indexes the kept episodes


def test_finished_output_refuses_to_be_overwritten_unless_asked(ray_session, tmp_path):
    out = tmp_path / "out"
    run(job_config(out, episodes=3))
    job = json.loads((out / "job.json").read_text())
    with pytest.raises(FarmError, match="already holds a finished job"):
        run(job_config(out, episodes=3))
    with pytest.raises(FarmError, match="already holds a finished job"):
        run(job_config(out, episodes=6))
    report = run(job_config(out, episodes=6, overwrite=True))
    assert report["episodes"]["kept"] == 6 and job["episodes"]["kept"] == 3
    assert json.loads((out / "meta" / "info.json").read_text())["total_episodes"] == 6


def test_resume_keeps_finished_shards_and_redoes_half_written_ones(ray_session, tmp_path):
    out = tmp_path / "out"
    log = tmp_path / "calls"
    cfg = with_behaviour(job_config(out, workers=2), tmp_path / "behaviour.json", calls_log=str(log))
    reference = run(job_config(tmp_path / "ref", workers=2))
    # A driver that died mid-job left: two finished (marked) shards, one half-written staging
    # folder, one published folder without a marker (killed between rename and marker).
    JobStore(str(out)).write_state(_state(cfg))
    plan = plan_shards(12, 3)
    for shard in plan[:2]:
        run_shard(ShardTask(output=str(out), shard=shard, cfg=cfg, config_hash=config_hash(cfg), runner_factory=FAKE_FACTORY))
    half = out / ".simfarm" / "staging" / "shard-000002-deadbeef"
    half.mkdir(parents=True)
    (half / "data.parquet").write_bytes(b"half a file")
    unmarked = out / ".simfarm" / "shards" / "shard-000003"
    unmarked.mkdir(parents=True)
    (unmarked / "garbage.mp4").write_bytes(b"\x00")
    assert sorted(calls(log)) == list(range(6))
    report = run(cfg)
    assert sorted(calls(log)) == list(range(12))  # shards 0 and 1 were not run again
    assert report["shards"] == {"total": 4, "run_this_session": 2, "resumed": 2}
    assert not half.exists()
    assert reference["episodes"]["kept"] == report["episodes"]["kept"] == 12
    assert_same_content(dataset_content(out), dataset_content(tmp_path / "ref"))


def test_keep_success_drops_failed_tasks_but_counts_them(ray_session, tmp_path):
    cfg = job_config(tmp_path / "out", keep="success", episodes=6, **{"fake.unsuccessful": [0, 4]})
    report = run(cfg)
    assert report["episodes"]["kept"] == 4 and report["episodes"]["dropped"] == 2
    assert report["success_rate"] == pytest.approx(4 / 6)
    assert episode_indices(tmp_path / "out") == list(range(4))  # re-indexed contiguously by finalize


def test_job_report_has_timings_throughput_and_versions(ray_session, tmp_path):
    report = run(job_config(tmp_path / "out", episodes=3))
    on_disk = json.loads((tmp_path / "out" / "job.json").read_text())
    assert on_disk["config_hash"] == report["config_hash"]
    assert set(on_disk["versions"]) == {"simfarm", "mujoco", "ray", "python"}
    assert on_disk["throughput"]["episodes_per_s"] > 0 and on_disk["throughput"]["frames_per_s"] > 0
    assert on_disk["timings"]["run_s"] > 0 and on_disk["workers"] == 2
    # Utilization: every frame run is attributed to a worker process, which was busy part of the run.
    util = on_disk["utilization"]
    assert sum(p["frames"] for p in util["per_process"].values()) == on_disk["episodes"]["frames_kept"]
    assert 0 < util["busy_share"] <= 1 and all(p["frames_per_busy_s"] > 0 for p in util["per_process"].values())
    # Workers pin themselves to distinct CPUs of this machine (cluster.pin_cpus, on by default).
    import os

    cpus = [p["cpu"] for p in on_disk["memory"]["per_process"].values() if p["cpu"] is not None]
    assert cpus and len(set(cpus)) == len(cpus) and set(cpus) <= os.sched_getaffinity(0)


def _state(cfg):
    from simfarm.farm.execute import _content

    return {"config_hash": config_hash(cfg), "content": _content(cfg), "config": cfg}


def test_live_progress_bar_shows_done_rate_eta_success_and_failures(ray_session, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)  # the live bar is for terminals
    cfg = job_config(tmp_path / "out", episodes=12, max_failures=5, **{"fake.fail": [3], "fake.unsuccessful": [5]})
    report = run_job(cfg, runner_factory=FAKE_FACTORY, show_progress=True)
    err = capsys.readouterr().err
    bar = [line for line in err.replace("\r", "\n").splitlines() if line.startswith("generate")]
    assert bar, err
    final = bar[-1]
    assert "12/12" in final and "ep/s" in final and "<" in final  # done/total, rate, elapsed<ETA
    assert "failed=1" in final and f"success={10 / 12:.0%}" in final, final
    assert report["episodes"]["failed"] == 1
    assert "simfarm generate: done" in err and "workers busy" in err  # the summary table follows the bar


def test_progress_in_a_log_is_plain_lines_without_carriage_returns(ray_session, tmp_path, capsys):
    cfg = job_config(tmp_path / "out", episodes=12, max_failures=5, **{"fake.fail": [3], "fake.unsuccessful": [5]})
    run_job(cfg, runner_factory=FAKE_FACTORY, show_progress=True)  # capsys: stderr is not a terminal
    err = capsys.readouterr().err
    assert "\r" not in err
    lines = [line for line in err.splitlines() if line.startswith("generate: ")]
    assert lines, err
    assert re.fullmatch(r"generate: 12/12 episodes \(100%\), [\d.]+ ep/s, ETA 0 s, success 83%, failed 1", lines[-1]), lines[-1]
    assert "1 shards" not in err and "shard(s)" not in err


def test_progress_lines_come_every_few_seconds_with_rate_and_eta():
    import io

    from simfarm.farm.execute import ProgressLines

    now = [0.0]
    out = io.StringIO()
    lines = ProgressLines("generate", total=200, initial=10, file=out, every_s=5.0, clock=lambda: now[0])
    for t, done in [(1.0, 12), (4.0, 20), (5.0, 25), (6.0, 30), (10.0, 40)]:
        now[0] = t
        lines.show(done, successes=done - 2, failed=1)
    lines.close()
    printed = out.getvalue().splitlines()
    # t=5 (15 episodes in 5 s: 3 ep/s, 175 left) and t=10, once each; close() adds nothing new.
    assert printed == [
        "generate: 25/200 episodes (12%), 3.0 ep/s, ETA 58 s, success 92%, failed 1",
        "generate: 40/200 episodes (20%), 3.0 ep/s, ETA 53 s, success 95%, failed 1",
    ]


def test_workers_batch_their_progress_reports():
    from simfarm.farm.execute import ProgressReporter, progress_interval_s
    from simfarm.farm.shard import EpisodeRecord

    sent = []

    class Remote:
        def remote(self, batch):
            sent.append(list(batch))

    class Actor:
        report = Remote()

    now = [0.0]
    reporter = ProgressReporter(Actor(), interval_s=1.0, clock=lambda: now[0])
    for i, t in enumerate([0.4, 0.8, 1.2, 1.5, 2.0, 2.3, 2.5]):
        now[0] = t
        reporter(EpisodeRecord(index=i, status="kept", success=True, length=5))
    reporter.flush()
    reporter.flush()  # nothing left: no empty message
    # Sent once a second has passed since the last batch; the shard's end sends the rest.
    assert [[r[0] for r in b] for b in sent] == [[0, 1, 2], [3, 4, 5], [6]]
    assert progress_interval_s(2) == 1.0 and progress_interval_s(32_000) == 64.0
