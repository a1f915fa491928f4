"""Actuator parameters: the gain of robot actuators, kept consistent with the bias that uses it.

A position actuator is gain kp with bias (0, -kp, -kv): randomizing only `actuator_gainprm[:, 0]`
would make it push towards a shifted target. So `actuator_biasprm[:, 1] = -kp` follows the gain
for position actuators, and `actuator_biasprm[:, 2] = -kv` for velocity actuators; motors
(no bias) just get the new gain.
"""

from __future__ import annotations

import mujoco
import numpy as np

from simfarm.randomization.base import Nominal, Selection, field_param

_AFFINE = int(mujoco.mjtBias.mjBIAS_AFFINE)


def _write_gain(model: mujoco.MjModel, sel: Selection, values: np.ndarray, nominal: Nominal) -> None:
    gain = values.reshape(-1)
    ids = sel.ids
    model.actuator_gainprm[ids, 0] = gain
    kp0 = nominal["actuator_gainprm"][ids, 0]
    bias0 = nominal["actuator_biasprm"][ids]
    affine = nominal["actuator_biastype"][ids] == _AFFINE
    position = affine & (bias0[:, 1] == -kp0) & (kp0 != 0)
    velocity = affine & ~position & (bias0[:, 1] == 0) & (bias0[:, 2] == -kp0) & (kp0 != 0)
    model.actuator_biasprm[ids[position], 1] = -gain[position]
    model.actuator_biasprm[ids[velocity], 2] = -gain[velocity]


actuator_gain = field_param(
    "actuator_gain", "physical", "actuator_gainprm", 0, lambda g: g.robot_actuators,
    "actuator_gainprm[:, 0] of robot/ actuators; biasprm[:, 1] = -kp for position actuators "
    "(biasprm[:, 2] = -kv for velocity ones).",
    low=0.0, extra_fields=("actuator_biasprm",), write=_write_gain, reads=("actuator_biastype",),
)

PARAMS = (actuator_gain,)
