"""Specifications of the msgpack-numpy codec, the policy server and the remote client."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import numpy as np
import pytest
from policy_toys import POLICY_MODULE, PointMassEnv, run_point_mass, sample_observation

from simfarm.errors import PolicyError
from simfarm.policies import make_policy
from simfarm.policies.codec import packb, unpackb
from simfarm.policies.server import serve_policy

NUMERIC_DTYPES = [
    np.bool_,
    np.int8,
    np.int16,
    np.int32,
    np.int64,
    np.uint8,
    np.uint16,
    np.uint32,
    np.uint64,
    np.float16,
    np.float32,
    np.float64,
    np.complex64,
    np.complex128,
    np.dtype(">f8"),
    np.dtype(">i4"),
]


@pytest.mark.parametrize("dtype", NUMERIC_DTYPES, ids=str)
@pytest.mark.parametrize("shape", [(), (0,), (3,), (2, 3, 4)])
def test_codec_round_trips_every_numeric_dtype_and_shape(dtype, shape):
    rng = np.random.default_rng(0)
    arr = np.asarray(rng.normal(size=shape) * 100).astype(dtype)
    assert arr.shape == shape
    back = unpackb(packb({"x": arr}))["x"]
    assert isinstance(back, np.ndarray)
    assert back.dtype == arr.dtype and back.shape == arr.shape
    assert back.tobytes() == arr.tobytes()


def test_codec_round_trips_nested_dicts_scalars_and_non_contiguous_arrays():
    image = np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3)
    message = {
        "type": "act",
        "observation": {
            "state": np.arange(4, dtype=np.float32),
            "images": {"wrist": image[:, ::2]},
        },
        "meta": [1, 2.5, "text", None, True, np.float32(1.5), np.int64(-3)],
        7: b"raw",
    }
    back = unpackb(packb(message))
    assert back["observation"]["images"]["wrist"].tobytes() == image[:, ::2].tobytes()
    assert back["observation"]["images"]["wrist"].shape == (4, 3, 3)
    assert back["meta"][:5] == [1, 2.5, "text", None, True]
    assert type(back["meta"][5]) is np.float32 and back["meta"][5] == 1.5
    assert type(back["meta"][6]) is np.int64 and back["meta"][6] == -3
    assert back[7] == b"raw"
    back["observation"]["state"][0] = 9.0  # decoded arrays are writable


def test_codec_rejects_object_arrays_by_name():
    with pytest.raises(PolicyError, match="object"):
        packb({"x": np.array([object()])})


@pytest.fixture
def server(policy_module_dir):
    servers = []

    def start(spec, **options):
        s = serve_policy(spec, port=0, options=options)
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.shutdown()


def test_remote_client_gets_the_same_actions_as_the_local_python_policy(server, spaces):
    srv = server(f"python:{POLICY_MODULE}:Linear")
    assert srv.url.startswith("ws://127.0.0.1:") and srv.port > 0
    local = make_policy(f"python:{POLICY_MODULE}:Linear", *spaces)
    remote = make_policy(srv.url.join(["remote:", ""]), *spaces)
    rng = np.random.default_rng(3)
    remote.reset("do it", 5)
    for _ in range(10):
        obs = sample_observation(rng)
        a = remote.act(obs)
        assert a.dtype == np.float32 and a.shape == (2,)
        assert np.array_equal(a, local.act(obs))
    remote.close()


def test_remote_point_mass_episode_matches_local_and_seeds_reach_the_server(server):
    env = PointMassEnv()
    srv = server(f"python:{POLICY_MODULE}:GoToGoal")
    remote = make_policy(f"remote:{srv.url}", env.observation_space, env.action_space)
    local = make_policy(f"python:{POLICY_MODULE}:GoToGoal", env.observation_space, env.action_space)
    ok_remote, actions_remote = run_point_mass(remote, seed=11)
    ok_local, actions_local = run_point_mass(local, seed=11)
    assert ok_remote and ok_local
    assert np.array_equal(actions_remote, actions_local)
    remote.close()
    random_srv = server("random")
    a = make_policy(f"remote:{random_srv.url}", env.observation_space, env.action_space)
    b = make_policy("random", env.observation_space, env.action_space)
    a.reset("", 4)
    b.reset("", 4)
    obs = env.reset(seed=0)[0]
    assert np.array_equal([a.act(obs) for _ in range(5)], [b.act(obs) for _ in range(5)])
    a.close()


def test_many_concurrent_clients_each_get_their_own_policy(server, spaces):
    srv = server(f"python:{POLICY_MODULE}:Counter")
    results: dict[int, list[np.ndarray]] = {}
    errors: list[BaseException] = []

    def client(k: int) -> None:
        try:
            policy = make_policy(f"remote:{srv.url}", *spaces)
            policy.reset("", 100 + k)
            results[k] = [policy.act({}) for _ in range(20)]
            policy.close()
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    for k in range(6):
        assert [a.tolist() for a in results[k]] == [[float(i), float(100 + k)] for i in range(20)]
    assert srv.connections_served == 6


def test_server_errors_come_back_as_policy_errors_and_the_connection_survives(server, spaces):
    srv = server(f"python:{POLICY_MODULE}:Crashes")
    remote = make_policy(f"remote:{srv.url}", *spaces)
    remote.reset("", 0)
    for _ in range(2):
        with pytest.raises(PolicyError, match="boom from user code"):
            remote.act({})
    bad_shape = make_policy(f"remote:{server(f'python:{POLICY_MODULE}:WrongShape').url}", *spaces)
    bad_shape.reset("", 0)
    with pytest.raises(PolicyError, match=r"expected shape \(2,\)"):
        bad_shape.act({})
    remote.close()
    bad_shape.close()


def test_slow_server_raises_a_timeout_policy_error_then_reset_reconnects(server, spaces):
    srv = server(f"python:{POLICY_MODULE}:Slow", sleep_s=1.5)
    remote = make_policy(f"remote:{srv.url}", *spaces, timeout_s=0.3)
    remote.reset("", 0)
    with pytest.raises(PolicyError, match=r"did not answer within 0.3 s") as info:
        remote.act({})
    assert f"remote:{srv.url}" in str(info.value)
    with pytest.raises(PolicyError, match="connection closed"):
        remote.act({})
    remote.reset("", 1)  # a fresh connection for the next episode
    remote.close()


def test_unreachable_server_raises_policy_error(spaces):
    with pytest.raises(PolicyError, match="cannot connect"):
        make_policy("remote:ws://127.0.0.1:9", *spaces, connect_timeout_s=2.0)


def test_server_killed_mid_episode_raises_policy_error(policy_module_dir, spaces):
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([str(policy_module_dir), os.environ.get("PYTHONPATH", "")]),
    )
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "simfarm.policies.cli",
            f"policy=python:{POLICY_MODULE}:Linear",
            "port=0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        line = proc.stdout.readline()
        assert "serving policy" in line, proc.stderr.read() if proc.poll() is not None else line
        url = line.split(" on ")[-1].strip()
        assert url.startswith("ws://127.0.0.1:")
        remote = make_policy(f"remote:{url}", *spaces, timeout_s=10.0)
        remote.reset("", 0)
        obs = sample_observation(np.random.default_rng(0))
        remote.act(obs)
        proc.kill()
        proc.wait(timeout=10)
        with pytest.raises(PolicyError, match="connection closed"):
            remote.act(obs)
        remote.close()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def test_clients_cannot_make_the_server_run_other_code(server, spaces):
    srv = server("random")
    with pytest.raises(PolicyError, match=r"client options \['components'\] are not allowed"):
        make_policy(
            f"remote:{srv.url}",
            *spaces,
            server_options={"components": [{"policy": "python:os:getcwd", "weight": 1}]},
        )
