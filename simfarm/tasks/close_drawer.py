"""close_drawer: push an open drawer of the workspace cabinet shut.

The episode starts with one drawer of the cabinet the robot faces pulled out (the task's reset sets
its slide to a sampled fraction of its travel); the robot pushes it back until it is nearly shut.
The drawer helpers here (which drawers a cabinet has, which the robot reaches, how to name them)
serve place_in_drawer too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import mujoco
import numpy as np

from simfarm.errors import TaskError
from simfarm.tasks.base import Goal, Task, TaskScene
from simfarm.tasks.expert import GRIPPER_CLOSED, Waypoint, WaypointExpert

POSITION_WORDS = {1: ("",), 2: ("top", "bottom"), 3: ("top", "middle", "bottom")}
# Bar handles (simfarm.scene.furniture._add_handle): the bar's half thickness along the drawer axis.
HANDLE_BAR_HALF_M = 0.008


@dataclass(frozen=True)
class DrawerSlot:
    """One drawer of the workspace cabinet, judged from the SceneSpec alone."""

    key: str  # "drawer_<k>" (furniture.handle_local_positions)
    body: str  # "furn/<cab>/drawer_<k>" (SceneIndex.drawers)
    handle_world: tuple[float, float, float]  # closed drawer's handle site
    phrase: str  # "the top drawer", "the drawer" (a cabinet with one)


def to_world(piece, local) -> np.ndarray:
    """A point of a furniture piece's local frame in the world."""
    c, s = math.cos(piece.yaw_rad), math.sin(piece.yaw_rad)
    return np.array([piece.pos[0] + c * local[0] - s * local[1], piece.pos[1] + s * local[0] + c * local[1], piece.pos[2] + local[2]])


def workspace_cabinet(spec):
    if spec.workspace is None:
        raise TaskError("this task needs a cabinet as the workspace (SceneRequest(workspace='drawer')); the scene has none")
    piece = spec.furniture_named(spec.workspace)
    if piece.kind != "cabinet":
        raise TaskError(f"this task needs a cabinet as the workspace; {piece.name!r} is a {piece.kind}")
    return piece


def furniture_phrase(piece) -> str:
    return f"the {piece.kind.replace('_', ' ')}"


def cabinet_drawers(spec, robot_model) -> list[DrawerSlot]:
    """The workspace cabinet's drawers whose handle the robot reaches, top drawer first."""
    from simfarm.scene.furniture import handle_local_positions

    cab = workspace_cabinet(spec)
    handles = handle_local_positions(cab)
    keys = sorted((k for k in handles if k.startswith("drawer_")), key=lambda k: -handles[k][2])
    words = POSITION_WORDS.get(len(keys), tuple(f"number {i + 1}" for i in range(len(keys))))
    robot = spec.robot
    out = []
    for i, key in enumerate(keys):
        world = to_world(cab, handles[key])
        dist = math.hypot(world[0] - robot.pos[0], world[1] - robot.pos[1])
        if dist < robot_model.reach_m - 0.05 and world[2] > 0.1:
            phrase = " ".join(w for w in ("the", words[i], "drawer") if w)
            out.append(DrawerSlot(key, f"furn/{cab.name}/{key}", tuple(world), phrase))
    return out


class DrawerState:
    """Runtime view of one drawer: its joint, travel, outward axis and handle site."""

    def __init__(self, scene: TaskScene, data: mujoco.MjData, slot: DrawerSlot):
        info = scene.index.drawers.get(slot.body)
        if info is None:
            raise TaskError(f"drawer {slot.body!r} of the SceneSpec is not in the scene index")
        model = scene.model
        self.slot = slot
        self.info = info
        self.qpos_adr = int(model.jnt_qposadr[info.joint_id])
        lo, hi = model.jnt_range[info.joint_id]
        self.closed_q, self.travel_m = float(lo), float(hi - lo)
        self.handle_site = info.handle_site_id
        self.body_id = info.body_id
        # Drawers slide along their joint axis; out is the direction of increasing q (toward the robot).
        out = data.xaxis[info.joint_id].copy()
        out[2] = 0.0
        self.out_dir = out / np.linalg.norm(out)

    def opening(self, data) -> float:
        return float(data.qpos[self.qpos_adr] - self.closed_q)

    def set_opening(self, model, data, opening_m: float) -> None:
        data.qpos[self.qpos_adr] = self.closed_q + opening_m
        data.qvel[model.jnt_dofadr[self.info.joint_id]] = 0.0
        mujoco.mj_forward(model, data)


