"""make_robot's registry, config files and the optional Menagerie source (against a local root)."""

from __future__ import annotations

import math
import textwrap

import mujoco
import numpy as np
import pytest
import yaml
from robot_helpers import build_scene, step

from simfarm.errors import ConfigError, RobotError
from simfarm.paths import configs_dir
from simfarm.robots import canonical_name, make_robot, robot_names, validate_config


def test_unknown_robot_raises_listing_accepted_names():
    with pytest.raises(RobotError, match="unknown robot 'hexapod'.*mobile_base, mobile_panda, panda"):
        make_robot("hexapod")


def test_unknown_param_raises_config_error_naming_it_and_the_accepted_ones():
    with pytest.raises(ConfigError, match="wheels.*accepted: mount_height_m"):
        make_robot("arm", wheels=4)


def test_out_of_range_param_raises_config_error():
    with pytest.raises(ConfigError, match="mount_height_m"):
        make_robot("arm", mount_height_m=-1.0)
    with pytest.raises(ConfigError, match="max_speed_mps"):
        make_robot("mobile_base", max_speed_mps=0.0)


def test_robots_report_their_placement_figures():
    arm, base, mobile_arm = make_robot("arm"), make_robot("mobile_base"), make_robot("mobile_arm")
    assert (arm.has_arm, arm.has_base) == (True, False)
    assert (base.has_arm, base.has_base) == (False, True)
    assert (mobile_arm.has_arm, mobile_arm.has_base) == (True, True)
    assert arm.reach_m == pytest.approx(0.855)
    assert arm.mount_height_m == 0.75
    assert 0.3 < base.footprint_radius_m < 0.4
    assert mobile_arm.reach_m > arm.reach_m


@pytest.mark.parametrize("name", ["arm", "mobile_base", "mobile_arm"])
def test_config_files_build_their_robot(name):
    cfg = yaml.safe_load((configs_dir() / "robot" / f"{name}.yaml").read_text())
    robot = make_robot(cfg.pop("name"), **cfg)
    assert robot.name == canonical_name(name)
    model = robot.compile()
    assert model.body("base").id == 1


@pytest.mark.parametrize("name", ["arm", "mobile_base", "mobile_arm"])
def test_root_body_is_base_at_origin(name):
    model = make_robot(name).compile()
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    assert model.body_parentid[model.body("base").id] == 0
    assert data.xpos[model.body("base").id] == pytest.approx([0, 0, 0])


def test_validate_config_rejects_a_mode_the_robot_lacks():
    validate_config({"robot": {"name": "arm"}, "control_mode": "ee_delta"})
    with pytest.raises(ConfigError, match="control_mode.*joint_pos, ee_delta"):
        validate_config({"robot": {"name": "arm"}, "control_mode": "base_vel"})
    with pytest.raises(RobotError):
        validate_config({"robot": "tank"})


# A minimal stand-in for mujoco_menagerie/franka_emika_panda/panda.xml: the names simfarm maps,
# Panda kinematics, primitive geoms, no hand camera or TCP site (simfarm adds them).
def _panda_like_mjcf() -> str:
    return textwrap.dedent(
        """\
        <mujoco model="panda">
          <compiler angle="radian" autolimits="true"/>
          <default>
            <joint armature="0.1" damping="1" axis="0 0 1" range="-2.8973 2.8973"/>
            <general dyntype="none" biastype="affine" ctrlrange="-2.8973 2.8973" forcerange="-87 87"/>
            <geom type="capsule" size="0.05" contype="0" conaffinity="0"/>
          </default>
          <worldbody>
            <light name="top" pos="0 0 2"/>
            <body name="link0">
              <geom type="cylinder" size="0.06 0.05"/>
              <body name="link1" pos="0 0 0.333">
                <inertial mass="4.97" pos="0 0 -0.05" diaginertia="0.03 0.03 0.01"/>
                <joint name="joint1"/>
                <body name="link2" quat="1 -1 0 0">
                  <inertial mass="0.65" pos="0 -0.03 0" diaginertia="0.01 0.01 0.01"/>
                  <joint name="joint2" range="-1.7628 1.7628"/>
                  <body name="link3" pos="0 -0.316 0" quat="1 1 0 0">
                    <inertial mass="3.2" pos="0.03 0.04 -0.06" diaginertia="0.03 0.03 0.01"/>
                    <joint name="joint3"/>
                    <body name="link4" pos="0.0825 0 0" quat="1 1 0 0">
                      <inertial mass="3.6" pos="-0.05 0.1 0.03" diaginertia="0.02 0.02 0.02"/>
                      <joint name="joint4" range="-3.0718 -0.0698"/>
                      <body name="link5" pos="-0.0825 0.384 0" quat="1 -1 0 0">
                        <inertial mass="1.2" pos="0 0.04 -0.04" diaginertia="0.03 0.03 0.01"/>
                        <joint name="joint5"/>
                        <body name="link6" quat="1 1 0 0">
                          <inertial mass="1.7" pos="0.06 -0.01 -0.01" diaginertia="0.002 0.004 0.005"/>
                          <joint name="joint6" range="-0.0175 3.7525"/>
                          <body name="link7" pos="0.088 0 0" quat="1 1 0 0">
                            <inertial mass="0.74" pos="0.01 0 0.06" diaginertia="0.01 0.01 0.005"/>
                            <joint name="joint7"/>
                            <body name="hand" pos="0 0 0.107" quat="0.9238795 0 0 -0.3826834">
                              <inertial mass="0.73" pos="-0.01 0 0.03" diaginertia="0.001 0.0025 0.0017"/>
                              <geom type="box" size="0.02 0.09 0.03" pos="0 0 0.03"/>
                              <body name="left_finger" pos="0 0 0.0584">
                                <inertial mass="0.015" pos="0 0 0" diaginertia="2e-6 2e-6 7e-7"/>
                                <joint name="finger_joint1" type="slide" axis="0 1 0" range="0 0.04"/>
                                <geom type="box" size="0.01 0.005 0.02" pos="0 0.01 0.03"/>
                              </body>
                              <body name="right_finger" pos="0 0 0.0584" quat="0 0 0 1">
                                <inertial mass="0.015" pos="0 0 0" diaginertia="2e-6 2e-6 7e-7"/>
                                <joint name="finger_joint2" type="slide" axis="0 1 0" range="0 0.04"/>
                                <geom type="box" size="0.01 0.005 0.02" pos="0 0.01 0.03"/>
                              </body>
                            </body>
                          </body>
                        </body>
                      </body>
                    </body>
                  </body>
                </body>
              </body>
            </body>
          </worldbody>
          <tendon>
            <fixed name="split">
              <joint joint="finger_joint1" coef="0.5"/>
              <joint joint="finger_joint2" coef="0.5"/>
            </fixed>
          </tendon>
          <equality>
            <joint joint1="finger_joint1" joint2="finger_joint2"/>
          </equality>
          <actuator>
            <general name="actuator1" joint="joint1" gainprm="4500" biasprm="0 -4500 -450"/>
            <general name="actuator2" joint="joint2" gainprm="4500" biasprm="0 -4500 -450" ctrlrange="-1.7628 1.7628"/>
            <general name="actuator3" joint="joint3" gainprm="3500" biasprm="0 -3500 -350"/>
            <general name="actuator4" joint="joint4" gainprm="3500" biasprm="0 -3500 -350" ctrlrange="-3.0718 -0.0698"/>
            <general name="actuator5" joint="joint5" gainprm="2000" biasprm="0 -2000 -200" forcerange="-12 12"/>
            <general name="actuator6" joint="joint6" gainprm="2000" biasprm="0 -2000 -200" forcerange="-12 12" ctrlrange="-0.0175 3.7525"/>
            <general name="actuator7" joint="joint7" gainprm="2000" biasprm="0 -2000 -200" forcerange="-12 12"/>
            <general name="actuator8" tendon="split" forcerange="-100 100" ctrlrange="0 255" gainprm="0.01568627451 0 0" biasprm="0 -100 -10"/>
          </actuator>
          <keyframe>
            <key name="home" qpos="0 0 0 -1.57079 0 1.57079 -0.7853 0.04 0.04"/>
          </keyframe>
        </mujoco>
        """
    )


