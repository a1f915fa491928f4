import mujoco
import numpy as np
import pytest

from simfarm.randomization.synthetic import synthetic_model


def model_arrays(model: mujoco.MjModel) -> dict[str, np.ndarray]:
    """Copies of every numpy array field of an MjModel (what 'the model' is, for comparisons)."""
    out = {}
    for name in dir(model):
        if name.startswith("_"):
            continue
        try:
            value = getattr(model, name)
        except Exception:
            continue
        if isinstance(value, np.ndarray):
            out[name] = value.copy()
    return out


def changed_fields(before: dict[str, np.ndarray], after: dict[str, np.ndarray]) -> set[str]:
    return {k for k in before if not np.array_equal(before[k], after[k], equal_nan=True)}


@pytest.fixture
def model() -> mujoco.MjModel:
    return synthetic_model(n_objects=4, n_lights=3)
