"""slide: push an object along its surface, without lifting it, to the left or right edge of the
surface as the robot sees it ("slide the book to the left edge of the table").

The goal is a strip along that edge: the object's centre at most EDGE_STRIP_M from the edge and
still on the surface, standing as it stood, not held. The expert is push_to's line pusher, aiming
the object's centre 5-8 cm in from the edge (further for wide things, so they do not overhang).
"""

from __future__ import annotations

from typing import ClassVar

import mujoco
import numpy as np

from simfarm.errors import TaskError
from simfarm.tasks.base import Goal, Subtask, Task, TaskScene
from simfarm.tasks.lift import held, in_reach, robot_geom_mask, surface_phrase
from simfarm.tasks.pick_place import object_body, workspace_objects
from simfarm.tasks.push import _blocked, _inside, surface_of
from simfarm.tasks.push_to import (
    ON_SURFACE_TOLERANCE_M,
    UPRIGHT_COS,
    LinePushExpert,
    _surface_of_spec,
    free_spot,
    hand_fits,
    palm_clear,
    path_in_reach,
    pushable,
    spec_extent,
)
from simfarm.tasks.refer import Frame, footprint_radius, refer_to, unambiguous

# The edge region: the object's centre within this of the edge (and on the surface).
EDGE_STRIP_M = 0.12
# Where the expert aims the centre, from the edge: the object's reach toward the edge plus 1 cm,
# kept within these bounds.
AIM_FROM_EDGE_M = (0.05, 0.08)
# A slide is at least this long.
MIN_SLIDE_M = 0.10
SIDES = {"left": 1.0, "right": -1.0}  # robot-frame y sign of the edge
OPPOSITE = {"left": "right", "right": "left"}


class Edge:
    """One edge of a rectangular surface: `normal` (world xy, outward), `half` (the surface's
    half extent along it), `along` (the edge direction, unit) and `half_along`."""

    def __init__(self, surface, side: str, robot):
        c, s = np.cos(surface.yaw_rad), np.sin(surface.yaw_rad)
        axes = [np.array([c, s]), np.array([-s, c])]
        halves = [float(surface.half_extents[0]), float(surface.half_extents[1])]
        # The robot's left in the world: its frame's +y.
        frame = Frame(robot)
        left = frame.R.T @ np.array([0.0, 1.0])
        want = SIDES[side] * left
        k = int(np.argmax([abs(float(a @ want)) for a in axes]))
        sign = 1.0 if float(axes[k] @ want) > 0 else -1.0
        self.center = np.asarray(surface.center_world[:2], dtype=float)
        self.normal = sign * axes[k]
        self.half = halves[k]
        self.along = axes[1 - k]
        self.half_along = halves[1 - k]

    def distance(self, xy) -> float:
        """How far world point `xy` is in from the edge (negative: beyond it)."""
        return float(self.half - (np.asarray(xy[:2]) - self.center) @ self.normal)

    def point(self, from_edge: float, along: float) -> np.ndarray:
        return self.center + self.normal * (self.half - from_edge) + self.along * along

    def along_of(self, xy) -> float:
        return float((np.asarray(xy[:2]) - self.center) @ self.along)


