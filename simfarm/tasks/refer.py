"""Referring expressions: phrases that pick out exactly one object of a scene, and their resolver.

A `Ref` is the meaning of a phrase (a family, optionally a colour, a size, a spatial relation to
the robot or to another object, an ordinal); `resolve` says which objects of a scene it denotes,
judged only from what a camera sees (positions, sizes, colours), in the robot's frame: "left" is
the robot's left as it faces the workspace. `refer_to` builds the candidates for an object, keeps
those that resolve to that object alone, and draws one, so an instruction never names two things.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simfarm.errors import TaskError

# Margins that make a relation clear to a person looking at the scene.
SIZE_RATIO = 0.8  # "the small mug": at most 80% of the volume of the next one
POSITION_MARGIN_M = 0.04  # "the leftmost mug": 4 cm further left than the next one
NEXT_TO_GAP_M = 0.08  # "next to the plate": edges within 8 cm
RELATION_RANGE_M = 0.30  # "to the left of the bowl": within 30 cm of it
ORDINALS = {1: "first", 2: "second", 3: "third", 4: "fourth"}


@dataclass(frozen=True)
class Ref:
    family: str
    color: str | None = None
    size: str | None = None  # "small" | "big"
    relation: str | None = None  # nearest, farthest, leftmost, rightmost, ordinal, next_to, left_of, right_of
    ordinal: int | None = None  # 1-based, from the robot's left
    anchor: Ref | None = None  # the object of next_to / left_of / right_of

    @property
    def text(self) -> str:
        noun = " ".join(w for w in (self.size, self.color, self.family.replace("_", " ")) if w)
        if self.relation == "nearest":
            return f"the {noun} closest to you"
        if self.relation == "farthest":
            return f"the {noun} farthest from you"
        if self.relation == "leftmost":
            return f"the leftmost {noun}"
        if self.relation == "rightmost":
            return f"the rightmost {noun}"
        if self.relation == "ordinal":
            return f"the {ORDINALS[self.ordinal]} {noun} from the left"
        if self.relation == "next_to":
            return f"the {noun} next to {self.anchor.text}"
        if self.relation == "left_of":
            return f"the {noun} to the left of {self.anchor.text}"
        if self.relation == "right_of":
            return f"the {noun} to the right of {self.anchor.text}"
        return f"the {noun}"


class Frame:
    """The robot's view of the workspace: x forward, y to its left."""

    def __init__(self, robot):
        self.origin = np.asarray(robot.pos[:2], dtype=float)
        yaw = float(getattr(robot, "yaw_rad", 0.0))
        self.R = np.array([[np.cos(yaw), np.sin(yaw)], [-np.sin(yaw), np.cos(yaw)]])  # world -> robot

    def local(self, xy) -> np.ndarray:
        return self.R @ (np.asarray(xy[:2], dtype=float) - self.origin)


def footprint_radius(obj) -> float:
    return float(max(obj.size[0], obj.size[1])) / 2


def _volume(obj) -> float:
    return float(np.prod(np.asarray(obj.size, dtype=float)))


def _unique_extreme(group: list, key, margin: float, largest: bool):
    """The member whose key is extreme by `margin` over every other, else None."""
    if len(group) < 2:
        return None
    ranked = sorted(group, key=key, reverse=largest)
    first, second = key(ranked[0]), key(ranked[1])
    return ranked[0] if abs(first - second) >= margin else None


