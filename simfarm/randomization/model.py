"""ModelRandomizer: per-episode randomization of a compiled MjModel, without recompiling.

At construction it resolves the element groups (obj/, furn/, room/, robot/, light_*, cameras) and
snapshots the nominal value of every field a parameter may write. `apply` restores those fields,
samples every parameter of the preset in a fixed order and writes the new values; it returns them
as JSON-ready lists so an episode can record them, and `apply_values` writes a record back
bit-exactly: `apply` samples, casts to the recorded dtype and writes through the same path.
"""

from __future__ import annotations

from typing import Any

import mujoco
import numpy as np

from simfarm.errors import RandomizationError
from simfarm.randomization.base import ModelGroups, Selection, check_values
from simfarm.randomization.params import MODEL_PARAMS
from simfarm.randomization.presets import Preset, load_preset


class ModelRandomizer:
    """Applies a preset's model-level parameters to one compiled model (the one it was built with)."""

    def __init__(self, model: mujoco.MjModel, preset: Preset | str | dict[str, Any]):
        self.preset = load_preset(preset)
        self.groups = ModelGroups.resolve(model)
        self._selections: dict[str, Selection] = {name: p.select(self.groups) for name, p in MODEL_PARAMS.items()}
        # Parameters with nothing to act on in this model (no lights, no objects) drop out: a no-op.
        self._active = [
            name for name in MODEL_PARAMS if name in self.preset.model and len(self._selections[name])
        ]
        fields = {f for p in MODEL_PARAMS.values() for f in (*p.fields, *p.reads)}
        self._nominal = {f: getattr(model, f).copy() for f in sorted(fields)}
        self._written = {f for p in MODEL_PARAMS.values() for f in p.fields}
        self._dirty: set[str] = set()
        self._model_id = id(model)

    @property
    def nominal(self) -> dict[str, np.ndarray]:
        """The snapshot taken at construction (read-only by convention)."""
        return self._nominal

    def apply(self, model: mujoco.MjModel, rng: np.random.Generator) -> dict[str, list]:
        """Restore nominal values, sample the preset, write it; returns {param: values} (JSON-ready)."""
        arrays: dict[str, np.ndarray] = {}
        for name in self._active:
            param = MODEL_PARAMS[name]
            sel = self._selections[name]
            drawn = param.sample(self.preset.model[name], self._nominal, sel, self.groups, rng)
            # Cast to the recorded dtype before writing, so what is written is exactly what is recorded.
            arrays[name] = np.asarray(drawn).reshape(len(sel), param.width).astype(param.dtype)
        self._check_model(model)
        self._write(model, arrays)
        return {name: arr.tolist() for name, arr in arrays.items()}

    def apply_values(self, model: mujoco.MjModel, values: dict[str, Any]) -> None:
        """Restore nominal values, then write recorded values (from `apply`) exactly as recorded.

        Parameters absent from `values` stay nominal, so `apply_values(model, {})` restores the model.
        """
        self._check_model(model)
        unknown = sorted(set(values) - set(MODEL_PARAMS))
        if unknown:
            raise RandomizationError(
                f"recorded randomization names unknown parameter {unknown[0]!r}; accepted: {', '.join(MODEL_PARAMS)}"
            )
        arrays = {name: check_values(MODEL_PARAMS[name], self._selections[name], v) for name, v in values.items()}
        self._write(model, arrays)

    def _write(self, model: mujoco.MjModel, arrays: dict[str, np.ndarray]) -> None:
        self.restore(model)
        for name in MODEL_PARAMS:  # fixed order: parameters sharing a field write in a known order
            if name not in arrays:
                continue
            param = MODEL_PARAMS[name]
            sel = self._selections[name]
            if len(sel):
                param.write(model, sel, arrays[name], self._nominal)
                self._dirty.update(param.fields)

    def restore(self, model: mujoco.MjModel) -> None:
        """Write the nominal snapshot back into every field changed since the last restore."""
        for f in self._dirty:
            getattr(model, f)[...] = self._nominal[f]
        self._dirty.clear()

    def _check_model(self, model: mujoco.MjModel) -> None:
        # A randomizer is bound to the model whose nominal values it holds; another model (a new
        # scene) needs its own randomizer, or restoring would paste one scene's values into another.
        if id(model) != self._model_id:
            mass = self._nominal["body_mass"]
            if model.body_mass.shape != mass.shape or model.geom_rgba.shape != self._nominal["geom_rgba"].shape:
                raise RandomizationError(
                    "ModelRandomizer: this model is not the one the randomizer was built for "
                    "(different sizes); build a ModelRandomizer per compiled scene"
                )


