"""transfer_cube: a two-armed robot (ALOHA) hands a block from its left gripper to its right one.

ACT's bimanual "transfer cube" task: the left arm picks the block from the table, the two grippers
meet above the table, the right one takes it, the left lets go. Success, judged on the state: the
block is off the table, held between both pads of the right gripper and touched by no left pad.
"""

from __future__ import annotations

from typing import ClassVar

import mujoco
import numpy as np

from simfarm.errors import TaskError
from simfarm.tasks.base import Goal, Subtask, Task, TaskScene, hide_goal_marker
from simfarm.tasks.expert import (
    GRIPPER_CLOSED,
    GRIPPER_OPEN,
    Waypoint,
    WaypointExpert,
    top_down_rotation,
)
from simfarm.tasks.pick_place import grasp_width, object_body, workspace_objects
from simfarm.tasks.refer import refer_to

# The ALOHA 2 fingers open to 74 mm.
MAX_GRASP_WIDTH_M = 0.06
PADS = ("finger_left_pad", "finger_right_pad")


class TransferCube(Task):
    name: ClassVar[str] = "transfer_cube"
    bimanual: ClassVar[bool] = True
    default_scene: ClassVar[str] = "tabletop"
    default_robot: ClassVar[str] = "aloha"
    defaults: ClassVar[dict] = {"lift_height_m": 0.08}
    environment_state_names: ClassVar[tuple[str, ...]] = (
        *(f"object_pos_{a}" for a in "xyz"),
        *(f"object_quat_{a}" for a in "wxyz"),
        *(f"left_tcp_to_object_{a}" for a in "xyz"),
        *(f"right_tcp_to_object_{a}" for a in "xyz"),
    )

    @classmethod
    def scene_request(cls, config):
        from simfarm.scene import SceneRequest

        return SceneRequest(workspace="surface", min_workspace_objects=1)

    def _candidates(self, scene: TaskScene) -> list:
        found = [o for o in workspace_objects(scene) if not o.receptacle and grasp_width(o) <= MAX_GRASP_WIDTH_M
                 and o.mass_kg <= 0.5]
        if not found:
            raise TaskError(f"transfer_cube needs a small graspable object (at most {MAX_GRASP_WIDTH_M * 1000:.0f} mm "
                            f"wide, 0.5 kg) on the workspace {scene.spec.workspace!r}; found none")
        return found

    def check_scene(self, scene: TaskScene) -> None:
        self._candidates(scene)

    def reset(self, scene: TaskScene, data: mujoco.MjData, rng: np.random.Generator) -> Goal:
        self.scene = scene
        model = scene.model
        objects = workspace_objects(scene)
        candidates = self._candidates(scene)
        self.obj = candidates[int(rng.integers(len(candidates)))]
        self.obj_body = object_body(model, self.obj)
        self.start_z = float(self.obj.pos[2])
        self.obj_half_height = float(self.obj.size[2]) / 2
        arms = scene.robot.arms
        self.tcp_sites = {arm: h.tcp_site_id for arm, h in arms.items()}
        prefix = scene.robot.prefix
        self.pads = {arm: [model.geom(f"{prefix}{arm}/{pad}").id for pad in PADS] for arm in arms}
        self.obj_geoms = set(np.flatnonzero(model.geom_bodyid == self.obj_body).tolist())
        hide_goal_marker(model, data)
        self.goal = self.make_goal(rng, {"object": self.obj.name}, obj=refer_to(self.obj, objects, rng, scene.spec.robot).text)
        return self.goal

    def subtasks(self) -> list[Subtask]:
        def lifted(data) -> bool:  # by the left arm: off the table, both its pads on the block
            return bool(data.xpos[self.obj_body][2] > self.start_z + 0.02 and self._touching(data)["left"] == 2)

        return [self.subtask("grasp", lifted), self.subtask("handover", self.success)]

    def _touching(self, data: mujoco.MjData) -> dict[str, int]:
        """How many pads of each arm touch the object now."""
        n = data.ncon
        g1, g2 = data.contact.geom1[:n], data.contact.geom2[:n]
        counts = {}
        for arm, pads in self.pads.items():
            counts[arm] = sum(
                bool(np.any(((g1 == pad) & np.isin(g2, list(self.obj_geoms))) | ((g2 == pad) & np.isin(g1, list(self.obj_geoms)))))
                for pad in pads)
        return counts

    def environment_state(self, data: mujoco.MjData) -> np.ndarray:
        pos = data.xpos[self.obj_body]
        return np.concatenate([pos, data.xquat[self.obj_body], pos - data.site_xpos[self.tcp_sites["left"]],
                               pos - data.site_xpos[self.tcp_sites["right"]]]).astype(np.float32)

    def success(self, data: mujoco.MjData) -> bool:
        lifted = data.xpos[self.obj_body][2] > self.start_z + self.options["lift_height_m"]
        touching = self._touching(data)
        return bool(lifted and touching["right"] == 2 and touching["left"] == 0)

    def reward(self, data: mujoco.MjData) -> float:
        if self.success(data):
            return 1.0
        pos = data.xpos[self.obj_body]
        touching = self._touching(data)
        reach = 1 - np.tanh(10 * np.linalg.norm(data.site_xpos[self.tcp_sites["left"]] - pos))
        lifted = float(pos[2] > self.start_z + self.options["lift_height_m"])
        right = 1 - np.tanh(10 * np.linalg.norm(data.site_xpos[self.tcp_sites["right"]] - pos))
        return float(0.2 * reach + 0.2 * lifted + 0.2 * right + 0.15 * (touching["right"] == 2) + 0.05 * (touching["left"] == 0))

    def make_expert(self, env):
        return TransferCubeExpert(env)


