"""Ordinary rendering commands and env use print nothing but their own output (issue #12).

Each case runs in a fresh interpreter, as a user would, because the noise came from import time
(PyOpenGL's INFO line), from GL state left between scenes (MuJoCo's "OpenGL error" warning, which
it prints on stdout) and from interpreter exit (an EGLError traceback).
"""

import json
import os
import subprocess
import sys
import textwrap

from PIL import Image

NOISE = ("OpenGL_accelerate", "OpenGL error", "EGLError", "Traceback", "Exception ignored")


def _run(args: list[str], cwd) -> subprocess.CompletedProcess:
    env = {**os.environ, "MUJOCO_GL": os.environ.get("MUJOCO_GL", "egl"), "SIMFARM_LOG": "INFO"}
    proc = subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=180, cwd=cwd, env=env)
    assert proc.returncode == 0, proc.stderr
    for word in NOISE:
        assert word not in proc.stderr, proc.stderr
        assert word not in proc.stdout, proc.stdout
    return proc


def _assert_png(path, size=None):
    with Image.open(path) as img:
        img.verify()
    with Image.open(path) as img:
        assert img.format == "PNG"
        if size is not None:
            assert img.size == size
        assert img.convert("L").getextrema()[1] > 0  # not a black sheet


def test_scene_sample_with_a_preview_prints_only_its_logs_and_json(tmp_path):
    out = tmp_path / "p.png"
    proc = _run(["-m", "simfarm.cli", "scene", "sample", "scene=tabletop", f"out={out}"], tmp_path)
    assert json.loads(proc.stdout)["rooms"]  # stdout is the SceneSpec, and nothing else
    assert "INFO simfarm.scene: wrote" in proc.stderr  # simfarm's own INFO logs stay
    _assert_png(out, (1280, 480))


def test_scene_gallery_across_scenes_prints_no_gl_error(tmp_path):
    # mobile_base's living room has 9 lights (+ the headlight): the case that left GL_INVALID_ENUM
    # behind for the next scene's mjr_makeContext.
    out = tmp_path / "g.png"
    proc = _run(["-m", "simfarm.cli", "scene", "gallery", "n=4", "robot=mobile_base", f"out={out}"], tmp_path)
    assert proc.stdout == ""
    _assert_png(out, (480, 720))


def test_an_env_left_open_at_exit_exits_silently(tmp_path):
    script = textwrap.dedent("""
        import atexit
        import gymnasium as gym
        import simfarm.envs

        closed_late = gym.make("simfarm/PickPlace-v0", obs_mode="rgb")
        atexit.register(closed_late.close)  # runs after the renderers' exit hook
        closed_late.reset(seed=1)

        class ClosesAtFinalization:  # env.close() from a __del__ while the interpreter finalizes
            def __init__(self, env):
                self.env = env
            def __del__(self):
                self.env.close()

        holder = ClosesAtFinalization(gym.make("simfarm/PickPlace-v0", obs_mode="rgb", camera_size=[48, 64]))
        holder.env.reset(seed=2)

        twice = gym.make("simfarm/PickPlace-v0", obs_mode="rgb")
        twice.reset(seed=3)
        twice.close()
        twice.close()

        env = gym.make("simfarm/PickPlace-v0", obs_mode="rgb")
        obs, _ = env.reset(seed=0)
        print("rendered", sorted(obs["images"]))
        # exit without env.close()
    """)
    proc = _run(["-c", script], tmp_path)
    assert proc.stdout.startswith("rendered [")
