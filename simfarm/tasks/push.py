"""push: slide an object a spoken distance in a spoken direction ("push the red can 15 cm to the left")."""

from __future__ import annotations

from typing import ClassVar

import mujoco
import numpy as np

from simfarm.errors import TaskError
from simfarm.tasks.base import Goal, Subtask, Task, TaskScene
from simfarm.tasks.expert import (
    GRIPPER_CLOSED,
    Waypoint,
    WaypointExpert,
    gripper_yaw,
    top_down_rotation,
    wrap_yaw_for_gripper,
)
from simfarm.tasks.pick_place import _main_part_xy, object_body, reachable, workspace_objects
from simfarm.tasks.refer import refer_to, unambiguous

# Objects that slide rather than roll or topple when pushed low.
PUSHABLE_FAMILIES_EXCLUDED = ("ball", "bottle")
MAX_PUSH_HEIGHT_M = 0.14
MAX_PUSH_STEP_M = 0.015
# Directions as the robot sees its workspace: (angle from its forward axis, words).
ROBOT_DIRECTIONS = (
    (0.0, "away from you"),
    (np.pi / 4, "away from you and to the left"),
    (np.pi / 2, "to the left"),
    (3 * np.pi / 4, "toward you and to the left"),
    (np.pi, "toward you"),
    (-3 * np.pi / 4, "toward you and to the right"),
    (-np.pi / 2, "to the right"),
    (-np.pi / 4, "away from you and to the right"),
)


def spoken_distances(bounds, step: float) -> list[float]:
    """Round distances in [lo, hi] in steps of `step` (what a person says: 10, 15, 20 cm)."""
    lo, hi = float(bounds[0]), float(bounds[1])
    values = [k * step for k in range(int(np.ceil(lo / step - 1e-9)), int(np.floor(hi / step + 1e-9)) + 1)]
    return values or [round(lo / step) * step]


def surface_of(scene: TaskScene, site_name: str):
    surfaces = scene.index.surfaces
    if site_name not in surfaces:
        raise TaskError(f"support surface {site_name!r} is not in the scene index")
    return surfaces[site_name]


class Push(Task):
    name: ClassVar[str] = "push"
    defaults: ClassVar[dict] = {"target_radius_m": 0.05, "push_distance_m": [0.10, 0.20]}
    environment_state_names: ClassVar[tuple[str, ...]] = (
        *(f"object_pos_{a}" for a in "xyz"),
        *(f"object_quat_{a}" for a in "wxyz"),
        *(f"object_linvel_{a}" for a in "xyz"),
        *(f"target_pos_{a}" for a in "xyz"),
        *(f"tcp_to_object_{a}" for a in "xyz"),
    )

    @classmethod
    def scene_request(cls, config):
        from simfarm.scene import SceneRequest

        return SceneRequest(workspace="surface", min_workspace_objects=1, need_receptacle=False)

    def reset(self, scene: TaskScene, data: mujoco.MjData, rng: np.random.Generator) -> Goal:
        self.scene = scene
        objects = workspace_objects(scene)
        candidates = [
            o for o in objects
            if o.family not in PUSHABLE_FAMILIES_EXCLUDED and not o.receptacle and not _is_sphere(o)
            and o.size[2] <= MAX_PUSH_HEIGHT_M and reachable(scene, o.pos, margin_m=0.12)
        ]
        if not candidates:
            raise TaskError(f"push needs a low, non-rolling object within reach on {scene.spec.workspace!r}; found none")
        robot = scene.spec.robot
        candidates = [o for o in candidates if unambiguous(o, objects, robot)]
        if not candidates:
            raise TaskError(f"push: no pushable object on {scene.spec.workspace!r} can be named unambiguously")
        distances = spoken_distances(self.options["push_distance_m"], 0.05)
        robot_xy = np.asarray(robot.pos[:2])
        for _ in range(50):
            obj = self.choose(rng, candidates, "object")
            surface = surface_of(scene, obj.support)
            # A direction and a distance a person would say: one of eight around the robot, in 5 cm steps.
            k = int(rng.integers(len(ROBOT_DIRECTIONS)))
            angle = float(robot.yaw_rad) + ROBOT_DIRECTIONS[k][0]
            direction = np.array([np.cos(angle), np.sin(angle)])
            distance = float(distances[int(rng.integers(len(distances)))])
            target_xy = np.asarray(obj.pos[:2]) + direction * distance
            pusher_xy = np.asarray(obj.pos[:2]) - direction * (max(obj.size[:2]) / 2 + 0.06)
            if (
                _inside(surface, target_xy, margin=0.06)
                and _inside(surface, pusher_xy, margin=0.0)
                and reachable(scene, (*target_xy, 0), margin_m=0.1)
                and reachable(scene, (*pusher_xy, 0), margin_m=0.1)
                and not _blocked(objects, obj, np.asarray(obj.pos[:2]), target_xy)
                and np.linalg.norm(pusher_xy - robot_xy) > getattr(scene.robot_model, "min_reach_m", 0.25) + 0.05
            ):
                break
        else:
            raise TaskError(f"push: no clear, reachable target on {scene.spec.workspace!r} after 50 tries")
        self.obj = obj
        self.obj_body = object_body(scene.model, obj)
        self.target = np.array([target_xy[0], target_xy[1], surface.top_z])
        self.direction = direction
        self.tcp_site = scene.robot.tcp_site_id
        self.show_goal(data, self.target + [0, 0, 0.001])
        self.start_xy = np.asarray(obj.pos[:2], dtype=float)
        values = {"object": obj.name, "target": self.target.tolist(), "radius_m": self.options["target_radius_m"]}
        self.goal = self.make_goal(rng, values, obj=refer_to(obj, objects, rng, robot).text,
                                   dist=f"{round(distance * 100)} cm", dir=ROBOT_DIRECTIONS[k][1])
        return self.goal

    def subtasks(self) -> list[Subtask]:
        # Behind the object once the push has moved it 1.5 cm toward the target.
        def started(data) -> bool:
            return bool((data.xpos[self.obj_body][:2] - self.start_xy) @ self.direction > 0.015)

        return [self.subtask("reach", started), self.subtask("push", self.success)]

    def environment_state(self, data: mujoco.MjData) -> np.ndarray:
        obj_pos = data.xpos[self.obj_body]
        tcp = data.site_xpos[self.tcp_site]
        return np.concatenate([obj_pos, data.xquat[self.obj_body], data.cvel[self.obj_body, 3:6], self.target, obj_pos - tcp]).astype(np.float32)

    def _distance(self, data) -> float:
        return float(np.hypot(*(data.xpos[self.obj_body][:2] - self.target[:2])))

    def success(self, data: mujoco.MjData) -> bool:
        return self._distance(data) < self.options["target_radius_m"]

    def reward(self, data: mujoco.MjData) -> float:
        if self.success(data):
            return 1.0
        tcp = data.site_xpos[self.tcp_site]
        reach = 1 - np.tanh(10 * np.linalg.norm(tcp - data.xpos[self.obj_body]))
        return float(0.3 * reach + 0.6 * (1 - np.tanh(5 * self._distance(data))))

    def make_expert(self, env):
        return PushExpert(env)


