"""put_in_bowl: lower an object into a bowl and let go of it there.

A bowl is a container: the object is in it when its centre lies within the bowl's inner radius,
below the rim's top and above the bowl's floor, judged on the live poses (the bowl may have been
nudged). Only objects that fit are asked for: narrow enough to go in with a margin, short enough
that, standing on the floor, their centre stays below the rim.

The module also holds what the other carry tasks share (put_on_plate, sort, turn): container and
plate geometry, the contact tests (held, released; a sleeping object keeps its last verdict) and
`CarryExpert`, a grasp-carry-release expert over a list of jobs with closed-loop retries (a grasp
that lands on the object, a missed grasp or a drop is grasped again, a miss of the receptacle is
picked up again).
"""

from __future__ import annotations

from collections.abc import Callable
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
    gripper_yaw,
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
from simfarm.tasks.refer import refer_to, unambiguous

# simfarm.scene.objects._open_container: wall and floor thickness of bowls and boxes.
CONTAINER_WALL_M = 0.006
CONTAINER_FLOOR_M = 0.008
# An object goes in only with this much room on each side of its footprint.
FIT_MARGIN_M = 0.012
# Its centre, standing on the floor, at least this far below the rim.
RIM_MARGIN_M = 0.004
# sort: the tallest object that counts as in a bowl or box while standing in it above its rim.
MAX_STANDING_HEIGHT_M = 0.14
# Still: the object's linear speed below this (m/s).
STILL_SPEED_MPS = 0.05
# Held: lifted this far above where it rested, a robot geom touching it.
HELD_LIFT_M = 0.015
CONTAINER_FAMILIES = ("bowl", "box")
# The expert's TCP step while carrying (m per control step): faster flings a pinched mug away.
CARRY_STEP_M = 0.03


def carryable(scene: TaskScene, obj) -> bool:
    """A graspable, light object within reach, not itself a receptacle."""
    return bool(not obj.receptacle and grasp_width(obj) <= MAX_GRASP_WIDTH_M and obj.mass_kg <= MAX_GRASP_MASS_KG
                and reachable(scene, obj.pos, margin_m=0.12))


@dataclass(frozen=True)
class Receptacle:
    """The inside of a receptacle in its own frame: a bowl (round), box (rectangular) or plate (flat)."""

    obj: object  # SceneObject
    kind: str  # "round" | "rect" | "flat"
    inner_half_m: tuple[float, float]  # inner radius twice (round, flat) or inner half extents (rect)
    height_m: float

    @classmethod
    def of(cls, obj) -> Receptacle:
        dims = obj.params.get("dims", {}) if isinstance(obj.params, dict) else {}
        sx, sy, sz = (float(v) for v in obj.size)
        if obj.family == "bowl":
            r = float(dims.get("radius", sx / 2)) - CONTAINER_WALL_M
            return cls(obj, "round", (r, r), sz)
        if obj.family == "box":
            return cls(obj, "rect", (sx / 2 - CONTAINER_WALL_M, sy / 2 - CONTAINER_WALL_M), sz)
        r = float(dims.get("radius", min(sx, sy) / 2))
        return cls(obj, "flat", (r, r), sz)

    @property
    def is_container(self) -> bool:
        return self.kind != "flat"

    @property
    def floor_local_z(self) -> float:
        """Height of the surface an object stands on inside (containers) or on top (plates), object frame."""
        return -self.height_m / 2 + CONTAINER_FLOOR_M if self.is_container else self.height_m / 2

    def fits(self, obj) -> bool:
        """Whether `obj` goes in (containers: room around it, centre below the rim) or on it (plates)."""
        span = max(float(obj.size[0]), float(obj.size[1]))
        if self.kind == "round":
            room = span <= 2 * self.inner_half_m[0] - 2 * FIT_MARGIN_M
        elif self.kind == "rect":
            room = span <= 2 * min(self.inner_half_m) - 2 * FIT_MARGIN_M
        else:  # a plate holds what its rim circles, an object standing on it a little over at most
            return span <= 2 * self.inner_half_m[0] + 0.01
        low = CONTAINER_FLOOR_M + float(obj.size[2]) / 2 <= self.height_m - RIM_MARGIN_M
        return bool(room and low)

    def fits_standing(self, obj) -> bool:
        """Containers: room around the object, which stands on the floor as tall as it is (at most
        MAX_STANDING_HEIGHT_M; it may rise above the rim). Plates: as `fits`."""
        if not self.is_container:
            return self.fits(obj)
        span = max(float(obj.size[0]), float(obj.size[1]))
        inner = self.inner_half_m[0] if self.kind == "round" else min(self.inner_half_m)
        return bool(span <= 2 * inner - 2 * FIT_MARGIN_M and float(obj.size[2]) <= MAX_STANDING_HEIGHT_M)

    def standing_inside(self, data: mujoco.MjData, body: int, point, height_m: float) -> bool:
        """Containers: an object of `height_m` centred at `point` is within the inner outline with its
        bottom between the floor (1 cm under it, for the floor's own thickness) and the rim."""
        p = self.local(data, body, point)
        bottom = p[2] - height_m / 2
        return bool(self.within(data, body, point) and self.floor_local_z - 0.01 < bottom < self.height_m / 2)

    def local(self, data: mujoco.MjData, body: int, point) -> np.ndarray:
        R = data.xmat[body].reshape(3, 3)
        return R.T @ (np.asarray(point, dtype=float) - data.xpos[body])

    def within(self, data: mujoco.MjData, body: int, point) -> bool:
        """Whether a point's xy lies inside the receptacle's inner outline (its own frame)."""
        p = self.local(data, body, point)
        if self.kind == "rect":
            return bool(abs(p[0]) <= self.inner_half_m[0] and abs(p[1]) <= self.inner_half_m[1])
        return bool(np.hypot(p[0], p[1]) <= self.inner_half_m[0])

    def inside(self, data: mujoco.MjData, body: int, point) -> bool:
        """Containers: the point within the inner outline, below the rim top, above the floor."""
        p = self.local(data, body, point)
        return bool(self.within(data, body, point) and self.floor_local_z < p[2] < self.height_m / 2)

    def floor_world_z(self, data: mujoco.MjData, body: int) -> float:
        return float(data.xpos[body][2] + self.floor_local_z)

    def rim_world_z(self, data: mujoco.MjData, body: int) -> float:
        return float(data.xpos[body][2] + self.height_m / 2)


