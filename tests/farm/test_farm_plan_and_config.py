"""Planning, validation and output checks: all of it happens before Ray starts."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import FAKE_FACTORY, job_config

from simfarm.errors import ConfigError, FarmError
from simfarm.farm import JobStore, plan_shards, run_job
from simfarm.farm.state import describe_differences


def test_shards_cover_every_episode_once_in_order():
    shards = plan_shards(11, 4)
    assert [list(s.episode_indices) for s in shards] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10]]
    assert [s.name for s in shards] == ["shard-000000", "shard-000001", "shard-000002"]


def test_plan_does_not_depend_on_worker_count(tmp_path):
    from simfarm.farm.execute import prepare_job

    _, h1, plan1, _ = prepare_job(job_config(tmp_path / "a", workers=1))
    _, h2, plan2, _ = prepare_job(job_config(tmp_path / "b", workers=2))
    assert plan1 == plan2 and h1 == h2


@pytest.mark.parametrize(
    "overrides, key",
    [
        ({"episodes": 0}, "episodes"),
        ({"shard_size": 0}, "shard_size"),
        ({"writer.kind": "parquet"}, "writer.kind"),
        ({"cluster.max_task_retries": -1}, "cluster.max_task_retries"),
        ({"cluster.adress": "auto"}, "adress"),
        ({"cluster.pin_cpus": "yes"}, "cluster.pin_cpus"),
        ({"cluster.compact_heap": 1}, "cluster.compact_heap"),
    ],
)
def test_bad_config_fails_before_any_worker_starts(tmp_path, overrides, key):
    import ray

    out = tmp_path / "out"
    with pytest.raises(ConfigError, match=key):
        run_job(job_config(out, **overrides), runner_factory=FAKE_FACTORY)
    assert not ray.is_initialized()
    assert not out.exists()


def test_different_config_on_unfinished_output_names_the_differing_keys(tmp_path):
    import ray

    out = tmp_path / "out"
    store = JobStore(str(out))
    old = job_config(out, seed=1)
    from simfarm.config import config_hash
    from simfarm.farm.execute import _content

    store.write_state({"config_hash": config_hash(old), "content": _content(old), "config": old})
    store.write_marker("shard-000000", {"config_hash": config_hash(old)})  # one finished shard: protected
    with pytest.raises(FarmError, match=r"seed: 1 -> 3") as info:
        run_job(job_config(out, seed=3), runner_factory=FAKE_FACTORY)
    assert "overwrite=true" in str(info.value)
    assert not ray.is_initialized()


def test_foreign_output_folder_is_never_overwritten_silently(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "thesis.pdf").write_text("precious")
    with pytest.raises(FarmError, match="no simfarm job wrote"):
        run_job(job_config(out), runner_factory=FAKE_FACTORY)
    assert (out / "thesis.pdf").read_text() == "precious"


def test_config_differences_are_listed_as_dotted_keys():
    lines = describe_differences({"a": 1, "w": {"crf": 30}}, {"a": 1, "w": {"crf": 0}, "b": True})
    assert lines == ["b: (absent) -> true", "w.crf: 30 -> 0"]
    assert json.loads("true") is True


def test_memory_growth_is_the_trend_not_a_few_large_scenes():
    from simfarm.farm.execute import memory_growth_pct

    rng = np.random.default_rng(1)
    flat = 400 + rng.normal(0, 5, 25)
    flat[-3:] += 45  # the last shards happened to run large scenes
    assert abs(memory_growth_pct(list(flat))) < 4
    # (Comparing the last fifth's median with the middle fifth's reads the same series as +8%.)
    assert np.median(flat[-5:]) / np.median(flat[10:15]) > 1.05
    leak = 400 * (1 + 0.10 * np.arange(25) / 24) + rng.normal(0, 5, 25)  # +10% over the run
    assert 8 < memory_growth_pct(list(leak)) < 13
    assert memory_growth_pct([400.0]) == 0.0


def test_more_workers_than_cpus_is_refused_before_ray_starts_unless_asked_for(tmp_path):
    import ray

    from simfarm.farm.execute import prepare_job, usable_cpus

    cpus = usable_cpus()
    out = tmp_path / "out"
    with pytest.raises(ConfigError, match=rf"^workers: {cpus + 1} is more than the {cpus} CPUs? this machine") as info:
        run_job(job_config(out, workers=cpus + 1), runner_factory=FAKE_FACTORY)
    assert "cluster.oversubscribe=true" in str(info.value) and "\n" not in str(info.value)
    assert not ray.is_initialized() and not out.exists()
    prepare_job(job_config(out, workers=cpus + 1, **{"cluster.oversubscribe": True}))
    prepare_job(job_config(out, workers=cpus + 1, **{"cluster.num_cpus": cpus + 1}))
    with pytest.raises(ConfigError, match="cluster.oversubscribe"):
        prepare_job(job_config(out, **{"cluster.oversubscribe": "sure"}))


def test_a_local_ray_keeps_token_authentication_without_saying_so_on_every_job(tmp_path):
    import os
    import subprocess
    import sys
    import tempfile

    code = (
        "import os, ray\n"
        "from simfarm.farm.execute import ClusterOptions, init_ray\n"
        "assert init_ray(ClusterOptions(), 1)\n"
        "from ray._raylet import AuthenticationMode, get_authentication_mode\n"
        "print(get_authentication_mode() == AuthenticationMode.TOKEN, os.environ.get('RAY_AUTH_MODE'))\n"
        "ray.shutdown()\n"
    )
    env = dict(os.environ, RAY_TMPDIR=tempfile.mkdtemp(prefix="ta", dir="/tmp"))
    for key in ("RAY_AUTH_MODE", "RAY_ADDRESS"):
        env.pop(key, None)
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["True", "token"]  # authentication is on
    assert "Token authentication" not in done.stderr, done.stderr[-3000:]


def test_after_an_interrupted_job_the_rest_of_a_sweep_does_not_start(tmp_path, monkeypatch, capsys):
    from simfarm.farm import cli

    monkeypatch.setattr(cli, "_interrupted", True)
    out = tmp_path / "out"
    assert cli.run_generate(job_config(out)) == 130
    assert "simfarm generate: not started (an earlier job was interrupted)" in capsys.readouterr().err
    assert not out.exists()
