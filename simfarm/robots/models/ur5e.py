"""Universal Robots UR5e (6-DoF) with a Robotiq 2F-85-class two-finger gripper.

Kinematics: UR's published DH table for the UR5e ("DH parameters for calculations of kinematics
and dynamics", standard DH: a = (0, -0.425, -0.3922, 0, 0, 0) m, d = (0.1625, 0, 0, 0.1333, 0.0997,
0.0996) m, alpha = (pi/2, 0, 0, pi/2, -pi/2, 0)), laid out in the body frames of MuJoCo Menagerie's
`universal_robots_ur5e/ur5e.xml` (@832d908f: same joint zeros, signs and axes) with UR's exact
lengths (Menagerie rounds them to the millimetre). Joint limits and torques:
Universal_Robots_ROS2_Description `config/ur5e/joint_limits.yaml` (@2221ec0f: +-2 pi, elbow +-pi,
150 N m for the base, shoulder and elbow, 28 N m for the wrists, 180 deg/s). Link masses and
centres of mass: Menagerie's ur5e.xml; servo gains: Menagerie's (kp 2000 / kv 400 large joints,
500 / 100 wrists). Reach 850 mm (UR5e datasheet).

Gripper: the 2F-85 (Menagerie `robotiq_2f85/2f85.xml`): 85 mm stroke, pads parallel while
pinching; its pad centre is 0.1415 m beyond the flange (base coupling included); grasp force
20-235 N (Robotiq datasheet), here 100 N. The UR5e ships with no camera: the wrist camera models
the common flange-mounted RGB camera (a RealSense D435-class 42 deg vertical field of view).
"""

from __future__ import annotations

import math

from simfarm.robots.gripper import ParallelGripper
from simfarm.robots.registry import register_robot
from simfarm.robots.serial import Joint, PedestalArmRobot, SerialArm, WristCamera

PI = math.pi
Y = (0.0, 1.0, 0.0)
Z = (0.0, 0.0, 1.0)
Q_Y90 = (1.0, 0.0, 1.0, 0.0)  # Menagerie's quats, normalized by the builder
ID = (1.0, 0.0, 0.0, 0.0)
LARGE = {"torque_nm": 150.0, "kp": 2000.0, "kv": 400.0}
WRIST = {"torque_nm": 28.0, "kp": 500.0, "kv": 100.0}
LIMIT = (-2 * PI, 2 * PI)

UR5E = SerialArm(
    joints=(
        Joint("shoulder_pan_joint", (0, 0, 0.1625), ID, LIMIT, axis=Z, mass_kg=3.7, inertia=(0.0102675, 0.0102675, 0.00666),
              radius_m=0.06, **LARGE),
        Joint("shoulder_lift_joint", (0, 0.138, 0), Q_Y90, LIMIT, axis=Y, mass_kg=8.393, com_m=(0, 0, 0.2125),
              inertia=(0.133886, 0.133886, 0.0151074), radius_m=0.06, **LARGE),
        Joint("elbow_joint", (0, -0.131, 0.425), ID, (-PI, PI), axis=Y, mass_kg=2.275, com_m=(0, 0, 0.196),
              inertia=(0.0311796, 0.0311796, 0.004095), radius_m=0.05, **LARGE),
        Joint("wrist_1_joint", (0, 0, 0.3922), Q_Y90, LIMIT, axis=Y, mass_kg=1.219, com_m=(0, 0.127, 0),
              inertia=(0.0025599, 0.0025599, 0.0021942), radius_m=0.045, **WRIST),
        Joint("wrist_2_joint", (0, 0.1263, 0), ID, LIMIT, axis=Z, mass_kg=1.219, com_m=(0, 0, 0.1),
              inertia=(0.0025599, 0.0025599, 0.0021942), radius_m=0.045, **WRIST),
        Joint("wrist_3_joint", (0, 0, 0.0997), ID, LIMIT, axis=Y, mass_kg=0.1889, com_m=(0, 0.0771683, 0),
              inertia=(0.000132134, 9.90863e-05, 9.90863e-05), radius_m=0.04, **WRIST),
    ),
    # Menagerie's attachment_site: UR's tool0 flange frame (z out of the flange, y the 2F-85's closing axis).
    flange_pos_m=(0, 0.0996, 0),
    flange_quat=(-1.0, 1.0, 0.0, 0.0),
    gripper=ParallelGripper(finger_travel_m=0.0425, finger_base_m=0.0885, tcp_m=0.1415, force_n=100.0,
                            finger_length_m=0.056, finger_width_m=0.022, pad_length_m=0.0375,
                            palm_half_size_m=(0.032, 0.06, 0.035), palm_mass_kg=0.9, finger_mass_kg=0.05,
                            color=(0.2, 0.2, 0.22, 1.0)),
    # Derived by IK from the chain: TCP 0.35 m ahead of and 0.35 m above the base, pointing down.
    home_qpos=(-0.3907, -1.9733, 1.8774, -1.4749, -1.5708, -1.9615),
    reach_m=0.85,
    # UR's base frame as is: the shoulder offset (d4) puts the home pan at -0.39 rad for a TCP straight ahead.
    base_quat=(1.0, 0.0, 0.0, 0.0),
    base_radius_m=0.075,
    base_height_m=0.09,
    wrist_camera=WristCamera(eye_m=(0.07, 0.0, 0.035), target_m=(0.0, 0.0, 0.26), fovy_deg=42.0),
    armature_kgm2=0.1,
    damping_nms=1.0,
    colors=((0.78, 0.8, 0.82, 1.0), (0.27, 0.45, 0.65, 1.0)),
)


@register_robot("ur5e")
class UR5e(PedestalArmRobot):
    """Universal Robots UR5e (6-DoF, UR DH table) with a Robotiq 2F-85-class gripper, on a pedestal."""

    ARM = UR5E
