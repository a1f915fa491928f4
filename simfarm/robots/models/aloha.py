"""ALOHA: two ViperX 300 6DoF (vx300s) arms facing each other over a table, two wrist cameras and a top camera.

The arm: Interbotix's vx300s URDF (interbotix_xsarm_descriptions `vx300s.urdf.xacro` @0bb2b0e6), in
the frames of MuJoCo Menagerie's `aloha/aloha.xml` (@441860e1; plain translations, equal FK; both
equal Trossen's published product-of-exponentials model). Limits: the URDF's (waist +-pi, shoulder
-106..72 deg, elbow -101..92 deg, wrist_angle -107..128 deg, rolls +-pi). Servo gains: Menagerie's
ALOHA system identification (kp 43 / 265 / 227 / 78 / 37 / 10.4, damping 5.76 / 20 / 18.49 / 6.78 /
6.28 / 1.2, force limits 35 / 144 / 59 / 22 / 35 / 35 N m). Reach 750 mm (Trossen). Home: Menagerie's
`neutral_pose` (0, -0.96, 1.16, 0, -0.3, 0).

The layout (Menagerie's aloha.xml, turned so the operator looks along +x): the left arm's base at
(-0.019, +0.469) facing -y, the right's at (-0.019, -0.469) facing +y, both on the table top; 0.938 m
apart. Cameras as ALOHA 2 (Intel RealSense D405, 58 deg vertical field of view): `top` (Menagerie's
overhead_cam, 25 deg from vertical), `wrist_left` and `wrist_right` on each gripper. The ALOHA 2
fingers: 2 x 37 mm of travel (the real robot's software limits), TCP 0.13 m beyond gripper_link.
"""

from __future__ import annotations

import math

import mujoco

from simfarm.robots.builtin import (
    ARM_MOUNT_BODY,
    DEFAULT_MOUNT_HEIGHT_M,
    Robot,
    check_mount_height,
    new_spec,
)
from simfarm.robots.collision import enable_self_collision
from simfarm.robots.gripper import ParallelGripper
from simfarm.robots.registry import register_robot
from simfarm.robots.serial import (
    Joint,
    SerialArm,
    WristCamera,
    add_serial_arm,
    look_at_quat,
    serial_layout,
)

PI_ = 3.14158
X, Y, Z = (1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)
ID = (1.0, 0.0, 0.0, 0.0)

VX300S = SerialArm(
    joints=(
        Joint("waist", (0, 0, 0.079), ID, (-PI_, PI_), torque_nm=35.0, kp=43.0, kv=5.76, axis=Z, mass_kg=0.798614,
              com_m=(0.000259233, -3.3552e-06, 0.0116129), inertia=(0.00120156, 0.00113744, 0.0009388), radius_m=0.04),
        Joint("shoulder", (0, 0, 0.04805), ID, (-1.85005, 1.25664), torque_nm=144.0, kp=265.0, kv=20.0, axis=Y,
              mass_kg=0.792592, com_m=(0.0206949, 4e-10, 0.226459), inertia=(0.00911338, 0.008925, 0.000759317),
              radius_m=0.035),
        Joint("elbow", (0.05955, 0, 0.3), ID, (-1.76278, 1.6057), torque_nm=59.0, kp=227.0, kv=18.49, axis=Y,
              mass_kg=0.322228, com_m=(0.105723, 0, 0), inertia=(0.00144107, 0.00134228, 0.000152047), radius_m=0.03),
        Joint("forearm_roll", (0.2, 0, 0), ID, (-PI_, PI_), torque_nm=22.0, kp=78.0, kv=6.78, axis=X, mass_kg=0.414823,
              com_m=(0.0513477, 0.00680462, 0), inertia=(0.0005911, 0.000546493, 0.000155707), radius_m=0.028),
        Joint("wrist_angle", (0.1, 0, 0), ID, (-1.8675, 2.23402), torque_nm=35.0, kp=37.0, kv=6.28, axis=Y,
              mass_kg=0.115395, com_m=(0.046743, -7.6652e-06, 0.010565), inertia=(5.45707e-05, 4.63101e-05, 4.32692e-05),
              radius_m=0.025),
        Joint("wrist_rotate", (0.069744, 0, 0), ID, (-PI_, PI_), torque_nm=35.0, kp=10.4, kv=1.2, axis=X, mass_kg=0.251652,
              com_m=(0.0395662, -2.56311e-07, 0.00400649), inertia=(0.000689546, 0.000650316, 0.000468142), radius_m=0.025),
    ),
    # gripper_link's origin; its x axis (the approach) becomes the hand's z, its y (the fingers' rail) stays y.
    flange_pos_m=(0, 0, 0),
    flange_quat=(1.0, 0.0, 1.0, 0.0),
    gripper=ParallelGripper(finger_travel_m=0.037, finger_base_m=0.083, tcp_m=0.13, force_n=35.0,
                            finger_length_m=0.05, finger_width_m=0.022, pad_length_m=0.03,
                            palm_half_size_m=(0.03, 0.06, 0.03), palm_mass_kg=0.42158, finger_mass_kg=0.0862937,
                            color=(0.2, 0.2, 0.22, 1.0)),
    home_qpos=(0.0, -0.96, 1.16, 0.0, -0.3, 0.0),
    reach_m=0.75,
    min_reach_m=0.12,
    base_radius_m=0.05,
    base_height_m=0.06,
    # Menagerie's wrist_cam_left pose in gripper_link, re-expressed in the hand frame.
    wrist_camera=WristCamera(eye_m=(-0.08247, -0.00007, 0.02534), target_m=(0, 0, 0.2), fovy_deg=58.0,
                             quat=(0.15283, 0.69068, -0.69013, -0.15271)),
    armature_kgm2=0.1,
    damping_nms=0.5,
    colors=((0.15, 0.15, 0.16, 1.0), (0.3, 0.3, 0.32, 1.0)),
)

