"""simfarm's own robots: `panda` (alias `arm`: Panda kinematics on a pedestal), `mobile_base`, `mobile_panda` (alias `mobile_arm`).

The root body `base` sits at the origin on the floor, facing +x. The arm's base link is mounted at
height `mount_height_m` above that origin (on a pedestal, or on the mobile base's column). The
default 0.75 m is a standard table height: a scene puts a workspace surface of about that height
in front of the robot, or shifts the robot's base pose by (surface height - mount_height_m).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import mujoco

from simfarm.errors import ConfigError
from simfarm.robots import mobile, panda
from simfarm.robots.collision import enable_self_collision
from simfarm.robots.layout import RobotLayout
from simfarm.robots.registry import register_robot

DEFAULT_MOUNT_HEIGHT_M = 0.75
ARM_MOUNT_BODY = "arm_base"


@dataclass
class Robot:
    """A robot description: builds a fresh MjSpec and binds a handle to a compiled model."""

    name: str
    layout: RobotLayout
    has_arm: bool
    has_base: bool
    footprint_radius_m: float
    reach_m: float
    mount_height_m: float
    params: dict = field(default_factory=dict)
    # How far below a workspace surface's top scenes mount the arm's base (0: a table-top arm such as
    # the SO-101, clamped on the table), and how near its base it can still work.
    mount_below_surface_m: float = 0.05
    min_reach_m: float = 0.25

    def build_spec(self) -> mujoco.MjSpec:
        """A fresh standalone spec; root body `base` at the origin, facing +x."""
        raise NotImplementedError

    def compile(self) -> mujoco.MjModel:
        """The robot alone (no floor), compiled: handy for tests and benchmarks."""
        return self.build_spec().compile()

    def bind(self, model: mujoco.MjModel, prefix: str = "robot/"):
        """A `RobotHandle` resolving this robot's elements in `model` under `prefix`."""
        from simfarm.robots.handle import RobotHandle

        return RobotHandle(model, self.layout, prefix=prefix, robot_name=self.name)

    @property
    def cameras(self) -> dict[str, str]:
        """The robot's own cameras: dataset name (`wrist`, `wrist_left`, `top`...) -> camera name in its spec."""
        return {"wrist": self.layout.wrist_camera} if self.layout.wrist_camera else {}

    @property
    def cache_key(self) -> tuple:
        """What determines this robot's spec: its class and parameters."""
        return (type(self).__qualname__, self.name, tuple(sorted((k, repr(v)) for k, v in self.params.items())))

    def camera_names(self) -> list[str]:
        return list(self.cameras)

    @property
    def control_modes(self) -> tuple[str, ...]:
        from simfarm.robots.handle import control_modes_for

        return control_modes_for(self.layout)


def new_spec(model_name: str) -> mujoco.MjSpec:
    spec = mujoco.MjSpec()
    spec.modelname = model_name
    spec.compiler.degree = False
    # Physics options stay at MuJoCo's defaults: attaching keeps only the scene's options, and a
    # child that differs triggers an attach-conflict warning. Gains are stable with any integrator.
    return spec


def add_pedestal(base: mujoco.MjsBody, h: float) -> None:
    """A fixed arm's pedestal of height `h` under the mount, with its foot."""
    if h <= 0:
        return
    base.add_geom(
        name="pedestal",
        type=mujoco.mjtGeom.mjGEOM_CYLINDER,
        size=[0.11, h / 2, 0],
        pos=[0, 0, h / 2],
        rgba=[0.35, 0.36, 0.38, 1],
        contype=panda.ROBOT_CONTYPE,
        conaffinity=panda.ROBOT_CONAFFINITY,
    )
    # A fixed body needs no inertia, but a realistic pedestal mass keeps attached
    # scenes' total mass honest for anyone who reads it.
    base.add_geom(
        name="pedestal_foot",
        type=mujoco.mjtGeom.mjGEOM_BOX,
        size=[0.14, 0.14, 0.01],
        pos=[0, 0, 0.01],
        rgba=[0.2, 0.2, 0.22, 1],
        contype=panda.ROBOT_CONTYPE,
        conaffinity=panda.ROBOT_CONAFFINITY,
    )


def check_mount_height(value: float) -> float:
    value = float(value)
    if not 0.0 <= value <= 1.5:
        raise ConfigError(f"robot mount_height_m: got {value}; accepted: 0.0 to 1.5 metres")
    return value


def _arm_layout(
    mount_body: str, base_joints: tuple[str, ...] = (), base_actuators: tuple[str, ...] = ()
) -> RobotLayout:
    return RobotLayout(
        root_body="base",
        arm_joints=panda.ARM_JOINTS,
        arm_actuators=panda.ARM_ACTUATORS,
        arm_home_qpos=panda.HOME_QPOS,
        arm_mount_body=mount_body,
        tcp_site="grip_site",
        wrist_camera="wrist_cam",
        gripper_joints=panda.GRIPPER_JOINTS,
        gripper_actuator=panda.GRIPPER_ACTUATOR,
        gripper_ctrl_open=panda.FINGER_TRAVEL_M,
        gripper_ctrl_closed=0.0,
        gripper_home_qpos=(panda.FINGER_TRAVEL_M, panda.FINGER_TRAVEL_M),
        base_joints=base_joints,
        base_actuators=base_actuators,
    )


