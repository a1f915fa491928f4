"""Small scenes for robot tests: a floor, the robot attached under `robot/`, optional boxes."""

from __future__ import annotations

import mujoco
import numpy as np

CONTROL_SUBSTEPS = 50  # 10 Hz control at MuJoCo's 2 ms timestep


def build_scene(
    robot,
    boxes: tuple[dict, ...] = (),
    integrator: mujoco.mjtIntegrator = mujoco.mjtIntegrator.mjINT_IMPLICITFAST,
    robot_pos=(0.0, 0.0, 0.0),
    robot_yaw_rad: float = 0.0,
):
    """Compile floor + robot (+ free boxes named box<k>); returns (model, data, handle)."""
    spec = mujoco.MjSpec()
    spec.option.integrator = integrator
    spec.worldbody.add_geom(name="floor", type=mujoco.mjtGeom.mjGEOM_PLANE, size=[5, 5, 0.1])
    for k, box in enumerate(boxes):
        body = spec.worldbody.add_body(name=f"box{k}", pos=box["pos"])
        body.add_freejoint(name=f"box{k}/free")
        geom = body.add_geom(
            name=f"box{k}/geom",
            type=mujoco.mjtGeom.mjGEOM_BOX,
            size=[box["half_m"]] * 3,
            rgba=[0.8, 0.2, 0.2, 1],
        )
        geom.mass = box["mass_kg"]
        geom.friction = [box.get("friction", 1.0), 0.005, 0.0001]
    quat = [np.cos(robot_yaw_rad / 2), 0, 0, np.sin(robot_yaw_rad / 2)]
    frame = spec.worldbody.add_frame(pos=list(robot_pos), quat=quat)
    frame.attach_body(robot.build_spec().body("base"), "robot/", "")
    model = spec.compile()
    data = mujoco.MjData(model)
    handle = robot.bind(model)
    handle.reset(data)
    mujoco.mj_forward(model, data)
    return model, data, handle


def step(model, data, handle, action, mode: str, substeps: int = CONTROL_SUBSTEPS) -> None:
    handle.apply_action(data, action, mode)
    mujoco.mj_step(model, data, nstep=substeps)


def drive_tcp_to(
    model, data, handle, target_world, gripper: float, max_steps: int = 60, tol_m: float = 0.003
) -> None:
    """Closed-loop ee_delta steps (at most 5 cm each) until the TCP is within tol of target."""
    for _ in range(max_steps):
        pos, _ = handle.ee_pose(data)
        err = handle.world_to_base(data, np.asarray(target_world) - pos)
        if np.linalg.norm(err) < tol_m:
            return
        action = np.zeros(7)
        action[:3] = np.clip(err, -0.05, 0.05)
        action[6] = gripper
        step(model, data, handle, action, "ee_delta")


def hold(model, data, handle, gripper: float, steps: int) -> None:
    action = np.zeros(7)
    action[6] = gripper
    for _ in range(steps):
        step(model, data, handle, action, "ee_delta")
