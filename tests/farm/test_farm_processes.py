"""Real processes: a driver killed with SIGKILL then resumed, a multi-node cluster losing a node,
and `ray job submit` against a head started here. Each starts its own Ray, so they are slow."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import FAKE_FACTORY, REPO, job_config
from helpers import assert_same_content, calls, cli_overrides, dataset_content, episode_indices

from simfarm.farm import run_job

pytestmark = pytest.mark.slow



def cli_env(**behaviour) -> dict[str, str]:
    env = dict(os.environ, SIMFARM_RUNNER_FACTORY=FAKE_FACTORY, SIMFARM_FAKE=json.dumps(behaviour))
    env.pop("RAY_ADDRESS", None)
    return env


def generate(out: Path, env: dict[str, str], **extra) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "simfarm.farm", *cli_overrides(out, **extra)],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def wait_for(predicate, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def markers(out: Path) -> list[Path]:
    done = out / ".simfarm" / "done"
    return sorted(done.glob("*.json")) if done.exists() else []


def test_driver_killed_mid_job_then_rerun_gives_the_uninterrupted_dataset(tmp_path):
    out, ref = tmp_path / "out", tmp_path / "ref"
    log = tmp_path / "calls"
    driver = generate(out, cli_env(sleep_s=0.4, calls_log=str(log)))
    try:
        wait_for(lambda: len(markers(out)) >= 1 or driver.poll() is not None, 120, "a first finished shard")
        assert driver.poll() is None, driver.communicate()[1][-3000:]
        driver.send_signal(signal.SIGKILL)
        driver.wait(30)
    finally:
        if driver.poll() is None:
            driver.kill()
    assert not (out / "job.json").exists()
    finished_before = {p.stem for p in markers(out)}
    assert finished_before and len(finished_before) < 4
    time.sleep(2)  # let Ray's own processes notice their driver is gone
    again = subprocess.run(
        [sys.executable, "-m", "simfarm.farm", *cli_overrides(out)], cwd=REPO, env=cli_env(calls_log=str(log)),
        capture_output=True, text=True, timeout=300,
    )
    assert again.returncode == 0, again.stderr[-3000:]
    job = json.loads((out / "job.json").read_text())
    assert job["shards"]["resumed"] >= len(finished_before)
    assert episode_indices(out) == list(range(12))
    reference = subprocess.run(
        [sys.executable, "-m", "simfarm.farm", *cli_overrides(ref, workers=1)], cwd=REPO, env=cli_env(),
        capture_output=True, text=True, timeout=300,
    )
    assert reference.returncode == 0, reference.stderr[-3000:]
    assert_same_content(dataset_content(out), dataset_content(ref))
    assert len(calls(log)) >= 12


def test_node_killed_mid_job_loses_no_episode_and_duplicates_none(tmp_path):
    import ray
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0})
    try:
        nodes = [cluster.add_node(num_cpus=1), cluster.add_node(num_cpus=1)]
        cluster.wait_for_nodes()
        ray.init(address=cluster.address)
        log = tmp_path / "calls"
        node_log = tmp_path / "slow_node"
        behaviour = tmp_path / "behaviour.json"
        # Episode 5 (mid-shard) stalls on whichever node first runs it: that node is the one killed.
        behaviour.write_text(json.dumps({"sleep_s": 0.1, "calls_log": str(log),
                                         "slow_once": {"episode": 5, "sleep_s": 120, "node_log": str(node_log)}}))
        out = tmp_path / "out"
        cfg = job_config(out, workers=2, **{"fake.behaviour_file": str(behaviour)})
        outcome: dict = {}

        def drive():
            try:
                outcome["report"] = run_job(cfg, runner_factory=FAKE_FACTORY, show_progress=False)
            except BaseException as exc:  # surfaced by the assertion below
                outcome["error"] = exc

        thread = threading.Thread(target=drive)
        thread.start()
        wait_for(lambda: node_log.exists() or not thread.is_alive(), 120, "episode 5 to start")
        assert thread.is_alive(), outcome
        doomed = next(n for n in nodes if n.node_id == node_log.read_text().strip())
        cluster.remove_node(doomed, allow_graceful=False)
        cluster.add_node(num_cpus=1)
        thread.join(300)
        assert not thread.is_alive()
        assert "error" not in outcome, outcome.get("error")
        report = outcome["report"]
        assert report["episodes"]["kept"] == 12
        assert episode_indices(out) == list(range(12))
        ran = calls(log)
        assert set(ran) == set(range(12))
        assert len(ran) > 12  # the killed node was mid-shard: that shard ran again elsewhere
    finally:
        ray.shutdown()
        cluster.shutdown()


# The `ray` CLI of this interpreter's environment: CI runs `.venv/bin/python -m pytest` without
# activating the venv, so `ray` is not on PATH there.
RAY_CLI = str(Path(sys.executable).with_name("ray"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ray_job_submit_runs_a_job_on_a_running_head(tmp_path):
    port, dash = _free_port(), _free_port()
    # Every port the head would otherwise take by default: another Ray in this test session (or on
    # this machine) may hold them, and a head whose dashboard agent cannot bind never accepts jobs.
    ports = [
        f"--dashboard-agent-listen-port={_free_port()}",
        f"--dashboard-agent-grpc-port={_free_port()}",
        f"--runtime-env-agent-port={_free_port()}",
        f"--metrics-export-port={_free_port()}",
        f"--ray-client-server-port={_free_port()}",
    ]
    # Token authentication stays on; the job CLI needs to be told to send the token (~/.ray/auth_token).
    env = dict(cli_env(), RAY_AUTH_MODE="token")
    # --block keeps the head's processes children of this one, so stopping it stops exactly them
    # (`ray stop` would kill every Ray on the machine, other users' included).
    head = subprocess.Popen(
        [RAY_CLI, "start", "--head", "--block", f"--port={port}", "--dashboard-host=127.0.0.1",
         f"--dashboard-port={dash}", "--num-cpus=2", "--include-dashboard=true", "--disable-usage-stats", *ports],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    address = f"http://127.0.0.1:{dash}"
    try:
        def head_ready() -> bool:
            assert head.poll() is None, head.stderr.read()[-3000:]
            return subprocess.run([RAY_CLI, "job", "list", "--address", address], env=env, capture_output=True, timeout=60).returncode == 0

        wait_for(head_ready, 120, "the Ray head's job server")
        out = tmp_path / "out"
        runtime_env = {"env_vars": {k: env[k] for k in ("PYTHONPATH", "SIMFARM_RUNNER_FACTORY", "SIMFARM_FAKE")}}
        for _ in range(30):  # the head's job agent comes up a little after its HTTP server
            submit = subprocess.run(
                [RAY_CLI, "job", "submit", "--address", address, "--runtime-env-json", json.dumps(runtime_env),
                 "--", sys.executable, "-m", "simfarm.farm", *cli_overrides(out, episodes=6)],
                cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
            )
            if "No available agent" not in submit.stderr:
                break
            time.sleep(2)
        assert submit.returncode == 0, submit.stdout[-3000:] + submit.stderr[-3000:]
        assert "succeeded" in submit.stdout + submit.stderr
        job = json.loads((out / "job.json").read_text())
        assert job["episodes"]["kept"] == 6
        assert episode_indices(out) == list(range(6))
    finally:
        head.send_signal(signal.SIGTERM)
        try:
            head.wait(60)
        except subprocess.TimeoutExpired:
            head.kill()
            head.wait(30)