class Contacts:
    """Contact tests between an object's geoms and the robot's, a receptacle's, the furniture."""

    def __init__(self, scene: TaskScene):
        model = scene.model
        self.robot = np.zeros(model.ngeom, dtype=bool)
        self.robot[np.asarray(scene.robot.geom_ids, dtype=int)] = True
        self.furniture = np.zeros(model.ngeom, dtype=bool)
        self.furniture[np.asarray(scene.index.furniture_geom_ids, dtype=int)] = True
        self.model = model
        # (object, plate) -> whether it rested on the plate at its last awake step (see in_receptacle).
        self.resting: dict[tuple[int, int], bool] = {}

    def mask(self, body: int) -> np.ndarray:
        return self.model.geom_bodyid == body

    @staticmethod
    def between(data: mujoco.MjData, a: np.ndarray, b: np.ndarray) -> bool:
        n = data.ncon
        if n == 0:
            return False
        g1, g2 = data.contact.geom1[:n], data.contact.geom2[:n]
        return bool(np.any((a[g1] & b[g2]) | (a[g2] & b[g1])))

    def robot_touches(self, data: mujoco.MjData, body: int) -> bool:
        return self.between(data, self.robot, self.mask(body))


def still(data: mujoco.MjData, body: int) -> bool:
    return bool(np.linalg.norm(data.cvel[body, 3:6]) < STILL_SPEED_MPS)


def held(data: mujoco.MjData, contacts: Contacts, body: int, rest_z: float) -> bool:
    """Lifted off where it rested with the robot touching it: in the gripper."""
    return bool(data.xpos[body][2] > rest_z + HELD_LIFT_M and contacts.robot_touches(data, body))


def in_receptacle(data: mujoco.MjData, contacts: Contacts, body: int, rec: Receptacle, rec_body: int,
                  rec_mask: np.ndarray) -> bool:
    """The object `body` is in (containers) or on (plates) the receptacle, whatever holds it."""
    pos = data.xpos[body]
    if rec.is_container:
        return rec.inside(data, rec_body, pos)
    # Sleeping islands (simfarm.scene.builder): a body at rest stops colliding, so its contacts are
    # gone while it sleeps; nothing has moved since, so the verdict of its last awake step holds.
    key = (body, rec_body)
    if not data.body_awake[body]:
        return contacts.resting.get(key, False)
    mask = contacts.mask(body)
    on = bool(rec.within(data, rec_body, pos) and pos[2] > data.xpos[rec_body][2]
              and contacts.between(data, mask, rec_mask) and not contacts.between(data, mask, contacts.furniture))
    contacts.resting[key] = on
    return on


