"""sort: put objects into (or onto) the receptacle of their own colour.

The workspace holds two or more receptacles (bowls, plates, boxes) of different colours and objects,
some of which share a receptacle's colour. The goal is every such match (up to three, one object per
receptacle): "sort by colour: put the red mug in the red bowl and the blue can on the blue plate".
The instruction names the pairs, since a scene rarely holds only objects that match: "put each
object in the bowl of its colour" would also ask for objects no receptacle matches. Scenes the task
cannot use (no object whose colour a single receptacle shares, or one receptacle colour only) are
rejected from their SceneSpec, so the env draws another; the colours of objects are never changed.

Success: every named object is in its receptacle, let go of and at rest: on a plate as for
put_on_plate; in a bowl or box standing on its floor within its walls. Unlike put_in_bowl, an object
up to 14 cm tall may rise above the rim (a can standing in a bowl is in it): with put_in_bowl's
"centre below the rim", most cans and mugs fit no bowl and three kitchen draws in four would hold
no pair (the env draws a scene 20 times at most). The expert is put_in_bowl's
CarryExpert over one job per pair, in the instruction's order.
"""

from __future__ import annotations

from typing import ClassVar

import mujoco
import numpy as np

from simfarm.errors import TaskError
from simfarm.tasks.base import Goal, Subtask, Task, TaskScene
from simfarm.tasks.pick_place import object_body, reachable, workspace_objects
from simfarm.tasks.put_in_bowl import (
    CarryExpert,
    Contacts,
    Job,
    Receptacle,
    carryable,
    held,
    in_receptacle,
    preposition,
    still,
)
from simfarm.tasks.refer import Ref, unambiguous

MAX_PAIRS = 3


def colour_refs(obj, objects, robot) -> list[Ref]:
    """The unambiguous phrases for `obj` that say its colour (sorting is by colour)."""
    return [r for r in unambiguous(obj, objects, robot) if r.color is not None]


