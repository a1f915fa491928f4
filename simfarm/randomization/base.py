"""What every model-level parameter shares: element groups found by naming convention, and ParamDef.

A model-level parameter (`object_mass`, `light_diffuse`...) is a `ParamDef`: which elements it
touches (resolved once per model from the names in docs/contracts.md), which model fields it writes,
how it turns a `ParamSpec` plus the nominal values into new values, and how it writes values back.
`sample` then `write` is the whole of `apply`; `write` alone is `apply_values`, which is why a
recorded randomization re-applies bit-exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import mujoco
import numpy as np

from simfarm.errors import RandomizationError
from simfarm.randomization.distributions import MODES, ParamSpec, parse_param

Nominal = dict[str, np.ndarray]


@dataclass(frozen=True)
class Selection:
    """Elements (ids into a model array) and, per element, the index of the draw it takes.

    Parts of one object share a draw (an object is one colour, one mass factor); `n_owners` is the
    number of draws a parameter makes.
    """

    ids: np.ndarray
    owners: np.ndarray
    n_owners: int

    @classmethod
    def each(cls, ids: list[int] | np.ndarray) -> Selection:
        ids = np.asarray(ids, dtype=np.int64)
        return cls(ids, np.arange(len(ids)), len(ids))

    @classmethod
    def grouped(cls, ids: list[int], keys: list[str]) -> Selection:
        order = {k: i for i, k in enumerate(dict.fromkeys(keys))}
        return cls(np.asarray(ids, dtype=np.int64), np.asarray([order[k] for k in keys], dtype=np.int64), len(order))

    def __len__(self) -> int:
        return len(self.ids)


def _names(model: mujoco.MjModel, obj: mujoco.mjtObj, n: int) -> list[str]:
    return [mujoco.mj_id2name(model, obj, i) or "" for i in range(n)]


def _root(name: str) -> str:
    """`obj/mug_0/handle` -> `obj/mug_0`: the owner whose parts share one draw."""
    parts = name.split("/")
    return "/".join(parts[:2])


@dataclass
class ModelGroups:
    """Element ids by role, from the naming convention of a compiled scene (docs/contracts.md)."""

    object_geoms: Selection
    object_bodies: Selection
    furniture_geoms: Selection
    room_geoms: Selection
    surface_geoms: Selection  # furniture + room geoms: what objects rest on and slide against
    robot_dofs: Selection
    furniture_dofs: Selection
    robot_actuators: Selection
    lights: Selection
    scene_cameras: Selection
    wrist_cameras: Selection
    room_materials: np.ndarray  # material ids used by room geoms: the pool floors/walls swap among
    furniture_materials: np.ndarray  # material ids used by furniture geoms
    # Per-model cache of values derived from the nominal snapshot (a randomizer owns its groups).
    cache: dict[Any, Any] = field(default_factory=dict)

    def cached(self, key: Any, compute: Callable[[], Any]) -> Any:
        """`compute()` once per model: nominal slices, colours in HSV, ancestor tables."""
        if key not in self.cache:
            self.cache[key] = compute()
        return self.cache[key]

    @classmethod
    def resolve(cls, model: mujoco.MjModel) -> ModelGroups:
        """Find every group once; a model lacking a group gets an empty selection (a no-op later)."""
        body_names = _names(model, mujoco.mjtObj.mjOBJ_BODY, model.nbody)
        geom_names = _names(model, mujoco.mjtObj.mjOBJ_GEOM, model.ngeom)
        # A geom belongs to the role of its own name, else of its body (static furniture and room
        # pieces may be geoms of the world body, named by role).
        geom_role = [g if g.startswith(("obj/", "furn/", "room/", "robot/")) else body_names[b]
                     for g, b in zip(geom_names, model.geom_bodyid, strict=True)]
        obj_g = [(i, _root(n)) for i, n in enumerate(geom_role) if n.startswith("obj/")]
        furn_g = [(i, _root(n)) for i, n in enumerate(geom_role) if n.startswith("furn/")]
        room_g = [i for i, n in enumerate(geom_role) if n.startswith("room/")]
        obj_b = [i for i, n in enumerate(body_names) if n.startswith("obj/")]

        joint_names = _names(model, mujoco.mjtObj.mjOBJ_JOINT, model.njnt)
        robot_dofs, furn_dofs = [], []
        for j, name in enumerate(joint_names):
            adr = int(model.jnt_dofadr[j])
            ndof = {0: 6, 1: 3}.get(int(model.jnt_type[j]), 1)
            target = robot_dofs if name.startswith("robot/") else furn_dofs if name.startswith("furn/") else None
            # Free joints of trolleys are furniture too, but damping a free body is not a hinge's
            # damping: only hinge and slide dofs are randomized.
            if target is not None and ndof == 1:
                target.append(adr)
        act_names = _names(model, mujoco.mjtObj.mjOBJ_ACTUATOR, model.nu)
        light_names = _names(model, mujoco.mjtObj.mjOBJ_LIGHT, model.nlight)
        cam_names = _names(model, mujoco.mjtObj.mjOBJ_CAMERA, model.ncam)
        room_mats = sorted({int(model.geom_matid[i]) for i in room_g if model.geom_matid[i] >= 0})
        furn_mats = sorted({int(model.geom_matid[i]) for i, _ in furn_g if model.geom_matid[i] >= 0})
        return cls(
            object_geoms=Selection.grouped([i for i, _ in obj_g], [k for _, k in obj_g]),
            object_bodies=Selection.each(obj_b),
            furniture_geoms=Selection.grouped([i for i, _ in furn_g], [k for _, k in furn_g]),
            room_geoms=Selection.each(room_g),
            surface_geoms=Selection.each(sorted([i for i, _ in furn_g] + room_g)),
            robot_dofs=Selection.each(robot_dofs),
            furniture_dofs=Selection.each(furn_dofs),
            robot_actuators=Selection.each([i for i, n in enumerate(act_names) if n.startswith("robot/")]),
            lights=Selection.each([i for i, n in enumerate(light_names) if n.startswith("light_")]),
            scene_cameras=Selection.each(
                [i for i, n in enumerate(cam_names) if n.startswith("overview_") or n == "workspace"]
            ),
            wrist_cameras=Selection.each([i for i, n in enumerate(cam_names) if n.startswith("robot/")]),
            room_materials=np.asarray(room_mats, dtype=np.int64),
            furniture_materials=np.asarray(furn_mats, dtype=np.int64),
        )


Sampler = Callable[[ParamSpec, Nominal, Selection, ModelGroups, np.random.Generator], np.ndarray]
Writer = Callable[[mujoco.MjModel, Selection, np.ndarray, Nominal], None]


@dataclass(frozen=True)
class ParamDef:
    """A model-level parameter: its name in presets, the fields it writes, how it samples and writes."""

    name: str
    group: str  # preset group: "visual" | "physical"
    fields: tuple[str, ...]  # model fields written (snapshotted at construction, restored each apply)
    select: Callable[[ModelGroups], Selection]
    sample: Sampler
    write: Writer
    width: int  # values per element (what apply_values expects)
    doc: str
    axes: int = 1  # axes a vector distribution may have
    modes: tuple[str, ...] = MODES
    default_mode: str = "scale"
    dtype: type = np.float64  # dtype of the values recorded (the model field's, so they write back exactly)
    parse: Callable[[Any, str], Any] | None = None
    reads: tuple[str, ...] = ()  # extra nominal fields the sampler or writer needs (never written)

    def parse_spec(self, cfg: Any, path: str) -> Any:
        if self.parse is not None:
            return self.parse(cfg, path)
        return parse_param(cfg, path, self.modes, self.default_mode, self.axes)


def field_param(
    name: str,
    group: str,
    fld: str,
    cols: slice | int | None,
    select: Callable[[ModelGroups], Selection],
    doc: str,
    low: float = -np.inf,
    high: float = np.inf,
    axes: int = 1,
    modes: tuple[str, ...] = MODES,
    default_mode: str = "scale",
    extra_fields: tuple[str, ...] = (),
    write: Writer | None = None,
    dtype: type = np.float64,
    reads: tuple[str, ...] = (),
    width: int | None = None,
    independent_axes: bool = False,
) -> ParamDef:
    """A parameter that combines draws with `model.<fld>[ids, cols]` and clips to [low, high].

    `width` is the number of values per element (default: 1 for a column, else len(cols)).
    A scalar distribution draws one number per element broadcast over its axes (a brightness
    factor), or with `independent_axes` one number per axis (a position offset).
    """
    width = width or _width(cols)

    def sample(spec: ParamSpec, nominal: Nominal, sel: Selection, groups: ModelGroups, rng: np.random.Generator) -> np.ndarray:
        base = groups.cached((name, "base"), lambda: _take(nominal[fld], sel.ids, cols))
        draws = spec.sample(rng, sel.n_owners, axes if independent_axes else 1)[sel.owners]
        value = spec.combine(base, draws)
        if low > -np.inf:
            np.maximum(value, low, out=value)
        if high < np.inf:
            np.minimum(value, high, out=value)
        return value

    def write_plain(model: mujoco.MjModel, sel: Selection, values: np.ndarray, nominal: Nominal) -> None:
        arr = getattr(model, fld)
        if cols is None:
            arr[sel.ids] = values.reshape(arr[sel.ids].shape)
        else:
            arr[sel.ids, cols] = values.reshape(arr[sel.ids, cols].shape)

    return ParamDef(
        name=name, group=group, fields=(fld, *extra_fields), select=select, sample=sample,
        write=write or write_plain, width=width, doc=doc, axes=axes, modes=modes, default_mode=default_mode,
        dtype=dtype, reads=reads,
    )


def _width(cols: slice | int | None) -> int:
    if cols is None or isinstance(cols, int):
        return 1
    return len(range(*cols.indices(16)))


def _take(arr: np.ndarray, ids: np.ndarray, cols: slice | int | None) -> np.ndarray:
    """(n, width) float64 view of the nominal values."""
    sub = arr[ids] if cols is None else arr[ids, cols]
    return sub.reshape(len(ids), -1).astype(np.float64)


def check_values(param: ParamDef, sel: Selection, values: Any) -> np.ndarray:
    """A recorded value list as an (n, width) array; RandomizationError when it does not fit the model."""
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise RandomizationError(f"recorded values of {param.name}: not numbers ({exc})") from exc
    if arr.size != len(sel) * param.width:
        raise RandomizationError(
            f"recorded values of {param.name}: {arr.size} numbers, this model has {len(sel)} elements "
            f"x {param.width} values; the recording belongs to another scene"
        )
    return arr.reshape(len(sel), param.width)
