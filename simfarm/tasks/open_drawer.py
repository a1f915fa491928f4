"""open_drawer: pull a named drawer of the workspace cabinet open past a fraction of its travel."""

from __future__ import annotations

from typing import ClassVar

import mujoco
import numpy as np

from simfarm.errors import TaskError
from simfarm.tasks.base import Goal, Subtask, Task, TaskScene, hide_goal_marker
from simfarm.tasks.expert import (
    GRIPPER_CLOSED,
    Waypoint,
    WaypointExpert,
)

POSITION_WORDS = {1: ("",), 2: ("top", "bottom"), 3: ("top", "middle", "bottom")}


def furniture_phrase(spec, name: str) -> str:
    """"the cabinet", or "the cabinet in front of you" when the scene has another of its kind."""
    furniture = next((f for f in spec.furniture if f.name == name), None)
    if furniture is None:
        return "the cabinet"
    kind = furniture.kind.replace("_", " ")
    twins = [f for f in spec.furniture if f.kind == furniture.kind and f.name != name]
    return f"the {kind} in front of you" if twins else f"the {kind}"


def front_rotation(out_dir: np.ndarray) -> np.ndarray:
    """world_R_tcp approaching horizontally along -out_dir, fingers moving vertically (across a bar handle)."""
    z = -np.asarray(out_dir, dtype=float)
    z /= np.linalg.norm(z)
    y = np.array([0.0, 0.0, 1.0])
    return np.column_stack([np.cross(y, z), y, z])


class OpenDrawer(Task):
    name: ClassVar[str] = "open_drawer"
    default_scene: ClassVar[str] = "kitchen"
    defaults: ClassVar[dict] = {"open_fraction": 0.6}
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

    def reset(self, scene: TaskScene, data: mujoco.MjData, rng: np.random.Generator) -> Goal:
        self.scene = scene
        model = scene.model
        cabinet = scene.spec.workspace
        prefix = f"furn/{cabinet}/drawer_"
        drawers = {name: info for name, info in scene.index.drawers.items() if name.startswith(prefix)}
        if not drawers:
            raise TaskError(f"open_drawer needs a cabinet with drawers as the workspace; {cabinet!r} has none")
        # Drawers ordered top to bottom, so the instruction can say which one.
        ordered = sorted(drawers, key=lambda n: -data.site_xpos[drawers[n].handle_site_id][2])
        reachable = [n for n in ordered if self._reachable(scene, data.site_xpos[drawers[n].handle_site_id])]
        if not reachable:
            raise TaskError(f"open_drawer: no drawer handle of {cabinet!r} is within the robot's reach")
        name = self.choose(rng, reachable, "drawer", lambda n: n)
        info = drawers[name]
        self.drawer = info
        self.qpos_adr = int(model.jnt_qposadr[info.joint_id])
        lo, hi = model.jnt_range[info.joint_id]
        self.closed_q, self.travel_m = float(lo), float(hi - lo)
        self.handle_site = info.handle_site_id
        self.tcp_site = scene.robot.tcp_site_id
        # Drawers slide along their joint axis (world frame); out is the direction of increasing q.
        self.out_dir = data.xaxis[info.joint_id].copy()
        self.out_dir[2] = 0.0
        self.out_dir /= np.linalg.norm(self.out_dir)
        words = POSITION_WORDS.get(len(ordered), tuple(f"number {i + 1}" for i in range(len(ordered))))
        which = words[ordered.index(name)]
        hide_goal_marker(model, data)
        self.goal = self.make_goal(rng, {"drawer": name, "open_fraction": self.options["open_fraction"]},
                                   drawer=which, furniture=furniture_phrase(scene.spec, cabinet))
        return self.goal

    def subtasks(self) -> list[Subtask]:
        # Hooked once the pull has begun (1 cm of travel).
        return [self.subtask("reach", lambda data: self.opening(data) > 0.01), self.subtask("open", self.success)]

    @staticmethod
    def _reachable(scene: TaskScene, pos) -> bool:
        robot = scene.spec.robot
        dist = np.hypot(pos[0] - robot.pos[0], pos[1] - robot.pos[1])
        return bool(dist < (scene.robot_model.reach_m - 0.05) and pos[2] > 0.1)

    def opening(self, data) -> float:
        return float(data.qpos[self.qpos_adr] - self.closed_q)

    def environment_state(self, data: mujoco.MjData) -> np.ndarray:
        handle = data.site_xpos[self.handle_site]
        opening = self.opening(data)
        return np.concatenate([[opening, opening / self.travel_m], handle, handle - data.site_xpos[self.tcp_site]]).astype(np.float32)

    def success(self, data: mujoco.MjData) -> bool:
        return self.opening(data) >= self.options["open_fraction"] * self.travel_m

    def reward(self, data: mujoco.MjData) -> float:
        if self.success(data):
            return 1.0
        reach = 1 - np.tanh(10 * np.linalg.norm(data.site_xpos[self.handle_site] - data.site_xpos[self.tcp_site]))
        frac = min(1.0, self.opening(data) / (self.options["open_fraction"] * self.travel_m))
        return float(0.3 * reach + 0.6 * frac)

    def make_expert(self, env):
        return OpenDrawerExpert(env)


def hook_rotation(out_dir: np.ndarray, tilt_rad: float) -> np.ndarray:
    """world_R_tcp pointing down, tilted by `tilt_rad` toward the drawer face, fingers moving sideways."""
    up = np.array([0.0, 0.0, 1.0])
    out = np.asarray(out_dir, dtype=float)
    z = -up * np.cos(tilt_rad) - out * np.sin(tilt_rad)
    y = np.cross(up, out)
    return np.column_stack([np.cross(y, z), y, z])


class OpenDrawerExpert(WaypointExpert):
    """Hook the closed fingers into the gap behind the bar handle from above, then pull along the drawer axis.

    A horizontal grasp from the front (what a person does) needs joint configurations beyond the
    Panda's limits with the handle near mount height half a metre away, and a top-down grasp across
    the bar puts the back finger on the drawer front. Closed fingers, sideways, are 2 cm thick: they
    fit the 3 cm gap, and a tilt keeps the hand body clear of the face and handle above.
    """

    tilt_rad = 0.6
    above_bar_m = 0.04
    gap_offset_m = 0.022  # fingertips this far behind the bar's centre, toward the drawer face

    def plan(self, env):
        task: OpenDrawer = env.task
        handle = env.data.site_xpos[task.handle_site].copy()
        out = task.out_dir
        up = np.array([0.0, 0.0, 1.0])
        R = hook_rotation(out, self.tilt_rad)
        pull = task.travel_m * min(1.0, task.options["open_fraction"] + 0.2)
        hook = handle - out * self.gap_offset_m
        return [
            # In front of the bar and just above it, then over it, then down into the gap: coming
            # straight down would meet the handle of the drawer above.
            Waypoint(hook + up * self.above_bar_m + out * (self.gap_offset_m + 0.08), R, GRIPPER_CLOSED, tol_m=0.015),
            Waypoint(hook + up * self.above_bar_m, R, GRIPPER_CLOSED, tol_m=0.01, max_step_m=0.03),
            # The fingertips may rest on the drawer's lip short of the target: hooked is enough.
            Waypoint(hook, R, GRIPPER_CLOSED, tol_m=0.008, max_step_m=0.02, max_steps=10),
            Waypoint(hook + out * pull, R, GRIPPER_CLOSED, tol_m=0.01, max_steps=80, max_step_m=0.03),
            Waypoint(hook + out * pull + up * 0.10, R, GRIPPER_CLOSED, tol_m=0.02, max_steps=1000),
        ]
