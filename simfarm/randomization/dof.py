"""Joint parameters: `dof_damping` and `dof_armature` of robot joints, damping of furniture joints."""

from __future__ import annotations

from simfarm.randomization.base import field_param

robot_damping = field_param(
    "robot_damping", "physical", "dof_damping", None, lambda g: g.robot_dofs,
    "dof_damping of robot/ hinge and slide joints, one draw per dof.", low=0.0,
)
robot_armature = field_param(
    "robot_armature", "physical", "dof_armature", None, lambda g: g.robot_dofs,
    "dof_armature of robot/ hinge and slide joints, one draw per dof.", low=0.0,
)
furniture_damping = field_param(
    "furniture_damping", "physical", "dof_damping", None, lambda g: g.furniture_dofs,
    "dof_damping of furn/ joints (drawer slides, door hinges), one draw per dof.", low=0.0,
)

PARAMS = (robot_damping, robot_armature, furniture_damping)