class CloseDrawer(Task):
    name: ClassVar[str] = "close_drawer"
    default_scene: ClassVar[str] = "kitchen"
    defaults: ClassVar[dict] = {"start_open_fraction": [0.6, 0.9], "closed_fraction": 0.05}
    environment_state_names: ClassVar[tuple[str, ...]] = (
        "drawer_opening_m",
        "drawer_open_fraction",
        *(f"handle_pos_{a}" for a in "xyz"),
        *(f"tcp_to_handle_{a}" for a in "xyz"),
    )

    @classmethod
    def scene_request(cls, config):
        from simfarm.scene import SceneRequest

        return SceneRequest(workspace="drawer")

    def _slots(self, scene: TaskScene) -> list[DrawerSlot]:
        slots = cabinet_drawers(scene.spec, scene.robot_model)
        if not slots:
            raise TaskError(f"close_drawer: no drawer handle of {scene.spec.workspace!r} is within the robot's reach")
        return slots

    def check_scene(self, scene: TaskScene) -> None:
        self._slots(scene)

    def reset(self, scene: TaskScene, data: mujoco.MjData, rng: np.random.Generator) -> Goal:
        self.scene = scene
        slots = self._slots(scene)
        slot = self.choose(rng, slots, "drawer", lambda d: d.body)
        self.drawer = DrawerState(scene, data, slot)
        lo, hi = self.options["start_open_fraction"]
        self.start_opening_m = float(rng.uniform(lo, hi)) * self.drawer.travel_m
        if not self.composed:  # a composite's earlier steps leave the drawer as they leave it
            self.drawer.set_opening(scene.model, data, self.start_opening_m)
        self.tcp_site = scene.robot.tcp_site_id
        self.show_goal(data, (0.0, 0.0, -10.0))
        cab = workspace_cabinet(scene.spec)
        self.goal = self.make_goal(
            rng,
            {"drawer": slot.body, "start_opening_m": self.start_opening_m, "closed_fraction": self.options["closed_fraction"]},
            drawer=slot.phrase, furniture=furniture_phrase(cab),
        )
        return self.goal

    # -- judging -------------------------------------------------------------------------------

    def opening(self, data) -> float:
        return self.drawer.opening(data)

    def handle_pos(self, data) -> np.ndarray:
        return data.site_xpos[self.drawer.handle_site]

    def reached(self, data) -> bool:
        """The hand is at the drawer's front (or the drawer is already moving shut)."""
        tcp = data.site_xpos[self.tcp_site]
        near = np.linalg.norm(tcp - self.handle_pos(data)) < 0.06
        return bool(near or self.opening(data) < self.start_opening_m - 0.02)

    def success(self, data: mujoco.MjData) -> bool:
        return self.opening(data) <= self.options["closed_fraction"] * self.drawer.travel_m

    def subtasks(self):
        return [self.subtask("reach", self.reached), self.subtask("close", self.success)]

    def environment_state(self, data: mujoco.MjData) -> np.ndarray:
        handle = self.handle_pos(data)
        opening = self.opening(data)
        tcp = data.site_xpos[self.tcp_site]
        return np.concatenate([[opening, opening / self.drawer.travel_m], handle, handle - tcp]).astype(np.float32)

    def reward(self, data: mujoco.MjData) -> float:
        if self.success(data):
            return 1.0
        tcp = data.site_xpos[self.tcp_site]
        reach = 1 - np.tanh(10 * np.linalg.norm(self.handle_pos(data) - tcp))
        closed = 1.0 - min(1.0, self.opening(data) / max(self.start_opening_m, 1e-6))
        return float(0.3 * reach + 0.6 * closed)

    def make_expert(self, env):
        return CloseDrawerExpert(env)


