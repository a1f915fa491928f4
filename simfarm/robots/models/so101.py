"""SO-101 (TheRobotStudio / Hugging Face LeRobot): the low-cost 5-DoF arm with a jaw gripper.

Kinematics, limits and inertials: TheRobotStudio's URDF (SO-ARM100 `Simulation/SO101/
so101_new_calib.urdf` @fda892cb), in the body frames of MuJoCo Menagerie's
`robotstudio_so101/so101.xml` (@191a7ba5, derived from it: FK equal at the wrist to 0.000 mm).
Joint names and ranges as LeRobot's so101_follower: shoulder_pan +-1.91986, shoulder_lift +-1.74533,
elbow_flex +-1.69, wrist_flex +-1.65806, wrist_roll -2.74385..2.84121 rad (URDF). Servos: Feetech
STS3215 as Menagerie models them (kp 998.22, kv 2.731, +-2.94 N m, armature 0.028, damping 0.6).
No reach is published: the chain's own is 0.39 m from the shoulder at full stretch (URDF zero pose).

Gripper: the real one is a single jaw hinged against a fixed jaw (servo `gripper`, 0..1.745 rad).
simfarm models its pinch as a parallel gripper at Menagerie's grasp point (`gripperframe`, 12 mm
toward the moving jaw from the fixed jaw's tip), 70 mm wide open, with the STS3215's ~30 N at the
jaw; both pads move, where the real fixed jaw stays. The wrist camera sits where LeRobot's SO-101
wrist-camera mount holds it (Menagerie's `camera_mount`), 48.5 deg vertical field of view.
The arm is clamped on top of its table (mount_below_surface_m = 0), as SO-101 setups are.
"""

from __future__ import annotations

from simfarm.robots.gripper import ParallelGripper
from simfarm.robots.registry import register_robot
from simfarm.robots.serial import Joint, PedestalArmRobot, SerialArm, WristCamera

STS3215 = {"torque_nm": 2.94, "kp": 998.22, "kv": 2.731}

SO101 = SerialArm(
    joints=(
        Joint("shoulder_pan", (0.0388353, 0, 0.0624), (0, 0, -1, 0), (-1.91986, 1.91986), mass_kg=0.100006,
              com_m=(-0.0307604, -1.66727e-05, -0.0252713),
              inertia=(8.3759e-05, 8.10403e-05, 2.39783e-05, 7.55525e-08, -1.16342e-06, 1.54663e-07), radius_m=0.022, **STS3215),
        Joint("shoulder_lift", (-0.0303992, -0.0182778, -0.0542), (1, -1, -1, -1), (-1.74533, 1.74533), mass_kg=0.103,
              com_m=(-0.0898471, -0.00838224, 0.0184089),
              inertia=(4.08002e-05, 0.000147318, 0.000142487, -1.97819e-05, -4.03016e-08, 8.97326e-09), radius_m=0.02, **STS3215),
        Joint("elbow_flex", (-0.11257, -0.028, 0), (1, 0, 0, 1), (-1.69, 1.69), mass_kg=0.104,
              com_m=(-0.0980701, 0.00324376, 0.0182831),
              inertia=(2.87438e-05, 0.000159844, 0.00014529, 7.41152e-06, 1.26409e-06, -4.90188e-08), radius_m=0.018, **STS3215),
        Joint("wrist_flex", (-0.1349, 0.0052, 0), (1, 0, 0, -1), (-1.65806, 1.65806), mass_kg=0.079,
              com_m=(-0.000103312, -0.0386143, 0.0281156),
              inertia=(3.68263e-05, 2.5391e-05, 2.1e-05, 1.7893e-08, -5.28128e-08, 3.6412e-06), radius_m=0.016, **STS3215),
        Joint("wrist_roll", (0, -0.0611, 0.0181), (0.0172091, -0.0172091, 0.706897, 0.706897), (-2.74385, 2.84121),
              mass_kg=0.087, com_m=(0.000213627, 0.000245138, -0.025187),
              inertia=(2.75087e-05, 4.33657e-05, 3.45059e-05, -3.35241e-07, -5.7352e-06, -5.17847e-08), radius_m=0.016, **STS3215),
    ),
    # The hand frame at the jaws: z along the gripper's -z (the approach), y along its x (the jaw's
    # travel), on Menagerie's grasp line (x = 12 mm); the TCP 0.09 m down the wrist_roll axis.
    flange_pos_m=(0.012, -0.000218, -0.048),
    flange_quat=(0.0, 1.0, 1.0, 0.0),
    gripper=ParallelGripper(finger_travel_m=0.035, finger_base_m=0.005, tcp_m=0.042, force_n=30.0,
                            finger_length_m=0.04, finger_width_m=0.018, pad_length_m=0.028,
                            palm_half_size_m=(0.016, 0.035, 0.004), palm_mass_kg=0.012, finger_mass_kg=0.012,
                            color=(0.95, 0.95, 0.95, 1.0)),
    # Derived by IK from the chain: TCP 0.2 m ahead of and 4 cm above the base, pointing down (the
    # arm points straight down only this close to its table: its wrist_flex stops at +-95 deg).
    home_qpos=(-0.0062, -0.3284, 0.6762, 1.223, -1.5727),
    reach_m=0.39,
    min_reach_m=0.1,
    footprint_radius_m=0.07,
    base_radius_m=0.045,
    base_height_m=0.05,
    wrist_camera=WristCamera(eye_m=(0.0, 0.045, -0.02), target_m=(0.0, 0.0, 0.1), up=(1.0, 0.0, 0.0), fovy_deg=48.46),
    armature_kgm2=0.028,
    damping_nms=0.6,
    colors=((0.96, 0.93, 0.2, 1.0), (0.15, 0.15, 0.16, 1.0)),
)


@register_robot("so101")
class SO101(PedestalArmRobot):
    """SO-101 (5-DoF + jaw, TheRobotStudio's URDF), the LeRobot community arm, clamped on its table."""

    ARM = SO101
    mount_below_surface_m = 0.0
    # Its arm points straight down only within ~5 cm of its table, where the scripted experts'
    # top-down approach and lift need more: named in a mix, never drawn into the default one.
    in_default_mix = False
    approach_clearance_m = 0.04
