"""pick_place: put an object onto a receptacle (plate, bowl, tray...) on the robot's workspace."""

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
    fingers_moving,
    gripper_yaw,
    held,
    over_column,
    robot_geom_mask,
    top_down_rotation,
    wrap_yaw_for_gripper,
)
from simfarm.tasks.refer import footprint_radius, refer_to, unambiguous
from simfarm.tasks.regions import Region, next_to_region, relation_region, side_region

# The gripper opens to 80 mm: objects narrower than this along some horizontal axis are graspable
# (6 mm left for the approach error of the fingers).
MAX_GRASP_WIDTH_M = 0.074
MAX_GRASP_MASS_KG = 1.0
# Receptacles one puts things "in" (the others, "on").
CONTAINER_FAMILIES = ("bowl", "box", "basket", "bin")


def workspace_objects(scene: TaskScene) -> list:
    """Objects resting on the robot's workspace furniture, in SceneSpec order."""
    return list(scene.spec.workspace_objects())


def grasp_width(obj) -> float:
    """Width the fingers must span: a cylinder's diameter (a mug's handle excluded), else the box's narrow side."""
    params = obj.params if isinstance(obj.params, dict) else {}
    dims = params.get("dims") or {}
    if "radius" in dims:
        return float(2 * dims["radius"])
    body = params.get("body_size", obj.size)
    return float(min(body[0], body[1]))


def object_body(model: mujoco.MjModel, obj) -> int:
    body_id = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, f"obj/{obj.name}")
    if body_id < 0:
        raise TaskError(f"object {obj.name!r} of the SceneSpec has no body obj/{obj.name} in the model")
    return body_id


def _main_part_xy(model: mujoco.MjModel, data: mujoco.MjData, obj) -> np.ndarray | None:
    """World xy of the object's `body` part geom (obj/<name>/body), None when it has none."""
    geom_id = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_GEOM, f"obj/{obj.name}/body")
    return None if geom_id < 0 else data.geom_xpos[geom_id][:2].copy()


def reachable(scene: TaskScene, pos, margin_m: float = 0.05) -> bool:
    robot = scene.spec.robot
    dist = np.hypot(pos[0] - robot.pos[0], pos[1] - robot.pos[1])
    reach = scene.robot_model.reach_m
    return bool(getattr(scene.robot_model, "min_reach_m", 0.25) < dist < reach - margin_m)


