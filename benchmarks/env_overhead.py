"""Env overhead: `python benchmarks/env_overhead.py [--steps 2000] [--image-steps 200] [--scene kitchen]`.

Compares SimfarmEnv.step with the bare loop it wraps, on the same compiled model:
- state obs: env steps/s vs `mj_step(nstep=n_substeps)` steps/s (per control mode: ee_delta runs IK
  every step, joint_pos does not);
- two 224x224 cameras: env steps/s vs `mj_step` + `mujoco.Renderer` of the same two cameras with
  the same visual settings (no shadows, reflections or MSAA).
Both sides replay the same physics: the bare loops feed the ctrl the env wrote at each step from the\nsame initial state. Prints a table; --profile adds a cProfile of the env's state step.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import time

os.environ.setdefault("MUJOCO_GL", "egl")

import mujoco  # noqa: E402
import numpy as np  # noqa: E402

from simfarm.envs import EnvConfig, SimfarmEnv  # noqa: E402
from simfarm.render import configure_model_for_rendering  # noqa: E402


def _actions(env: SimfarmEnv, n: int, seed: int = 0) -> np.ndarray:
    """Small random actions (a fixed stream) so the arm moves without slamming into limits."""
    rng = np.random.default_rng(seed)
    low, high = env.action_space.low, env.action_space.high
    if env.control_mode == "joint_pos":
        home = env.handle.state(env.data)[: env.action_space.shape[0]]
        return np.clip(home + rng.normal(0, 0.02, (n, env.action_space.shape[0])), low, high).astype(np.float32)
    return (rng.uniform(-0.2, 0.2, (n, env.action_space.shape[0])) * high).astype(np.float32)


def time_env(env: SimfarmEnv, steps: int) -> tuple[float, np.ndarray, np.ndarray]:
    """Env steps/s over one long episode; also the initial physics state and the ctrl of every step,
    so the bare loop can replay exactly the same physics (same contacts, same cost)."""
    env.reset(seed=0)
    state0 = env.physics_state()
    actions = _actions(env, steps)
    ctrls = np.empty((steps, env.model.nu))
    elapsed = 0.0
    for i in range(steps):
        t0 = time.perf_counter()
        env.step(actions[i])
        elapsed += time.perf_counter() - t0
        ctrls[i] = env.data.ctrl
    return steps / elapsed, state0, ctrls


def _bare_data(env: SimfarmEnv, state0: np.ndarray) -> mujoco.MjData:
    data = mujoco.MjData(env.model)
    mujoco.mj_setState(env.model, data, state0, mujoco.mjtState.mjSTATE_FULLPHYSICS)
    mujoco.mj_forward(env.model, data)
    return data


def time_bare_physics(env: SimfarmEnv, state0: np.ndarray, ctrls: np.ndarray) -> float:
    """The same ctrl sequence through mj_step(nstep=n_substeps), steps/s."""
    model, data, nstep = env.model, _bare_data(env, state0), env.n_substeps
    t0 = time.perf_counter()
    for ctrl in ctrls:
        data.ctrl[:] = ctrl
        mujoco.mj_step(model, data, nstep=nstep)
    return len(ctrls) / (time.perf_counter() - t0)


def time_bare_render(env: SimfarmEnv, state0: np.ndarray, ctrls: np.ndarray, cameras: tuple[str, ...], size: tuple[int, int]) -> float:
    """The same ctrl sequence through mj_step + mujoco.Renderer of the same cameras (throughput visuals), steps/s."""
    model, data, nstep = env.model, _bare_data(env, state0), env.n_substeps
    configure_model_for_rendering(model, pretty=False)
    renderer = mujoco.Renderer(model, size[0], size[1])
    cam_ids = [env._camera_ids[c] for c in cameras]
    t0 = time.perf_counter()
    for ctrl in ctrls:
        data.ctrl[:] = ctrl
        mujoco.mj_step(model, data, nstep=nstep)
        for cam in cam_ids:
            renderer.update_scene(data, camera=cam)
            renderer.scene.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = 0
            renderer.scene.flags[mujoco.mjtRndFlag.mjRND_REFLECTION] = 0
            renderer.render()
    rate = len(ctrls) / (time.perf_counter() - t0)
    renderer.close()
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--image-steps", type=int, default=200)
    parser.add_argument("--scene", default="kitchen")
    parser.add_argument("--task", default="pick_place")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--rounds", type=int, default=3, help="alternating env/bare rounds; the best of each is kept")
    args = parser.parse_args()

    def best_of(run_env, run_bare):
        # Alternate env and bare rounds and keep each side's best: the machine's noise (±15%) would
        # otherwise swamp a 10% overhead.
        wrapped = bare = 0.0
        for _ in range(args.rounds):
            w, state0, ctrls = run_env()
            wrapped = max(wrapped, w)
            bare = max(bare, run_bare(state0, ctrls))
        return wrapped, bare

    rows = []
    for mode in ("ee_delta", "joint_pos"):
        env = SimfarmEnv(EnvConfig(task=args.task, scene=args.scene, obs_mode="state", control_mode=mode, max_steps=10**9))
        wrapped, bare = best_of(lambda env=env: time_env(env, args.steps), lambda s0, c, env=env: time_bare_physics(env, s0, c))
        rows.append((f"state obs, {mode}", wrapped, bare))
        if args.profile and mode == "ee_delta":
            prof = cProfile.Profile()
            prof.enable()
            time_env(env, args.steps)
            prof.disable()
            pstats.Stats(prof).sort_stats("cumulative").print_stats(25)
        env.close()

    cameras = ("workspace", "wrist")
    # randomization=light adds per-pixel sensor noise (a feature the bare loop lacks); none isolates the env itself.
    for preset in ("light", "none"):
        env = SimfarmEnv(EnvConfig(task=args.task, scene=args.scene, obs_mode="rgb", cameras=cameras, camera_size=(224, 224),
                                   max_steps=10**9, randomization=preset))
        wrapped, bare = best_of(lambda env=env: time_env(env, args.image_steps),
                                lambda s0, c, env=env: time_bare_render(env, s0, c, cameras, (224, 224)))
        rows.append((f"2 cameras 224x224 (rgb obs), randomization={preset}", wrapped, bare))
        env.close()

    print("| case | env steps/s | bare steps/s | overhead |")
    print("|---|---|---|---|")
    for name, wrapped, bare in rows:
        print(f"| {name} | {wrapped:,.0f} | {bare:,.0f} | {bare / wrapped - 1:+.0%} |")


if __name__ == "__main__":
    main()
