"""stack: put one flat-bottomed object on top of another flat-topped one ("put the red block on the
blue block"), on the robot's workspace.

The mover is a block (the one graspable solid with a flat bottom whose pinched faces hold it
square: a can pinched at two lines swings about them when carried and topples off its base);
the base a solid with a flat top (a block, a book, a can), never a container (a box is open:
things go *in* it, see pick_place). Books and boxes are wider than the gripper opens. The room
programs that put a block and a base on the workspace host it: workshop (blocks and cans on the
workbench) and living_room (blocks and books on the table); kitchen has no blocks.
"""

from __future__ import annotations

from typing import ClassVar

import mujoco
import numpy as np

from simfarm.errors import TaskError
from simfarm.tasks.base import Goal, Subtask, Task, TaskScene
from simfarm.tasks.expert import GRIPPER_CLOSED, GRIPPER_OPEN, Waypoint
from simfarm.tasks.lift import (
    GRASP_LIFT_M,
    GraspExpert,
    GraspPlan,
    graspable,
    held,
    in_reach,
    obstacle_top,
    robot_geom_mask,
)
from simfarm.tasks.pick_place import grasp_width, object_body, workspace_objects
from simfarm.tasks.refer import refer_to, unambiguous

MOVER_FAMILIES = ("block",)
BASE_FAMILIES = ("block", "book", "can")
ROUND_TOPS = ("can",)
# A mover may overhang its base's top by this much in all (centred, its weight stays over the top).
MAX_OVERHANG_M = 0.02
# Resting on the top: its centre this close to the base's top plus its own half height.
REST_TOLERANCE_M = 0.015
# Workspace objects asked of the sampler: with five, a workshop scene holds a block and a base for
# it in ~47% of draws, a living room in ~40% (the env redraws up to 20 times; with four, 35% and
# 23%, and one living-room reset in 200 would fail).
MIN_OBJECTS = 5


def top_size(obj) -> float:
    """The narrow width of an object's top face (a can's diameter)."""
    return float(min(obj.size[0], obj.size[1]))


def fits_on(mover, base) -> bool:
    return float(max(mover.size[0], mover.size[1])) <= top_size(base) + MAX_OVERHANG_M


