"""Kinova Gen3 (7-DoF, with its wrist vision module) and a Robotiq 2F-85, as Kinova ships it.

Kinematics, limits and inertials: Kinova's URDF (Kinovarobotics/ros2_kortex
`kortex_description/arms/gen3/7dof/urdf/gen3_macro.xacro` @1fdbef34), in the frames of MuJoCo
Menagerie's `kinova_gen3/gen3.xml` (@39664247, converted from that URDF: FK equal within 0.01 mm).
The continuous joints 1, 3, 5, 7 get +-2 pi (the URDF's limits with an external cable); joints 2,
4, 6: +-2.24, +-2.57, +-2.09 rad. Torque limits: the URDF's 39 N m (large actuators, joints 1-4)
and 9 N m (small, 5-7). Servo gains: Menagerie's (kp 2000 / kv 100 large, 500 / 50 small).
Reach 902 mm (Kinova Gen3 datasheet).

The wrist camera is the vision module's colour camera: Menagerie's `wrist` camera on the bracelet
(0, -0.05639, -0.058475) m, looking along the tool, 41.8 deg vertical field of view. The 2F-85 sits
on the bracelet's interface (Menagerie README: its base at bracelet z -0.0615, turned so it closes
along the bracelet's x axis); its pad centre is 0.1307 m beyond the interface.
"""

from __future__ import annotations

import math

from simfarm.robots.gripper import ParallelGripper
from simfarm.robots.registry import register_robot
from simfarm.robots.serial import Joint, PedestalArmRobot, SerialArm, WristCamera

PI = math.pi
LARGE = {"torque_nm": 39.0, "kp": 2000.0, "kv": 100.0}
SMALL = {"torque_nm": 9.0, "kp": 500.0, "kv": 50.0}
TURN = (-2 * PI, 2 * PI)
UP = (1.0, 1.0, 0.0, 0.0)  # Menagerie's quats (Rx(+-pi/2)), normalized by the builder
DOWN = (1.0, -1.0, 0.0, 0.0)

GEN3 = SerialArm(
    joints=(
        Joint("joint_1", (0, 0, 0.15643), (0, 1, 0, 0), TURN, mass_kg=1.3773, com_m=(-2.3e-05, -0.010364, -0.07336),
              inertia=(0.00488868, 0.00457, 0.00135132), radius_m=0.055, **LARGE),
        Joint("joint_2", (0, 0.005375, -0.12838), UP, (-2.24, 2.24), mass_kg=1.1636, com_m=(-4.4e-05, -0.09958, -0.013278),
              inertia=(0.0113017, 0.011088, 0.00102532), radius_m=0.055, **LARGE),
        Joint("joint_3", (0, -0.21038, -0.006375), DOWN, TURN, mass_kg=1.1636, com_m=(-4.4e-05, -0.006641, -0.117892),
              inertia=(0.0111633, 0.010932, 0.00100671), radius_m=0.05, **LARGE),
        Joint("joint_4", (0, 0.006375, -0.21038), UP, (-2.57, 2.57), mass_kg=0.9302, com_m=(-1.8e-05, -0.075478, -0.015006),
              inertia=(0.00834839, 0.008147, 0.000598606), radius_m=0.05, **LARGE),
        Joint("joint_5", (0, -0.20843, -0.006375), DOWN, TURN, mass_kg=0.6781, com_m=(1e-06, -0.009432, -0.063883),
              inertia=(0.00165901, 0.001596, 0.000346988), radius_m=0.042, **SMALL),
        Joint("joint_6", (0, 0.00017505, -0.10593), UP, (-2.09, 2.09), mass_kg=0.6781, com_m=(1e-06, -0.045483, -0.00965),
              inertia=(0.00170087, 0.001641, 0.00035013), radius_m=0.042, **SMALL),
        Joint("joint_7", (0, -0.10593, -0.00017505), DOWN, TURN, mass_kg=0.5, com_m=(0.000281, 0.011402, -0.029798),
              inertia=(0.000657336, 0.000587019, 0.000320645), radius_m=0.042, **SMALL),
    ),
    # The bracelet's tool interface (URDF end_effector_link), turned about the approach axis so the
    # hand's y is the 2F-85's closing axis (the bracelet's x).
    flange_pos_m=(0, 0, -0.061525),
    flange_quat=(0.0, 1.0, 1.0, 0.0),
    gripper=ParallelGripper(finger_travel_m=0.0425, finger_base_m=0.0777, tcp_m=0.1307, force_n=100.0,
                            finger_length_m=0.056, finger_width_m=0.022, pad_length_m=0.0375,
                            palm_half_size_m=(0.032, 0.06, 0.03), palm_mass_kg=0.9, finger_mass_kg=0.05,
                            color=(0.2, 0.2, 0.22, 1.0)),
    # Derived by IK from the chain: TCP 0.35 m ahead of and 0.35 m above the base, pointing down.
    home_qpos=(0.0467, 0.0981, 3.0914, -1.6502, 0.0050, -1.3935, -1.5749),
    reach_m=0.902,
    base_radius_m=0.05,
    base_height_m=0.12,
    # The vision module's camera in the hand frame (Menagerie's bracelet pose, re-expressed).
    wrist_camera=WristCamera(eye_m=(-0.05639, 0.0, -0.00305), target_m=(-0.05639, 0.0, 0.2), up=(-1.0, 0.0, 0.0),
                             fovy_deg=41.83792730009236),
    armature_kgm2=0.1,
    damping_nms=1.0,
    colors=((0.72, 0.74, 0.76, 1.0), (0.15, 0.15, 0.16, 1.0)),
)


@register_robot("kinova_gen3")
class KinovaGen3(PedestalArmRobot):
    """Kinova Gen3 (7-DoF, Kinova's URDF) with its wrist camera and a Robotiq 2F-85, on a pedestal."""

    ARM = GEN3