@register_robot("panda", aliases=("arm",))
class ArmRobot(Robot):
    """Franka Emika Panda (7-DoF, Franka Hand): Franka's published DH table, limits and inertials, on a pedestal."""

    def __init__(
        self, mount_height_m: float = DEFAULT_MOUNT_HEIGHT_M, wrist_camera_fovy_deg: float = 75.0
    ):
        mount_height_m = check_mount_height(mount_height_m)
        super().__init__(
            name="panda",
            layout=_arm_layout(ARM_MOUNT_BODY),
            has_arm=True,
            has_base=False,
            footprint_radius_m=0.15,
            reach_m=panda.MAX_REACH_M,
            mount_height_m=mount_height_m,
            params={
                "mount_height_m": mount_height_m,
                "wrist_camera_fovy_deg": float(wrist_camera_fovy_deg),
            },
        )

    def build_spec(self) -> mujoco.MjSpec:
        spec = new_spec("simfarm_arm")
        base = spec.worldbody.add_body(name="base")
        h = self.mount_height_m
        add_pedestal(base, h)
        mount = base.add_body(name=ARM_MOUNT_BODY, pos=[0, 0, h])
        panda.add_panda_arm(spec, mount, wrist_camera_fovy_deg=self.params["wrist_camera_fovy_deg"])
        enable_self_collision(spec, self.layout, key=self.cache_key)
        return spec


@register_robot("mobile_base")
class MobileBaseRobot(Robot):
    """A holonomic base (x, y, yaw) with a front bumper."""

    def __init__(self, max_speed_mps: float = 0.5, max_yaw_rate_radps: float = 1.0):
        layout = RobotLayout(
            root_body="base",
            base_joints=mobile.BASE_JOINTS,
            base_actuators=mobile.BASE_ACTUATORS,
            max_base_speed_mps=_positive("max_speed_mps", max_speed_mps, 2.0),
            max_base_yaw_rate_radps=_positive("max_yaw_rate_radps", max_yaw_rate_radps, 2.0),
        )
        super().__init__(
            name="mobile_base",
            layout=layout,
            has_arm=False,
            has_base=True,
            footprint_radius_m=mobile.footprint_radius_m(),
            reach_m=mobile.CHASSIS_LENGTH_M / 2 + mobile.BUMPER_DEPTH_M,
            mount_height_m=mobile.GROUND_CLEARANCE_M + mobile.CHASSIS_HEIGHT_M,
            params={
                "max_speed_mps": float(max_speed_mps),
                "max_yaw_rate_radps": float(max_yaw_rate_radps),
            },
        )

    def build_spec(self) -> mujoco.MjSpec:
        spec = new_spec("simfarm_mobile_base")
        base = spec.worldbody.add_body(name="base")
        mobile.add_mobile_base(spec, base)
        return spec


@register_robot("mobile_panda", aliases=("mobile_arm",))
class MobileArmRobot(Robot):
    """The mobile base carrying the Panda on a column: one robot, both action parts."""

    def __init__(
        self,
        mount_height_m: float = DEFAULT_MOUNT_HEIGHT_M,
        max_speed_mps: float = 0.5,
        max_yaw_rate_radps: float = 1.0,
        wrist_camera_fovy_deg: float = 75.0,
    ):
        mount_height_m = check_mount_height(mount_height_m)
        chassis_top = mobile.GROUND_CLEARANCE_M + mobile.CHASSIS_HEIGHT_M
        if mount_height_m < chassis_top:
            raise ConfigError(
                f"robot mount_height_m: got {mount_height_m}; a mobile_panda needs at least {chassis_top} (the chassis top)"
            )
        layout = _arm_layout(ARM_MOUNT_BODY, mobile.BASE_JOINTS, mobile.BASE_ACTUATORS)
        layout = RobotLayout(
            **{
                **layout.__dict__,
                "max_base_speed_mps": _positive("max_speed_mps", max_speed_mps, 2.0),
                "max_base_yaw_rate_radps": _positive("max_yaw_rate_radps", max_yaw_rate_radps, 2.0),
            }
        )
        super().__init__(
            name="mobile_panda",
            layout=layout,
            has_arm=True,
            has_base=True,
            footprint_radius_m=mobile.footprint_radius_m(),
            reach_m=panda.MAX_REACH_M + ARM_FORWARD_OFFSET_M,
            mount_height_m=mount_height_m,
            params={
                "mount_height_m": mount_height_m,
                "max_speed_mps": float(max_speed_mps),
                "max_yaw_rate_radps": float(max_yaw_rate_radps),
                "wrist_camera_fovy_deg": float(wrist_camera_fovy_deg),
            },
        )

    def build_spec(self) -> mujoco.MjSpec:
        spec = new_spec("simfarm_mobile_arm")
        base = spec.worldbody.add_body(name="base")
        mobile.add_mobile_base(spec, base)
        chassis_top = mobile.GROUND_CLEARANCE_M + mobile.CHASSIS_HEIGHT_M
        column_h = self.mount_height_m - chassis_top
        if column_h > 1e-4:
            base.add_geom(
                name="column",
                type=mujoco.mjtGeom.mjGEOM_BOX,
                size=[0.08, 0.08, column_h / 2],
                pos=[ARM_FORWARD_OFFSET_M, 0, chassis_top + column_h / 2],
                rgba=[0.3, 0.32, 0.35, 1],
                contype=panda.ROBOT_CONTYPE,
                conaffinity=panda.ROBOT_CONAFFINITY,
            )
        mount = base.add_body(
            name=ARM_MOUNT_BODY, pos=[ARM_FORWARD_OFFSET_M, 0, self.mount_height_m]
        )
        panda.add_panda_arm(spec, mount, wrist_camera_fovy_deg=self.params["wrist_camera_fovy_deg"])
        enable_self_collision(spec, self.layout, key=self.cache_key)
        return spec


# The arm sits forward of the base axis so it reaches past the bumper.
ARM_FORWARD_OFFSET_M = 0.12


def _positive(key: str, value: float, upper: float) -> float:
    value = float(value)
    if not 0.0 < value <= upper:
        raise ConfigError(f"robot {key}: got {value}; accepted: (0, {upper}]")
    return value