def resolve(ref: Ref, objects, robot, positions: dict | None = None) -> list:
    """The objects of `objects` that `ref` denotes (what a listener would pick), in scene order.

    `positions` maps object names to current xy (default: the SceneSpec positions).
    """
    frame = Frame(robot)

    def xy(o):
        return np.asarray(positions[o.name] if positions and o.name in positions else o.pos[:2], dtype=float)[:2]

    group = [o for o in objects if o.family == ref.family and (ref.color is None or o.color == ref.color)]
    if ref.size is not None:
        pick = _unique_extreme(group, _volume, 0.0, largest=ref.size == "big")
        if pick is None:
            return []
        others = [_volume(o) for o in group if o is not pick]
        ratio_ok = (_volume(pick) <= SIZE_RATIO * min(others)) if ref.size == "small" else (SIZE_RATIO * _volume(pick) >= max(others))
        group = [pick] if ratio_ok else []
    if ref.relation is None or not group:
        return group
    if ref.relation in ("nearest", "farthest"):
        pick = _unique_extreme(group, lambda o: float(np.linalg.norm(frame.local(xy(o)))), POSITION_MARGIN_M, ref.relation == "farthest")
        return [pick] if pick is not None else []
    if ref.relation in ("leftmost", "rightmost"):
        pick = _unique_extreme(group, lambda o: float(frame.local(xy(o))[1]), POSITION_MARGIN_M, ref.relation == "leftmost")
        return [pick] if pick is not None else []
    if ref.relation == "ordinal":
        ranked = sorted(group, key=lambda o: -float(frame.local(xy(o))[1]))
        ys = [float(frame.local(xy(o))[1]) for o in ranked]
        if len(ranked) < 3 or ref.ordinal > len(ranked) or any(a - b < POSITION_MARGIN_M for a, b in zip(ys, ys[1:], strict=False)):
            return []
        return [ranked[ref.ordinal - 1]]
    anchors = resolve(ref.anchor, objects, robot, positions)
    if len(anchors) != 1:
        return []
    anchor = anchors[0]
    found = []
    for o in group:
        if o is anchor:
            continue
        offset = frame.local(xy(o)) - frame.local(xy(anchor))
        gap = float(np.linalg.norm(offset)) - footprint_radius(o) - footprint_radius(anchor)
        if ref.relation == "next_to" and gap <= NEXT_TO_GAP_M:
            found.append(o)
        elif ref.relation in ("left_of", "right_of") and np.linalg.norm(offset) <= RELATION_RANGE_M:
            lateral = offset[1] if ref.relation == "left_of" else -offset[1]
            if lateral > abs(offset[0]) and lateral > footprint_radius(anchor):
                found.append(o)
    return found


def candidates(obj, objects, robot) -> list[Ref]:
    """Phrases for `obj`, simplest first (each says its family; most say its colour)."""
    fam, col = obj.family, obj.color
    refs = [Ref(fam, col), Ref(fam), Ref(fam, col, "small"), Ref(fam, col, "big"), Ref(fam, None, "small"), Ref(fam, None, "big")]
    for color in (col, None):
        refs += [Ref(fam, color, relation=r) for r in ("nearest", "farthest", "leftmost", "rightmost")]
        refs += [Ref(fam, color, relation="ordinal", ordinal=k) for k in (1, 2, 3, 4)]
    for other in objects:
        if other is obj or other.family == fam:
            continue
        anchor = Ref(other.family, other.color)
        if resolve(anchor, objects, robot) != [other]:
            continue
        refs += [Ref(fam, col, relation=r, anchor=anchor) for r in ("next_to", "left_of", "right_of")]
    return refs


def unambiguous(obj, objects, robot) -> list[Ref]:
    """The candidate phrases that denote `obj` and nothing else."""
    objects = list(objects) if any(o is obj for o in objects) else [obj, *objects]
    return [ref for ref in candidates(obj, objects, robot) if resolve(ref, objects, robot) == [obj]]


def refer_to(obj, objects, rng: np.random.Generator | None = None, robot=None, relational: bool = True) -> Ref:
    """A phrase for `obj` that denotes it alone among `objects`.

    Without `rng`: the simplest one that says the colour (else the simplest). With `rng`: one
    drawn among the colour-naming phrases half of the time, among all the others otherwise, so
    datasets hold both attribute and relational phrases. `relational=False` keeps to attribute
    phrases where one exists (anchors of other phrases: "left of the bowl", not "left of the
    bowl next to the mug"). TaskError when none is unambiguous.
    """
    robot = robot if robot is not None else _ORIGIN
    found = unambiguous(obj, objects, robot)
    if not found:
        raise TaskError(f"no phrase picks out the {obj.color} {obj.family} {obj.name!r} alone among the workspace's objects")
    if rng is None:
        with_colour = [r for r in found if r.color is not None]
        return (with_colour or found)[0]
    simple = [r for r in found if r.relation is None]
    others = [r for r in found if r.relation is not None]
    pool = simple if simple and (not relational or not others or rng.random() < 0.5) else others
    return pool[int(rng.integers(len(pool)))]


class _Origin:
    pos = (0.0, 0.0, 0.0)
    yaw_rad = 0.0


_ORIGIN = _Origin()