class Slide(Task):
    name: ClassVar[str] = "slide"
    defaults: ClassVar[dict] = {"edge_strip_m": EDGE_STRIP_M, "max_slide_m": 0.6}
    environment_state_names: ClassVar[tuple[str, ...]] = (
        *(f"object_pos_{a}" for a in "xyz"),
        *(f"object_quat_{a}" for a in "wxyz"),
        *(f"object_linvel_{a}" for a in "xyz"),
        *(f"target_pos_{a}" for a in "xyz"),
        *(f"tcp_to_object_{a}" for a in "xyz"),
        "edge_distance_m",
    )

    @classmethod
    def scene_request(cls, config):
        from simfarm.scene import SceneRequest

        return SceneRequest(workspace="surface", min_workspace_objects=1)

    def _options(self, scene: TaskScene) -> list[tuple]:
        """(object, side, target xy) for every clear, reachable slide to an edge strip."""
        objects = workspace_objects(scene)
        robot = scene.spec.robot
        strip = float(self.options["edge_strip_m"])
        found = []
        for obj in objects:
            if not pushable(scene, obj) or not unambiguous(obj, objects, robot):
                continue
            surface = _surface_of_spec(scene, obj.support)
            others = [o for o in objects if o is not obj]
            start = np.asarray(obj.pos[:2], dtype=float)
            for side in SIDES:
                edge = Edge(surface, side, robot)
                reach = spec_extent(obj, edge.normal)
                from_edge = float(np.clip(reach + 0.01, *AIM_FROM_EDGE_M))
                if edge.distance(start) < from_edge + MIN_SLIDE_M or edge.distance(start) <= strip + 0.02:
                    continue
                # Straight across, else a little nearer the robot or further along, else (an edge at
                # the end of the arm's reach) 2 cm inside the strip's inner side.
                along0 = edge.along_of(start)
                aims = [(from_edge, along0 + shift) for shift in (0.0, -0.05, 0.05, -0.1, 0.1, -0.15, 0.15)]
                aims += [(max(from_edge, strip - 0.02), along0 + shift) for shift in (0.0, -0.05, 0.05, -0.1, 0.1)]
                for aim_from_edge, along in aims:
                    if abs(along) > edge.half_along - footprint_radius(obj) - 0.03:
                        continue
                    target = edge.point(aim_from_edge, along)
                    u = (target - start) / max(float(np.linalg.norm(target - start)), 1e-9)
                    behind = start - u * (spec_extent(obj, -u) + 0.05)
                    if (
                        in_reach(scene, (*target, 0), margin_m=0.1)
                        and in_reach(scene, (*behind, 0), margin_m=0.1)
                        and _inside(surface, behind, margin=0.0)
                        and not _blocked(others, obj, start, target)
                        and free_spot(others, target, footprint_radius(obj))
                        and free_spot(others, behind, 0.03)
                        and palm_clear(others, behind, target - u * (spec_extent(obj, -u) + 0.01), surface.top_z)
                        and path_in_reach(scene, behind, target, near_margin_m=0.15)
                        and float(np.linalg.norm(target - start)) <= float(self.options["max_slide_m"])
                        and hand_fits(scene, surface, behind, u)
                        and hand_fits(scene, surface, target - u * spec_extent(obj, -u), u)
                    ):
                        found.append((obj, side, target))
                        break
        if not found:
            raise TaskError(f"slide needs a low, non-rolling object with a clear, reachable slide to the left or right edge "
                            f"of {scene.spec.workspace!r}; found none (scene {scene.spec.program!r})")
        return found

    def check_scene(self, scene: TaskScene) -> None:
        self._options(scene)

    def reset(self, scene: TaskScene, data: mujoco.MjData, rng: np.random.Generator) -> Goal:
        self.scene = scene
        options = self._options(scene)
        objects = workspace_objects(scene)
        robot = scene.spec.robot
        obj, side, target_xy = options[int(rng.integers(len(options)))]
        surface = surface_of(scene, obj.support)
        self.obj, self.side = obj, side
        self.obj_body = object_body(scene.model, obj)
        self.edge = Edge(surface, side, robot)
        self.surface = surface
        self.target = np.array([target_xy[0], target_xy[1], surface.top_z])
        self.start_xy = np.asarray(obj.pos[:2], dtype=float)
        self.direction = (self.target[:2] - self.start_xy) / np.linalg.norm(self.target[:2] - self.start_xy)
        self.rest_z = float(obj.pos[2])
        self.tcp_site = scene.robot.tcp_site_id
        self._mask = robot_geom_mask(scene.model, scene.robot)
        self.show_goal(data, self.target + [0, 0, 0.001])
        values = {"object": obj.name, "side": side, "edge_strip_m": float(self.options["edge_strip_m"]),
                  "aim": self.target.tolist()}
        # The phrase the instruction names the object by (simfarm.tasks.refer.Ref), kept for checks.
        self.refs = {"obj": refer_to(obj, objects, rng, robot)}
        self.goal = self.make_goal(rng, values, obj=self.refs["obj"].text, side=side, opposite=OPPOSITE[side],
                                   surface=surface_phrase(scene))
        return self.goal

    def edge_distance(self, data) -> float:
        return self.edge.distance(data.xpos[self.obj_body][:2])

    def grasping(self, data) -> bool:
        return held(self.scene.model, data, self.obj_body, self._mask, self.scene.robot.gripper_opening(data))

    def at_edge(self, data) -> bool:
        pos = data.xpos[self.obj_body]
        return bool(0.0 <= self.edge_distance(data) <= self.options["edge_strip_m"] and _inside(self.surface, pos[:2], margin=0.0))

    def goal_reached(self, data) -> bool:
        """In the edge strip with a margin (2 cm inside its inner side), standing on the surface
        (still moving, maybe): the pusher stops there."""
        pos = data.xpos[self.obj_body]
        inner = self.edge_distance(data) <= self.options["edge_strip_m"] - 0.02
        return bool(inner and self.at_edge(data) and abs(pos[2] - self.rest_z) < ON_SURFACE_TOLERANCE_M)

    def success(self, data: mujoco.MjData) -> bool:
        pos = data.xpos[self.obj_body]
        at_edge = self.at_edge(data)
        on_surface = abs(pos[2] - self.rest_z) < ON_SURFACE_TOLERANCE_M and data.xmat[self.obj_body][8] > UPRIGHT_COS
        still = np.linalg.norm(data.cvel[self.obj_body, 3:6]) < 0.05
        return bool(at_edge and on_surface and still and not self.grasping(data))

    def subtasks(self) -> list[Subtask]:
        # Beside the object once the push has moved it 1.5 cm toward the edge.
        def started(data) -> bool:
            return bool((data.xpos[self.obj_body][:2] - self.start_xy) @ self.direction > 0.015)

        return [self.subtask("reach", started), self.subtask("slide", self.success)]

    def environment_state(self, data: mujoco.MjData) -> np.ndarray:
        obj_pos = data.xpos[self.obj_body]
        tcp = data.site_xpos[self.tcp_site]
        return np.concatenate([obj_pos, data.xquat[self.obj_body], data.cvel[self.obj_body, 3:6], self.target,
                               obj_pos - tcp, [self.edge_distance(data)]]).astype(np.float32)

    def reward(self, data: mujoco.MjData) -> float:
        if self.success(data):
            return 1.0
        tcp = data.site_xpos[self.tcp_site]
        obj = data.xpos[self.obj_body]
        reach = 1 - np.tanh(10 * np.linalg.norm(tcp - obj))
        return float(0.3 * reach + 0.6 * (1 - np.tanh(5 * np.hypot(*(obj[:2] - self.target[:2])))))

    def make_expert(self, env):
        return LinePushExpert(env)
