"""Robot control costs: apply_action per call for each control mode, and bare physics steps/s.

    python benchmarks/robots.py [--calls 2000] [--steps 20000]

Prints a table. Physics: the builtin arm alone on a floor (compare NOTES.md's ~80k steps/s for the
Menagerie Panda on this kind of machine) and the mobile arm.
"""

from __future__ import annotations

import argparse
import time

import mujoco
import numpy as np

from simfarm.robots import make_robot


def _scene(robot):
    spec = mujoco.MjSpec()
    spec.option.integrator = mujoco.mjtIntegrator.mjINT_IMPLICITFAST
    spec.worldbody.add_geom(name="floor", type=mujoco.mjtGeom.mjGEOM_PLANE, size=[5, 5, 0.1])
    spec.worldbody.add_frame().attach_body(robot.build_spec().body("base"), "robot/", "")
    model = spec.compile()
    data = mujoco.MjData(model)
    handle = robot.bind(model)
    handle.reset(data)
    mujoco.mj_forward(model, data)
    return model, data, handle


def bench_apply_action(robot_name: str, mode: str, calls: int, rng: np.random.Generator) -> float:
    """Mean microseconds per apply_action call, with a physics step between calls (like an env)."""
    model, data, handle = _scene(make_robot(robot_name))
    space = handle.action_space(mode)
    # Small random actions: ee_delta steps of a few mm keep the arm inside its workspace.
    actions = rng.uniform(space.low, space.high, size=(calls, space.shape[0])) * 0.1
    if mode == "joint_pos":
        actions[:, :7] = handle.arm_home_qpos + rng.uniform(-0.2, 0.2, size=(calls, 7))
    total = 0.0
    for a in actions:
        t0 = time.perf_counter()
        handle.apply_action(data, a, mode)
        total += time.perf_counter() - t0
        mujoco.mj_step(model, data, nstep=5)
    return total / calls * 1e6


def bench_physics(robot_name: str, steps: int) -> float:
    """Bare mj_step rate (steps/s) holding the home pose."""
    model, data, handle = _scene(make_robot(robot_name))
    mujoco.mj_step(model, data, nstep=100)  # warm up
    t0 = time.perf_counter()
    mujoco.mj_step(model, data, nstep=steps)
    return steps / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--steps", type=int, default=20000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)

    print(f"{'robot':<12} {'mode':<18} {'apply_action us/call':>22}")
    for robot_name, modes in (
        ("arm", ("joint_pos", "ee_delta")),
        ("mobile_base", ("base_vel",)),
        ("mobile_arm", ("ee_delta", "ee_delta+base_vel")),
    ):
        for mode in modes:
            print(
                f"{robot_name:<12} {mode:<18} {bench_apply_action(robot_name, mode, args.calls, rng):>22.1f}"
            )
    print()
    print(f"{'robot':<12} {'physics steps/s':>18}")
    for robot_name in ("arm", "mobile_base", "mobile_arm"):
        print(f"{robot_name:<12} {bench_physics(robot_name, args.steps):>18,.0f}")
    t0 = time.perf_counter()
    for _ in range(20):
        make_robot("arm").build_spec().compile()
    print(f"\nbuild_spec + compile (arm alone): {(time.perf_counter() - t0) / 20 * 1e3:.2f} ms")


if __name__ == "__main__":
    main()
