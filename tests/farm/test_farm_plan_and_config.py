"""Planning, validation and output checks: all of it happens before Ray starts."""

from __future__ import annotations

import json

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