def _is_sphere(obj) -> bool:
    """Spheres (fruit, balls) roll away from a push instead of sliding."""
    dims = (obj.params or {}).get("dims", {}) if isinstance(obj.params, dict) else {}
    return "radius" in dims and "height" not in dims


def _inside(surface, xy, margin: float) -> bool:
    """Whether world point xy lies on the surface (a yaw-rotated rectangle) with a margin."""
    c, s = np.cos(surface.yaw_rad), np.sin(surface.yaw_rad)
    d = np.asarray(xy) - np.asarray(surface.center_world[:2])
    local = np.array([c * d[0] + s * d[1], -s * d[0] + c * d[1]])
    half = np.asarray(surface.half_extents[:2]) - margin
    return bool(np.all(np.abs(local) <= half))


def _blocked(objects, obj, start, end, clearance: float = 0.05) -> bool:
    """Whether another object lies near the segment start→end (the push would hit it)."""
    seg = end - start
    length = np.linalg.norm(seg)
    for other in objects:
        if other is obj:
            continue
        p = np.asarray(other.pos[:2])
        t = np.clip(np.dot(p - start, seg) / max(length**2, 1e-9), 0.0, 1.0)
        if np.linalg.norm(start + t * seg - p) < clearance + max(other.size[:2]) / 2 + max(obj.size[:2]) / 2:
            return True
    return False


