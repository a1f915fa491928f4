"""S3 output through a real S3-compatible server (moto) on 127.0.0.1: run, stop, resume, finalize."""

from __future__ import annotations

import json
import os
import socket

import pytest
from conftest import FAKE_FACTORY, job_config
from helpers import assert_same_content, calls, dataset_content, episode_indices

from simfarm.errors import FarmError
from simfarm.farm import JobStore, run_job

BUCKET = "simfarm-test"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def s3_and_ray():
    """A moto S3 server, then a Ray whose workers inherit the endpoint and credentials."""
    import ray
    import s3fs
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL")}
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1",
        AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}",
    )
    s3fs.S3FileSystem.clear_instance_cache()
    fs = s3fs.S3FileSystem()
    fs.mkdir(BUCKET)
    ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level="WARNING")
    try:
        yield fs
    finally:
        ray.shutdown()
        server.stop()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        s3fs.S3FileSystem.clear_instance_cache()


def download(fs, url: str, dest) -> None:
    fs.invalidate_cache()
    fs.get(url.removeprefix("s3://"), str(dest), recursive=True)


def test_s3_output_stops_resumes_and_matches_a_local_run(s3_and_ray, tmp_path):
    fs = s3_and_ray
    url = f"s3://{BUCKET}/jobs/pick"
    log = tmp_path / "calls"
    behaviour = tmp_path / "behaviour.json"
    behaviour.write_text(json.dumps({"calls_log": str(log)}))
    cfg = job_config(url, workers=1, max_failures=1, **{"fake.fail": [1, 4], "fake.behaviour_file": str(behaviour)})
    with pytest.raises(FarmError, match="failure budget spent"):
        run_job(cfg, runner_factory=FAKE_FACTORY, show_progress=False)
    store = JobStore(url)
    finished = store.markers()
    assert sorted(finished) == ["shard-000000", "shard-000001"]
    assert not store.is_finished()
    # An upload a killed worker left without a marker must be deleted, never read.
    fs.pipe_file(f"{BUCKET}/jobs/pick/.simfarm/shards/shard-000002-0badc0ffee/data.parquet", b"half")
    first_calls = calls(log)
    assert sorted(first_calls) == list(range(6))

    cfg["max_failures"] = 5
    report = run_job(cfg, runner_factory=FAKE_FACTORY, show_progress=False)
    assert sorted(calls(log)[len(first_calls):]) == list(range(6, 12))  # finished shards not re-run
    assert report["episodes"]["kept"] == 10 and report["shards"]["resumed"] == 2
    fs.invalidate_cache()
    assert not fs.exists(f"{BUCKET}/jobs/pick/.simfarm/shards/shard-000002-0badc0ffee")
    assert fs.exists(f"{BUCKET}/jobs/pick/job.json")
    with pytest.raises(FarmError, match="already holds a finished job"):
        run_job(cfg, runner_factory=FAKE_FACTORY, show_progress=False)

    download(fs, url, tmp_path / "from_s3")
    local_cfg = job_config(tmp_path / "local", workers=2, max_failures=5, **{"fake.fail": [1, 4]})
    run_job(local_cfg, runner_factory=FAKE_FACTORY, show_progress=False)
    assert episode_indices(tmp_path / "from_s3") == list(range(10))
    assert_same_content(dataset_content(tmp_path / "from_s3"), dataset_content(tmp_path / "local"))


def s3_files(fs, prefix: str) -> dict[str, bytes]:
    fs.invalidate_cache()
    return {p[len(prefix):]: fs.cat_file(p) for p in sorted(fs.find(prefix))}


def test_s3_overwrite_deletes_the_old_job_only_once_the_new_one_is_complete(s3_and_ray, tmp_path):
    from simfarm.errors import ConfigError

    fs = s3_and_ray
    url, prefix = f"s3://{BUCKET}/jobs/over", f"{BUCKET}/jobs/over"
    run_job(job_config(url, episodes=3, workers=1), runner_factory=FAKE_FACTORY, show_progress=False)
    before = s3_files(fs, prefix)
    assert "/job.json" in before
    # The new job's config fails inside a worker: the old job is untouched.
    broken = job_config(url, episodes=6, workers=1, overwrite=True, **{"fake.bad_camera": "wirst"})
    with pytest.raises(ConfigError, match="no camera 'wirst'"):
        run_job(broken, runner_factory=FAKE_FACTORY, show_progress=False)
    assert s3_files(fs, prefix) == before
    report = run_job(job_config(url, episodes=6, workers=1, overwrite=True), runner_factory=FAKE_FACTORY, show_progress=False)
    assert report["episodes"]["kept"] == 6
    download(fs, url, tmp_path / "new")
    assert episode_indices(tmp_path / "new") == list(range(6))
    assert json.loads((tmp_path / "new" / "job.json").read_text())["episodes"]["kept"] == 6
    fs.invalidate_cache()
    assert not fs.exists(f"{BUCKET}/jobs/.over.simfarm-next")