class PickPlace(Task):
    name: ClassVar[str] = "pick_place"
    # target: "receptacle" (plate, bowl, tray...), "region" (a marked spot on the surface), or "any"
    # (a receptacle when the workspace has one, else a region).
    defaults: ClassVar[dict] = {"place_tolerance_m": 0.05, "lift_height_m": 0.05, "target": "any"}
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

        need = (config or {}).get("target", "any") == "receptacle"
        return SceneRequest(workspace="surface", min_workspace_objects=2 if need else 1, need_receptacle=need)

    def _candidates(self, scene: TaskScene) -> tuple[list, list]:
        """(graspable objects, receptacles) within reach on the workspace; TaskError if the scene has too few."""
        objects = workspace_objects(scene)
        pickable = [
            o for o in objects
            if not o.receptacle and grasp_width(o) <= MAX_GRASP_WIDTH_M and o.mass_kg <= MAX_GRASP_MASS_KG and reachable(scene, o.pos, margin_m=0.12)
        ]
        receptacles = [o for o in objects if o.receptacle and reachable(scene, o.pos, margin_m=0.12)]
        mode = self.options["target"]
        if mode not in ("any", "receptacle", "region"):
            raise TaskError(f"task.target: got {mode!r}; accepted: any, receptacle, region")
        if not pickable or (mode == "receptacle" and not receptacles):
            raise TaskError(
                f"pick_place needs a graspable object (and, with target=receptacle, a receptacle) within reach on "
                f"the workspace {scene.spec.workspace!r}; found {len(pickable)} graspable, {len(receptacles)} "
                f"receptacles (scene {scene.spec.program!r})"
            )
        return pickable, receptacles

    def check_scene(self, scene: TaskScene) -> None:
        self._candidates(scene)

    def reset(self, scene: TaskScene, data: mujoco.MjData, rng: np.random.Generator) -> Goal:
        self.scene = scene
        model = scene.model
        pickable, receptacles = self._candidates(scene)
        objects = workspace_objects(scene)
        robot = scene.spec.robot
        mode = self.options["target"]
        # Objects an instruction can name alone (two identical mugs side by side: neither).
        nameable = [(o, refs) for o in pickable if (refs := unambiguous(o, objects, robot))]
        if not nameable:
            raise TaskError(f"pick_place: no graspable object on {scene.spec.workspace!r} can be named unambiguously")
        obj, _ = self.choose(rng, nameable, "object", lambda c: c[0].name)
        obj_phrase = refer_to(obj, objects, rng, robot).text
        self.obj = obj
        self.obj_body = object_body(model, obj)
        self.obj_half_height = float(obj.size[2]) / 2
        self.tcp_site = scene.robot.tcp_site_id
        taken = self.exclusions.get("target", set())  # a composite's earlier steps' receptacles
        receptacles = [r for r in receptacles if r.name not in taken and unambiguous(r, objects, robot)]
        self.region = None
        if receptacles and mode != "region":
            target = self.choose(rng, receptacles, "target")
            self.target = target
            self.target_body = object_body(model, target)
            self.target_height = float(target.size[2])
            self.tolerance_m = max(float(self.options["place_tolerance_m"]), 0.6 * min(target.size[0], target.size[1]) / 2)
            preposition = "in" if target.family in CONTAINER_FAMILIES else "on"
            where = f"{preposition} {refer_to(target, objects, rng, robot, relational=False).text}"
            hide_goal_marker(model, data)
        else:
            self.target, self.target_body, self.target_height = None, -1, 0.0
            self.region = self._sample_region(scene, data, obj, objects, rng)
            self.tolerance_m = float(self.options["place_tolerance_m"])
            self.show_goal(data, self.region.point + [0, 0, 0.001])
            where = self.region.phrase
        values = {
            "object": obj.name,
            "target": self.target.name if self.target is not None else None,
            "region": None if self.region is None else {"kind": self.region.kind, "point": self.region.point.tolist()},
            "tolerance_m": self.tolerance_m,
        }
        self.goal = self.make_goal(rng, values, obj=obj_phrase, where=where)
        return self.goal

    def subtasks(self) -> list[Subtask]:
        start_z = float(self.obj.pos[2])
        return [
            self.subtask("grasp", lambda data: bool(data.xpos[self.obj_body][2] > start_z + 0.02)),
            self.subtask("place", self.success),
        ]

    def _sample_region(self, scene: TaskScene, data, obj, objects, rng) -> Region:
        """A place named by a real thing: beside another object ("to the left of the blue bowl"),
        else a side of the surface ("on the left side of the table"); clear, in reach, and not
        where the object already is."""
        from simfarm.tasks.push import _inside

        surface = scene.index.surfaces[obj.support]
        robot = scene.spec.robot
        ro = footprint_radius(obj)

        def usable(region: Region, xy) -> bool:
            clear = all(np.hypot(*(xy - np.asarray(o.pos[:2]))) > 0.06 + ro + footprint_radius(o) for o in objects if o is not obj)
            far = np.hypot(*(xy - np.asarray(obj.pos[:2]))) > 0.12
            return bool(clear and far and _inside(surface, xy, margin=0.06) and reachable(scene, (*xy, 0), margin_m=0.12)
                        and region.contains(xy, data, ro) and not region.contains(obj.pos, data, ro))

        anchors = [o for o in objects if o is not obj and o.family != obj.family and unambiguous(o, objects, robot)]
        kinds = ("left_of", "right_of", "in_front_of", "behind", "next_to")
        options = [(a, k) for a in anchors for k in kinds]
        for i in rng.permutation(len(options)):
            anchor, kind = options[int(i)]
            phrase = refer_to(anchor, objects, rng, robot, relational=False).text
            body = object_body(scene.model, anchor)
            if kind == "next_to":
                direction = ("left_of", "right_of", "in_front_of", "behind")[int(rng.integers(4))]
                point = relation_region(direction, anchor, phrase, body, ro, robot).point
                region = next_to_region(anchor, phrase, body, point[:2], robot)
            else:
                region = relation_region(kind, anchor, phrase, body, ro, robot)
            if usable(region, region.point[:2]):
                region.point[2] = surface.top_z
                return region
        furniture = next((f for f in scene.spec.furniture if f.name == scene.spec.workspace), None)
        surface_phrase = f"the {furniture.kind.replace('_', ' ')}" if furniture else "the table"
        for _ in range(100):
            angle = rng.uniform(-np.pi, np.pi)
            xy = np.asarray(obj.pos[:2]) + rng.uniform(0.15, 0.35) * np.array([np.cos(angle), np.sin(angle)])
            for side in ("left", "right", "far", "near"):
                region = side_region(side, surface, surface_phrase, robot, xy)
                if usable(region, xy):
                    region.point[2] = surface.top_z
                    return region
        raise TaskError(f"pick_place: no clear, reachable place to name on {scene.spec.workspace!r} after 100 tries")

    def _positions(self, data):
        if self.region is not None:
            return data.xpos[self.obj_body], self.region.point
        return data.xpos[self.obj_body], data.xpos[self.target_body]

    def environment_state(self, data: mujoco.MjData) -> np.ndarray:
        obj_pos, target_pos = self._positions(data)
        linvel = data.cvel[self.obj_body, 3:6]
        tcp = data.site_xpos[self.tcp_site]
        return np.concatenate([obj_pos, data.xquat[self.obj_body], linvel, target_pos, obj_pos - tcp]).astype(np.float32)

    def target_top_z(self, data) -> float:
        """Height of the surface the object must end on: a receptacle's top, or the region's surface."""
        if self.region is not None:
            return float(self.region.point[2])
        return float(data.xpos[self.target_body][2] + self.target_height / 2)

    def success(self, data: mujoco.MjData) -> bool:
        obj_pos, target_pos = self._positions(data)
        top = self.target_top_z(data)
        if self.region is not None:
            on_target = self.region.contains(obj_pos[:2], data, footprint_radius(self.obj))
        else:
            on_target = np.hypot(*(obj_pos[:2] - target_pos[:2])) < self.tolerance_m
        above = obj_pos[2] > top - self.target_height  # inside a bowl counts
        low = obj_pos[2] < top + 2 * self.obj_half_height + 0.03
        still = np.linalg.norm(data.cvel[self.obj_body, 3:6]) < 0.05
        released = np.linalg.norm(data.site_xpos[self.tcp_site] - obj_pos) > 0.0 and self.scene.robot.gripper_opening(data) > 0.9 * grasp_width(self.obj)
        return bool(on_target and above and low and still and released)

    def reward(self, data: mujoco.MjData) -> float:
        if self.success(data):
            return 1.0
        obj_pos, target_pos = self._positions(data)
        tcp = data.site_xpos[self.tcp_site]
        reach = 1 - np.tanh(10 * np.linalg.norm(tcp - obj_pos))
        lifted = float(obj_pos[2] > self.obj.pos[2] + self.options["lift_height_m"])
        place = 1 - np.tanh(5 * np.linalg.norm(obj_pos[:2] - target_pos[:2]))
        return float(0.25 * reach + 0.25 * lifted + 0.4 * place)

    def make_expert(self, env):
        return PickPlaceExpert(env)


