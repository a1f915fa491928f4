"""`simfarm serve-policy`: host and port first, then the policy is loaded, and only then "serving ... on ws://"."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pytest

from simfarm.errors import ConfigError
from simfarm.policies.server import serve_policy

SLOW_IMPORT = """
import pathlib, time
pathlib.Path({marker!r}).write_text(str(time.time()))
time.sleep({sleep_s})
import numpy as np

class Pol:
    def act(self, observation):
        return np.zeros(2, dtype=np.float32)
"""


def serve(*args: str, env_extra: dict | None = None, **popen) -> subprocess.Popen:
    env = {**os.environ, "MUJOCO_GL": "egl", **(env_extra or {})}
    return subprocess.Popen([sys.executable, "-m", "simfarm.cli", "serve-policy", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, **popen)


def run_serve(*args: str, env_extra: dict | None = None, timeout: float = 30) -> tuple[int, str]:
    proc = serve(*args, env_extra=env_extra)
    try:
        out, err = proc.communicate(timeout=timeout)
    finally:
        proc.kill()
    return proc.returncode, out + err


def error_lines(output: str) -> list[str]:
    assert "Traceback" not in output, output
    return [line for line in output.splitlines() if line.startswith("simfarm serve-policy: error:")]


def test_a_port_in_use_is_one_line_before_anything_else():
    with socket.create_server(("127.0.0.1", 0)) as held:
        port = held.getsockname()[1]
        code, output = run_serve("policy=random", f"port={port}")
    assert code == 2
    assert error_lines(output) == [
        f"simfarm serve-policy: error: port: port {port} on 127.0.0.1 is already in use; choose another port= (0: any free port)"
    ]
    assert "serving" not in output


def test_a_missing_onnx_file_is_one_line_and_nothing_listens(tmp_path):
    code, output = run_serve(f"policy=onnx:{tmp_path / 'missing.onnx'}", "port=0")
    assert code == 2
    (line,) = error_lines(output)
    assert line.endswith("missing.onnx: no such file; give the path of an .onnx model") and "policy: onnx:" in line
    assert "serving" not in output and "listening" not in output


def test_an_unimportable_module_is_one_line(tmp_path):
    (tmp_path / "simfarm_test_broken_serve.py").write_text("import simfarm_no_such_dependency\n")
    code, output = run_serve("policy=python:simfarm_test_broken_serve:Pol", "port=0",
                             env_extra={"PYTHONPATH": str(tmp_path)})
    assert code == 2
    (line,) = error_lines(output)
    assert "policy: python:simfarm_test_broken_serve:Pol: cannot import module 'simfarm_test_broken_serve'" in line
    assert "No module named 'simfarm_no_such_dependency'" in line


def test_serving_is_announced_only_after_the_policy_has_loaded(tmp_path):
    marker = tmp_path / "imported"
    (tmp_path / "simfarm_test_slow_serve.py").write_text(SLOW_IMPORT.format(marker=str(marker), sleep_s=1.0))
    start = time.time()
    proc = serve("policy=python:simfarm_test_slow_serve:Pol", "port=0", env_extra={"PYTHONPATH": str(tmp_path)})
    try:
        line = proc.stdout.readline()
        announced = time.time()
        assert line.startswith("serving policy python:simfarm_test_slow_serve:Pol on ws://127.0.0.1:"), proc.stderr.read()
        assert marker.exists(), "the URL was printed before the policy's module was imported"
        imported = float(marker.read_text())
        assert start < imported and announced - imported >= 1.0  # the import's own work happened first
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.parametrize(
    ("args", "key"),
    [
        (["policy=random", "host=no-such-host.invalid"], "host"),
        (["policy=random", "port=abc"], "port"),
        (["policy=random", "port=70000"], "port"),
        (["policy=scripted"], "policy"),
        (["policy=random", "--verbose"], "--verbose"),
    ],
)
def test_bad_host_port_and_specs_fail_in_process_with_the_key(args, key, capsys):
    from simfarm.cli import main

    assert main(["serve-policy", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("simfarm serve-policy: error: ") and key in err and err.count("\n") == 1


def test_the_python_api_loads_before_listening_too(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        serve_policy(f"onnx:{tmp_path / 'gone.onnx'}", port=0)
    with socket.create_server(("127.0.0.1", 0)) as held:
        with pytest.raises(ConfigError, match="already in use"):
            serve_policy("random", port=held.getsockname()[1])