class TransferCubeExpert(WaypointExpert):
    """Left: grasp top-down on the block's left half, lift to the meeting point, wait, release, retreat.
    Right: wait, approach the block's right half horizontally from its side, close, then hold it up.
    The arms wait for each other at the hand-over (the left opens only once the right has closed)."""

    # Left pinches the block's x faces on its +y half, the right on its -y half (pads 22 mm wide).
    LEFT_OFFSET_Y = 0.016
    RIGHT_OFFSET_Y = -0.02

    def reset(self, instruction: str, seed: int) -> None:
        self._rng = np.random.default_rng(seed)
        self.stage = {"left": 0, "right": 0}
        self.steps_in_stage = {"left": 0, "right": 0}
        self.hold = {"left": 0, "right": 0}
        self.plan(self.env)

    def plan(self, env):
        task: TransferCube = env.task
        data = env.data
        obj = data.xpos[task.obj_body].copy()
        top = obj[2] + task.obj_half_height
        arms = env.handle.arms
        finger = getattr(env.handle, "finger_length_m", 0.04)
        down = top_down_rotation(0.0)  # fingers along world x, approach down
        # Horizontal approach along +y (from the right arm's side), fingers along world x.
        side = np.column_stack([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
        grasp = np.array([obj[0], obj[1] + self.LEFT_OFFSET_Y, max(obj[2], top - 0.7 * finger)])
        meet = np.array([obj[0], obj[1] + self.LEFT_OFFSET_Y, top + 0.2])
        self.meet_lift = meet[2] - grasp[2]
        right_home = arms["right"].ee_pose(data)[0]
        self.left = [
            Waypoint(grasp + [0, 0, 0.1], down, GRIPPER_OPEN, tol_m=0.015),
            Waypoint(grasp, down, GRIPPER_OPEN, tol_m=0.008, hold_steps=1, max_step_m=0.02),
            Waypoint(grasp, down, GRIPPER_CLOSED, tol_m=0.02, hold_steps=6, max_steps=12),
            Waypoint(meet, down, GRIPPER_CLOSED, tol_m=0.01, hold_steps=3),
            Waypoint(meet, down, GRIPPER_CLOSED, tol_m=0.02, max_steps=10_000),  # until the right has closed
            Waypoint(meet, down, GRIPPER_OPEN, tol_m=0.02, hold_steps=5, max_steps=8),
            Waypoint(meet + [0, 0.12, 0.05], down, GRIPPER_OPEN, tol_m=0.02, max_steps=10_000),
        ]
        self.right = [
            Waypoint(right_home, side, GRIPPER_OPEN, tol_m=0.02, max_steps=10_000),  # until the block is at the meeting point
            Waypoint(meet, side, GRIPPER_OPEN, tol_m=0.012),  # re-aimed at the block (update_waypoint)
            Waypoint(meet, side, GRIPPER_OPEN, tol_m=0.006, hold_steps=1, max_step_m=0.015),
            Waypoint(meet, side, GRIPPER_CLOSED, tol_m=0.02, hold_steps=6, max_steps=12),
            Waypoint(meet, side, GRIPPER_CLOSED, tol_m=0.02, max_steps=10_000),  # hold while the left lets go
        ]
        return self.left

    def _block(self) -> np.ndarray:
        return self.env.data.xpos[self.env.task.obj_body].copy()

    def _right_target(self, stage: int, wp: Waypoint) -> Waypoint:
        if stage in (1, 2, 3, 4):
            block = self._block()
            pos = block + [0, self.RIGHT_OFFSET_Y, 0]
            if stage == 1:
                pos = pos + [0, -0.1, 0]
            wp = Waypoint(pos, wp.rot, wp.grip, wp.tol_m, wp.hold_steps, wp.max_steps, wp.max_step_m)
        return wp

    def _advance(self, arm: str, waypoints, reached: bool, may_leave: bool) -> None:
        st = self.stage[arm]
        if st >= len(waypoints):
            return
        self.steps_in_stage[arm] += 1
        wp = waypoints[st]
        if (reached or self.steps_in_stage[arm] >= wp.max_steps) and may_leave:
            if self.hold[arm] < wp.hold_steps:
                self.hold[arm] += 1
            else:
                self.stage[arm] += 1
                self.steps_in_stage[arm] = 0
                self.hold[arm] = 0

    def act(self, observation) -> np.ndarray:
        env = self.env
        arms = env.handle.arms
        parts = []
        for arm, waypoints in (("left", self.left), ("right", self.right)):
            st = min(self.stage[arm], len(waypoints) - 1)
            wp = waypoints[st] if arm == "left" else self._right_target(st, waypoints[st])
            pos, _ = arms[arm].ee_pose(env.data)
            reached = np.linalg.norm(wp.pos - pos) < wp.tol_m
            if arm == "left":
                # Hold at the meeting point until the right gripper has closed on the block.
                may_leave = self.stage["left"] != 4 or self.stage["right"] >= 4
            else:
                may_leave = self.stage["right"] != 0 or self.stage["left"] >= 4
            self._advance(arm, waypoints, reached, may_leave)
            dpos, drot = self.step_toward(arms[arm], wp)
            part = np.zeros(7, dtype=np.float32)
            part[0:3], part[3:6], part[6] = dpos, drot, wp.grip
            parts.append(part)
        action = np.clip(np.concatenate(parts), env.action_space.low, env.action_space.high)
        return action.astype(np.float32)