def placed(data: mujoco.MjData, contacts: Contacts, body: int, rec: Receptacle, rec_body: int, rec_mask: np.ndarray) -> bool:
    """In or on the receptacle, let go of and at rest."""
    return bool(in_receptacle(data, contacts, body, rec, rec_body, rec_mask) and not contacts.robot_touches(data, body)
                and still(data, body))


def preposition(rec_obj) -> str:
    return "in" if rec_obj.family in CONTAINER_FAMILIES else "on"


class PutInBowl(Task):
    """Put a graspable object into a bowl of the workspace."""

    name: ClassVar[str] = "put_in_bowl"
    default_scene: ClassVar[str] = "kitchen"
    defaults: ClassVar[dict] = {"lift_height_m": 0.05}
    # Receptacle families this task asks for (put_on_plate: plates).
    receptacle_families: ClassVar[tuple[str, ...]] = ("bowl",)
    environment_state_names: ClassVar[tuple[str, ...]] = (
        *(f"object_pos_{a}" for a in "xyz"),
        *(f"object_quat_{a}" for a in "wxyz"),
        *(f"object_linvel_{a}" for a in "xyz"),
        *(f"receptacle_pos_{a}" for a in "xyz"),
        *(f"tcp_to_object_{a}" for a in "xyz"),
    )

    @classmethod
    def scene_request(cls, config):
        from simfarm.scene import SceneRequest

        # Four objects (the kitchen program's most): with fewer, under one kitchen draw in five holds
        # a bowl and an object that fits it (most cans and mugs stand taller than a bowl's rim).
        return SceneRequest(workspace="surface", min_workspace_objects=4, need_receptacle=True)

    def _pairs(self, scene: TaskScene) -> list[tuple]:
        """(object, receptacle) pairs the task can ask for; TaskError when the scene has none."""
        objects = workspace_objects(scene)
        robot = scene.spec.robot
        recs = [o for o in objects if o.family in self.receptacle_families and reachable(scene, o.pos, margin_m=0.12)
                and unambiguous(o, objects, robot)]
        movers = [o for o in objects if carryable(scene, o) and unambiguous(o, objects, robot)]
        pairs = [(o, r) for r in recs for o in movers if Receptacle.of(r).fits(o)]
        if not pairs:
            what = "/".join(self.receptacle_families)
            raise TaskError(
                f"{self.name} needs a {what} and a graspable object that fits it, both nameable and within reach on "
                f"the workspace {scene.spec.workspace!r}; found {len(recs)} {what}(s), {len(movers)} graspable "
                f"object(s) (scene {scene.spec.program!r})")
        return pairs

    def check_scene(self, scene: TaskScene) -> None:
        self._pairs(scene)

    def reset(self, scene: TaskScene, data: mujoco.MjData, rng: np.random.Generator) -> Goal:
        self.scene = scene
        pairs = self._pairs(scene)
        objects = workspace_objects(scene)
        robot = scene.spec.robot
        # Task.choose: a composite's bindings and a suite's held-out objects are honoured.
        movers = list({id(o): o for o, _ in pairs}.values())
        obj = self.choose(rng, movers, "object")
        rec = self.choose(rng, [r for o, r in pairs if o is obj], "target")
        self.obj, self.rec_obj = obj, rec
        self.obj_body = object_body(scene.model, obj)
        self.rec_body = object_body(scene.model, rec)
        self.rec = Receptacle.of(rec)
        self.contacts = Contacts(scene)
        self.rec_mask = self.contacts.mask(self.rec_body)
        self.rest_z = float(obj.pos[2])
        self.tcp_site = scene.robot.tcp_site_id
        self.obj_ref = refer_to(obj, objects, rng, robot)
        self.rec_ref = refer_to(rec, objects, rng, robot, relational=False)
        self.show_goal(data, data.xpos[self.rec_body])
        values = {"object": obj.name, "target": rec.name}
        self.goal = self.make_goal(rng, values, **self._slots())
        return self.goal

    def _slots(self) -> dict[str, str]:
        return {"obj": self.obj_ref.text, "bowl": self.rec_ref.text}

    def subtasks(self) -> list[Subtask]:
        def grasped(data) -> bool:
            return held(data, self.contacts, self.obj_body, self.rest_z) or self.success(data)

        return [self.subtask("grasp", grasped), self.subtask("place", self.success)]

    def environment_state(self, data: mujoco.MjData) -> np.ndarray:
        pos = data.xpos[self.obj_body]
        tcp = data.site_xpos[self.tcp_site]
        return np.concatenate([pos, data.xquat[self.obj_body], data.cvel[self.obj_body, 3:6], data.xpos[self.rec_body],
                               pos - tcp]).astype(np.float32)

    def success(self, data: mujoco.MjData) -> bool:
        return placed(data, self.contacts, self.obj_body, self.rec, self.rec_body, self.rec_mask)

    def reward(self, data: mujoco.MjData) -> float:
        if self.success(data):
            return 1.0
        pos = data.xpos[self.obj_body]
        tcp = data.site_xpos[self.tcp_site]
        reach = 1 - np.tanh(10 * np.linalg.norm(tcp - pos))
        lifted = float(pos[2] > self.rest_z + self.options["lift_height_m"])
        place = 1 - np.tanh(5 * np.linalg.norm(pos[:2] - data.xpos[self.rec_body][:2]))
        return float(0.25 * reach + 0.25 * lifted + 0.4 * place)

    def jobs(self) -> list[Job]:
        return [Job(self.obj, self.obj_body, self.rest_z, self.rec, self.rec_body, self.rec_mask)]

    def make_expert(self, env):
        return CarryExpert(env)


