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

robot_frictionloss = field_param(
    "robot_frictionloss", "physical", "dof_frictionloss", None, lambda g: g.robot_dofs,
    "dof_frictionloss (dry joint friction, N or N·m) of robot/ hinge and slide joints; nominal is often 0, "
    "so use mode add.", low=0.0, default_mode="add",
)

PARAMS = (robot_damping, robot_armature, robot_frictionloss, furniture_damping)