# Where each arm's base sits in the robot's frame (x forward from the operator, y left), and its yaw.
ARM_POSES = {"left": ((-0.019, 0.469), -math.pi / 2), "right": ((-0.019, -0.469), math.pi / 2)}
TOP_CAMERA_EYE = (-0.3038, 0.0, 1.02524)  # above the table top
TOP_CAMERA_AXIS = (0.4223, 0.0, -0.9064)


@register_robot("aloha")
class Aloha(Robot):
    """ALOHA: two ViperX 300s arms (Interbotix URDF) facing each other on a table, wrist and top cameras."""

    arms = ("left", "right")
    in_default_mix = False  # two arms: never mixed with one-armed robots

    def __init__(self, mount_height_m: float = DEFAULT_MOUNT_HEIGHT_M):
        mount_height_m = check_mount_height(mount_height_m)
        super().__init__(name="aloha", layout=serial_layout(VX300S), has_arm=True, has_base=False,
                         footprint_radius_m=0.15, reach_m=VX300S.reach_m, mount_height_m=mount_height_m,
                         params={"mount_height_m": mount_height_m}, mount_below_surface_m=0.0,
                         min_reach_m=VX300S.min_reach_m)

    @property
    def cameras(self) -> dict[str, str]:
        return {"top": "top", "wrist_left": "left/wrist_cam", "wrist_right": "right/wrist_cam"}

    def _arm_spec(self) -> mujoco.MjSpec:
        spec = new_spec("simfarm_vx300s")
        base = spec.worldbody.add_body(name="base")
        mount = base.add_body(name=ARM_MOUNT_BODY)
        add_serial_arm(spec, mount, VX300S)
        enable_self_collision(spec, self.layout, key=(*self.cache_key, "arm"))
        return spec

    def build_spec(self) -> mujoco.MjSpec:
        spec = new_spec("simfarm_aloha")
        root = spec.worldbody.add_body(name="base")
        h = self.mount_height_m
        for arm, ((x, y), yaw) in ARM_POSES.items():
            frame = root.add_frame(pos=[x, y, h], quat=[math.cos(yaw / 2), 0, 0, math.sin(yaw / 2)])
            frame.attach_body(self._arm_spec().body("base"), f"{arm}/", "")
        eye = (TOP_CAMERA_EYE[0], TOP_CAMERA_EYE[1], TOP_CAMERA_EYE[2] + h)
        target = tuple(e + a for e, a in zip(eye, TOP_CAMERA_AXIS, strict=True))
        root.add_camera(name="top", pos=list(eye), quat=look_at_quat(eye, target, (1, 0, 0)), fovy=58.0)
        return spec

    def bind(self, model: mujoco.MjModel, prefix: str = "robot/"):
        from simfarm.robots.bimanual import BimanualHandle

        return BimanualHandle(model, self.layout, prefix=prefix, robot_name=self.name)
