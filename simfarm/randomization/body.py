"""Body parameters: `body_mass` of objects, with `body_inertia` scaled by the same factor.

Scaling mass and inertia together keeps the object's density distribution (a heavier mug of the
same shape). `body_subtreemass` is updated too, so nothing derived from masses goes stale; the
constraint solver's `*_invweight0` stay at their compiled values (they only set default softness).
"""

from __future__ import annotations

import mujoco
import numpy as np

from simfarm.randomization.base import Nominal, Selection, field_param


def _write_mass(model: mujoco.MjModel, sel: Selection, values: np.ndarray, nominal: Nominal) -> None:
    mass = values.reshape(-1)
    nominal_mass = nominal["body_mass"][sel.ids]
    factor = np.divide(mass, nominal_mass, out=np.ones_like(mass), where=nominal_mass > 0)
    model.body_mass[sel.ids] = mass
    model.body_inertia[sel.ids] = nominal["body_inertia"][sel.ids] * factor[:, None]
    # Each body's mass change adds to its own subtree mass and to every ancestor's.
    model.body_subtreemass[:] = nominal["body_subtreemass"] + (mass - nominal_mass) @ _ancestors(sel, nominal)


def _ancestors(sel: Selection, nominal: Nominal) -> np.ndarray:
    """(n selected, nbody) 0/1 table: row i marks body i and its ancestors up to the world."""
    key = tuple(sel.ids.tolist())
    parent = nominal["body_parentid"]
    cached = _ANCESTORS.get(key)
    # Keyed by the selection, checked against the tree: another model may select the same ids.
    table = cached[1] if cached is not None and np.array_equal(cached[0], parent) else None
    if table is None:
        table = np.zeros((len(sel), len(parent)))
        for row, body in enumerate(sel.ids.tolist()):
            while True:  # the world body is its own parent
                table[row, body] = 1.0
                if body == 0:
                    break
                body = int(parent[body])
        _ANCESTORS.clear()  # one model at a time in a worker: keep the cache tiny
        _ANCESTORS[key] = (parent.copy(), table)
    return table


_ANCESTORS: dict[tuple[int, ...], tuple[np.ndarray, np.ndarray]] = {}


object_mass = field_param(
    "object_mass", "physical", "body_mass", None, lambda g: g.object_bodies,
    "body_mass of obj/ bodies; body_inertia scaled by the same factor; body_subtreemass updated.",
    low=1e-6, extra_fields=("body_inertia", "body_subtreemass"), write=_write_mass,
    reads=("body_parentid",),
)

object_com = field_param(
    "object_com", "physical", "body_ipos", None, lambda g: g.object_bodies,
    "body_ipos of obj/ bodies: centre-of-mass offset in the body frame (metres; a scalar range jitters "
    "each axis independently), one draw per body.",
    axes=3, default_mode="add", width=3, independent_axes=True,
)

PARAMS = (object_mass, object_com)