class PickPlaceExpert(WaypointExpert):
    """Approach above, descend, grasp, lift, carry above the receptacle, lower, release, retreat."""

    def plan(self, env):
        task: PickPlace = env.task
        data = env.data
        obj_pos = data.xpos[task.obj_body].copy()
        obj_R = data.xmat[task.obj_body].reshape(3, 3)
        target_pos = task._positions(data)[1].copy()
        _, tcp_R = env.handle.ee_pose(data)
        # Close the fingers across the object's narrower horizontal side.
        size = task.obj.params.get("body_size", task.obj.size)
        axis = obj_R[:, 0] if size[0] <= size[1] else obj_R[:, 1]
        yaw = wrap_yaw_for_gripper(float(np.arctan2(axis[1], axis[0])), gripper_yaw(tcp_R))
        R = top_down_rotation(yaw)
        half_h = task.obj_half_height
        top = obj_pos[2] + half_h
        finger_depth = getattr(env.handle, "finger_length_m", 0.04)
        grasp_z = max(obj_pos[2], top - 0.8 * finger_depth)
        # Heights above the object: 10 cm, less for a small arm that points down only near its table.
        clearance = getattr(env.robot, "approach_clearance_m", 0.10)
        hover = top + clearance
        target_top = task.target_top_z(data)
        carry_z = max(hover, target_top + (grasp_z - obj_pos[2]) + half_h + clearance)
        release_z = target_top + (grasp_z - obj_pos[2]) + half_h + 0.015
        # Grasp the object's main part (a mug's cup, not its bounding-box centre, which leans
        # toward the handle) and carry that offset over so the object's centre lands on target.
        grasp_xy = _main_part_xy(env.model, data, task.obj)
        grasp_xy = obj_pos[:2] if grasp_xy is None else grasp_xy
        place_xy = np.asarray(target_pos[:2]) + (grasp_xy - obj_pos[:2])
        above_obj = np.array([grasp_xy[0], grasp_xy[1], hover])
        at_obj = np.array([grasp_xy[0], grasp_xy[1], grasp_z])
        above_target = np.array([place_xy[0], place_xy[1], carry_z])
        at_target = np.array([place_xy[0], place_xy[1], release_z])
        self.mask = robot_geom_mask(env.model, env.handle)
        self.at_obj, self.at_target, self.hover_z = at_obj, at_target, hover
        self.planned_xy = obj_pos[:2].copy()
        return [
            Waypoint(above_obj, R, GRIPPER_OPEN, tol_m=0.015),
            # The last centimetres slowly: fingers brushing a ball or a light can knock it away.
            Waypoint(at_obj, R, GRIPPER_OPEN, tol_m=0.008, hold_steps=1, max_step_m=0.02),
            Waypoint(at_obj, R, GRIPPER_CLOSED, tol_m=0.02, hold_steps=5, max_steps=10),
            Waypoint(above_obj + [0, 0, min(0.05, clearance / 2)], R, GRIPPER_CLOSED, tol_m=0.02),
            Waypoint(above_target, R, GRIPPER_CLOSED, tol_m=0.02),
            Waypoint(at_target, R, GRIPPER_CLOSED, tol_m=0.01, max_step_m=0.025),
            Waypoint(at_target, R, GRIPPER_OPEN, tol_m=0.02, hold_steps=4, max_steps=8),
            Waypoint(at_target + [0, 0, 1.2 * clearance], R, GRIPPER_OPEN, tol_m=0.02, max_steps=1000),
        ]

    def resync(self, env) -> None:
        """Labelling: keep the stage while the state agrees with it (so the expert's own states get
        its own actions), else take the state's: held → up, across, down over the target, open;
        released on the target → retreat; otherwise grasp the object where it lies now."""
        task: PickPlace = env.task
        data = env.data
        tcp, _ = env.handle.ee_pose(data)
        opening = env.handle.gripper_opening(data)
        width = grasp_width(task.obj)
        obj_pos = data.xpos[task.obj_body]
        in_hand = held(env.model, data, task.obj_body, self.mask, opening)
        closing = fingers_moving(env.handle, data)
        placed = (np.linalg.norm(obj_pos[:2] - self.at_target[:2]) < 0.03 and not in_hand) or task.success(data)
        if not in_hand and not placed and np.linalg.norm(obj_pos[:2] - self.planned_xy) > 0.01:
            self.waypoints = self.plan(env)  # the object moved: grasp it where it is now
        at_target = self.at_target
        column, at_grasp = self._over_grasp(tcp)
        over_target = np.linalg.norm(tcp[:2] - at_target[:2]) < 0.015
        lifted = tcp[2] >= self.waypoints[3].pos[2] - self.waypoints[3].tol_m
        agrees = {
            0: not in_hand and not placed and not (column and tcp[2] < self.hover_z - self.waypoints[0].tol_m),
            # (wider than the band that enters it: a learner hovering at its edge would otherwise
            # be told "up" and "down" on alternate steps)
            1: not in_hand and over_column(tcp, self.at_obj[:2], self.hover_z, radius_m=0.025),
            2: at_grasp and (in_hand or opening >= 0.5 * width),  # closing on it, not a miss
            3: in_hand, 4: in_hand, 5: in_hand and over_target,
            6: over_target and (in_hand or placed), 7: placed,
        }
        if agrees.get(self.stage, False):
            return
        if in_hand:
            # The plan made before the grasp stays (one made from a lifted object would raise
            # every height with it).
            if closing and at_grasp:
                stage = 2  # touching, still closing: let the grip settle before lifting
            elif over_target:
                stage = 6 if tcp[2] < at_target[2] + 0.01 else 5
            else:
                stage = 4 if lifted else 3
        elif placed:
            stage = 7 if opening >= 0.9 * width else 6
        else:
            self.waypoints = self.plan(env)
            column, _ = self._over_grasp(tcp)
            if column and abs(tcp[2] - self.at_obj[2]) < 0.008 and opening >= 0.9 * width:
                stage = 2  # at the grasp, fingers open: close
            else:
                stage = 1 if column else 0
        self.set_stage(stage)

    def _over_grasp(self, tcp) -> tuple[bool, bool]:
        """Whether the hand is in the column above the planned grasp, and at the grasp itself."""
        column = over_column(tcp, self.at_obj[:2], self.hover_z)
        return column, column and abs(tcp[2] - self.at_obj[2]) < 0.02
