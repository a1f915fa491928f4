"""Ctrl-C on a real `simfarm generate` (the whole process group, as a terminal sends it): workers
cancelled, Ray shut down with nothing left running, one line, exit 130; the re-run resumes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from conftest import FAKE_FACTORY, REPO
from helpers import cli_overrides, episode_indices

pytestmark = pytest.mark.slow



def env_for(ray_tmp: str, **behaviour) -> dict[str, str]:
    env = dict(os.environ, SIMFARM_RUNNER_FACTORY=FAKE_FACTORY, SIMFARM_FAKE=json.dumps(behaviour), RAY_TMPDIR=ray_tmp)
    env.pop("RAY_ADDRESS", None)
    env.pop("RAY_AUTH_MODE", None)  # Ray's own default: token authentication, turned on by ray.init
    return env


def start(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    # Its own process group, so the test can send SIGINT to the whole group as a terminal does.
    return subprocess.Popen(
        [sys.executable, "-m", "simfarm.cli", "generate", *args], cwd=REPO, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )


def finish(proc: subprocess.Popen, timeout_s: float = 300) -> tuple[int, str]:
    try:
        _, err = proc.communicate(timeout=timeout_s)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return proc.returncode, err


def wait_for(predicate, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def processes_of(ray_tmp: str) -> list[str]:
    """Processes still running with this test's RAY_TMPDIR in their environment (Ray's included)."""
    found = []
    needle = f"RAY_TMPDIR={ray_tmp}".encode()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            if needle in (proc / "environ").read_bytes().split(b"\0"):
                cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                found.append(f"{proc.name}: {cmdline[:120]}")
        except OSError:
            continue
    return found


def assert_clean_interrupt(rc: int, err: str, ray_tmp: str, done_at_least: int) -> int:
    assert rc == 130, err[-3000:]
    lines = [line for line in err.splitlines() if line.startswith("simfarm generate: interrupted")]
    assert len(lines) == 1, err[-3000:]
    done = int(lines[0].split("interrupted: ")[1].split(" ")[0])
    assert lines[0] == f"simfarm generate: interrupted: {done} of 12 episodes done; run the same command to resume"
    assert done >= done_at_least
    assert "Traceback" not in err and "bug in Ray" not in err and "KeyboardInterrupt" not in err, err[-3000:]
    wait_for(lambda: not processes_of(ray_tmp), 20, f"Ray's processes to exit: {processes_of(ray_tmp)}")
    return done


def files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_ctrl_c_mid_job_stops_cleanly_keeps_the_old_dataset_and_the_rerun_resumes(tmp_path):
    ray_tmp = tempfile.mkdtemp(prefix="si", dir="/tmp")
    out = tmp_path / "out"
    env_log = tmp_path / "auth_mode"
    rc, err = finish(start(cli_overrides(out, episodes=3), env_for(ray_tmp, env_log=str(env_log))))
    assert rc == 0, err[-3000:]
    # Ray's token-authentication notice is not shown for the local Ray; authentication stays on.
    assert "Token authentication" not in err, err[-3000:]
    assert env_log.read_text() == "token"
    before = files(out)

    # overwrite=true with a new config: the new job runs beside the old one; Ctrl-C once a shard is done.
    staged_done = tmp_path / ".out.simfarm-next" / ".simfarm" / "done"
    proc = start(cli_overrides(out, overwrite="true"), env_for(ray_tmp, sleep_s=0.4))
    wait_for(lambda: any(staged_done.glob("*.json")) if staged_done.exists() else proc.poll() is not None, 120, "a finished shard")
    assert proc.poll() is None
    os.killpg(proc.pid, signal.SIGINT)
    rc, err = finish(proc, 60)
    done = assert_clean_interrupt(rc, err, ray_tmp, done_at_least=3)
    assert files(out) == before  # the finished dataset is intact until its replacement is complete

    rc, err = finish(start(cli_overrides(out, overwrite="true"), env_for(ray_tmp)))
    assert rc == 0, err[-3000:]
    job = json.loads((out / "job.json").read_text())
    assert job["episodes"]["kept"] == 12 and job["episodes"]["resumed_from_earlier_runs"] >= done
    assert episode_indices(out) == list(range(12))
    assert not (tmp_path / ".out.simfarm-next").exists()


def test_ctrl_c_while_ray_starts_stops_cleanly(tmp_path):
    ray_tmp = tempfile.mkdtemp(prefix="si", dir="/tmp")
    out = tmp_path / "out"
    proc = start(cli_overrides(out), env_for(ray_tmp))
    sessions = Path(ray_tmp) / "ray"
    # ray.init has begun once it made its session folder, and is not done before a shard starts.
    wait_for(lambda: sessions.exists() and any(sessions.glob("session_*")) or proc.poll() is not None, 120, "ray.init")
    assert proc.poll() is None
    os.killpg(proc.pid, signal.SIGINT)
    rc, err = finish(proc, 60)
    assert_clean_interrupt(rc, err, ray_tmp, done_at_least=0)
    rc, err = finish(start(cli_overrides(out), env_for(ray_tmp)))
    assert rc == 0, err[-3000:]
    assert episode_indices(out) == list(range(12))