class Sort(Task):
    """Sort the workspace's objects by colour into the receptacles of the same colour."""

    name: ClassVar[str] = "sort"
    default_scene: ClassVar[str] = "kitchen"
    defaults: ClassVar[dict] = {"max_pairs": MAX_PAIRS, "min_receptacle_colours": 2, "min_workspace_objects": 6,
                                "lift_height_m": 0.05}
    environment_state_names: ClassVar[tuple[str, ...]] = (
        *(f"{what}_{k}_{a}" for k in range(1, MAX_PAIRS + 1) for what in ("object_pos", "receptacle_pos") for a in "xyz"),
        *(f"placed_{k}" for k in range(1, MAX_PAIRS + 1)),
        *(f"tcp_pos_{a}" for a in "xyz"),
    )

    @classmethod
    def scene_request(cls, config):
        from simfarm.scene import SceneRequest

        # Six objects by default: a room program's usual one to four rarely hold two receptacles and
        # an object of a receptacle's colour.
        n = int((config or {}).get("min_workspace_objects", cls.defaults["min_workspace_objects"]))
        return SceneRequest(workspace="surface", min_workspace_objects=n, need_receptacle=True)

    def _pairs(self, scene: TaskScene) -> list[tuple]:
        """Every (object, receptacle) colour match the task can ask for; TaskError when none."""
        objects = workspace_objects(scene)
        robot = scene.spec.robot
        receptacles = [o for o in objects if o.receptacle]
        usable = [r for r in receptacles if reachable(scene, r.pos, margin_m=0.12) and colour_refs(r, objects, robot)]
        colours = {r.color for r in usable}
        if len(colours) < int(self.options["min_receptacle_colours"]):
            raise TaskError(f"sort needs {self.options['min_receptacle_colours']} receptacles of different colours within reach on the workspace "
                            f"{scene.spec.workspace!r}; found {len(usable)} ({', '.join(sorted(colours)) or 'none'}) "
                            f"(scene {scene.spec.program!r})")
        pairs = []
        for obj in objects:
            if not carryable(scene, obj) or not colour_refs(obj, objects, robot):
                continue
            same = [r for r in receptacles if r.color == obj.color]
            # One receptacle of the object's colour, or "its colour" names no single place.
            if len(same) == 1 and same[0] in usable and Receptacle.of(same[0]).fits_standing(obj):
                pairs.append((obj, same[0]))
        if not pairs:
            raise TaskError(f"sort needs an object that shares the colour of exactly one receptacle (and fits it) on "
                            f"the workspace {scene.spec.workspace!r}; receptacles: "
                            f"{', '.join(f'{r.color} {r.family}' for r in usable)} (scene {scene.spec.program!r})")
        return pairs

    def check_scene(self, scene: TaskScene) -> None:
        self._pairs(scene)

    def reset(self, scene: TaskScene, data: mujoco.MjData, rng: np.random.Generator) -> Goal:
        self.scene = scene
        objects = workspace_objects(scene)
        robot = scene.spec.robot
        pairs = self._pairs(scene)
        if self.object_filter is not None:  # a suite's held-out objects (simfarm.suites)
            pairs = [(o, r) for o, r in pairs if self.object_filter(o)]
            if not pairs:
                raise TaskError("sort: no colour-matched object is allowed as a goal object here")
        # One object per receptacle (a bowl holds one of them), in a random order.
        chosen, used = [], set()
        for i in rng.permutation(len(pairs)):
            obj, rec = pairs[int(i)]
            if rec.name not in used:
                chosen.append((obj, rec))
                used.add(rec.name)
        chosen = chosen[: max(1, int(self.options["max_pairs"]))]
        self.contacts = Contacts(scene)
        self.tcp_site = scene.robot.tcp_site_id
        self.pairs = []
        slots: dict[str, str] = {}
        phrases = []
        for k, (obj, rec) in enumerate(chosen, start=1):
            obj_refs = colour_refs(obj, objects, robot)
            # Plain phrases where they single the object out: in a list of pairs a relation ("the
            # can to the right of the red bowl on the yellow plate") reads as a place.
            pool = [r for r in obj_refs if r.relation is None] or obj_refs
            obj_ref = pool[int(rng.integers(len(pool)))]
            rec_refs = colour_refs(rec, objects, robot)
            rec_simple = [r for r in rec_refs if r.relation is None] or rec_refs
            rec_ref = rec_simple[int(rng.integers(len(rec_simple)))]
            body, rec_body = object_body(scene.model, obj), object_body(scene.model, rec)
            self.pairs.append({
                "obj": obj, "body": body, "rest_z": float(obj.pos[2]), "rec_obj": rec, "rec": Receptacle.of(rec),
                "rec_body": rec_body, "rec_mask": self.contacts.mask(rec_body), "obj_ref": obj_ref, "rec_ref": rec_ref,
            })
            where = f"{preposition(rec)} {rec_ref.text}"
            slots[f"obj{k}"] = obj_ref.text
            slots[f"where{k}"] = where
            phrases.append(f"{obj_ref.text} {where}")
        slots["pairs"] = phrases[0] if len(phrases) == 1 else ", ".join(phrases[:-1]) + " and " + phrases[-1]
        self.show_goal(data, data.xpos[self.pairs[0]["rec_body"]])
        values = {"pairs": [[p["obj"].name, p["rec_obj"].name] for p in self.pairs]}
        self.goal = self.make_goal(rng, values, **slots)
        return self.goal

    def _in(self, data, p) -> bool:
        """The pair's object is in its bowl or box (standing on the floor, it may rise above the rim)
        or rests on its plate, whoever holds it."""
        rec = p["rec"]
        if rec.is_container:
            return rec.standing_inside(data, p["rec_body"], data.xpos[p["body"]], float(p["obj"].size[2]))
        return in_receptacle(data, self.contacts, p["body"], rec, p["rec_body"], p["rec_mask"])

    def _placed(self, data, p) -> bool:
        return bool(self._in(data, p) and not self.contacts.robot_touches(data, p["body"]) and still(data, p["body"]))

    def subtasks(self) -> list[Subtask]:
        steps = []
        for k, p in enumerate(self.pairs, start=1):
            def grasped(data, p=p) -> bool:
                return held(data, self.contacts, p["body"], p["rest_z"]) or self._placed(data, p)

            def done(data, p=p) -> bool:
                return self._placed(data, p)

            last = k == len(self.pairs)
            steps += [self.subtask(f"grasp_{k}", grasped), self.subtask(f"place_{k}", self.success if last else done)]
        return steps

    def environment_state(self, data: mujoco.MjData) -> np.ndarray:
        poses = np.zeros((MAX_PAIRS, 6))
        flags = np.zeros(MAX_PAIRS)
        for k, p in enumerate(self.pairs):
            poses[k] = np.concatenate([data.xpos[p["body"]], data.xpos[p["rec_body"]]])
            flags[k] = float(self._placed(data, p))
        return np.concatenate([poses.ravel(), flags, data.site_xpos[self.tcp_site]]).astype(np.float32)

    def success(self, data: mujoco.MjData) -> bool:
        return all(self._placed(data, p) for p in self.pairs)

    def reward(self, data: mujoco.MjData) -> float:
        if self.success(data):
            return 1.0
        done = [self._placed(data, p) for p in self.pairs]
        todo = next(p for p, d in zip(self.pairs, done, strict=True) if not d)
        pos = data.xpos[todo["body"]]
        reach = 1 - np.tanh(10 * np.linalg.norm(data.site_xpos[self.tcp_site] - pos))
        place = 1 - np.tanh(5 * np.linalg.norm(pos[:2] - data.xpos[todo["rec_body"]][:2]))
        share = 1.0 / len(self.pairs)
        return float(share * (sum(done) + 0.3 * reach + 0.6 * place))

    def jobs(self) -> list[Job]:
        return [Job(p["obj"], p["body"], p["rest_z"], p["rec"], p["rec_body"], p["rec_mask"],
                    arrived=lambda data, p=p: self._in(data, p)) for p in self.pairs]

    def make_expert(self, env):
        return CarryExpert(env)
