"""validate_config loads every policy in the driver: what would fail in each worker fails once, in one line."""

from __future__ import annotations

import socket
import time

import pytest
from policy_toys import POLICY_MODULE, build_onnx_model

from simfarm import config as C
from simfarm.errors import ConfigError
from simfarm.policies import check_policy, validate_config


def closed_port() -> int:
    """A port nothing listens on (bound once, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def onnx_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("onnx") / "linear.onnx"
    build_onnx_model(path)
    return path


@pytest.fixture
def raising_module(tmp_path, monkeypatch):
    """A module whose import fails inside user code (e.g. loading weights at import time)."""
    (tmp_path / "simfarm_test_raises_on_import.py").write_text("raise RuntimeError('weights.pt not found')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    return "simfarm_test_raises_on_import"


def assert_one_line(exc: pytest.ExceptionInfo) -> str:
    message = str(exc.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("python:simfarm_no_such_module:Pol", r"^policy: python:simfarm_no_such_module:Pol: cannot import module 'simfarm_no_such_module'"),
        (f"python:{POLICY_MODULE}:Linaer", rf"^policy: python:{POLICY_MODULE}:Linaer: module '{POLICY_MODULE}' has no attribute 'Linaer' \(did you mean 'Linear'\?\)"),
        (f"python:{POLICY_MODULE}:not_a_policy", r"'not_a_policy' is a int, not a class, factory or object with act\(\)"),
        (f"python:{POLICY_MODULE}:NoAct", r"class 'NoAct' has no act\(observation\) method"),
        ("python:os:path", r"'path' is a module, not a class"),
    ],
)
def test_unusable_python_policies_fail_in_the_driver(policy_module_dir, spec, message):
    with pytest.raises(ConfigError, match=message) as exc:
        validate_config({"policy": {"spec": spec}})
    assert_one_line(exc)


def test_a_module_failing_at_import_is_one_line_naming_the_error(raising_module):
    with pytest.raises(ConfigError, match="importing module 'simfarm_test_raises_on_import' failed: RuntimeError: weights.pt not found") as exc:
        validate_config({"policy": {"spec": f"python:{raising_module}:Pol"}})
    assert assert_one_line(exc).startswith("policy: ")


def test_usable_python_policies_pass(policy_module_dir):
    for attr in ("Linear", "make_constant", "GoToGoal"):
        validate_config({"policy": {"spec": f"python:{POLICY_MODULE}:{attr}"}})


def test_missing_or_invalid_onnx_files_fail_in_the_driver(tmp_path, onnx_model):
    with pytest.raises(ConfigError, match=r"^policy: onnx:.*missing.onnx: no such file") as exc:
        validate_config({"policy": {"spec": f"onnx:{tmp_path / 'missing.onnx'}"}})
    assert_one_line(exc)
    with pytest.raises(ConfigError, match=r"^policy: onnx:.* is a folder"):
        validate_config({"policy": {"spec": f"onnx:{tmp_path}"}})
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"not a protobuf at all")
    with pytest.raises(ConfigError, match=r"^policy: onnx:.*garbage.onnx: onnxruntime cannot load it") as exc:
        validate_config({"policy": {"spec": f"onnx:{garbage}"}})
    assert_one_line(exc)
    truncated = tmp_path / "truncated.onnx"
    truncated.write_bytes(onnx_model.read_bytes()[:40])
    with pytest.raises(ConfigError, match="onnxruntime cannot load it"):
        validate_config({"policy": {"spec": f"onnx:{truncated}"}})


def test_onnx_inputs_output_and_options_are_matched_to_the_model_in_the_driver(onnx_model):
    validate_config({"policy": {"spec": f"onnx:{onnx_model}", "inputs": None, "output": None, "threads": 1}})
    with pytest.raises(ConfigError, match=r"inputs.state names input 'obs'; the model has \['obs_state'\]"):
        validate_config({"policy": {"spec": f"onnx:{onnx_model}", "inputs": {"state": "obs"}}})
    with pytest.raises(ConfigError, match=r"unknown output 'act'; the model has \['action'\]"):
        validate_config({"policy": {"spec": f"onnx:{onnx_model}", "output": "act"}})
    with pytest.raises(ConfigError, match=r"\['inptus'\] \(did you mean 'inputs'\?\) are not accepted"):
        validate_config({"policy": {"spec": f"onnx:{onnx_model}", "inptus": {"state": "obs_state"}}})


def test_an_unreachable_remote_policy_fails_in_about_no_time_with_how_to_start_it():
    port = closed_port()
    start = time.monotonic()
    with pytest.raises(ConfigError) as exc:
        validate_config({"policy": {"spec": f"remote:ws://127.0.0.1:{port}", "timeout_s": 30.0, "connect_timeout_s": 10.0}})
    assert time.monotonic() - start < 2.5
    assert assert_one_line(exc) == (
        f"policy: cannot reach remote policy at ws://127.0.0.1:{port}: connection refused; "
        f"start it with simfarm serve-policy policy=SPEC port={port}"
    )
    with pytest.raises(ConfigError, match="unknown host 'no-such-host.invalid'"):
        validate_config({"policy": {"spec": "remote:ws://no-such-host.invalid:8765"}})
    with pytest.raises(ConfigError, match="the port is not a number"):
        validate_config({"policy": {"spec": "remote:ws://127.0.0.1:99999"}})


def test_a_listening_remote_policy_passes_and_its_options_are_checked():
    with socket.create_server(("127.0.0.1", 0)) as listener:
        url = f"ws://127.0.0.1:{listener.getsockname()[1]}"
        validate_config({"policy": {"spec": f"remote:{url}", "timeout_s": 5.0, "server_options": {}}})
        with pytest.raises(ConfigError, match=r"\['timeout'\] \(did you mean 'timeout_s'\?\)"):
            validate_config({"policy": {"spec": f"remote:{url}", "timeout": 5.0}})


def test_each_mixture_component_is_checked_and_named(policy_module_dir, onnx_model, tmp_path):
    good = [{"policy": "random", "weight": 0.5}, {"policy": f"python:{POLICY_MODULE}:Linear", "weight": 0.3},
            {"policy": f"onnx:{onnx_model}", "weight": 0.2}]
    validate_config({"policy": {"spec": "mixture", "components": good}})
    bad_python = [*good, {"policy": "python:simfarm_no_such_module:Pol", "weight": 1}]
    with pytest.raises(ConfigError, match=r"^policy.components\[3\]: python:simfarm_no_such_module:Pol: cannot import"):
        validate_config({"policy": {"spec": "mixture", "components": bad_python}})
    bad_onnx = [good[0], {"policy": f"onnx:{tmp_path / 'gone.onnx'}", "weight": 1}]
    with pytest.raises(ConfigError, match=r"^policy.components\[1\]: onnx:.*gone.onnx: no such file"):
        validate_config({"policy": {"spec": "mixture", "components": bad_onnx}})
    bad_remote = [good[0], {"policy": f"remote:ws://127.0.0.1:{closed_port()}", "weight": 1}]
    with pytest.raises(ConfigError, match=r"^policy.components\[1\]: cannot reach remote policy"):
        validate_config({"policy": {"spec": "mixture", "components": bad_remote}})


def test_the_job_validation_of_the_cli_and_python_api_runs_these_checks(tmp_path):
    cfg = C.compose("generate", [f"policy=onnx:{tmp_path / 'nope.onnx'}", "obs_mode=state"])
    with pytest.raises(ConfigError, match="^policy: onnx:.*nope.onnx: no such file"):
        C.validate(cfg)


def test_check_policy_takes_the_options_make_policy_takes(policy_module_dir, onnx_model):
    check_policy(f"onnx:{onnx_model}", inputs={"state": "obs_state"})
    with pytest.raises(ConfigError, match="^policy: the random policy takes no target and no options"):
        check_policy("random", gain=2)
    with pytest.raises(ConfigError, match="^served: python:"):
        check_policy("python:simfarm_no_such_module:X", where="served")


def test_numeric_and_mapping_options_are_checked_in_the_driver(onnx_model):
    with pytest.raises(ConfigError, match=r"^policy.threads: must be an integer >= 1, got 0"):
        validate_config({"policy": {"spec": f"onnx:{onnx_model}", "threads": 0}})
    with pytest.raises(ConfigError, match=r"^policy.inputs: must map observation keys"):
        validate_config({"policy": {"spec": f"onnx:{onnx_model}", "inputs": "obs_state"}})
    with socket.create_server(("127.0.0.1", 0)) as listener:
        url = f"remote:ws://127.0.0.1:{listener.getsockname()[1]}"
        with pytest.raises(ConfigError, match=r"^policy.timeout_s: expected a finite number, got 'soon'"):
            validate_config({"policy": {"spec": url, "timeout_s": "soon"}})
        with pytest.raises(ConfigError, match=r"^policy.connect_timeout_s: must be a number > 0"):
            validate_config({"policy": {"spec": url, "connect_timeout_s": 0}})