class Stack(Task):
    name: ClassVar[str] = "stack"
    default_scene: ClassVar[str] = "workshop"
    defaults: ClassVar[dict] = {"rest_tolerance_m": REST_TOLERANCE_M}
    environment_state_names: ClassVar[tuple[str, ...]] = (
        *(f"object_pos_{a}" for a in "xyz"),
        *(f"object_quat_{a}" for a in "wxyz"),
        *(f"object_linvel_{a}" for a in "xyz"),
        *(f"base_pos_{a}" for a in "xyz"),
        *(f"base_quat_{a}" for a in "wxyz"),
        *(f"tcp_to_object_{a}" for a in "xyz"),
        "base_top_z",
    )

    @classmethod
    def scene_request(cls, config):
        from simfarm.scene import SceneRequest

        return SceneRequest(workspace="surface", min_workspace_objects=MIN_OBJECTS)

    def _pairs(self, scene: TaskScene) -> list[tuple]:
        """(mover, base) pairs: graspable mover, flat base top it fits on, both in reach and nameable."""
        objects = workspace_objects(scene)
        robot = scene.spec.robot
        nameable = [o for o in objects if unambiguous(o, objects, robot)]
        movers = [o for o in nameable if o.family in MOVER_FAMILIES and graspable(scene, o)]
        bases = [o for o in nameable if o.family in BASE_FAMILIES and not o.receptacle
                 and in_reach(scene, o.pos)]
        pairs = [(m, b) for m in movers for b in bases if m is not b and fits_on(m, b)]
        if not pairs:
            raise TaskError(
                f"stack needs a graspable {'/'.join(MOVER_FAMILIES)} and another flat-topped object "
                f"({'/'.join(BASE_FAMILIES)}) it fits on, both in reach on {scene.spec.workspace!r} and nameable; "
                f"found {len(movers)} movers, {len(bases)} bases (scene {scene.spec.program!r})")
        return pairs

    def check_scene(self, scene: TaskScene) -> None:
        self._pairs(scene)

    def reset(self, scene: TaskScene, data: mujoco.MjData, rng: np.random.Generator) -> Goal:
        self.scene = scene
        pairs = self._pairs(scene)
        objects = workspace_objects(scene)
        robot = scene.spec.robot
        obj, base = pairs[int(rng.integers(len(pairs)))]
        self.obj, self.base = obj, base
        self.obj_body = object_body(scene.model, obj)
        self.base_body = object_body(scene.model, base)
        self.obj_half_height = float(obj.size[2]) / 2
        self.base_half_height = float(base.size[2]) / 2
        self.rest_z = float(obj.pos[2])
        self.tcp_site = scene.robot.tcp_site_id
        self._mask = robot_geom_mask(scene.model, scene.robot)
        self.show_goal(data, np.array([*base.pos[:2], base.pos[2] + self.base_half_height + 2 * self.obj_half_height]))
        # The phrases the instruction names things by (simfarm.tasks.refer.Ref), kept for checks;
        # the base as an anchor: an attribute phrase where one exists ("on the blue block").
        self.refs = {"obj": refer_to(obj, objects, rng, robot), "base": refer_to(base, objects, rng, robot, relational=False)}
        values = {"object": obj.name, "base": base.name, "rest_tolerance_m": float(self.options["rest_tolerance_m"])}
        self.goal = self.make_goal(rng, values, obj=self.refs["obj"].text, base=self.refs["base"].text)
        return self.goal

    # -- predicates ------------------------------------------------------------------------------

    def base_top_z(self, data) -> float:
        return float(data.xpos[self.base_body][2] + self.base_half_height)

    def over_base(self, data) -> bool:
        """Whether the object's centre is above the base's top face (in the base's own frame)."""
        R = data.xmat[self.base_body].reshape(3, 3)
        local = R.T @ (data.xpos[self.obj_body] - data.xpos[self.base_body])
        if self.base.family in ROUND_TOPS:
            return bool(np.hypot(local[0], local[1]) <= top_size(self.base) / 2)
        return bool(abs(local[0]) <= self.base.size[0] / 2 and abs(local[1]) <= self.base.size[1] / 2)

    def in_hand(self, data) -> bool:
        return held(self.scene.model, data, self.obj_body, self._mask)

    def success(self, data: mujoco.MjData) -> bool:
        base_upright = data.xmat[self.base_body][8] > 0.95
        resting = abs(data.xpos[self.obj_body][2] - (self.base_top_z(data) + self.obj_half_height)) < self.options["rest_tolerance_m"]
        still = np.linalg.norm(data.cvel[self.obj_body, 3:6]) < 0.05
        released = not self.in_hand(data) and self.scene.robot.gripper_opening(data) > grasp_width(self.obj)
        return bool(base_upright and resting and self.over_base(data) and still and released)

    def subtasks(self) -> list[Subtask]:
        def grasped(data) -> bool:
            return bool(data.xpos[self.obj_body][2] > self.rest_z + GRASP_LIFT_M and self.in_hand(data))

        return [self.subtask("grasp", grasped), self.subtask("place", self.success)]

    def environment_state(self, data: mujoco.MjData) -> np.ndarray:
        obj_pos = data.xpos[self.obj_body]
        tcp = data.site_xpos[self.tcp_site]
        return np.concatenate([obj_pos, data.xquat[self.obj_body], data.cvel[self.obj_body, 3:6],
                               data.xpos[self.base_body], data.xquat[self.base_body], obj_pos - tcp,
                               [self.base_top_z(data)]]).astype(np.float32)

    def reward(self, data: mujoco.MjData) -> float:
        if self.success(data):
            return 1.0
        obj_pos = data.xpos[self.obj_body]
        tcp = data.site_xpos[self.tcp_site]
        reach = 1 - np.tanh(10 * np.linalg.norm(tcp - obj_pos))
        lifted = float(obj_pos[2] > self.rest_z + GRASP_LIFT_M)
        goal = np.array([*data.xpos[self.base_body][:2], self.base_top_z(data) + self.obj_half_height])
        place = 1 - np.tanh(5 * np.linalg.norm(obj_pos - goal))
        return float(0.25 * reach + 0.25 * lifted + 0.4 * place)

    def make_expert(self, env):
        return StackExpert(env)