# -- the expert -----------------------------------------------------------------------------------


@dataclass
class Job:
    """One object to carry into or onto one receptacle."""

    obj: object  # SceneObject
    body: int
    rest_z: float
    rec: Receptacle
    rec_body: int
    rec_mask: np.ndarray
    # Whether the object is in (on) the receptacle now, whoever holds it; None: `in_receptacle`.
    arrived: Callable[[mujoco.MjData], bool] | None = None


def is_round(obj) -> bool:
    """Cylinders and spheres: every yaw of the fingers grasps them alike (a mug's handle does not)."""
    dims = obj.params.get("dims", {}) if isinstance(obj.params, dict) else {}
    return bool("radius" in dims and obj.family not in ("mug", "bar", "hammer", "bowl", "plate"))


def grasp_plan(env, obj, body: int, travel_xy=None) -> tuple[np.ndarray, float, np.ndarray]:
    """(grasp xy, grasp z, world_R_tcp) for a top-down grasp of `obj` as it lies now: fingers across
    its narrower side, on its main part (a mug's cup, not its handle). A round object is pinched
    across the direction it will travel (`travel_xy`): the fingers then press it forward and back,
    so it cannot swing about the pinch (a bottle held by its neck would)."""
    data = env.data
    pos = data.xpos[body].copy()
    R_obj = data.xmat[body].reshape(3, 3)
    _, tcp_R = env.handle.ee_pose(data)
    size = obj.params.get("body_size", obj.size) if isinstance(obj.params, dict) else obj.size
    axis = R_obj[:, 0] if size[0] <= size[1] else R_obj[:, 1]
    if travel_xy is not None and np.linalg.norm(travel_xy) > 1e-6:
        travel = float(np.arctan2(travel_xy[1], travel_xy[0]))
        if is_round(obj):
            axis = np.array([np.cos(travel), np.sin(travel), 0.0])
        elif obj.family == "mug":
            # The cup is round too, but its handle (along the mug's x axis) must stay clear of the
            # fingers: at least 45 degrees between the finger line and the handle.
            handle = float(np.arctan2(R_obj[1, 0], R_obj[0, 0]))
            off = (travel - handle + np.pi / 2) % np.pi - np.pi / 2  # in [-90, 90) degrees
            if abs(off) < np.pi / 4:
                off = np.pi / 4 if off >= 0 else -np.pi / 4
            angle = handle + off
            axis = np.array([np.cos(angle), np.sin(angle), 0.0])
    yaw = wrap_yaw_for_gripper(float(np.arctan2(axis[1], axis[0])), gripper_yaw(tcp_R))
    half_h = float(obj.size[2]) / 2
    top = pos[2] + half_h
    finger_depth = getattr(env.handle, "finger_length_m", 0.04)
    grasp_z = max(pos[2], top - 0.8 * finger_depth)
    xy = _main_part_xy(env.model, data, obj)
    return (pos[:2] if xy is None else xy), float(grasp_z), top_down_rotation(yaw)