class PushExpert(WaypointExpert):
    """Go behind the object on the push line, lower the closed gripper, push along the line, re-aligning."""

    def plan(self, env):
        task: Push = env.task
        data = env.data
        obj_pos = data.xpos[task.obj_body].copy()
        _, tcp_R = env.handle.ee_pose(data)
        u = task.target[:2] - obj_pos[:2]
        u /= np.linalg.norm(u)
        # Fingers across the push line so both push the object.
        yaw = wrap_yaw_for_gripper(float(np.arctan2(u[1], u[0])) + np.pi / 2, gripper_yaw(tcp_R))
        R = top_down_rotation(yaw)
        self.R = R
        centre, self.radius = self.contact_centre(env, task)
        # The finger pads reach ~2 cm below the TCP: keep them off the surface (friction would pin them).
        self.push_z = task.target[2] + 0.035
        behind = centre - u * (self.radius + 0.05)
        top = obj_pos[2] + task.obj.size[2] / 2
        self.planned_xy = obj_pos[:2].copy()
        return [
            Waypoint(np.array([*behind, top + 0.08]), R, GRIPPER_CLOSED, tol_m=0.015),
            Waypoint(np.array([*behind, self.push_z]), R, GRIPPER_CLOSED, tol_m=0.01),
            Waypoint(np.array([*task.target[:2], self.push_z]), R, GRIPPER_CLOSED, tol_m=0.005, max_steps=10_000),
        ]

    def resync(self, env) -> None:
        """Labelling: keep the stage while the state agrees with it (so the expert's own states get
        its own actions), else take the state's: low behind the object on its line to the target →
        push; over the spot behind it → lower; otherwise go over there, planned from where the
        object is now."""
        task: Push = env.task
        data = env.data
        if self.stage < 2 and np.linalg.norm(data.xpos[task.obj_body][:2] - self.planned_xy) > 0.01:
            self.waypoints = self.plan(env)  # the object moved: behind where it is now
        tcp, _ = env.handle.ee_pose(data)
        obj_xy = data.xpos[task.obj_body][:2]
        centre, radius = self.contact_centre(env, task)
        u = task.target[:2] - obj_xy
        u /= max(np.linalg.norm(u), 1e-9)
        rel = tcp[:2] - centre
        along = float(rel @ u)
        lateral = float(np.linalg.norm(rel - along * u))
        pushing = tcp[2] < self.push_z + 0.015 and -(radius + 0.07) < along < -(radius - 0.01) and lateral < 0.02
        # The bands a stage keeps are wider than the ones that enter it: a learner hovering at a
        # boundary would otherwise get "go up" and "go down" on alternate steps.
        off = tcp[2] > self.push_z + 0.03 or lateral > 0.05 or not -(radius + 0.12) < along < 0.0
        if ((self.stage == 2 and not off) or (self.stage == 1 and (self._behind_by(tcp) < 0.04 or pushing))
                or (self.stage == 0 and not pushing and not self._descending(tcp, 0.03))):
            return
        self.waypoints = self.plan(env)
        self.set_stage(2 if pushing else 1 if self._behind_by(tcp) < 0.02 or self._descending(tcp, 0.03) else 0)

    def _behind_by(self, tcp) -> float:
        """How far (horizontally) the hand is from the spot behind the object."""
        return float(np.linalg.norm(tcp[:2] - self.waypoints[1].pos[:2]))

    def _descending(self, tcp, within_m: float) -> bool:
        """Near the column over the spot behind the object and already below the approach height."""
        return self._behind_by(tcp) < within_m and tcp[2] < self.waypoints[0].pos[2] - self.waypoints[0].tol_m

    @staticmethod
    def contact_centre(env, task) -> tuple[np.ndarray, float]:
        """Where the pusher pushes: a mug's cup (its handle would turn it aside), else the object's
        centre; and how far the pushed part reaches toward the pusher."""
        xy = _main_part_xy(env.model, env.data, task.obj)
        dims = (task.obj.params or {}).get("dims", {}) if isinstance(task.obj.params, dict) else {}
        if xy is not None and "radius" in dims:
            return xy, float(dims["radius"])
        # A box's half extent along the push line (a book pushed across its short side is 5 cm
        # deep, not the 9 cm of its long side: the pusher would stop short of it).
        R = env.data.xmat[task.obj_body].reshape(3, 3)
        u = np.asarray(task.direction, dtype=float)
        half = 0.5 * (abs(u @ R[:2, 0]) * task.obj.size[0] + abs(u @ R[:2, 1]) * task.obj.size[1])
        return env.data.xpos[task.obj_body][:2].copy(), float(half)

    def update_waypoint(self, env, index, waypoint):
        if index != 2:
            return waypoint
        task: Push = env.task
        obj_xy = env.data.xpos[task.obj_body][:2]
        centre, _ = self.contact_centre(env, task)
        to_target = task.target[:2] - obj_xy
        dist = np.linalg.norm(to_target)
        if dist < 0.4 * task.options["target_radius_m"] or to_target @ task.direction < 0:
            # Close enough, or slid past the target: back off along the push line so the pusher
            # stops driving the object (a still object inside the radius is a success).
            aim = centre - task.direction * (self.radius + 0.04)
            return Waypoint(np.array([*aim, self.push_z]), self.R, GRIPPER_CLOSED, tol_m=0.0, max_steps=10_000, max_step_m=0.01)
        u = to_target / max(dist, 1e-6)
        # Aim the pusher just behind the object on the object→target line, advancing by at most 3 cm.
        aim = centre - u * (self.radius + 0.01) + u * min(0.03, dist)
        # Slowly, and slower near the target: a fast push makes the object slide past it or topple.
        speed = min(MAX_PUSH_STEP_M, max(0.005, 0.25 * dist))
        # tol 0: the last stage never ends; it tracks the object for the rest of the episode.
        return Waypoint(np.array([*aim, self.push_z]), self.R, GRIPPER_CLOSED, tol_m=0.0, max_steps=10_000, max_step_m=speed)
