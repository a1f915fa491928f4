"""A small scene named by the simfarm convention, built with MjSpec (tests, benchmarks, examples).

It holds what randomization acts on, without depending on the scene generator: a floor and a wall
with materials, a table and a cabinet with a drawer, `n_objects` coloured free objects, a 2-joint
robot with a position actuator, a motor and a wrist camera, lights and scene cameras.
"""

from __future__ import annotations

import mujoco

# Named object colours cycled over the objects (red, green, blue, yellow, orange, purple).
OBJECT_COLORS = (
    (0.85, 0.12, 0.10, 1.0),
    (0.15, 0.70, 0.20, 1.0),
    (0.12, 0.25, 0.85, 1.0),
    (0.90, 0.85, 0.10, 1.0),
    (0.95, 0.50, 0.05, 1.0),
    (0.55, 0.15, 0.75, 1.0),
)


def synthetic_spec(n_objects: int = 3, n_lights: int = 2) -> mujoco.MjSpec:
    """The MjSpec of the synthetic scene (compile it with `.compile()`)."""
    spec = mujoco.MjSpec()
    spec.add_texture(name="checker", type=mujoco.mjtTexture.mjTEXTURE_2D, builtin=mujoco.mjtBuiltin.mjBUILTIN_CHECKER,
                     width=64, height=64, rgb1=[0.8, 0.8, 0.8], rgb2=[0.3, 0.3, 0.3])
    floor_mat = spec.add_material(name="floor_wood", rgba=[0.6, 0.45, 0.3, 1])
    floor_mat.textures[mujoco.mjtTextureRole.mjTEXROLE_RGB] = "checker"
    spec.add_material(name="wall_paint", rgba=[0.9, 0.9, 0.85, 1])
    spec.add_material(name="tile", rgba=[0.7, 0.75, 0.8, 1])
    world = spec.worldbody
    world.add_geom(name="room/floor_0", type=mujoco.mjtGeom.mjGEOM_PLANE, size=[3, 3, 0.1], material="floor_wood")
    world.add_geom(name="room/wall_0", type=mujoco.mjtGeom.mjGEOM_BOX, size=[0.05, 3, 1.2], pos=[3, 0, 1.2],
                   material="wall_paint")
    world.add_geom(name="room/wall_1", type=mujoco.mjtGeom.mjGEOM_BOX, size=[3, 0.05, 1.2], pos=[0, 3, 1.2],
                   material="tile")
    table = world.add_body(name="furn/table_0", pos=[0.6, 0, 0])
    table.add_geom(name="furn/table_0/top", type=mujoco.mjtGeom.mjGEOM_BOX, size=[0.4, 0.6, 0.02], pos=[0, 0, 0.73],
                   material="tile")
    table.add_geom(name="furn/table_0/leg", type=mujoco.mjtGeom.mjGEOM_BOX, size=[0.03, 0.03, 0.36], pos=[0, 0, 0.36],
                   rgba=[0.5, 0.3, 0.2, 1])
    table.add_site(name="furn/table_0/surface_0", type=mujoco.mjtGeom.mjGEOM_BOX, size=[0.4, 0.6, 0.001],
                   pos=[0, 0, 0.75])
    cab = world.add_body(name="furn/cabinet_0", pos=[-1.0, 1.0, 0])
    cab.add_geom(name="furn/cabinet_0/body", type=mujoco.mjtGeom.mjGEOM_BOX, size=[0.3, 0.4, 0.4], pos=[0, 0, 0.4],
                 material="wall_paint")
    drawer = cab.add_body(name="furn/cabinet_0/drawer_0", pos=[0.3, 0, 0.6])
    drawer.add_joint(name="furn/cabinet_0/drawer_0/slide", type=mujoco.mjtJoint.mjJNT_SLIDE, axis=[1, 0, 0],
                     range=[0, 0.3], damping=2.0)
    drawer.add_geom(name="furn/cabinet_0/drawer_0/box", type=mujoco.mjtGeom.mjGEOM_BOX, size=[0.25, 0.35, 0.1],
                    rgba=[0.7, 0.7, 0.6, 1], contype=0, conaffinity=0)
    for i in range(n_objects):
        x, y = 0.4 + 0.1 * (i % 6), -0.5 + 0.1 * (i // 6)
        obj = world.add_body(name=f"obj/thing_{i}", pos=[x, y, 0.8])
        obj.add_freejoint(name=f"obj/thing_{i}/free")
        rgba = list(OBJECT_COLORS[i % len(OBJECT_COLORS)])
        obj.add_geom(name=f"obj/thing_{i}/body", type=mujoco.mjtGeom.mjGEOM_BOX, size=[0.02, 0.02, 0.03], rgba=rgba,
                     mass=0.1 + 0.01 * i)
        obj.add_geom(name=f"obj/thing_{i}/lid", type=mujoco.mjtGeom.mjGEOM_CYLINDER, size=[0.015, 0.005],
                     pos=[0, 0, 0.035], rgba=rgba, mass=0.01)
    base = world.add_body(name="robot/base", pos=[0, 0, 0.75])
    link1 = base.add_body(name="robot/link1", pos=[0, 0, 0.1])
    link1.add_joint(name="robot/joint1", type=mujoco.mjtJoint.mjJNT_HINGE, axis=[0, 0, 1], damping=1.0, armature=0.1)
    link1.add_geom(name="robot/link1_geom", type=mujoco.mjtGeom.mjGEOM_CAPSULE, size=[0.04, 0.1], pos=[0.1, 0, 0],
                   euler=[0, 1.5708, 0], rgba=[0.9, 0.9, 0.9, 1])
    link2 = link1.add_body(name="robot/link2", pos=[0.2, 0, 0])
    link2.add_joint(name="robot/joint2", type=mujoco.mjtJoint.mjJNT_HINGE, axis=[0, 1, 0], damping=0.5, armature=0.05)
    link2.add_geom(name="robot/link2_geom", type=mujoco.mjtGeom.mjGEOM_CAPSULE, size=[0.03, 0.1], pos=[0.1, 0, 0],
                   euler=[0, 1.5708, 0], rgba=[0.9, 0.9, 0.9, 1])
    link2.add_camera(name="robot/wrist_cam", pos=[0.2, 0, 0.05], fovy=75)
    act = spec.add_actuator(name="robot/joint1_pos", target="robot/joint1", trntype=mujoco.mjtTrn.mjTRN_JOINT)
    act.set_to_position(kp=100.0, kv=5.0)
    spec.add_actuator(name="robot/joint2_motor", target="robot/joint2", trntype=mujoco.mjtTrn.mjTRN_JOINT, gear=[1, 0, 0, 0, 0, 0])
    for k in range(n_lights):
        world.add_light(name=f"light_{k}", pos=[k - 0.5, 0.5 * k, 2.5], dir=[0, 0, -1], diffuse=[0.7, 0.7, 0.7])
    world.add_camera(name="workspace", pos=[1.5, 0, 1.5], xyaxes=[0, 1, 0, -0.6, 0, 0.8], fovy=50)
    world.add_camera(name="overview_0", pos=[-2, -2, 2.2], xyaxes=[1, -1, 0, 0.3, 0.3, 0.9], fovy=60)
    return spec


def synthetic_model(n_objects: int = 3, n_lights: int = 2) -> mujoco.MjModel:
    """The compiled synthetic scene."""
    return synthetic_spec(n_objects, n_lights).compile()
