"""close_door: push the open hinged door of the workspace cabinet shut.

The episode starts with the door swung open (the task's reset sets its hinge to a sampled angle);
the robot pushes its outer face round the hinge until it is nearly shut. The door opens toward the
robot, which stands where the sampler puts it for drawer work: a door swung further than the
angle at which it would meet the robot's base could not be shut past it, so the start angles stay
below that and scenes where they cannot are redrawn (open_door.DoorGeometry.clearance_angle).
"""

from __future__ import annotations

from typing import ClassVar

import mujoco
import numpy as np

from simfarm.errors import TaskError
from simfarm.tasks.base import Goal, Task, TaskScene
from simfarm.tasks.expert import GRIPPER_CLOSED, Waypoint
from simfarm.tasks.open_door import (
    PANEL_HALF_M,
    DoorExpert,
    DoorGeometry,
    DoorState,
    door_phrases,
    grasp_rotation,
)


class CloseDoor(Task):
    name: ClassVar[str] = "close_door"
    default_scene: ClassVar[str] = "kitchen"
    defaults: ClassVar[dict] = {"start_angle_rad": [0.45, 0.7], "closed_angle_rad": 0.1, "swing_margin_rad": 0.05}
    environment_state_names: ClassVar[tuple[str, ...]] = (
        "door_angle_rad",
        *(f"handle_pos_{a}" for a in "xyz"),
        *(f"tcp_to_handle_{a}" for a in "xyz"),
    )

    @classmethod
    def scene_request(cls, config):
        from simfarm.scene import SceneRequest

        return SceneRequest(workspace="drawer")

    def check_scene(self, scene: TaskScene) -> None:
        door = DoorGeometry(scene.spec)
        if not door.handle_reachable(scene.robot_model):
            raise TaskError(f"close_door: the door of {door.cabinet.name!r} is beyond the robot's reach")
        lo, hi = (float(v) for v in self.options["start_angle_rad"])
        if not 0.0 < lo <= hi:
            raise TaskError(f"task.start_angle_rad: got {[lo, hi]}; accepted: [low, high] with 0 < low <= high")
        need = hi + float(self.options["swing_margin_rad"])
        free = door.clearance_angle(scene.robot_model.footprint_radius_m, upto=need + 0.01)
        if free < need:
            raise TaskError(
                f"close_door: the door of {door.cabinet.name!r} would meet the robot at {free:.2f} rad, short of "
                f"{need:.2f} (the widest start angle + swing_margin_rad)"
            )

    def reset(self, scene: TaskScene, data: mujoco.MjData, rng: np.random.Generator) -> Goal:
        self.scene = scene
        self.check_scene(scene)
        self.door = DoorState(scene, data)
        lo, hi = (float(v) for v in self.options["start_angle_rad"])
        self.start_angle = float(rng.uniform(lo, hi))
        if not self.composed:  # a composite's earlier steps open the door
            self.door.set_angle(scene.model, data, self.start_angle)
        self.tcp_site = scene.robot.tcp_site_id
        self.show_goal(data, (0.0, 0.0, -10.0))
        self.goal = self.make_goal(
            rng,
            {"door": f"furn/{scene.spec.workspace}/door", "start_angle_rad": self.start_angle,
             "closed_angle_rad": float(self.options["closed_angle_rad"])},
            **door_phrases(scene.spec),
        )
        return self.goal

    def angle(self, data) -> float:
        return self.door.angle(data)

    def reached(self, data) -> bool:
        """The hand is at the door's outer face near its top (or the door is already swinging shut)."""
        tcp = data.site_xpos[self.tcp_site]
        rel = tcp[:2] - self.door.hinge_xy
        off_face = float(rel @ self.door.normal(data)[:2])
        along = float(rel @ -self.door.along(data)[:2])
        near = 0.0 < off_face < PANEL_HALF_M + 0.05 and 0.0 < along < self.door.width_m and tcp[2] < self.door.top_z(data) + 0.05
        return bool(near or self.angle(data) < self.start_angle - 0.05)

    def success(self, data: mujoco.MjData) -> bool:
        return self.angle(data) <= float(self.options["closed_angle_rad"])

    def subtasks(self):
        return [self.subtask("reach", self.reached), self.subtask("close", self.success)]

    def environment_state(self, data: mujoco.MjData) -> np.ndarray:
        handle = self.door.handle(data)
        return np.concatenate([[self.angle(data)], handle, handle - data.site_xpos[self.tcp_site]]).astype(np.float32)

    def reward(self, data: mujoco.MjData) -> float:
        if self.success(data):
            return 1.0
        reach = 1.0 if self.reached(data) else 0.0
        shut = 1.0 - min(1.0, max(0.0, self.angle(data)) / max(self.start_angle, 1e-6))
        return float(0.3 * reach + 0.6 * shut)

    def make_expert(self, env):
        return CloseDoorExpert(env)


class CloseDoorExpert(DoorExpert):
    """Come down just outside the door's outer face near its top edge, then push it round the
    hinge toward the cabinet (re-planned every step from the door's angle), the point of contact
    sliding along the panel to stay in the arm's comfortable reach and clear of the drawer handles."""

    undershoot_rad = 0.15  # the push aims this far past shut (the carcass stops the door)

    def plan(self, env):
        task: CloseDoor = env.task
        door = task.door
        data = env.data
        now = door.angle(data)
        R = grasp_rotation(door.along(data))
        clearance = getattr(env.robot, "approach_clearance_m", 0.10)
        start = self.push_point(door, data, now, side=+1.0, gap_m=0.03)
        up = np.array([0.0, 0.0, 1.0])
        return [
            Waypoint(start + up * max(0.06, clearance), R, GRIPPER_CLOSED, tol_m=0.015),
            Waypoint(start, R, GRIPPER_CLOSED, tol_m=0.01, max_step_m=0.03, max_steps=30),
            Waypoint(start, R, GRIPPER_CLOSED, tol_m=0.002, max_steps=10_000, max_step_m=0.02),
        ]

    def update_waypoint(self, env, index, waypoint):
        if index < 1:
            return waypoint
        task: CloseDoor = env.task
        door = task.door
        data = env.data
        now = door.angle(data)
        if index == 1:
            # Track the door's current pose while coming down beside it.
            start = self.push_point(door, data, now, side=+1.0, gap_m=0.03)
            return Waypoint(start, grasp_rotation(door.along(data)), GRIPPER_CLOSED, tol_m=0.01, max_step_m=0.03, max_steps=30)
        wp = self.push_waypoint(door, data, -1.0, side=+1.0)
        if now - self.push_step_rad < -self.undershoot_rad:
            goal = -self.undershoot_rad
            wp.pos = self.push_point(door, data, goal, side=+1.0)
        return wp