def push_rotation(out_dir: np.ndarray, tilt_rad: float) -> np.ndarray:
    """world_R_tcp pointing down, the fingertips tilted by `tilt_rad` toward the cabinet (along -out),
    fingers moving sideways: the hand trails on the robot's side of whatever the fingers press."""
    up = np.array([0.0, 0.0, 1.0])
    out = np.asarray(out_dir, dtype=float)
    z = -up * np.cos(tilt_rad) - out * np.sin(tilt_rad)
    y = np.cross(up, out)
    return np.column_stack([np.cross(y, z), y, z])


class CloseDrawerExpert(WaypointExpert):
    """Lower the closed fingers in front of the drawer's bar handle, then push it home along the drawer axis.

    The push target is re-planned every step from where the bar is now (a few centimetres beyond
    it), so the fingers stay on the bar whatever the drawer's friction does; it aims a little past
    the closed position, where the carcass stops the drawer.
    """

    # Tilt of the fingers against the bar, by how far the drawer is still open: pointing back at the
    # robot while the bar is close to the arm's base (a forward tilt would fold the arm against its
    # pedestal), forward as it nears home (a backward tilt would run the hand into the drawer above).
    tilt_by_opening = ((0.04, 0.35), (0.14, -0.3))
    ahead_m = 0.03  # each step's target lies this far beyond the bar
    finger_half_m = 0.012  # half thickness of the closed fingers along the push
    standoff_m = 0.06  # where the fingers come down, in front of the bar

    def plan(self, env):
        task: CloseDrawer = env.task
        drawer = task.drawer
        out = drawer.out_dir
        up = np.array([0.0, 0.0, 1.0])
        self.R = self.rotation(task.opening(env.data), out)
        handle = task.handle_pos(env.data).copy()
        # The TCP a finger's half thickness in front of the bar, a little below its centre line.
        self.contact_offset = out * (HANDLE_BAR_HALF_M + self.finger_half_m + 0.004) - up * 0.004
        front = handle + self.contact_offset
        clearance = getattr(env.robot, "approach_clearance_m", 0.10)
        # Down to the bar's height well in front of it, then in along the drawer axis: coming down
        # onto the bar could slip the fingers behind it (they would pull the drawer open).
        standoff = front + out * self.standoff_m
        return [
            Waypoint(standoff + up * max(0.05, 0.6 * clearance), self.R, GRIPPER_CLOSED, tol_m=0.015),
            Waypoint(standoff, self.R, GRIPPER_CLOSED, tol_m=0.01, max_step_m=0.03, max_steps=30),
            Waypoint(front, self.R, GRIPPER_CLOSED, tol_m=0.005, max_steps=10_000, max_step_m=0.025),
        ]

    def rotation(self, opening_m: float, out: np.ndarray) -> np.ndarray:
        (q0, t0), (q1, t1) = self.tilt_by_opening
        return push_rotation(out, float(np.interp(opening_m, (q0, q1), (t0, t1))))

    def update_waypoint(self, env, index, waypoint):
        if index != 2:
            return waypoint
        task: CloseDrawer = env.task
        drawer = task.drawer
        handle = task.handle_pos(env.data)
        remaining = task.opening(env.data) + 0.01
        target = handle + self.contact_offset - drawer.out_dir * min(self.ahead_m, remaining)
        R = self.rotation(task.opening(env.data), drawer.out_dir)
        return Waypoint(target, R, GRIPPER_CLOSED, tol_m=0.0, max_steps=10**9, max_step_m=0.025)
