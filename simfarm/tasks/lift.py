"""lift: grasp an object and hold it a given height above the surface it rested on ("lift the red
block 10 cm off the table").

Also the grasp pieces the stacking expert shares: `held` (both fingers on the object, judged on
contacts), `fingertip_depth`, `GraspPlan` and `GraspExpert` (approach, slow descent, close, and a
re-grasp from the current state when the object is not in the hand).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import mujoco
import numpy as np

from simfarm.errors import TaskError
from simfarm.tasks.base import Goal, Subtask, Task, TaskScene
from simfarm.tasks.expert import (
    GRIPPER_CLOSED,
    GRIPPER_OPEN,
    Waypoint,
    WaypointExpert,
    fingers_moving,
    gripper_yaw,
    held,
    over_column,
    robot_geom_mask,
    top_down_rotation,
    wrap_yaw_for_gripper,
)
from simfarm.tasks.pick_place import (
    MAX_GRASP_MASS_KG,
    MAX_GRASP_WIDTH_M,
    _main_part_xy,
    grasp_width,
    object_body,
    reachable,
    workspace_objects,
)
from simfarm.tasks.refer import footprint_radius, refer_to, unambiguous

# The object is off its surface (a grasp, not a push) once 1 cm up in the hand.
GRASP_LIFT_M = 0.01


def in_reach(scene: TaskScene, pos, margin_m: float = 0.12, near_margin_m: float = 0.05) -> bool:
    """Within reach (`reachable`), and `near_margin_m` beyond the arm's minimum reach: an arm
    reaching down just past its minimum cannot lower its hand to the surface."""
    robot = scene.spec.robot
    near = getattr(scene.robot_model, "min_reach_m", 0.25) + near_margin_m
    return bool(reachable(scene, pos, margin_m=margin_m) and np.hypot(pos[0] - robot.pos[0], pos[1] - robot.pos[1]) > near)


def graspable(scene: TaskScene, obj, margin_m: float = 0.12) -> bool:
    """A top-down parallel grasp can take it: narrow enough, light enough, within reach."""
    return bool(not obj.receptacle and grasp_width(obj) <= MAX_GRASP_WIDTH_M and obj.mass_kg <= MAX_GRASP_MASS_KG
                and in_reach(scene, obj.pos, margin_m=margin_m))


def surface_phrase(scene: TaskScene) -> str:
    """The workspace furniture as a person names it: "the table", "the counter", "the workbench"."""
    piece = next((f for f in scene.spec.furniture if f.name == scene.spec.workspace), None)
    return f"the {piece.kind.replace('_', ' ')}" if piece is not None else "the table"


def fingertip_depth(env) -> float:
    """How far the finger tips reach beyond the TCP along the approach axis (from the model)."""
    model, data, handle = env.model, env.data, env.handle
    tcp = data.site_xpos[handle.tcp_site_id]
    z = data.site_xmat[handle.tcp_site_id].reshape(3, 3)[:, 2]
    depth = 0.0
    for g in np.asarray(handle.geom_ids, dtype=int):
        name = mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_GEOM, int(g)) or ""
        if "pad" in name or "finger" in name:
            R = data.geom_xmat[g].reshape(3, 3)
            # The box's farthest corner along the approach axis.
            reach = float((data.geom_xpos[g] - tcp) @ z + np.abs(R.T @ z) @ model.geom_size[g])
            depth = max(depth, reach)
    return depth if depth > 0 else 0.016


def obstacle_top(env, a_xy, b_xy, skip=(), margin_m: float = 0.06) -> float:
    """The highest top of the workspace objects (as they lie now, `skip` names left out) whose
    footprint comes within `margin_m` of the segment a→b; -inf when none does."""
    model, data = env.model, env.data
    a, b = np.asarray(a_xy[:2], dtype=float), np.asarray(b_xy[:2], dtype=float)
    seg = b - a
    top = -np.inf
    for o in workspace_objects(env.task.scene):
        if o.name in skip:
            continue
        body = object_body(model, o)
        p = data.xpos[body]
        t = np.clip(np.dot(p[:2] - a, seg) / max(float(seg @ seg), 1e-9), 0.0, 1.0)
        if np.linalg.norm(a + t * seg - p[:2]) < margin_m + footprint_radius(o):
            R = data.xmat[body].reshape(3, 3)
            top = max(top, float(p[2] + 0.5 * np.abs(R[2]) @ np.asarray(o.size, dtype=float)))
    return top


# Neighbours within this of the grasp point (edge to centre) are in the way of the hand: the palm
# spans ~20 cm along the finger axis a few centimetres above the TCP, the open fingers ~10 cm.
HAND_REACH_M = 0.12
FINGER_REACH_M = 0.06
PALM_ABOVE_TCP_M = 0.03


def _clear_grasp_yaw(env, obj, obj_R: np.ndarray, sites) -> float:
    """The finger axis (yaw) that closes across a side narrow enough to grasp and keeps the long
    palm away from neighbours taller than the hand at each of `sites` ((xy, tcp z, names left
    out): where it grasps, and where it will put the object down): a block next to a tall can is
    taken along the can, not toward it. Ties keep the narrow side."""
    size = obj.params.get("body_size", obj.size) if isinstance(obj.params, dict) else obj.size
    dims = (obj.params or {}).get("dims", {}) if isinstance(obj.params, dict) else {}
    if "radius" in dims and abs(size[0] - size[1]) < 1e-6:  # round (not a bar, no handle): any direction
        yaws = [float(np.arctan2(obj_R[1, 0], obj_R[0, 0])) + k * np.pi / 4 for k in range(4)]
    else:
        narrow, wide = (0, 1) if size[0] <= size[1] else (1, 0)
        axes = [narrow] + ([wide] if size[wide] <= MAX_GRASP_WIDTH_M else [])
        yaws = [float(np.arctan2(obj_R[1, a], obj_R[0, a])) for a in axes]
    model, data = env.model, env.data
    tip = fingertip_depth(env)
    blockers = []
    for o in workspace_objects(env.task.scene):
        body = object_body(model, o)
        p = data.xpos[body]
        R = data.xmat[body].reshape(3, 3)
        o_top = float(p[2] + 0.5 * np.abs(R[2]) @ np.asarray(o.size, dtype=float))
        for xy, tcp_z, skip in sites:
            if o.name == obj.name or o.name in skip:
                continue
            offset = p[:2] - np.asarray(xy, dtype=float)
            gap = float(np.linalg.norm(offset)) - footprint_radius(o)
            # Taller than the palm's underside: in the way of the palm; taller than the finger
            # tips and close: in the way of the open fingers.
            reach = HAND_REACH_M if o_top > tcp_z + PALM_ABOVE_TCP_M else FINGER_REACH_M if o_top > tcp_z - tip else 0.0
            if gap < reach:
                blockers.append((offset / max(np.linalg.norm(offset), 1e-9), reach - gap))

    def cost(yaw: float) -> float:
        y = np.array([np.cos(yaw), np.sin(yaw)])
        return sum(weight * abs(float(y @ u)) for u, weight in blockers)

    costs = [cost(y) for y in yaws]
    return yaws[int(np.argmin([c - 1e-6 * (k == 0) for k, c in enumerate(costs)]))]


@dataclass
class GraspPlan:
    """A top-down grasp of an object as it lies now."""

    R: np.ndarray  # world_R_tcp, fingers across the object's narrow side
    grasp_xy: np.ndarray  # where the TCP closes (the object's main part)
    grasp_z: float
    hover_z: float
    clearance: float  # the robot's approach clearance above things
    travel_z: float  # the height to come over at, clear of the things on the way

    @classmethod
    def of(cls, env, obj, body: int, place=None, tip_clearance_m: float | None = None) -> GraspPlan:
        """`place`: (xy, surface z, names) where the object will be put down, for the choice of
        yaw; `tip_clearance_m`: keep the finger tips this far above the object's bottom (to set it
        down on a top no wider than itself)."""
        data = env.data
        obj_pos = data.xpos[body].copy()
        obj_R = data.xmat[body].reshape(3, 3)
        _, tcp_R = env.handle.ee_pose(data)
        top = obj_pos[2] + float(obj.size[2]) / 2
        finger = getattr(env.handle, "finger_length_m", 0.04)
        clearance = getattr(env.robot, "approach_clearance_m", 0.10)
        xy = _main_part_xy(env.model, data, obj)
        xy = np.asarray(obj_pos[:2] if xy is None else xy, dtype=float)
        grasp_z = max(obj_pos[2], top - 0.8 * finger)
        if tip_clearance_m is not None:
            bottom = obj_pos[2] - float(obj.size[2]) / 2
            grasp_z = min(max(grasp_z, bottom + fingertip_depth(env) + tip_clearance_m), top - 0.012)
        sites = [(xy, grasp_z, ())]
        if place is not None:
            place_xy, place_z, skip = place
            sites.append((place_xy, place_z + (grasp_z - obj_pos[2]) + float(obj.size[2]) / 2, tuple(skip)))
        yaw = wrap_yaw_for_gripper(_clear_grasp_yaw(env, obj, obj_R, sites), gripper_yaw(tcp_R))
        hover = top + clearance
        tcp, _ = env.handle.ee_pose(data)
        # Each axis of an ee_delta step is clipped on its own, so a long move descends first:
        # come over at a height that clears whatever stands on the way.
        travel = max(hover, obstacle_top(env, tcp[:2], xy, skip=(obj.name,)) + fingertip_depth(env) + 0.04)
        return cls(top_down_rotation(yaw), xy, grasp_z, hover, clearance, travel)

    def waypoints(self) -> list[Waypoint]:
        """Over at a clear height, above the object, down slowly, close."""
        above = np.array([*self.grasp_xy, self.hover_z])
        at = np.array([*self.grasp_xy, self.grasp_z])
        over = [Waypoint(np.array([*self.grasp_xy, self.travel_z]), self.R, GRIPPER_OPEN, tol_m=0.03)] \
            if self.travel_z > self.hover_z + 0.005 else []
        return [
            *over,
            Waypoint(above, self.R, GRIPPER_OPEN, tol_m=0.015),
            # The last centimetres slowly: fingers brushing a light object knock it away.
            Waypoint(at, self.R, GRIPPER_OPEN, tol_m=0.008, hold_steps=1, max_step_m=0.02),
            Waypoint(at, self.R, GRIPPER_CLOSED, tol_m=0.02, hold_steps=5, max_steps=10),
        ]


class GraspExpert(WaypointExpert):
    """Grasp `task.obj` (body `task.obj_body`), then follow `after_grasp(plan)`; when the object
    is not in the hand at the first after-grasp waypoint's end, open, back off and grasp again
    from where the object lies now (at most `max_regrasps` times)."""

    max_regrasps = 2
    check_after_steps = 3  # steps into the first after-grasp waypoint (the hand is rising)

    def reset(self, instruction: str, seed: int) -> None:
        self.regrasps = 0
        super().reset(instruction, seed)

    def plan(self, env) -> list[Waypoint]:
        self.mask = robot_geom_mask(env.model, env.handle)
        self.grasp = self.grasp_plan(env)
        first = self.grasp.waypoints()
        self.check_stage = len(first)
        self.planned_xy = env.data.xpos[env.task.obj_body][:2].copy()
        return first + self.after_grasp(env, self.grasp)

    def resync(self, env) -> None:
        """Labelling: keep the stage while the state agrees with it, else take the state's. In the
        hand while still approaching → on to the after-grasp waypoints; dropped while being carried
        (a closed-gripper waypoint after the grasp), moved while approached, or approached from
        elsewhere than the plan's column → grasp it again from where it lies now."""
        data = env.data
        tcp, _ = env.handle.ee_pose(data)
        close = self.check_stage - 1  # the waypoint that closes the fingers
        g = self.grasp
        column = over_column(tcp, g.grasp_xy, g.hover_z)
        if self.in_hand(env):
            if self.stage < close and fingers_moving(env.handle, data) and column and abs(tcp[2] - g.grasp_z) < 0.02:
                self.set_stage(close)  # touching, still closing: a step or two to settle, then up
                self.hold = max(0, self.waypoints[close].hold_steps - 2)
            elif self.stage < close:
                self.set_stage(self.check_stage)
                self.steps_in_stage = self.check_after_steps + 1  # it is in the hand: no re-grasp check
            return
        wp = self.waypoints[min(self.stage, len(self.waypoints) - 1)]
        if self.stage >= self.check_stage:
            if wp.grip != GRIPPER_CLOSED:
                return  # released on purpose (or past it)
        elif np.linalg.norm(data.xpos[env.task.obj_body][:2] - self.planned_xy) <= 0.01 and (
                column if self.stage >= close - 1 else not (column and tcp[2] < g.hover_z - 0.015)):
            return
        self.waypoints = self.plan(env)
        g, close = self.grasp, self.check_stage - 1
        column = over_column(tcp, g.grasp_xy, g.hover_z)
        opening = env.handle.gripper_opening(data)
        if column and abs(tcp[2] - g.grasp_z) < 0.008 and opening >= 0.9 * grasp_width(env.task.obj):
            self.set_stage(close)
        else:
            self.set_stage(close - 1 if column else 0)

    def grasp_plan(self, env) -> GraspPlan:
        """The grasp of the object as it lies now (subclasses say where it will go)."""
        return GraspPlan.of(env, env.task.obj, env.task.obj_body)

    def after_grasp(self, env, plan: GraspPlan) -> list[Waypoint]:  # pragma: no cover - abstract
        """The waypoints after the fingers close; they start at index `self.check_stage`."""
        raise NotImplementedError

    def in_hand(self, env) -> bool:
        return held(env.model, env.data, env.task.obj_body, self.mask)

    def update_waypoint(self, env, index: int, waypoint: Waypoint) -> Waypoint:
        if (index == self.check_stage and self.steps_in_stage == self.check_after_steps
                and self.regrasps < self.max_regrasps and not self.in_hand(env)):
            self.regrasps += 1
            pos, _ = env.handle.ee_pose(env.data)
            back = Waypoint(np.array([pos[0], pos[1], self.grasp.hover_z]), self.grasp.R, GRIPPER_OPEN, tol_m=0.02,
                            max_steps=15)
            self.grasp = self.grasp_plan(env)
            first = self.grasp.waypoints()
            self.check_stage = 1 + len(first)
            self.waypoints = [back, *first, *self.after_grasp(env, self.grasp)]
            self.stage, self.steps_in_stage, self.hold = 0, 0, 0
            return self.waypoints[0]
        return self.track(env, index, waypoint)

    def track(self, env, index: int, waypoint: Waypoint) -> Waypoint:
        """Hook for subclasses that steer later waypoints from the live state."""
        return waypoint


