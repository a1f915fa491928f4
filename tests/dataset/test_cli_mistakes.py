"""Ordinary mistakes with `simfarm dataset`, `scene` and `serve-policy`: one error line naming the key, never a traceback.

Each row is a command line a new user might type (placeholders in braces are filled per run) and a
fragment the error line must hold. The CLI runs as a subprocess, as a user runs it; every row fails
before any simulation or rendering starts, so each takes about a second.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

# (argv, fragments the error line must hold, extra environment)
ROWS = [
    # dataset
    (["dataset"], ["subcommand", "info, validate, plot, replay"], {}),
    (["dataset", "inf", "{hdf5}"], ["'inf'", "did you mean 'info'"], {}),
    (["dataset", "info"], ["PATH"], {}),
    (["dataset", "info", "/nonexistent"], ["/nonexistent", "does not exist"], {}),
    (["dataset", "info", "{file}"], ["{file}", "not a simfarm dataset"], {}),
    (["dataset", "info", "{dir}"], ["{dir}", "not a simfarm dataset"], {}),
    (["dataset", "info", "{garbage_h5}"], ["{garbage_h5}", "cannot be opened as HDF5"], {}),
    (["dataset", "info", "{hdf5}", "foo=1"], ["'foo'", "--json"], {}),
    (["dataset", "info", "{hdf5}", "--jsn"], ["'--jsn'", "did you mean '--json'"], {}),
    (["dataset", "validate", "{hdf5}", "--jsn"], ["'--jsn'", "did you mean '--json'", "--no-stats"], {}),
    (["dataset", "validate", "{hdf5}", "extra"], ["'extra'", "one PATH"], {}),
    (["dataset", "validate", "{hdf5}", "--json=false"], ["--json", "takes no value"], {}),
    (["dataset", "validate", "/nonexistent"], ["/nonexistent"], {}),
    (["dataset", "plot", "{hdf5}"], ["out=", "required"], {}),
    (["dataset", "plot", "{hdf5}", "out={file}"], ["out:", "existing file"], {}),
    (["dataset", "plot", "{hdf5}", "out=/proc/simfarm-plots"], ["out:", "/proc"], {}),
    (["dataset", "plot", "{hdf5}", "ouput={tmp}"], ["'ouput'", "did you mean 'out'"], {}),
    (["dataset", "replay"], ["PATH"], {}),
    (["dataset", "replay", "{hdf5}", "episode=abc"], ["episode:", "integer", "'abc'"], {}),
    (["dataset", "replay", "{hdf5}", "episode=-1"], ["episode:", ">= 0"], {}),
    (["dataset", "replay", "{hdf5}", "episode=99999"], ["episode:", "0..1", "2 episodes"], {}),
    (["dataset", "replay", "{lerobot}", "episode=99999"], ["episode:", "0..1", "2 episodes"], {}),
    (["dataset", "replay", "{lerobot}", "tolerance=x"], ["tolerance:", "'x'"], {}),
    (["dataset", "replay", "{lerobot}", "tolerance=-1"], ["tolerance:", ">= 0"], {}),
    (["dataset", "replay", "{lerobot}", "episodes=1"], ["'episodes'", "did you mean 'episode'"], {}),
    (["dataset", "replay", "{lerobot}", "--fast"], ["'--fast'"], {}),
    (["dataset", "info", "{hdf5}"], ["SIMFARM_ROOT=/nonexistent", "procgen/", "configs/"], {"SIMFARM_ROOT": "/nonexistent"}),
    (["dataset", "info", "{hdf5}"], ["SIMFARM_ROOT={dir}", "procgen/", "configs/"], {"SIMFARM_ROOT": "{dir}"}),
    # scene
    (["scene"], ["subcommand", "sample, gallery"], {}),
    (["scene", "smaple"], ["'smaple'", "did you mean 'sample'"], {}),
    (["scene", "sample", "scene=nope"], ["scene:", "'nope'", "tabletop"], {}),
    (["scene", "sample", "episode=-5"], ["episode:", ">= 0"], {}),
    (["scene", "sample", "episode=abc"], ["episode:", "'abc'"], {}),
    (["scene", "sample", "epsiode=3"], ["'epsiode'", "did you mean 'episode'"], {}),
    (["scene", "sample", "pretty=maybe"], ["pretty:", "true or false"], {}),
    (["scene", "sample", "out={dir}"], ["out:", "is a folder", ".png"], {}),
    (["scene", "sample", "out={tmp}/preview.jpg"], ["out:", ".png"], {}),
    (["scene", "sample", "out={file}/preview.png"], ["out:", "{file}"], {}),
    (["scene", "sample", "xml=/proc/x.xml"], ["xml:", "/proc"], {}),
    (["scene", "sample", "xml={dir}"], ["xml:", "is a folder"], {}),
    (["scene", "sample", "-m"], ["'-m'"], {}),
    (["scene", "sample", "tabletop"], ["'tabletop'", "KEY=VALUE"], {}),
    (["scene", "sample", "seed=-1"], ["seed:"], {}),
    (["scene", "sample", "policy=python:simfarm_no_such_module:Pol"], ["policy:", "simfarm_no_such_module"], {}),
    (["scene", "sample", "scene=tabletop"], ["SIMFARM_ROOT=/nonexistent"], {"SIMFARM_ROOT": "/nonexistent"}),
    (["scene", "gallery"], ["out=PATH.png", "required"], {}),
    (["scene", "gallery", "n=0", "out={tmp}/g.png"], ["n:", "1..1024", "got 0"], {}),
    (["scene", "gallery", "n=-3", "out={tmp}/g.png"], ["n:", "got -3"], {}),
    (["scene", "gallery", "n=abc", "out={tmp}/g.png"], ["n:", "'abc'"], {}),
    (["scene", "gallery", "seed=-1", "out={tmp}/g.png"], ["seed:", ">= 0"], {}),
    (["scene", "gallery", "pretty=2", "out={tmp}/g.png"], ["pretty:"], {}),
    (["scene", "gallery", "out={dir}"], ["out:", "is a folder"], {}),
    (["scene", "gallery", "robot=nope", "out={tmp}/g.png"], ["robot:", "'nope'", "accepted:"], {}),
    (["scene", "gallery", "nn=3", "out={tmp}/g.png"], ["'nn'", "accepted: n, seed, robot, out, pretty"], {}),
    (["scene", "gallery", "seeed=3", "out={tmp}/g.png"], ["'seeed'", "did you mean 'seed'"], {}),
    (["scene", "gallery", "out={tmp}/g.png", "extra"], ["'extra'", "KEY=VALUE"], {}),
    # serve-policy
    (["serve-policy"], ["policy=SPEC"], {}),
    (["serve-policy", "policy=nope"], ["'nope'", "accepted"], {}),
    (["serve-policy", "policy=rnadom"], ["'rnadom'", "did you mean 'random'"], {}),
    (["serve-policy", "policy=scripted"], ["policy:", "scripted", "cannot be served"], {}),
    (["serve-policy", "policy=python:simfarm_no_such_module:Pol"], ["policy:", "cannot import module 'simfarm_no_such_module'"], {}),
    (["serve-policy", "policy=python:os:sep"], ["policy:", "'sep' is a str"], {}),
    (["serve-policy", "policy=onnx:/nonexistent.onnx"], ["policy:", "/nonexistent.onnx", "no such file"], {}),
    (["serve-policy", "policy=onnx:{file}"], ["policy:", "onnxruntime cannot load it"], {}),
    (["serve-policy", "policy=remote:ws://127.0.0.1:{free_port}"], ["policy:", "cannot reach remote policy", "connection refused"], {}),
    (["serve-policy", "policy=random", "port=abc"], ["port:", "'abc'"], {}),
    (["serve-policy", "policy=random", "port=-1"], ["port:", "0..65535"], {}),
    (["serve-policy", "policy=random", "port={held_port}"], ["port:", "already in use"], {}),
    (["serve-policy", "policy=random", "host=no-such-host.invalid"], ["host:", "no-such-host.invalid"], {}),
    (["serve-policy", "policy=random", "extra"], ["'extra'", "KEY=VALUE"], {}),
    (["serve-policy", "policy=random", "--port=1"], ["'--port=1'"], {}),
    (["serve-policy", "policy=random", "inputs=[oops"], ["inputs:", "YAML"], {}),
    (["serve-policy", "policy=random"], ["SIMFARM_ROOT=/nonexistent"], {"SIMFARM_ROOT": "/nonexistent"}),
    # every command reads its data folders through simfarm.paths.data_root
    (["generate", "episodes=1"], ["SIMFARM_ROOT=/nonexistent"], {"SIMFARM_ROOT": "/nonexistent"}),
    (["eval", "episodes=1"], ["SIMFARM_ROOT=/nonexistent"], {"SIMFARM_ROOT": "/nonexistent"}),
]

# Libraries may log while importing (e.g. OpenGL.acceleratesupport); those lines are not the command's output.
LOG_LEVELS = (" DEBUG ", " INFO ", " WARNING ")


@pytest.fixture(scope="module")
def places(tmp_path_factory, real_datasets):
    paths, _ = real_datasets
    tmp = tmp_path_factory.mktemp("mistakes")
    (tmp / "a_file.txt").write_text("not a dataset\n")
    (tmp / "a_dir").mkdir()
    (tmp / "garbage.hdf5").write_bytes(b"this is not HDF5")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free_port = s.getsockname()[1]
    held = socket.create_server(("127.0.0.1", 0))
    yield {
        "tmp": str(tmp), "file": str(tmp / "a_file.txt"), "dir": str(tmp / "a_dir"),
        "garbage_h5": str(tmp / "garbage.hdf5"), "hdf5": str(paths["hdf5"]), "lerobot": str(paths["lerobot"]),
        "free_port": str(free_port), "held_port": str(held.getsockname()[1]),
    }
    held.close()


def _row_id(row) -> str:
    argv, _, env = row
    return " ".join(argv) + (" [" + ",".join(f"{k}={v}" for k, v in env.items()) + "]" if env else "")


@pytest.mark.parametrize("row", ROWS, ids=[_row_id(r) for r in ROWS])
def test_a_mistake_is_one_error_line_naming_the_key(row, places):
    argv, fragments, env_extra = row
    argv = [a.format(**places) for a in argv]
    env = {**os.environ, "MUJOCO_GL": "egl", **{k: v.format(**places) for k, v in env_extra.items()}}
    if "SIMFARM_ROOT" not in env_extra:
        env.pop("SIMFARM_ROOT", None)
    before = set(os.listdir(places["tmp"]))
    result = subprocess.run([sys.executable, "-m", "simfarm.cli", *argv], capture_output=True, text=True,
                            env=env, timeout=60, stdin=subprocess.DEVNULL)
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    assert result.returncode != 0, output
    prefix = f"simfarm {argv[0]}: error: "
    errors = [line for line in output.splitlines() if line.startswith(prefix)]
    assert len(errors) == 1, output
    stray = [line for line in output.splitlines()
             if line and not line.startswith(prefix) and not any(level in line for level in LOG_LEVELS)]
    assert stray == [], output  # nothing else: no usage dump, no half-printed table
    for fragment in fragments:
        assert fragment.format(**places) in errors[0], errors[0]
    assert set(os.listdir(places["tmp"])) == before  # nothing written for a refused command