def _segment_distance(p, a, b) -> float:
    ab = np.asarray(b) - np.asarray(a)
    t = float(np.clip(np.dot(np.asarray(p) - a, ab) / max(float(ab @ ab), 1e-9), 0.0, 1.0))
    return float(np.linalg.norm(np.asarray(a) + t * ab - p))


class CarryExpert(WaypointExpert):
    """Each job in turn: above the object, down, close, lift; if it is not in the fingers, grasp again.
    Then over the receptacle (aimed by where the held object is now, not where it was grasped),
    down until the object's bottom is just above the floor or plate, open, back up; if the object
    did not end in the receptacle, pick it up again. At most `attempts` tries per job."""

    attempts = 3

    def reset(self, instruction: str, seed: int) -> None:
        self.jobs = self.env.task.jobs()
        self.job = 0
        self.tries = 0
        self.phase = "grasp"
        super().reset(instruction, seed)

    @property
    def clearance(self) -> float:
        return getattr(self.env.robot, "approach_clearance_m", 0.10)

    def plan(self, env):
        if self.job >= len(self.jobs):
            pos, rot = env.handle.ee_pose(env.data)
            return [Waypoint(pos, rot, GRIPPER_OPEN, tol_m=0.02, max_steps=10_000)]
        job = self.jobs[self.job]
        return self.grasp_waypoints(env, job) if self.phase == "grasp" else self.place_waypoints(env, job)

    def grasp_waypoints(self, env, job: Job) -> list[Waypoint]:
        data = env.data
        travel = data.xpos[job.rec_body][:2] - data.xpos[job.body][:2]
        xy, z, R = grasp_plan(env, job.obj, job.body, travel)
        self.R = R
        bottom = data.xpos[job.body][2] - float(job.obj.size[2]) / 2
        top = bottom + float(job.obj.size[2])
        hover = bottom + float(job.obj.size[2]) + self.clearance
        above = np.array([xy[0], xy[1], hover])
        at = np.array([xy[0], xy[1], z])
        lift = max(self.carry_z(env, job, z - bottom), z + min(0.05, self.clearance / 2))
        # Just over the top, square on, before going down: a can nearly as wide as the open
        # fingers leaves them 3 mm a side.
        over = np.array([xy[0], xy[1], max(z, top + 0.02)])
        return [
            Waypoint(above, R, GRIPPER_OPEN, tol_m=0.015),
            Waypoint(over, R, GRIPPER_OPEN, tol_m=0.004, hold_steps=2, max_step_m=0.03, max_steps=15),
            # The last centimetres slowly: fingers brushing a fruit or a light can knock it away.
            Waypoint(at, R, GRIPPER_OPEN, tol_m=0.008, hold_steps=1, max_step_m=0.015, max_steps=20),
            Waypoint(at, R, GRIPPER_CLOSED, tol_m=0.02, hold_steps=5, max_steps=10),
            Waypoint(np.array([xy[0], xy[1], lift]), R, GRIPPER_CLOSED, tol_m=0.02),
        ]

    def carry_z(self, env, job: Job, below_tcp: float) -> float:
        """TCP height that carries the object's bottom (`below_tcp` under the TCP) over the receptacle's
        rim and over every other object near the way there."""
        data = env.data
        start, end = data.xpos[job.body][:2], data.xpos[job.rec_body][:2]
        over = job.rec.rim_world_z(data, job.rec_body)
        reach = max(float(job.obj.size[0]), float(job.obj.size[1])) / 2 + 0.03
        for ids in env.built_scene.index.objects.values():
            if ids.body_id in (job.body, job.rec_body):
                continue
            p = data.xpos[ids.body_id]
            if abs(p[2] - data.xpos[job.body][2]) > 0.4:  # on other furniture (a shelf, the floor)
                continue
            radius = max(float(ids.spec.size[0]), float(ids.spec.size[1])) / 2
            if _segment_distance(p[:2], start, end) < reach + radius:
                over = max(over, float(p[2] + ids.spec.size[2] / 2))
        return float(over + max(below_tcp, 0.0) + 0.5 * self.clearance)

    def place_waypoints(self, env, job: Job) -> list[Waypoint]:
        data = env.data
        tcp = env.handle.ee_pose(data)[0]
        pos = data.xpos[job.body]
        # TCP height over the object's bottom, as it hangs in the fingers now.
        self.below_tcp = float(tcp[2] - (pos[2] - float(job.obj.size[2]) / 2))
        carry_z = self.carry_z(env, job, self.below_tcp)
        release_z = job.rec.floor_world_z(data, job.rec_body) + self.below_tcp + 0.012
        xy = self.aim_xy(env, job)
        R = self.R
        # Held well above its centre (a bottle by the neck) it swings on a fast carry: go slower.
        swing = tcp[2] - pos[2] > 0.03
        return [
            Waypoint(np.array([xy[0], xy[1], carry_z]), R, GRIPPER_CLOSED, tol_m=0.015,
                     max_step_m=0.02 if swing else CARRY_STEP_M),
            Waypoint(np.array([xy[0], xy[1], release_z]), R, GRIPPER_CLOSED, tol_m=0.01, max_step_m=0.025, max_steps=30),
            Waypoint(np.array([xy[0], xy[1], release_z]), R, GRIPPER_OPEN, tol_m=0.03, hold_steps=4, max_steps=8),
            Waypoint(np.array([xy[0], xy[1], max(carry_z, release_z + self.clearance)]), R, GRIPPER_OPEN, tol_m=0.02,
                     max_steps=30),
        ]

    def aim_xy(self, env, job: Job) -> np.ndarray:
        """Where the TCP goes so the held object's centre lands on the receptacle's centre."""
        data = env.data
        tcp = env.handle.ee_pose(data)[0]
        offset = tcp[:2] - data.xpos[job.body][:2]
        norm = float(np.linalg.norm(offset))
        if norm > 0.06:  # an offset this large is a slip, not the grasp
            offset *= 0.06 / norm
        return data.xpos[job.rec_body][:2] + offset

    def update_waypoint(self, env, index: int, waypoint: Waypoint) -> Waypoint:
        if self.phase != "place" or index > 1 or self.job >= len(self.jobs):
            return waypoint
        xy = self.aim_xy(env, self.jobs[self.job])
        pos = np.array([xy[0], xy[1], waypoint.pos[2]])
        return Waypoint(pos, waypoint.rot, waypoint.grip, waypoint.tol_m, waypoint.hold_steps, waypoint.max_steps,
                        waypoint.max_step_m)

    def next_phase(self, env) -> None:
        """The current list of waypoints is done: judge the outcome and choose what follows."""
        data = env.data
        task = env.task
        job = self.jobs[self.job]
        if self.phase == "grasp":
            if data.xpos[job.body][2] > job.rest_z + 0.01 and task.contacts.robot_touches(data, job.body):
                self.phase = "place"
            else:
                self.tries += 1
        else:
            arrived = job.arrived(data) if job.arrived is not None else in_receptacle(
                data, task.contacts, job.body, job.rec, job.rec_body, job.rec_mask)
            if arrived:
                self.job += 1
                self.tries = 0
            else:
                self.tries += 1
            self.phase = "grasp"
        if self.tries >= self.attempts:  # give up on this one
            self.job += 1
            self.tries = 0
            self.phase = "grasp"
        if self.job < len(self.jobs) and self.phase == "grasp":
            self.jobs[self.job].rest_z = float(data.xpos[self.jobs[self.job].body][2])
        self.waypoints = self.plan(env)
        self.stage = 0
        self.steps_in_stage = 0
        self.hold = 0

    def act(self, observation) -> np.ndarray:
        env = self.env
        if self.job < len(self.jobs) and self.phase == "place" and self.stage <= 1:
            # Dropped on the way: pick it up again from where it fell.
            touching = env.task.contacts.robot_touches(env.data, self.jobs[self.job].body)
            self.dropped = 0 if touching else getattr(self, "dropped", 0) + 1
            if self.dropped >= 3:
                self.dropped = 0
                self.stage = len(self.waypoints)
        if self.job < len(self.jobs) and self.phase == "grasp" and self.stage == 2 and self.steps_in_stage >= 15:
            # The fingers came down on the object instead of around it: back up and grasp again.
            self.tries += 1
            if self.tries >= self.attempts:
                self.job, self.tries = self.job + 1, 0
            self.waypoints = self.plan(env)
            self.stage = self.steps_in_stage = self.hold = 0
        if self.stage >= len(self.waypoints) and self.job < len(self.jobs):
            self.next_phase(env)
        return super().act(observation)

