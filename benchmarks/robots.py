"""The robot library: expert success per robot and task, env speed per robot, control and physics costs.

    python benchmarks/robots.py [--episodes 100] [--tasks pick_place,push] [--robots all] [--skip-success]

Prints three tables:
1. robot x task: scripted-expert success on seeds 0..N-1 (scene=tabletop, randomization=light, state
   observations), with 95% Wilson intervals and mean episode length;
2. env steps/s per robot, with state observations and with two 224x224 RGB cameras (workspace + wrist);
3. apply_action cost per control mode and bare physics steps/s of the robot alone on a floor.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("MUJOCO_GL", "egl")

import mujoco  # noqa: E402
import numpy as np  # noqa: E402

from simfarm.envs import EnvConfig, SimfarmEnv  # noqa: E402
from simfarm.errors import SimfarmError  # noqa: E402
from simfarm.evaluation.stats import wilson_interval  # noqa: E402
from simfarm.robots import make_robot, registered_robots  # noqa: E402


def arm_robots() -> list[str]:
    return [n for n in registered_robots() if make_robot(n).has_arm and not make_robot(n).has_base]


def expert_success(robot: str, task: str, episodes: int, scene: str = "tabletop", randomization: str = "light") -> dict:
    env = SimfarmEnv(EnvConfig(task=task, robot=robot, scene=scene, obs_mode="state", randomization=randomization))
    expert = env.make_expert()
    ok, lengths = 0, []
    try:
        for seed in range(episodes):
            try:
                obs, info = env.reset(seed=seed)
            except SimfarmError:
                continue
            expert.reset(env.task.instruction, seed)
            steps = 0
            while steps < env.max_steps:
                obs, _, terminated, truncated, info = env.step(expert.act(obs))
                steps += 1
                if terminated or truncated:
                    break
            ok += bool(info["success"])
            lengths.append(steps)
    finally:
        env.close()
    lo, hi = wilson_interval(ok, episodes)
    return {"ok": ok, "n": episodes, "lo": lo, "hi": hi, "mean_len": float(np.mean(lengths)) if lengths else 0.0}


def _bimanual(robot: str) -> bool:
    return len(getattr(make_robot(robot), "arms", ())) > 1


def env_steps_per_s(robot: str, obs_mode: str, steps: int = 300) -> float:
    """Env steps/s with random small ee_delta actions (resets included when episodes end); two cameras:
    the workspace view and the wrist (ALOHA: its top camera and left wrist)."""
    two = _bimanual(robot)
    cameras = ("top", "wrist_left") if two else ("workspace", "wrist")
    env = SimfarmEnv(EnvConfig(task="transfer_cube" if two else "pick_place", robot=robot, scene="tabletop",
                               obs_mode=obs_mode, cameras=cameras if obs_mode != "state" else None, camera_size=(224, 224)))
    rng = np.random.default_rng(0)
    try:
        env.reset(seed=0)
        for _ in range(10):
            env.step(np.zeros(env.action_space.shape, np.float32))
        t0 = time.perf_counter()
        for _ in range(steps):
            action = (0.2 * rng.uniform(env.action_space.low, env.action_space.high)).astype(np.float32)
            _, _, terminated, truncated, _ = env.step(action)
            if terminated or truncated:
                env.reset()
        return steps / (time.perf_counter() - t0)
    finally:
        env.close()


def _floor_scene(robot):
    spec = mujoco.MjSpec()
    spec.worldbody.add_geom(name="floor", type=mujoco.mjtGeom.mjGEOM_PLANE, size=[5, 5, 0.1])
    spec.worldbody.add_frame().attach_body(robot.build_spec().body("base"), "robot/", "")
    model = spec.compile()
    data = mujoco.MjData(model)
    handle = robot.bind(model)
    handle.reset(data)
    mujoco.mj_forward(model, data)
    return model, data, handle


def apply_action_us(robot_name: str, mode: str, calls: int, rng: np.random.Generator) -> float:
    """Mean microseconds per apply_action call, with a physics step between calls (like an env)."""
    model, data, handle = _floor_scene(make_robot(robot_name))
    space = handle.action_space(mode)
    actions = rng.uniform(space.low, space.high, size=(calls, space.shape[0])) * 0.1
    n_arm = handle.arm_qpos_adr.size
    if mode == "joint_pos":
        actions[:, :n_arm] = handle.arm_home_qpos + rng.uniform(-0.2, 0.2, size=(calls, n_arm))
    total = 0.0
    for a in actions:
        t0 = time.perf_counter()
        handle.apply_action(data, a, mode)
        total += time.perf_counter() - t0
        mujoco.mj_step(model, data, nstep=5)
    return total / calls * 1e6


def physics_steps_per_s(robot_name: str, steps: int) -> float:
    model, data, _ = _floor_scene(make_robot(robot_name))
    mujoco.mj_step(model, data, nstep=100)
    t0 = time.perf_counter()
    mujoco.mj_step(model, data, nstep=steps)
    return steps / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=100)
    parser.add_argument("--tasks", default="pick_place,push")
    parser.add_argument("--robots", default="all", help="comma-separated, or 'all' (every fixed-base arm)")
    parser.add_argument("--skip-success", action="store_true")
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=20000)
    args = parser.parse_args()
    robots = arm_robots() if args.robots == "all" else args.robots.split(",")
    tasks = args.tasks.split(",")

    if not args.skip_success:
        print(f"expert success, scene=tabletop, randomization=light, seeds 0..{args.episodes - 1}")
        print(f"{'robot':<13} " + " ".join(f"{t + ' (95% CI, mean len)':>36}" for t in tasks))
        for robot in robots:
            cells = []
            for task in tasks:
                from simfarm.tasks import task_class

                try:
                    task_class(task).check_robot(make_robot(robot))
                except SimfarmError:
                    cells.append("n/a")
                    continue
                r = expert_success(robot, task, args.episodes)
                cells.append(f"{r['ok']:>3}/{r['n']} {100 * r['ok'] / r['n']:5.1f}% [{100 * r['lo']:4.1f}-{100 * r['hi']:5.1f}] {r['mean_len']:5.1f}")
            print(f"{robot:<13} " + " ".join(f"{c:>36}" for c in cells), flush=True)
        print()

    print(f"{'robot':<13} {'env steps/s (state)':>20} {'env steps/s (2x224 rgb)':>24}")
    for robot in robots:
        print(f"{robot:<13} {env_steps_per_s(robot, 'state'):>20.0f} {env_steps_per_s(robot, 'rgb+state', 150):>24.1f}", flush=True)
    print()

    rng = np.random.default_rng(0)
    robots = [r for r in robots if not _bimanual(r)]  # control costs: one-armed handles
    print(f"{'robot':<13} {'joint_pos us/call':>18} {'ee_delta us/call':>17} {'physics steps/s':>16} {'build+compile ms':>17}")
    for robot in robots:
        t0 = time.perf_counter()
        for _ in range(10):
            make_robot(robot).build_spec().compile()
        build_ms = (time.perf_counter() - t0) / 10 * 1e3
        print(f"{robot:<13} {apply_action_us(robot, 'joint_pos', args.calls, rng):>18.1f} "
              f"{apply_action_us(robot, 'ee_delta', args.calls, rng):>17.1f} {physics_steps_per_s(robot, args.steps):>16,.0f} "
              f"{build_ms:>17.2f}", flush=True)


if __name__ == "__main__":
    main()