class StackExpert(GraspExpert):
    """Grasp high on the block (finger tips clear of its bottom; re-grasping if it slipped), lift
    clear, carry over the base, lower onto its top steering by the live object-in-hand and base
    positions, the last centimetres slowly, release, back off."""

    def grasp_plan(self, env) -> GraspPlan:
        task: Stack = env.task
        base_xy = env.data.xpos[task.base_body][:2].copy()
        return GraspPlan.of(env, task.obj, task.obj_body, place=(base_xy, task.base_top_z(env.data), (task.base.name,)),
                            tip_clearance_m=0.01)

    def after_grasp(self, env, plan: GraspPlan) -> list[Waypoint]:
        task: Stack = env.task
        data = env.data
        obj_z = float(data.xpos[task.obj_body][2])
        self.offset_z = plan.grasp_z - obj_z  # the TCP above the object's centre
        base_xy = data.xpos[task.base_body][:2] + (plan.grasp_xy - data.xpos[task.obj_body][:2])
        # Carried with its bottom clear of the base and of whatever stands between.
        path_top = obstacle_top(env, plan.grasp_xy, base_xy, skip=(task.obj.name,))
        bottom = max(path_top + 0.04, task.base_top_z(data) + plan.clearance / 2)
        self.carry_z = max(plan.hover_z, bottom + task.obj_half_height + self.offset_z)
        small = plan.grasp_z + min(0.05, plan.clearance / 2)
        R = plan.R
        self.first_place = self.check_stage + 2
        release = self._release_z(env)
        return [
            Waypoint(np.array([*plan.grasp_xy, small]), R, GRIPPER_CLOSED, tol_m=0.015, max_step_m=0.015),
            Waypoint(np.array([*plan.grasp_xy, self.carry_z]), R, GRIPPER_CLOSED, tol_m=0.02),
            # Carried at 3 cm a step at most: a hard stop swings a held object out of square.
            Waypoint(np.array([*base_xy, self.carry_z]), R, GRIPPER_CLOSED, tol_m=0.01, max_step_m=0.03),
            Waypoint(np.array([*base_xy, release + 0.03]), R, GRIPPER_CLOSED, tol_m=0.008, max_step_m=0.02, max_steps=30),
            Waypoint(np.array([*base_xy, release]), R, GRIPPER_CLOSED, tol_m=0.004, max_step_m=0.006, max_steps=15),
            Waypoint(np.array([*base_xy, release]), R, GRIPPER_OPEN, tol_m=0.02, hold_steps=4, max_steps=8),
            Waypoint(np.array([*base_xy, self.carry_z]), R, GRIPPER_OPEN, tol_m=0.02, max_steps=1000),
        ]

    def _release_z(self, env) -> float:
        task: Stack = env.task
        return task.base_top_z(env.data) + task.obj_half_height + self.offset_z + 0.006

    def track(self, env, index: int, waypoint: Waypoint) -> Waypoint:
        steer = range(self.first_place, self.first_place + 3)  # over, down, down slowly
        if index not in steer:
            return waypoint
        task: Stack = env.task
        data = env.data
        if not task.in_hand(data):
            return waypoint
        # Steer the object in the hand (not the TCP) over the base as both are now.
        tcp = data.site_xpos[task.tcp_site]
        obj = data.xpos[task.obj_body]
        self.offset_z = float(tcp[2] - obj[2])
        xy = data.xpos[task.base_body][:2] + (tcp[:2] - obj[:2])
        release = self._release_z(env)
        z = {steer[0]: self.carry_z, steer[1]: release + 0.03, steer[2]: release}[index]
        # Release and retreat happen where the descent put the object.
        for later in self.waypoints[index + 1:]:
            later.pos[:2] = xy
        if index == steer[2]:
            self.waypoints[index + 1].pos[2] = z
        return Waypoint(np.array([xy[0], xy[1], z]), waypoint.rot, waypoint.grip, waypoint.tol_m, waypoint.hold_steps,
                        waypoint.max_steps, waypoint.max_step_m)