class Lift(Task):
    name: ClassVar[str] = "lift"
    # lift_height_m: the object's bottom at least this far above the surface it rested on, held
    # there (in the hand) for hold_steps consecutive control steps.
    defaults: ClassVar[dict] = {"lift_height_m": 0.10, "hold_steps": 5}
    environment_state_names: ClassVar[tuple[str, ...]] = (
        *(f"object_pos_{a}" for a in "xyz"),
        *(f"object_quat_{a}" for a in "wxyz"),
        *(f"object_linvel_{a}" for a in "xyz"),
        *(f"tcp_to_object_{a}" for a in "xyz"),
        "object_height_m",
        "target_height_m",
    )

    @classmethod
    def scene_request(cls, config):
        from simfarm.scene import SceneRequest

        return SceneRequest(workspace="surface", min_workspace_objects=1)

    def _candidates(self, scene: TaskScene) -> list:
        objects = workspace_objects(scene)
        robot = scene.spec.robot
        found = [o for o in objects if graspable(scene, o) and unambiguous(o, objects, robot)]
        if not found:
            raise TaskError(f"lift needs a graspable object within reach on {scene.spec.workspace!r} that an instruction "
                            f"can name alone; found none (scene {scene.spec.program!r})")
        return found

    def check_scene(self, scene: TaskScene) -> None:
        self._candidates(scene)

    def reset(self, scene: TaskScene, data: mujoco.MjData, rng: np.random.Generator) -> Goal:
        self.scene = scene
        candidates = self._candidates(scene)
        objects = workspace_objects(scene)
        obj = candidates[int(rng.integers(len(candidates)))]
        self.obj = obj
        self.obj_body = object_body(scene.model, obj)
        self.rest_z = float(obj.pos[2])
        self.height_m = float(self.options["lift_height_m"])
        self.hold_steps = int(self.options["hold_steps"])
        if self.height_m <= 0 or self.hold_steps < 1:
            raise TaskError(f"lift: lift_height_m must be > 0 and hold_steps >= 1; got {self.height_m}, {self.hold_steps}")
        self.tcp_site = scene.robot.tcp_site_id
        self._mask = robot_geom_mask(scene.model, scene.robot)
        self._count, self._last_t = 0, None
        self.show_goal(data, np.array([*obj.pos[:2], self.rest_z + self.height_m]))
        values = {"object": obj.name, "lift_height_m": self.height_m, "hold_steps": self.hold_steps}
        # The phrases the instruction names things by (simfarm.tasks.refer.Ref), kept for checks.
        self.refs = {"obj": refer_to(obj, objects, rng, scene.spec.robot)}
        self.goal = self.make_goal(rng, values, obj=self.refs["obj"].text, height=f"{round(self.height_m * 100)} cm",
                                   surface=surface_phrase(scene))
        return self.goal

    def height(self, data) -> float:
        """How far the object is above where it rested."""
        return float(data.xpos[self.obj_body][2] - self.rest_z)

    def in_hand(self, data) -> bool:
        return held(self.scene.model, data, self.obj_body, self._mask)

    def _lifted_now(self, data) -> bool:
        return self.height(data) >= self.height_m and self.in_hand(data)

    def success(self, data: mujoco.MjData) -> bool:
        # Counted once per simulated instant, however often success is asked within a step.
        if data.time != self._last_t:
            self._last_t = data.time
            self._count = self._count + 1 if self._lifted_now(data) else 0
        return self._count >= self.hold_steps

    def subtasks(self) -> list[Subtask]:
        def grasped(data) -> bool:
            return bool(self.height(data) > GRASP_LIFT_M and self.in_hand(data))

        return [self.subtask("grasp", grasped), self.subtask("lift", self.success)]

    def environment_state(self, data: mujoco.MjData) -> np.ndarray:
        obj_pos = data.xpos[self.obj_body]
        tcp = data.site_xpos[self.tcp_site]
        return np.concatenate([obj_pos, data.xquat[self.obj_body], data.cvel[self.obj_body, 3:6], obj_pos - tcp,
                               [self.height(data), self.height_m]]).astype(np.float32)

    def reward(self, data: mujoco.MjData) -> float:
        if self.success(data):
            return 1.0
        tcp = data.site_xpos[self.tcp_site]
        reach = 1 - np.tanh(10 * np.linalg.norm(tcp - data.xpos[self.obj_body]))
        in_hand = float(self.in_hand(data))
        up = in_hand * float(np.clip(self.height(data) / self.height_m, 0.0, 1.0))
        return float(0.3 * reach + 0.2 * in_hand + 0.4 * up)

    def make_expert(self, env):
        return LiftExpert(env)


class LiftExpert(GraspExpert):
    """Grasp, then raise the object to 3 cm beyond the asked height and hold it there."""

    def after_grasp(self, env, plan: GraspPlan) -> list[Waypoint]:
        task: Lift = env.task
        up = plan.grasp_z + task.height_m + 0.03
        return [Waypoint(np.array([*plan.grasp_xy, up]), plan.R, GRIPPER_CLOSED, tol_m=0.01, max_steps=10_000,
                         max_step_m=0.03)]
