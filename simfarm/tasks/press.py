"""press: push a named button on the workspace top down past its press point and let it pop back.

Buttons are fixtures of tables, counters and workbenches (simfarm/scene/furniture.py, room
programs' `fixtures: {buttons: ...}`): a cap on a spring-loaded slide with a few millimetres of
travel. A press registers when the cap passes PRESS_FRACTION of its travel; the task latches it
(once pressed in the episode, it stays pressed: `self.pressed`), and succeeds once the hand has let
go: no contact with the cap, the cap back up, the TCP `release_height_m` above the cap's top.
The latch is judged on the states the env shows the task (every control step).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import mujoco
import numpy as np

from simfarm.errors import TaskError
from simfarm.tasks.base import Goal, Subtask, Task, TaskScene, hide_goal_marker
from simfarm.tasks.expert import (
    GRIPPER_CLOSED,
    Waypoint,
    WaypointExpert,
    gripper_yaw,
    top_down_rotation,
    wrap_yaw_for_gripper,
)
from simfarm.tasks.pick_place import reachable, workspace_objects
from simfarm.tasks.refer import refer_to, unambiguous

# The cap counts as back up (the hand let it go) under this fraction of its travel.
RELEASED_FRACTION = 0.3
# "Above the button" (the reach subtask): the TCP within this of the cap's axis, this low above its top.
ABOVE_XY_M = 0.015
ABOVE_Z_M = 0.06
REACH_MARGIN_M = 0.1


@dataclass(frozen=True)
class Button:
    """A button as referring expressions see it (simfarm.tasks.refer): a family, a colour, a size, a
    position (the cap's top at rest, world)."""

    name: str  # the body name, fixture/<piece>/button_<k>
    furniture: str
    color: str
    shape: str
    size: tuple[float, float, float]
    pos: tuple[float, float, float]
    travel_m: float
    family: str = "button"


def scene_buttons(spec) -> list[Button]:
    """Every button of the scene, from its SceneSpec alone (furniture order, then button order)."""
    from simfarm.scene.furniture import BUTTON_CAP_M, button_name, button_top_z

    out = []
    for f in spec.furniture:
        c, s = math.cos(f.yaw_rad), math.sin(f.yaw_rad)
        for k, b in enumerate(f.params.get("buttons") or ()):
            lx, ly = (float(v) for v in b["pos"])
            pos = (f.pos[0] + c * lx - s * ly, f.pos[1] + s * lx + c * ly, f.pos[2] + button_top_z(f, b))
            d = float(b["diameter_m"])
            out.append(Button(button_name(f, k), f.name, str(b["color"]), str(b["shape"]), (d, d, BUTTON_CAP_M),
                              tuple(round(v, 6) for v in pos), float(b["travel_m"])))
    return out


def surface_phrase(spec, name: str) -> str:
    """"the counter", or "the counter in front of you" when the scene has another of its kind."""
    furniture = next((f for f in spec.furniture if f.name == name), None)
    if furniture is None:
        return "the table"
    kind = furniture.kind.replace("_", " ")
    twins = [f for f in spec.furniture if f.kind == furniture.kind and f.name != name]
    return f"the {kind} in front of you" if twins else f"the {kind}"


class Press(Task):
    name: ClassVar[str] = "press"
    default_scene: ClassVar[str] = "kitchen"
    defaults: ClassVar[dict] = {"release_height_m": 0.03}
    environment_state_names: ClassVar[tuple[str, ...]] = (
        "button_depth_m",
        "button_depth_fraction",
        "button_pressed",
        *(f"button_top_{a}" for a in "xyz"),
        *(f"tcp_to_button_top_{a}" for a in "xyz"),
    )

    @classmethod
    def scene_request(cls, config):
        from simfarm.scene import SceneRequest

        return SceneRequest(workspace="surface")

    @classmethod
    def can_appear_in(cls, program) -> bool:
        """Only programs that put buttons on their surfaces (`fixtures: {buttons: ...}`)."""
        return program is not None and max(program.fixtures.get("buttons", (0, 0))) > 0

    def _candidates(self, scene: TaskScene) -> tuple[list[Button], list]:
        """(the buttons of the workspace's room, the workspace buttons in reach a phrase can name alone)."""
        buttons = self._room_buttons(scene)
        context = [*buttons, *workspace_objects(scene)]
        robot = scene.spec.robot
        mine = [b for b in buttons if b.furniture == scene.spec.workspace
                and reachable(scene, b.pos, margin_m=REACH_MARGIN_M)]
        nameable = [b for b in mine if unambiguous(b, context, robot)]
        if not nameable:
            raise TaskError(
                f"press needs a button within reach on the workspace {scene.spec.workspace!r} that a phrase can name "
                f"alone; its room has {len(buttons)} button(s), {len(mine)} of them on the workspace in reach "
                f"(scene {scene.spec.program!r}; buttons come from the room program's `fixtures: {{buttons: ...}}`)"
            )
        return buttons, nameable

    @staticmethod
    def _room_buttons(scene: TaskScene) -> list[Button]:
        """The buttons of the workspace's room: what an instruction must tell the goal button from."""
        room = next((f.room for f in scene.spec.furniture if f.name == scene.spec.workspace), 0)
        in_room = {f.name for f in scene.spec.furniture if f.room == room}
        return [b for b in scene_buttons(scene.spec) if b.furniture in in_room]

    def check_scene(self, scene: TaskScene) -> None:
        self._candidates(scene)

    def reset(self, scene: TaskScene, data: mujoco.MjData, rng: np.random.Generator) -> Goal:
        self.scene = scene
        model = scene.model
        buttons, nameable = self._candidates(scene)
        robot = scene.spec.robot
        button = self.choose(rng, nameable, "button", lambda b: b.name)
        ids = scene.index.buttons.get(button.name)
        if ids is None:
            raise TaskError(f"press: button {button.name!r} of the SceneSpec is not in the built scene's index")
        self.button, self.ids = button, ids
        self.qpos_adr = ids.qpos_adr
        self.rest_q, stop_q = ids.range
        self.travel_m = stop_q - self.rest_q
        self.press_depth_m = ids.press_depth_m - self.rest_q
        self.top_site = ids.top_site_id
        self.cap_geoms = np.flatnonzero(model.geom_bodyid == ids.body_id)
        self.robot_geoms = np.zeros(model.ngeom, dtype=bool)
        self.robot_geoms[np.asarray(scene.robot.geom_ids, dtype=int)] = True
        self.tcp_site = scene.robot.tcp_site_id
        self.rest_top = data.site_xpos[self.top_site].copy()
        self.pressed = False
        context = [*buttons, *workspace_objects(scene)]
        ref = refer_to(button, context, rng, robot)
        self.ref = ref
        hide_goal_marker(model, data)
        values = {"button": button.name, "press_depth_m": round(self.press_depth_m, 6),
                  "release_height_m": float(self.options["release_height_m"])}
        self.goal = self.make_goal(rng, values, button=ref.text, surface=surface_phrase(scene.spec, button.furniture))
        return self.goal

    # -- state ----------------------------------------------------------------------------------

    def depth(self, data: mujoco.MjData) -> float:
        """How far the cap is pressed in (m; 0 at rest)."""
        return float(data.qpos[self.qpos_adr] - self.rest_q)

    def is_pressed(self, data: mujoco.MjData) -> bool:
        """Whether the button registered a press this episode (latched on the states seen so far)."""
        if not self.pressed and self.depth(data) >= self.press_depth_m:
            self.pressed = True
        return self.pressed

    def touching(self, data: mujoco.MjData) -> bool:
        """Whether a robot geom touches the cap."""
        n = data.ncon
        if not n:
            return False
        g1, g2 = data.contact.geom1[:n], data.contact.geom2[:n]
        on_cap = np.isin(g1, self.cap_geoms) | np.isin(g2, self.cap_geoms)
        by_robot = self.robot_geoms[g1] | self.robot_geoms[g2]
        return bool(np.any(on_cap & by_robot))

    def released(self, data: mujoco.MjData) -> bool:
        """The hand is off the button: not touching it, the cap back up, the TCP above its top."""
        tcp = data.site_xpos[self.tcp_site]
        return (self.depth(data) < RELEASED_FRACTION * self.travel_m and not self.touching(data)
                and tcp[2] >= self.rest_top[2] + float(self.options["release_height_m"]))

    def above(self, data: mujoco.MjData) -> bool:
        """The TCP just above the button (within ABOVE_XY_M of its axis, ABOVE_Z_M of its top)."""
        tcp = data.site_xpos[self.tcp_site]
        return bool(np.hypot(*(tcp[:2] - self.rest_top[:2])) < ABOVE_XY_M and tcp[2] < self.rest_top[2] + ABOVE_Z_M)

    def subtasks(self) -> list[Subtask]:
        return [
            self.subtask("reach", lambda data: self.is_pressed(data) or self.above(data)),
            self.subtask("press", self.success),
        ]

    def environment_state(self, data: mujoco.MjData) -> np.ndarray:
        top = data.site_xpos[self.top_site]
        depth = self.depth(data)
        return np.concatenate([[depth, depth / self.travel_m, float(self.is_pressed(data))], top,
                               top - data.site_xpos[self.tcp_site]]).astype(np.float32)

    def success(self, data: mujoco.MjData) -> bool:
        return bool(self.is_pressed(data) and self.released(data))

    def reward(self, data: mujoco.MjData) -> float:
        if self.success(data):
            return 1.0
        tcp = data.site_xpos[self.tcp_site]
        if self.is_pressed(data):
            lift = (tcp[2] - self.rest_top[2]) / float(self.options["release_height_m"])
            return float(0.7 + 0.25 * np.clip(lift, 0.0, 1.0))
        reach = 1 - np.tanh(10 * np.linalg.norm(self.rest_top - tcp))
        return float(0.3 * reach + 0.4 * np.clip(self.depth(data) / self.press_depth_m, 0.0, 1.0))

    def make_expert(self, env):
        return PressExpert(env)


def hand_below_tcp(model: mujoco.MjModel, data: mujoco.MjData, geom_ids, tcp_site: int, radius_m: float = 0.12) -> float:
    """How far the hand's lowest point reaches below the TCP (m), from the bounding boxes of the
    robot geoms within `radius_m` of the TCP (the fingers and palm, not the arm's base)."""
    ids = np.asarray(geom_ids, dtype=int)
    R = data.geom_xmat[ids].reshape(-1, 3, 3)
    center = data.geom_xpos[ids] + np.einsum("nij,nj->ni", R, model.geom_aabb[ids, :3])
    tcp = data.site_xpos[tcp_site]
    near = np.linalg.norm(center - tcp, axis=1) < radius_m
    if not near.any():
        return 0.0
    half_z = np.einsum("nj,nj->n", np.abs(R[near, 2, :]), model.geom_aabb[ids[near], 3:])
    return float(tcp[2] - np.min(center[near, 2] - half_z))


class PressExpert(WaypointExpert):
    """Closed fingers from above: over the button, down to just above the cap, press slowly past
    the press point (stopping as soon as it registers), lift off.

    The hand's long side (the palm) is turned away from tall objects nearby. The press target is
    the stop plus 2 mm: the cap's end stop (and the housing under it) take the rest of the push.
    """

    press_step_m = 0.002  # per control step while pressing: 2 cm/s at 10 Hz
    # Lower than WaypointExpert's 0.6: the gains stay stable with up to 3 steps of action delay
    # (heavy randomization), where 0.6 overshoots a button's few centimetres back and forth.
    pos_gain = 0.35
    rot_gain = 0.35

    def plan(self, env):
        task: Press = env.task
        data = env.data
        top = task.rest_top.copy()
        _, tcp_R = env.handle.ee_pose(data)
        R = top_down_rotation(wrap_yaw_for_gripper(self._palm_yaw(env, task, top), gripper_yaw(tcp_R)))
        clearance = getattr(env.robot, "approach_clearance_m", 0.10)
        self.tip_m = hand_below_tcp(env.model, data, env.handle.geom_ids, task.tcp_site) if tcp_R[2, 2] < -0.9 else 0.003
        self.tip_m = float(np.clip(self.tip_m, 0.0, 0.03))
        up = np.array([0.0, 0.0, 1.0])
        hover = top + up * clearance
        just_above = top + up * (self.tip_m + 0.012)
        pressed = top - up * (task.travel_m + 0.002 - self.tip_m)
        lift = top + up * (float(task.options["release_height_m"]) + 0.03)
        self.press_stage = 2
        return [
            Waypoint(hover, R, GRIPPER_CLOSED, tol_m=0.015),
            Waypoint(just_above, R, GRIPPER_CLOSED, tol_m=0.004, max_step_m=0.02, max_steps=40),
            Waypoint(pressed, R, GRIPPER_CLOSED, tol_m=0.001, max_step_m=self.press_step_m, max_steps=30),
            Waypoint(lift, R, GRIPPER_CLOSED, tol_m=0.01, max_step_m=0.02, max_steps=1000),
        ]

    @staticmethod
    def _palm_yaw(env, task: Press, top: np.ndarray) -> float:
        """The finger-motion yaw (the palm's long axis) that keeps the palm farthest from objects
        taller than the hand's fingers, near the button; the robot's sideways axis when none is near."""
        objs = [o for o in workspace_objects(task.scene) if np.hypot(*(np.asarray(o.pos[:2]) - top[:2])) < 0.3
                and o.pos[2] + o.size[2] / 2 > top[2] + 0.03]
        robot = task.scene.spec.robot
        base = float(getattr(robot, "yaw_rad", 0.0)) + np.pi / 2
        if not objs:
            return base
        best, best_score = base, -np.inf
        for k in range(12):
            yaw = base + k * np.pi / 12
            u = np.array([np.cos(yaw), np.sin(yaw)])
            score = np.inf
            for o in objs:
                rel = np.asarray(o.pos[:2]) - top[:2]
                along = float(np.clip(rel @ u, -0.11, 0.11))
                score = min(score, float(np.linalg.norm(rel - along * u)) - max(o.size[0], o.size[1]) / 2)
            if score > best_score + 1e-6:
                best, best_score = yaw, score
        return best

    def act(self, observation):
        # The press is over as soon as the button registers it (no need to push to the stop).
        if self.stage == self.press_stage and self.env.task.is_pressed(self.env.data):
            self.stage, self.steps_in_stage, self.hold = self.press_stage + 1, 0, 0
        return super().act(observation)