@pytest.fixture
def menagerie_root(tmp_path, monkeypatch):
    model_dir = tmp_path / "franka_emika_panda"
    model_dir.mkdir()
    (model_dir / "panda.xml").write_text(_panda_like_mjcf())
    monkeypatch.setenv("MENAGERIE_ROOT", str(tmp_path))
    return tmp_path


def test_menagerie_robot_loads_from_a_local_root_and_gains_tcp_and_wrist_camera(menagerie_root):
    robot = make_robot("menagerie:franka_emika_panda")
    assert robot.name == "menagerie:franka_emika_panda"
    assert "menagerie:franka_emika_panda" in robot_names()
    model, data, handle = build_scene(robot)
    assert handle.wrist_camera == "robot/wrist_cam"
    assert mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_SITE, "robot/grip_site") >= 0
    assert data.xpos[model.body("robot/base").id] == pytest.approx([0, 0, 0])
    q_home = (0, -math.pi / 4, 0, -3 * math.pi / 4, 0, math.pi / 2, math.pi / 4)
    assert np.allclose(data.qpos[handle.arm_qpos_adr], q_home)
    # gripper: -1 opens the 0..255 actuator fully, +1 closes it
    step(model, data, handle, np.r_[np.zeros(6), -1.0], "ee_delta")
    assert data.ctrl[handle.gripper_ctrl_idx] == pytest.approx(255.0)
    # ee_delta works through the same IK
    before, _ = handle.ee_pose(data)
    step(model, data, handle, np.r_[0.0, 0.03, 0.0, 0, 0, 0, 1.0], "ee_delta")
    step(model, data, handle, np.r_[np.zeros(6), 1.0], "ee_delta", substeps=150)
    after, _ = handle.ee_pose(data)
    assert np.linalg.norm((after - before) - [0, 0.03, 0]) < 0.005
    assert data.ctrl[handle.gripper_ctrl_idx] == pytest.approx(0.0)


def test_menagerie_root_param_overrides_the_environment(menagerie_root, monkeypatch):
    monkeypatch.delenv("MENAGERIE_ROOT")
    robot = make_robot("menagerie:franka_emika_panda", root=str(menagerie_root))
    assert robot.compile().nu == 8


def test_missing_menagerie_model_says_how_to_fetch_it(tmp_path, monkeypatch):
    monkeypatch.setenv("MENAGERIE_ROOT", str(tmp_path))
    with pytest.raises(RobotError, match="MENAGERIE_ROOT=.*prefetch"):
        make_robot("menagerie:franka_emika_panda")


def test_missing_menagerie_cache_says_how_to_fetch_it(tmp_path, monkeypatch):
    monkeypatch.delenv("MENAGERIE_ROOT", raising=False)
    monkeypatch.setenv("MENAGERIE_CACHE_DIR", str(tmp_path / "empty_cache"))
    with pytest.raises(RobotError, match="not in the local cache.*MENAGERIE_ROOT"):
        make_robot("menagerie:franka_emika_panda")


def test_unknown_menagerie_model_lists_known_ones():
    with pytest.raises(RobotError, match="menagerie:franka_emika_panda"):
        make_robot("menagerie:unitree_go2")
