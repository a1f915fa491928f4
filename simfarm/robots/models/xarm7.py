"""UFactory xArm7 (7-DoF) with the xArm Gripper.

Kinematics, limits and torques: UFactory's URDF (xArm-Developer/xarm_ros
`xarm_description/urdf/xarm7/xarm7.urdf.xacro` with `config/kinematics/default/
xarm7_default_kinematics.yaml` @0b5118eb), in the frames of MuJoCo Menagerie's
`ufactory_xarm7/xarm7.xml` (@4f04d622, equal FK within 0.003 mm; Menagerie's 0.12 m base riser is
left out, as in the URDF). Limits: joints 1, 3, 5, 7 +-2 pi, joint 2 -2.059..2.0944, joint 4
-0.19198..3.927, joint 6 -1.69297..pi rad (UFactory: J2 -118..120 deg, J4 -11..225 deg, J6
-97..180 deg). Torques 50, 50, 30, 30, 30, 20, 20 N m (URDF efforts). Inertials: the URDF's default
`link_inertial/xarm7_type7_HT_BR2.yaml`. Servo gains: Menagerie's (kp 1500 / 1000 / 800, kv a tenth).
Reach 700 mm (UFactory: Cartesian range +-700 mm).

Gripper: the xArm Gripper (a linkage with parallel pads): ~86 mm stroke (pads 89 mm apart when open
in the URDF), TCP 0.172 m beyond the flange (URDF link_tcp), 30 N grasp force (UFactory datasheet).
The xArm7 has no built-in camera: the wrist camera models the wrist-mounted RealSense D435i that
xarm_ros describes (`urdf/camera/realsense_d435i.urdf.xacro`), 42 deg vertical field of view.
"""

from __future__ import annotations

import math

from simfarm.robots.gripper import ParallelGripper
from simfarm.robots.registry import register_robot
from simfarm.robots.serial import Joint, PedestalArmRobot, SerialArm, WristCamera

PI = math.pi
TURN = (-2 * PI, 2 * PI)
G1 = {"kp": 1500.0, "kv": 150.0}
G2 = {"kp": 1000.0, "kv": 100.0}
G3 = {"kp": 800.0, "kv": 80.0}
ID = (1.0, 0.0, 0.0, 0.0)
XP = (1.0, 1.0, 0.0, 0.0)  # Rx(+pi/2), Menagerie's quats, normalized by the builder
XM = (1.0, -1.0, 0.0, 0.0)  # Rx(-pi/2)

XARM7 = SerialArm(
    joints=(
        Joint("joint1", (0, 0, 0.267), ID, TURN, torque_nm=50.0, mass_kg=2.382, com_m=(-0.0002, 0.02905, -0.01233),
              inertia=(0.0056905, 0.0049566, 0.003316654, -1.579e-05, 5.125e-06, -0.000873378), radius_m=0.055, **G1),
        Joint("joint2", (0, 0, 0), XM, (-2.059, 2.0944), torque_nm=50.0, mass_kg=1.869, com_m=(0.00022, -0.12856, 0.01735),
              inertia=(0.0095989, 0.00382472, 0.007565669, 1.541e-06, 5.56e-06, -0.00317156), radius_m=0.055, **G1),
        Joint("joint3", (0, -0.293, 0), XP, TURN, torque_nm=30.0, mass_kg=1.6383, com_m=(0.0466, -0.02463, -0.00768),
              inertia=(0.00310955, 0.00264483, 0.0026624, 0.00030837, -0.00058453, 0.000338893), radius_m=0.05, **G2),
        Joint("joint4", (0.0525, 0, 0), XP, (-0.19198, 3.927), torque_nm=30.0, mass_kg=1.7269, com_m=(0.07047, -0.11575, 0.012),
              inertia=(0.005889, 0.00359703, 0.00543244, 0.00137112, 0.00088143, -0.001762155), radius_m=0.05, **G2),
        Joint("joint5", (0.0775, -0.3425, 0), XP, TURN, torque_nm=30.0, mass_kg=1.3203, com_m=(-0.00032, 0.01604, -0.026),
              inertia=(0.00534665, 0.0049779, 0.0013624, 1.5117e-05, -3.69e-07, -0.00022132), radius_m=0.045, **G2),
        Joint("joint6", (0, 0, 0), XP, (-1.69297, PI), torque_nm=20.0, mass_kg=1.325, com_m=(0.06469, 0.03278, 0.02141),
              inertia=(0.0014745, 0.0019037, 0.0023652, -0.000488, 0.0002953, 0.00014749), radius_m=0.045, **G3),
        Joint("joint7", (0.076, 0.097, 0), XM, TURN, torque_nm=20.0, mass_kg=0.17, com_m=(0.0, -0.00677, -0.01098),
              inertia=(9.3e-05, 5.87e-05, 0.000132, 0.0, 0.0, -3.6e-06), radius_m=0.04, **G3),
    ),
    # link7's origin is the flange; the gripper base sits on it unrotated (URDF gripper_fix).
    flange_pos_m=(0, 0, 0),
    flange_quat=ID,
    gripper=ParallelGripper(finger_travel_m=0.043, finger_base_m=0.127, tcp_m=0.172, force_n=30.0,
                            finger_length_m=0.048, finger_width_m=0.02, pad_length_m=0.03,
                            palm_half_size_m=(0.03, 0.055, 0.05), palm_mass_kg=0.8, finger_mass_kg=0.05,
                            color=(0.85, 0.86, 0.88, 1.0)),
    # Derived by IK from the chain: TCP 0.35 m ahead of and 0.35 m above the base, pointing down.
    home_qpos=(0.0, -0.4197, 0.0, 1.109, 0.0, 1.5288, 0.0),
    reach_m=0.7,
    base_radius_m=0.065,
    base_height_m=0.1,
    wrist_camera=WristCamera(eye_m=(0.075, 0.0, 0.04), target_m=(0.0, 0.0, 0.3), fovy_deg=42.0),
    armature_kgm2=0.1,
    damping_nms=1.0,
    colors=((0.88, 0.89, 0.9, 1.0), (0.3, 0.31, 0.33, 1.0)),
)


@register_robot("xarm7")
class XArm7(PedestalArmRobot):
    """UFactory xArm7 (7-DoF, UFactory's URDF) with the xArm Gripper, on a pedestal."""

    ARM = XARM7
