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
    subtree = nominal["body_subtreemass"].copy()
    parent = nominal["body_parentid"]
    for body, delta in zip(sel.ids.tolist(), (mass - nominal_mass).tolist(), strict=True):
        # The world body is its own parent: walk up to it and stop.
        while True:
            subtree[body] += delta
            if body == 0:
                break
            body = int(parent[body])
    model.body_subtreemass[:] = subtree


object_mass = field_param(
    "object_mass", "physical", "body_mass", None, lambda g: g.object_bodies,
    "body_mass of obj/ bodies; body_inertia scaled by the same factor; body_subtreemass updated.",
    low=1e-6, extra_fields=("body_inertia", "body_subtreemass"), write=_write_mass,
    reads=("body_parentid",),
)

PARAMS = (object_mass,)
